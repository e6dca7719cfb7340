"""``flask --app wsgi edits check|run``: run the edit set over a file (CSV of NAACCR ids or NAACCR XML)
or the database.

All write the same report, one row per failure. ``check`` exits 0 whenever the file could
be read, whatever it found; a file it cannot read stops with a message and exit status 1,
and leaves no report behind.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import click
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from registry.csv_safety import SafeWriter
from registry.edits.catalog import item_specs
from registry.edits.engine import EditFailure
from registry.edits.records import naaccr_id_map, records_from_orm
from registry.edits.runner import run_edits
from staging_tables.icdo3 import SITE_HISTOLOGY_KIND, installed_site_histology

REPORT_COLUMNS = ["record_position", "patient_id", "tumor_sequence", "edit_id", "severity", "fields", "message"]
BATCH = 500


def _naaccr_ids(fields: Iterable[str]) -> str:
    specs = item_specs()["patient"] | item_specs()["tumor"]
    return ";".join(specs[f].naaccr_id if f in specs else f for f in fields)


class _Report:
    """The report file and running counts for the closing summary."""

    def __init__(self, handle: TextIO):
        self.writer = SafeWriter(handle)
        self.writer.writerow(REPORT_COLUMNS)
        self.counts = {"error": 0, "warning": 0}

    def write(self, position: str, failure: EditFailure) -> None:
        self.counts[failure.severity] += 1
        self.writer.writerow([position, failure.patient_id or "", failure.tumor_sequence or "", failure.edit_id,
                              failure.severity, _naaccr_ids(failure.fields), failure.message])


def _open_report(path: Path) -> TextIO:
    try:
        return path.open("w", newline="", encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot write the report ({exc.strerror})") from None


@click.group("edits", help="Run the edits (validity and consistency checks) over a file or the registry.")
def edits_group() -> None:
    pass


def _read_csv(path: Path) -> tuple[list[tuple[int, dict[str, Any], dict[str, Any]]], list[str]]:
    """Rows as (position, patient items, tumor items); the ignored column names."""
    mapping = naaccr_id_map()
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames
            if not header:
                raise click.ClickException(f"{path}: the file is empty; expected a header row of NAACCR XML "
                                           "ids such as patientIdNumber,primarySite,dateOfDiagnosis")
            known = [name for name in header if name in mapping]
            if not known:
                raise click.ClickException(f"{path}: no column is a NAACCR XML id this registry knows (found "
                                           f"{', '.join(header[:5])}...); expected ids such as patientIdNumber, "
                                           "primarySite, dateOfDiagnosis")
            rows = []
            for position, row in enumerate(reader, start=1):
                if None in row:
                    raise click.ClickException(f"{path}: data row {position} has more values than the header")
                items: dict[str, dict[str, Any]] = {"patient": {}, "tumor": {}}
                for name in known:
                    level, attribute = mapping[name]
                    value = (row.get(name) or "").strip()
                    items[level][attribute] = value or None
                rows.append((position, items["patient"], items["tumor"]))
    except FileNotFoundError:
        raise click.ClickException(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                   "expected a CSV file of NAACCR XML ids") from None
    except csv.Error as exc:
        raise click.ClickException(f"{path}: not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot be read ({exc.strerror})") from None
    return rows, [name for name in header if name not in mapping]


def _patients(rows: list[tuple[int, dict[str, Any], dict[str, Any]]]) -> Iterator[tuple[list[int], dict, list]]:
    """Rows grouped by Patient ID Number in order of first appearance; a row without one stands alone."""
    groups: dict[Any, tuple[list[int], dict, list]] = {}
    for position, patient, tumor in rows:
        key = patient.get("patient_id_number") or ("row", position)
        group = groups.setdefault(key, ([], patient, []))
        group[0].append(position)
        group[2].append(tumor)
    yield from groups.values()


def _is_naaccr_xml(path: Path) -> bool:
    """By name (``.xml``, ``.xml.gz``) or, failing that, by content (gzip or an XML start)."""
    if path.name.lower().endswith((".xml", ".xml.gz")):
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return head.startswith(b"\x1f\x8b") or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _xml_cases(path: Path, ignored: set[str], problems: list[int]) -> Iterator[tuple[Any, dict, list[dict]]]:
    """(NAACCR patient, patient items, tumor items) for each patient of a NAACCR XML file.

    Items sit where our model keeps them: NAACCR's tumor-level medical record number and address
    at diagnosis come from the patient's first tumor. Ids no edit reads are added to ``ignored``
    and the reader's own findings (unknown items, bad lengths) counted in ``problems``.
    """
    from registry.naaccr import read_patients
    from registry.naaccr.records import installed_dictionaries
    store, users = installed_dictionaries()
    if not store.versions():
        raise click.ClickException(f"{path}: a NAACCR XML file needs an installed base dictionary: "
                                   "flask --app wsgi reference install naaccr-dictionary naaccr-dictionary-NNN.xml")
    mapping = naaccr_id_map()
    for naaccr_patient in read_patients(path, store, users):
        problems[0] += len(naaccr_patient.all_problems)
        patient: dict[str, Any] = {}
        tumors: list[dict[str, Any]] = []
        for level, items in [("patient", naaccr_patient.items)] + [("tumor", t.items) for t in naaccr_patient.tumors]:
            tumor: dict[str, Any] = {}
            for naaccr_id, value in items.items():
                if naaccr_id not in mapping:
                    ignored.add(naaccr_id)
                    continue
                ours, attribute = mapping[naaccr_id]
                target = patient if ours == "patient" else tumor
                target.setdefault(attribute, value.strip() or None)
            if level == "tumor":
                tumors.append(tumor)
        yield naaccr_patient, patient, tumors


def _check_xml(input_path: Path, report_path: Path, site_histology: Any) -> tuple[str, dict[str, int]]:
    """Run the edits over a NAACCR XML file into a temporary report, renamed when the whole file was read."""
    from registry.naaccr import NaaccrError
    ignored: set[str] = set()
    problems = [0]
    patients = tumors = 0
    partial = report_path.with_name(report_path.name + ".part")
    try:
        with _open_report(partial) as handle:
            report = _Report(handle)
            for naaccr_patient, patient, tumor_records in _xml_cases(input_path, ignored, problems):
                patients += 1
                tumors += len(tumor_records)
                for failure in run_edits(patient, tumor_records, site_histology=site_histology):
                    if failure.tumor_index is None:
                        position = f"patient {naaccr_patient.index} (line {naaccr_patient.line})"
                    else:
                        tumor = naaccr_patient.tumors[failure.tumor_index]
                        position = f"patient {naaccr_patient.index} tumor {tumor.index} (line {tumor.line})"
                    report.write(position, failure)
    except NaaccrError as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"{input_path}: not a readable NAACCR XML file ({exc.problem})") from None
    except (OSError, EOFError) as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"{input_path}: cannot be read ({exc})") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, report_path)
    notes = []
    if ignored:
        shown = sorted(ignored)
        notes.append(f"ignored {len(shown)} item(s) no edit reads: {', '.join(shown[:10])}"
                     f"{' ...' if len(shown) > 10 else ''}")
    if problems[0]:
        notes.append(f"the NAACCR reader also found {problems[0]} problem(s) in the file's items "
                     "(see flask --app wsgi naaccr validate)")
    notes.append(f"read {tumors} tumor(s) of {patients} patient(s) from NAACCR XML")
    return "\n".join(notes), report.counts


def _site_histology_note() -> str:
    from registry.reference import current
    record = current(SITE_HISTOLOGY_KIND)
    if record is None:
        return "site/histology: embedded rules (no site-histology list is installed)"
    return f"site/histology: {record.name} {record.version}"


@edits_group.command("check", help="Run the edits over a NAACCR XML file (.xml or .xml.gz) or a CSV file whose "
                                   "columns are NAACCR XML ids (one row per tumor; rows of one patient share "
                                   "patientIdNumber).")
@click.option("--input", "input_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
def edits_check(input_path: Path, report_path: Path) -> None:
    site_histology = installed_site_histology()
    if input_path.is_file() and _is_naaccr_xml(input_path):
        summary, counts = _check_xml(input_path, report_path, site_histology)
        click.echo(f"{summary}: {counts['error']} error(s), {counts['warning']} warning(s); "
                   f"report written to {report_path}; {_site_histology_note()}")
        return
    rows, ignored = _read_csv(input_path)
    patients = 0
    with _open_report(report_path) as handle:
        report = _Report(handle)
        for positions, patient, tumors in _patients(rows):
            patients += 1
            for failure in run_edits(patient, tumors, site_histology=site_histology):
                index = failure.tumor_index if failure.tumor_index is not None else 0
                report.write(str(positions[index]), failure)
    if ignored:
        click.echo(f"ignored {len(ignored)} column(s) no edit reads: {', '.join(ignored[:10])}"
                   f"{' ...' if len(ignored) > 10 else ''}")
    click.echo(f"read {len(rows)} record(s) of {patients} patient(s): {report.counts['error']} error(s), "
               f"{report.counts['warning']} warning(s); report written to {report_path}; {_site_histology_note()}")


@edits_group.command("run", help="Run the edits over the registry (or over patients changed since a date) "
                                 "and write a report.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only patients whose patient or tumor record changed on or after this date (YYYY-MM-DD).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
def edits_run(since: dt.datetime | None, report_path: Path) -> None:
    from registry.audit import SYSTEM, log_event
    from registry.db import db_session
    from registry.models import Patient, Tumor

    query = select(Patient.id).order_by(Patient.id)
    if since is not None:
        moment = since.replace(tzinfo=dt.timezone.utc)
        changed_tumor = select(Tumor.patient_id).where(Tumor.updated_at >= moment)
        query = query.where(or_(Patient.updated_at >= moment, Patient.id.in_(changed_tumor)))
    ids = list(db_session.scalars(query))
    site_histology = installed_site_histology()
    tumors = 0
    with _open_report(report_path) as handle:
        report = _Report(handle)
        for start in range(0, len(ids), BATCH):
            batch = db_session.scalars(select(Patient).where(Patient.id.in_(ids[start:start + BATCH]))
                                       .order_by(Patient.id)
                                       .options(selectinload(Patient.tumors).selectinload(Tumor.treatment)))
            for patient in batch:
                record, tumor_records = records_from_orm(patient)
                tumors += len(tumor_records)
                for failure in run_edits(record, tumor_records, site_histology=site_histology):
                    position = (patient.described if failure.tumor_index is None
                                else f"{patient.described}: {patient.tumors[failure.tumor_index].described}")
                    report.write(position, failure)
            db_session.expunge_all()
    log_event(SYSTEM, "edits_run", detail=f"{len(ids)} patients, {tumors} tumors"
              f"{' changed since ' + since.date().isoformat() if since else ''}: {report.counts}")
    click.echo(f"checked {len(ids)} patient(s), {tumors} tumor(s): {report.counts['error']} error(s), "
               f"{report.counts['warning']} warning(s); report written to {report_path}; {_site_histology_note()}")
