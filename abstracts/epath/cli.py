"""``flask --app wsgi casefinding screen|import|listen``."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from registry.audit import Actor
from registry.errors import InvalidInput

IMPORT_ACTOR = Actor(None, "casefinding-import")


@click.group("casefinding", help="Electronic casefinding: screen report text, take in HL7 v2 and FHIR files, "
                                 "listen for MLLP.")
def casefinding_group() -> None:
    pass


@casefinding_group.command("screen", help="Screen a report for reportability; prints one JSON object.")
@click.option("--text", "text", help="The report text.")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="A file holding the report text.")
@click.option("--keywords", type=click.Path(dir_okay=False),
              help="A keyword|Group list (default: the installed list, else the SEER/IMS default).")
def screen_command(text: str | None, path: str | None, keywords: str | None) -> None:
    from abstracts.epath.screening import screen
    if (text is None) == (path is None):
        raise click.UsageError("give exactly one of --text and --file")
    if path is not None:
        if not Path(path).is_file():
            raise click.UsageError(f"--file: no such file {path}")
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        result = screen(text or "", keywords)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.dumps())


@casefinding_group.command("import", help="Take in HL7 v2 files (single messages or batches) and FHIR bundles.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def import_command(files: tuple[str, ...]) -> None:
    """Exit code 0 when every message was taken in, 1 when some were refused, 2 when a file is missing."""
    from abstracts.epath.intake import take_in
    refused = 0
    for name in files:
        path = Path(name)
        if not path.is_file():
            click.echo(f"{name}: no such file", err=True)
            sys.exit(2)
        try:
            result = take_in(path.read_bytes(), actor=IMPORT_ACTOR, source=path.name,
                             progress=lambda percent, message: click.echo(f"  {percent:3d}% {message}", err=True))
        except InvalidInput as exc:
            click.echo(f"refused: {path.name}: {exc}")
            refused += 1
            continue
        for taken in result.taken:
            click.echo(f"taken: {taken.label}: case {taken.case_id}, report {taken.report_id}, "
                       f"{'reportable' if taken.reportable else 'not reportable'}, {taken.grouped}")
        for label, reason in result.refused:
            click.echo(f"refused: {label}: {reason}")
        click.echo(f"{path.name}: {result.summary()}")
        refused += len(result.refused)
    sys.exit(1 if refused else 0)


@casefinding_group.command("listen", help="Receive HL7 v2 messages over MLLP; each is acknowledged once stored.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2575, show_default=True, type=click.IntRange(1, 65535))
def listen_command(host: str, port: int) -> None:
    from abstracts.epath.mllp import Listener
    server = Listener(current_app._get_current_object(), host, port)
    click.echo(f"listening for MLLP on {host}:{server.port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()
