"""``flask --app wsgi reference install KIND PATH`` and ``reference list``."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app

from registry.audit import SYSTEM
from registry.errors import RegistryError
from registry.reference import KINDS, install, installed


def reference_store() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "reference"


@click.group("reference", help="Official reference tables: install and list.")
def reference_group() -> None:
    pass


@reference_group.command("install", help="Check FILE as KIND, store it and record the install.")
@click.argument("kind")
@click.argument("path", type=click.Path(dir_okay=False))
def reference_install(kind: str, path: str) -> None:
    from registry.reference import kinds  # noqa: F401
    try:
        record = install(kind, path, actor=SYSTEM, store=reference_store())
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"installed {record.kind} {record.name} version {record.version} ({record.summary}); "
               f"sha256 {record.checksum[:16]}…")


@reference_group.command("install-official", help="Install the official tables shipped in staging_tables/official/ "
                                                  "that are not installed yet (bootstrap and demo-data do this too).")
def reference_install_official() -> None:
    install_shipped_tables(click.echo)


def install_shipped_tables(echo: Callable[[str], None]) -> None:
    """What ``bootstrap``, ``demo-data`` and ``reference install-official`` run."""
    from registry.reference.official import install_official_tables
    try:
        done = install_official_tables(actor=SYSTEM, store=reference_store(), echo=echo)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    if not done:
        echo("the official tables are installed")


@reference_group.command("list", help="What is installed, newest first.")
@click.argument("kind", required=False)
def reference_list(kind: str | None) -> None:
    from registry.reference import kinds  # noqa: F401
    records = installed(kind)
    if not records:
        click.echo("nothing installed" + (f" of kind {kind}" if kind else "") +
                   f"; kinds: {', '.join(sorted(KINDS))}")
    for r in records:
        click.echo(f"{r.kind:20} {r.name:40} {r.version:10} {r.installed_at:%Y-%m-%d %H:%M} {r.installed_by:12} "
                   f"{r.source_file} sha256:{r.checksum[:12]}")
