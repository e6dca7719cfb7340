"""``flask --app wsgi naaccr validate|import|export``: the commands other tools call by name.

Exit codes: validate 0 valid, 1 invalid, 2 unreadable; import 0 all imported, 1 some records
rejected, 2 the file could not be read (to the end); export 0, or 1 with the reason.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from registry.errors import RegistryError
from registry.naaccr.dictionary import Dictionary, DictionaryError, DictionaryStore, load_dictionary
from registry.naaccr.reader import validate
from registry.naaccr.records import installed_dictionaries

EXIT_CODES = {"valid": 0, "ok": 0, "invalid": 1, "rejected": 1, "unreadable": 2}
DICTIONARY_OPTION = click.option("--dictionary", "dictionaries", multiple=True, type=click.Path(dir_okay=False),
                                 help="A user dictionary the file uses (repeatable); installed user "
                                      "dictionaries always apply.")


def _dictionaries(extra: tuple[str, ...]) -> tuple[DictionaryStore, list[Dictionary]]:
    store, users = installed_dictionaries()
    try:
        users += [load_dictionary(path) for path in extra]
    except DictionaryError as exc:
        click.echo(f"cannot use the user dictionary: {exc}", err=True)
        sys.exit(2)
    if not store.versions():
        click.echo("no NAACCR base dictionary is installed: flask --app wsgi reference install naaccr-dictionary "
                   "naaccr-dictionary-NNN.xml", err=True)
        sys.exit(2)
    return store, users


@click.group("naaccr", help="NAACCR XML files: validate, import, export submissions.")
def naaccr_group() -> None:
    pass


RELAXED_OPTION = click.option("--relaxed", is_flag=True,
                              help="Accept a file without the NAACCR namespace and NaaccrData attributes of its own "
                                   "without a namespace, as the NAACCR XML rules allow a relaxed reader.")


@naaccr_group.command("validate", help="Check FILE against the XSD and dictionaries and print every problem.")
@click.argument("file", type=click.Path(dir_okay=False))
@DICTIONARY_OPTION
@click.option("--max-problems", type=click.IntRange(min=1), default=None, help="Stop listing after this many.")
@RELAXED_OPTION
def validate_command(file: str, dictionaries: tuple[str, ...], max_problems: int | None, relaxed: bool) -> None:
    store, users = _dictionaries(dictionaries)
    try:
        report = validate(file, store, users, max_problems=max_problems, strict_namespaces=not relaxed)
    except DictionaryError as exc:
        click.echo(f"{file}: unreadable: {exc}")
        sys.exit(2)
    for problem in report.problems:
        click.echo(str(problem))
    more = " (list truncated)" if report.truncated else ""
    click.echo(f"{file}: {report.status}, {report.patients} patients, {report.tumors} tumors, "
               f"{len(report.problems)} problems{more}")
    sys.exit(EXIT_CODES[report.status])


@naaccr_group.command("import", help="Import FILE (NAACCR XML, .xml.gz, or a flat file with --flat-version).")
@click.argument("file", type=click.Path(dir_okay=False))
@DICTIONARY_OPTION
@click.option("--dry-run", is_flag=True, help="Check and match everything, write nothing.")
@click.option("--report", "report", type=click.Path(dir_okay=False),
              help="Write rejected records, and the tumors the multiple-primary rules matched or left for review, "
                   "to this CSV.")
@click.option("--flat-version", type=click.Choice(["140", "150", "160", "180"]),
              help="Read a legacy fixed-width flat file of this NAACCR version.")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Patients committed per transaction.")
@RELAXED_OPTION
def import_command(file: str, dictionaries: tuple[str, ...], dry_run: bool, report: str | None,
                   flat_version: str | None, batch_size: int, relaxed: bool) -> None:
    from registry.naaccr.importer import IMPORT_ACTOR, import_file
    if not Path(file).is_file():
        click.echo(f"{file}: no such file", err=True)
        sys.exit(2)
    store, users = _dictionaries(dictionaries)
    with click.progressbar(length=100, label=f"Importing {Path(file).name}", file=sys.stderr) as bar:
        state = {"done": 0}

        def progress(percent: int, _message: str) -> None:
            bar.update(percent - state["done"])
            state["done"] = percent

        result = import_file(file, actor=IMPORT_ACTOR, store=store, user_dictionaries=users, dry_run=dry_run,
                             flat_version=flat_version, report=report, batch_size=batch_size, progress=progress,
                             relaxed=relaxed)
    for rejection in result.rejections:
        where = ", ".join(f"{name} {value}" for name, value in (("line", rejection.line),
                          ("patient", rejection.patient), ("tumor", rejection.tumor), ("item", rejection.item))
                          if value)
        click.echo(f"rejected: {where}: {rejection.reason}")
    for note in result.primary_notes:
        click.echo(f"{note.outcome}: line {note.line}, patient {note.patient}, tumor {note.tumor}: "
                   f"{note.rule_step}: {note.reason}")
    click.echo(result.summary())
    sys.exit(EXIT_CODES[result.status])


@naaccr_group.command("export", help="Write a submission file and record it as a submission.")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="FILE.xml or FILE.xml.gz")
@click.option("--version", "version", type=click.Choice(["250", "260"]), default="250", show_default=True)
@click.option("--record-type", type=click.Choice(["A", "M", "C", "I"]), default="A", show_default=True,
              help="A abstract, M modified (only tumors changed since last sent), C confidential, I incidence.")
@click.option("--diagnosis-year", type=click.IntRange(1900, 2100), default=None)
@click.option("--include-incomplete", is_flag=True,
              help="A test file: also send abstracts in progress or failing error edits (recorded on the submission).")
def export_command(output: str, version: str, record_type: str, diagnosis_year: int | None,
                   include_incomplete: bool) -> None:
    from registry.audit import Actor
    from reports.submissions import create_submission
    try:
        submission = create_submission(output, version=version, record_type=record_type,
                                       diagnosis_year=diagnosis_year, actor=Actor(None, "naaccr-export"),
                                       include_incomplete=include_incomplete)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    for left in submission.left_out:
        click.echo(f"left out: patient {left.patient_id_number}, {left.primary_site or 'site ?'} diagnosed "
                   f"{left.date_of_diagnosis or '?'}: {left.reason}")
    if include_incomplete:
        click.echo("test file: abstracts in progress or failing error edits were included")
    click.echo(f"{submission.file_name}: NAACCR {submission.naaccr_version} record type {submission.record_type}, "
               f"{submission.patient_count} patients, {submission.tumor_count} tumors, "
               f"{submission.left_out_count} left out, sha256 {submission.checksum}; submission {submission.id}")
