"""Research releases: one zip holding the data (CSV, Parquet or a de-identified NAACCR XML incidence
file) and the data dictionary (CSV and HTML), streamed row by row, and recorded in the release log.

Every release is refused before anything is written when its request is wrong (a bad filter, a
variable that may not leave at the level, a limited data set without a valid data use agreement)
and recorded after the file is complete: who, when, purpose, filters, variables, level, row count,
SHA-256 and where the file is; the study-id key goes into ``research_study_key`` in the same
transaction. Files expire after ``RESEARCH_FILE_DAYS``; :func:`purge_expired` deletes them.
"""
from __future__ import annotations

import datetime as dt
import html
import io
import os
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Select, insert, select

from registry.audit import Actor, log_event, operation
from registry.csv_safety import SafeDictWriter, SafeWriter
from registry.db import db_session
from registry.errors import InvalidInput, NotAllowed, NotFound
from registry.files import sha256_of
from registry.jobs import job_kind
from registry.models import DataUseAgreement, ResearchRelease, ResearchStudyKey, Role, User
from registry.models.patient import utcnow
from reports.research import cohort
from reports.research.deidentify import Deidentifier, StudyIds
from reports.research.variables import LEVELS, LIMITED, SAFE_HARBOR, TREATMENTS, choose, dictionary

FORMATS = {"csv": "data.csv", "parquet": "data.parquet", "naaccr": "data.xml"}
#: NAACCR versions tried, newest first, for the incidence file.
NAACCR_VERSIONS = ("260", "250", "240")
KEY_BATCH = 5000
PARQUET_BATCH = 20000
ACTION = "research_release"
Progress = Callable[[int, str], None]


@dataclass
class ReleaseRequest:
    """What a researcher asks for."""

    filters: cohort.Filters = field(default_factory=cohort.Filters)
    variables: list[str] | None = None
    level: str = SAFE_HARBOR
    file_format: str = "csv"
    purpose: str = ""
    agreement_id: int | None = None


def check_agreement(agreement_id: int | None, recipient: User | None, today: dt.date | None = None) -> DataUseAgreement:
    """The data use agreement a limited data set rests on; refused when missing, someone else's,
    revoked or expired."""
    if agreement_id is None:
        raise NotAllowed("a limited data set needs a data use agreement: give --agreement ID "
                         "(an administrator records one with 'research agreement add')")
    agreement = db_session.get(DataUseAgreement, agreement_id)
    if agreement is None:
        raise NotFound(f"there is no data use agreement {agreement_id}")
    if recipient is not None and agreement.user_id != recipient.id:
        raise NotAllowed(f"data use agreement {agreement_id} is not {recipient.username}'s")
    today = today or dt.date.today()
    if agreement.revoked_at is not None:
        raise NotAllowed(f"data use agreement {agreement_id} was revoked")
    if not agreement.valid_on(today):
        raise NotAllowed(f"data use agreement {agreement_id} ({agreement.project}) expired on "
                         f"{agreement.expires_on.isoformat()}")
    return agreement


def _validate(request: ReleaseRequest) -> list[str]:
    errors = {}
    if request.level not in LEVELS:
        errors["level"] = f"must be one of {', '.join(LEVELS)}, not {request.level!r}"
    if request.file_format not in FORMATS:
        errors["format"] = f"must be one of {', '.join(FORMATS)}, not {request.file_format!r}"
    variables: list[str] = []
    if not errors:
        try:
            variables = choose(request.variables, request.level)
        except ValueError as exc:
            errors["variables"] = str(exc)
    if errors:
        raise InvalidInput(errors)
    return variables


# -- data dictionary ---------------------------------------------------------------------------------------

DICTIONARY_COLUMNS = ("variable", "label", "naaccr_item", "naaccr_id", "source", "phi_class", "released_as",
                      "description", "codes")


def dictionary_rows(variables: list[str], level: str) -> list[dict[str, str]]:
    known = dictionary()
    return [{"variable": v.name, "label": v.label, "naaccr_item": str(v.naaccr_num or ""),
             "naaccr_id": v.naaccr_id or "", "source": v.source, "phi_class": v.phi_class,
             "released_as": TREATMENTS[v.treatment(level)], "description": v.description,
             "codes": v.codes_text()} for v in (known[name] for name in variables)]


def dictionary_csv(variables: list[str], level: str) -> str:
    out = io.StringIO()
    writer = SafeDictWriter(out, DICTIONARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(dictionary_rows(variables, level))
    return out.getvalue()


def dictionary_html(variables: list[str], level: str, summary: dict[str, str]) -> str:
    known = dictionary()
    e = html.escape
    head = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in summary.items())
    body = []
    for row in dictionary_rows(variables, level):
        codes = known[row["variable"]].codes
        code_list = ("<details><summary>" + f"{len(codes)} codes</summary><table>"
                     + "".join(f"<tr><td>{e(c)}</td><td>{e(t)}</td></tr>" for c, t in codes.items())
                     + "</table></details>") if codes else ""
        body.append("<tr>" + "".join(f"<td>{e(row[c])}</td>" for c in DICTIONARY_COLUMNS[:-1])
                    + f"<td>{code_list}</td></tr>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Data dictionary</title></head>"
            f"<body><h1>Research dataset: data dictionary</h1><table>{head}</table><table border=\"1\"><thead><tr>"
            + "".join(f"<th>{e(c)}</th>" for c in DICTIONARY_COLUMNS) + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></body></html>\n")


# -- writers -----------------------------------------------------------------------------------------------

def _write_csv(archive: zipfile.ZipFile, header: list[str], cells: Iterator[list[str]]) -> None:
    with archive.open(FORMATS["csv"], "w", force_zip64=True) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = SafeWriter(text, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(cells)
        text.flush()
        text.detach()


def _write_parquet(archive: zipfile.ZipFile, header: list[str], cells: Iterator[list[str]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    schema = pa.schema([(name, pa.string()) for name in header])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / FORMATS["parquet"]
        with pq.ParquetWriter(path, schema) as writer:
            batch: list[list[str]] = []

            def flush() -> None:
                columns = list(zip(*batch)) if batch else [()] * len(header)
                writer.write_table(pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], schema=schema))
                batch.clear()
            for row in cells:
                batch.append(row)
                if len(batch) >= PARQUET_BATCH:
                    flush()
            flush()
        archive.write(path, FORMATS["parquet"])


def naaccr_dictionary() -> Any:
    from registry.naaccr.records import installed_dictionaries
    store, _users = installed_dictionaries()
    for version in NAACCR_VERSIONS:
        found = store.get(version)
        if found is not None:
            return found
    raise NotFound("no NAACCR base dictionary is installed (flask --app wsgi reference install naaccr-dictionary "
                   "naaccr-dictionary-250.xml)")


def _write_naaccr(archive: zipfile.ZipFile, header: list[str], cells: Iterator[list[str]], dictionary_: Any) -> None:
    """A NAACCR XML incidence (I) file of the released values: only the chosen variables that are
    NAACCR items, at the level the dictionary gives, the study patient id as Patient ID Number."""
    from registry.naaccr.writer import NaaccrWriter
    known = dictionary()
    lookup = dictionary_
    placed = []
    for index, name in enumerate(header):
        variable = known[name]
        item = lookup.get(variable.naaccr_id) if variable.naaccr_id else None
        if item is not None:
            placed.append((index, variable.naaccr_id, item.parent))
    patient_index = header.index("study_patient_id")

    def pooled(naaccr_id: str, value: str) -> str:
        return "090" if naaccr_id == "ageAtDiagnosis" and value == "90+" else \
            value.zfill(3) if naaccr_id == "ageAtDiagnosis" and value else value

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / FORMATS["naaccr"]
        root = {"recordType": "I", "naaccrRecordVersion": dictionary_.naaccr_version or ""}
        with NaaccrWriter(path, dictionary_, "I", root_items=root) as writer:
            for _, rows in groupby(cells, key=lambda row: row[patient_index]):
                patient: dict[str, Any] = {"items": {}, "tumors": []}
                for row in rows:
                    tumor: dict[str, str] = {}
                    for index, naaccr_id, parent in placed:
                        value = pooled(naaccr_id, row[index])
                        if value:
                            (patient["items"] if parent == "Patient" else tumor)[naaccr_id] = value
                    patient["tumors"].append({"items": tumor})
                writer.write_patient(patient)
        archive.write(path, FORMATS["naaccr"])


# -- releases ----------------------------------------------------------------------------------------------

def release_folder() -> Path:
    folder = Path(current_app.config["JOB_FILES_DIR"]) / "research"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def create_release(request: ReleaseRequest, *, actor: Actor | User, recipient: User | None = None,
                   output: str | os.PathLike[str] | None = None, progress: Progress | None = None,
                   today: dt.date | None = None) -> ResearchRelease:
    """Write the release zip (to ``output``, or the release folder) and record it; see the module doc."""
    variables = _validate(request)
    who = actor if isinstance(actor, Actor) else Actor.of(actor)
    agreement = None
    if request.level == LIMITED:
        agreement = check_agreement(request.agreement_id, recipient, today)
        recipient = recipient or agreement.user
    naaccr = naaccr_dictionary() if request.file_format == "naaccr" else None
    cutoff = int(current_app.config["SURVIVAL_END_POINT_YEAR"])
    year = (today or dt.date.today()).year
    deidentifier = Deidentifier(variables, request.level, year)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = Path(output) if output else release_folder() / f"research-{stamp}-{secrets.token_hex(4)}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    session = db_session()
    total = cohort.count(session, request.filters) if progress else 0
    ids = StudyIds()
    keys: list[dict[str, Any]] = []

    def cells() -> Iterator[list[str]]:
        for values in cohort.rows(session, request.filters, variables, cutoff):
            values["study_patient_id"] = ids.patient(values["_patient_id"])
            values["study_tumor_id"] = ids.tumor()
            keys.append({"tumor_id": values["_tumor_id"], "patient_id": values["_patient_id"],
                         "study_patient_id": values["study_patient_id"], "study_tumor_id": values["study_tumor_id"]})
            if progress and len(keys) % 5000 == 0:
                progress(min(len(keys) * 95 // max(total, 1), 95), f"{len(keys)} of about {total} tumors")
            yield deidentifier.cells(values)

    summary = {"level": LEVELS[request.level], "filters": request.filters.describe(),
               "purpose": request.purpose, "released by": who.username,
               "released on": (today or dt.date.today()).isoformat(),
               "survival end-point year (study cutoff)": str(cutoff), "format": request.file_format}
    if agreement is not None:
        summary["data use agreement"] = f"{agreement.id}: {agreement.project} (until {agreement.expires_on})"
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            if request.file_format == "csv":
                _write_csv(archive, variables, cells())
            elif request.file_format == "parquet":
                _write_parquet(archive, variables, cells())
            else:
                _write_naaccr(archive, variables, cells(), naaccr)
            summary["rows"] = str(len(keys))
            archive.writestr("dictionary.csv", dictionary_csv(variables, request.level))
            archive.writestr("dictionary.html", dictionary_html(variables, request.level, summary))
        checksum = sha256_of(partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    days = int(current_app.config.get("RESEARCH_FILE_DAYS", 30))
    with operation(who, ACTION) as session:
        release = ResearchRelease(
            created_by_id=who.user_id, created_by=who.username, purpose=request.purpose, level=request.level,
            agreement_id=agreement.id if agreement else None, filters=request.filters.to_json(),
            variables=variables, file_format=request.file_format, row_count=len(keys), patient_count=ids.patients,
            checksum=checksum, file_name=target.name, file_path=str(target.resolve()),
            expires_at=utcnow() + dt.timedelta(days=days))
        session.add(release)
        session.flush()
        for start in range(0, len(keys), KEY_BATCH):
            session.execute(insert(ResearchStudyKey),
                            [dict(row, release_id=release.id) for row in keys[start:start + KEY_BATCH]])
        log_event(who, ACTION, entity="research_release", entity_id=release.id, commit=False,
                  detail=f"{target.name}: {request.level}, {len(keys)} tumors of {ids.patients} patients, "
                         f"{request.file_format}, sha256 {checksum}; filters {request.filters.describe()}; "
                         f"purpose {request.purpose or '-'}")
    if progress:
        progress(100, f"{len(keys)} tumors of {ids.patients} patients released to {target.name}")
    return release


def release_log(user: User | None = None) -> Select[tuple[ResearchRelease]]:
    """The release log, newest first: ``user``'s own releases, or every release."""
    stmt = select(ResearchRelease).order_by(ResearchRelease.id.desc())
    return stmt if user is None else stmt.where(ResearchRelease.created_by_id == user.id)


def releases(limit: int = 200, user: User | None = None) -> list[ResearchRelease]:
    return list(db_session.scalars(release_log(user).limit(limit)))


def may_download(release: ResearchRelease, user: User) -> bool:
    """A release goes to the user it was made for, and to administrators (the web's and the API's rule)."""
    return release.created_by_id == user.id or user.role is Role.ADMIN


def release_file(release: ResearchRelease) -> Path | None:
    """The release's zip while it is kept; None once it has expired and was deleted."""
    path = Path(release.file_path)
    return path if release.purged_at is None and path.is_file() else None


def record_download(release: ResearchRelease, user: User) -> None:
    """Every copy of a dataset that leaves the registry again is in the audit trail."""
    log_event(user, "research_download", entity="research_release", entity_id=release.id, detail=release.file_name)


def purge_expired(*, actor: Actor | User, now: dt.datetime | None = None) -> int:
    """Delete the files of releases past their expiry (the log rows stay); returns how many."""
    now = now or utcnow()
    who = actor if isinstance(actor, Actor) else Actor.of(actor)
    purged = 0
    with operation(who, "research_purge") as session:
        stmt = select(ResearchRelease).where(ResearchRelease.purged_at.is_(None), ResearchRelease.expires_at <= now)
        for release in session.scalars(stmt):
            Path(release.file_path).unlink(missing_ok=True)
            release.purged_at = now
            purged += 1
        if purged:
            log_event(who, "research_purge", detail=f"{purged} expired release files deleted", commit=False)
    return purged


@job_kind("research-export")
def release_job(progress: Progress, user_id: int, filters: dict[str, Any], variables: list[str] | None = None,
                level: str = SAFE_HARBOR, file_format: str = "csv", purpose: str = "",
                agreement_id: int | None = None) -> str:
    """Job kind ``research-export``: the page's release, written under the job files folder."""
    user = db_session.get(User, user_id)
    request = ReleaseRequest(cohort.Filters.parse(**filters), variables, level, file_format, purpose, agreement_id)
    release = create_release(request, actor=user, recipient=user, progress=progress)
    return release.file_path


@job_kind("research-purge")
def purge_job(progress: Progress) -> None:
    """Job kind ``research-purge``: delete expired release files."""
    count = purge_expired(actor=Actor(None, "research-purge"))
    progress(100, f"{count} expired release files deleted")
    return None
