"""Stage a tumor abstract with an installed SEER algorithm: inputs from the abstract, derived items back.

Nothing here names a site. Each schema input declares its NAACCR item (``naaccr_xml_id``); the value is
read from the patient, tumor or treatment column carrying that item, else from the tumor's site-specific
data items or extra items keyed by that naaccrId. A date item gives its year (``year_dx``); Age at Diagnosis
[230] is computed from the birth and diagnosis dates when no value was recorded. Outputs go back the same
way: each tumor column an algorithm owns is set from the output with the column's naaccrId (blank when the
schema has no such output), so a future bundle that derives EOD T/N/M fills those columns unchanged.

Which algorithm derives on save, for which diagnosis years and into which columns is the table
:data:`SAVE_RULES`.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, or_, select
from sqlalchemy.orm import Session, selectinload

from abstracts.operations import after_tumor_saved
from registry.audit import SYSTEM, Actor, operation
from registry.csv_safety import SafeWriter
from registry.db import db_session, session_factory
from registry.dates import PartialDate
from registry.errors import InvalidInput
from registry.items import naaccr_items
from registry.models import FirstCourseTreatment, Patient, ReferenceInstall, Tumor
from registry.models.patient import utcnow
from registry.reference import current

from .engine import STAGED, Algorithm, StagingResult
from .reference import INSTALL_HINT, KIND, UnknownAlgorithm, algorithm_for, find_install, split_spec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SaveRule:
    """An algorithm the registry derives on every save: the diagnosis years it covers and the columns it owns."""

    algorithm: str
    first_year: int
    columns: tuple[str, ...]


#: In order of preference; the first one installed derives on save (its newest install).
SAVE_RULES: tuple[SaveRule, ...] = (
    SaveRule("eod_public", 2018, ("schema_id", "derived_summary_stage_2018", "derived_eod_2018_t",
                                  "derived_eod_2018_n", "derived_eod_2018_m", "derived_eod_2018_stage_group",
                                  "derived_summary_grade_2018")),
)

#: When an item is blank, read this one instead (older abstracts carry Sex [220] but not Sex Assigned at Birth).
FALLBACK_ITEMS = {"sexAssignedAtBirth": "sex"}

INVALID_CODE = ("INVALID_REQUIRED_INPUT", "INVALID_NON_REQUIRED_INPUT")


# ----- where each NAACCR item lives ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """Where an item's value is read: ``level`` tumor/treatment/patient column, or a dict of the tumor."""

    level: str
    attribute: str
    kind: str = ""

    @property
    def field(self) -> str:
        """The name forms and error messages use (``eod_mets``, ``patient.sex``, ``site_specific_items.kras``)."""
        return self.attribute if self.level == "tumor" else f"{self.level}.{self.attribute}"


_COLUMNS: dict[str, Source] = {}


def _columns() -> dict[str, Source]:
    if not _COLUMNS:
        for level, model in (("tumor", Tumor), ("treatment", FirstCourseTreatment), ("patient", Patient)):
            for attribute, spec in naaccr_items(model).items():
                _COLUMNS.setdefault(spec.naaccr_id, Source(level, attribute, spec.kind))
    return _COLUMNS


def source_of(naaccr_id: str | None, ssdi: bool) -> Source | None:
    """The column for ``naaccr_id``, else the dictionary it is kept in (SSDIs apart from other extra items)."""
    if not naaccr_id:
        return None
    column = _columns().get(naaccr_id)
    if column is not None:
        return column
    return Source("site_specific_items" if ssdi else "extra_items", naaccr_id)


def _is_ssdi(raw_input: dict) -> bool:
    return any(m.get("name") == "SSDI" for m in raw_input.get("metadata") or [])


def _read(tumor: Tumor, naaccr_id: str) -> str | None:
    column = _columns().get(naaccr_id)
    if column is not None:
        level = column.level
        owner = tumor if level == "tumor" else tumor.patient if level == "patient" else tumor.treatment
        value = getattr(owner, column.attribute, None) if owner is not None else None
        if value and column.kind == "date":
            value = str(value)[:4]
    else:
        value = (tumor.site_specific_items or {}).get(naaccr_id) or (tumor.extra_items or {}).get(naaccr_id)
        if not value and naaccr_id in COMPUTED:
            value = COMPUTED[naaccr_id](tumor)
    if value is None or not str(value).strip():
        fallback = FALLBACK_ITEMS.get(naaccr_id)
        return _read(tumor, fallback) if fallback else None
    return str(value).strip()


def age_at_diagnosis(tumor: Tumor) -> str | None:
    """Age at Diagnosis [230] in whole years: exact when the dates decide it, else from the middle of each range."""
    try:
        birth = PartialDate.parse(tumor.patient.date_of_birth) if tumor.patient.date_of_birth else None
        diagnosis = PartialDate.parse(tumor.date_of_diagnosis) if tumor.date_of_diagnosis else None
    except ValueError:
        return None
    if birth is None or diagnosis is None:
        return "999" if diagnosis is not None else None

    def years(born: dt.date, on: dt.date) -> int:
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    low, high = years(birth.latest(), diagnosis.earliest()), years(birth.earliest(), diagnosis.latest())
    if low != high:
        middle = lambda d: d.earliest() + (d.latest() - d.earliest()) / 2  # noqa: E731
        low = years(middle(birth), middle(diagnosis))
    return f"{max(low, 0):03d}" if 0 <= low <= 120 else "999"


#: Items computed from others when the abstract does not carry them.
COMPUTED: dict[str, Callable[[Tumor], str | None]] = {"ageAtDiagnosis": age_at_diagnosis}


def _input_sources(algorithm: Algorithm) -> dict[str, tuple[str | None, Source | None]]:
    """Input key -> (naaccrId, where it is kept), over every schema of the algorithm (cached on it)."""
    cached = getattr(algorithm, "_product_sources", None)
    if cached is None:
        cached = {}
        for schema in algorithm.schemas.values():
            for inp in schema.inputs:
                if inp.key not in cached:
                    cached[inp.key] = (inp.naaccr_xml_id, source_of(inp.naaccr_xml_id, _is_ssdi(inp.raw)))
        algorithm._product_sources = cached  # type: ignore[attr-defined]
    return cached


def input_source(algorithm: Algorithm, key: str) -> Source | None:
    """Where the abstract keeps input ``key`` of the algorithm (None for inputs no item carries)."""
    return _input_sources(algorithm).get(key, (None, None))[1]


# ----- staging one tumor ---------------------------------------------------------------------------------------
@dataclass
class TumorStaging:
    """What staging one tumor gave: the engine result, the inputs it was given and the values to store."""

    algorithm: Algorithm
    rule: SaveRule | None
    result: StagingResult | None
    inputs: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    values: dict[str, str | None] = field(default_factory=dict)
    reason: str = ""

    @property
    def label(self) -> str | None:
        """What goes into ``Tumor.staging_algorithm`` (None when nothing was derived)."""
        if self.result is None or self.result.status != STAGED:
            return None
        return f"{self.algorithm.name} {self.algorithm.version}"

    def invalid_codes(self) -> dict[str, str]:
        """{field: message} for codes the abstract holds that the schema refuses (not defaults or computed values)."""
        problems: dict[str, str] = {}
        if self.result is None:
            return problems
        schema = self.algorithm.schemas.get(self.result.schema_id or "")
        for error in self.result.errors:
            if error.type in INVALID_CODE and error.key in self.fields:
                inp = schema.input_map[error.key] if schema else None
                name = f"{inp.name} [{inp.naaccr_item}]" if inp and inp.naaccr_item else error.key
                where = schema.name if schema else self.result.schema_id
                problems[self.fields[error.key]] = (
                    f"'{self.inputs.get(error.key, '')}' is not a valid code for {name} in schema {where} "
                    f"({self.algorithm.name} {self.algorithm.version})")
        return problems

    def messages(self) -> list[str]:
        if self.result is None:
            return [self.reason] if self.reason else []
        return [str(e) for e in self.result.errors]


def diagnosis_year(tumor: Tumor) -> int | None:
    text = (tumor.date_of_diagnosis or "").strip()
    return int(text[:4]) if len(text) >= 4 and text[:4].isdigit() else None


def tumor_inputs(tumor: Tumor, algorithm: Algorithm, keys: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Non-blank values of the input ``keys`` read from the abstract, and the field each came from."""
    sources = _input_sources(algorithm)
    values: dict[str, str] = {}
    fields: dict[str, str] = {}
    for key in keys:
        naaccr_id, source = sources.get(key, (None, None))
        if naaccr_id is None:
            continue
        value = _read(tumor, naaccr_id)
        if value:
            values[key] = value
            if source is not None and naaccr_id not in COMPUTED and source.kind != "date":
                fields[key] = source.field
    return values, fields


def stage_tumor(tumor: Tumor, algorithm: Algorithm, rule: SaveRule | None = None) -> TumorStaging:
    """Choose the schema from the abstract and derive its outputs; never raises for bad data."""
    staging = TumorStaging(algorithm, rule, None)
    year = diagnosis_year(tumor)
    if rule is not None and (year is None or year < rule.first_year):
        staging.reason = (f"{algorithm.name} stages diagnoses from {rule.first_year}; "
                          f"diagnosis year is {year or 'unknown'}")
        return staging
    selection, _ = tumor_inputs(tumor, algorithm, ("site", "hist", *algorithm.selection_keys))
    lookup = algorithm.lookup_schema(selection.pop("site", None), selection.pop("hist", None), **selection)
    if lookup.schema is None:
        staging.inputs, staging.fields = tumor_inputs(tumor, algorithm, ("site", "hist", *algorithm.selection_keys))
        staging.result = algorithm.stage(staging.inputs)
    else:
        staging.inputs, staging.fields = tumor_inputs(tumor, algorithm, lookup.schema.input_map)
        staging.result = algorithm.stage_with_schema(lookup.schema, staging.inputs)
    if rule is not None:
        staging.values = derived_values(staging, rule)
    return staging


def derived_values(staging: TumorStaging, rule: SaveRule) -> dict[str, str | None]:
    """Column -> value for every column the rule owns: the output with the column's naaccrId, else None."""
    item_ids = _tumor_item_ids()
    result = staging.result
    outputs: dict[str, str] = {}
    if result is not None and result.status == STAGED:
        schema = staging.algorithm.schemas[result.schema_id]
        outputs = {o.naaccr_xml_id: result.outputs.get(o.key, "") for o in schema.outputs if o.naaccr_xml_id}
    return {column: outputs.get(item_ids[column]) or None for column in rule.columns}


_ITEM_IDS: dict[str, str] = {}


def _tumor_item_ids() -> dict[str, str]:
    if not _ITEM_IDS:
        _ITEM_IDS.update({attribute: spec.naaccr_id for attribute, spec in naaccr_items(Tumor).items()})
    return _ITEM_IDS


def save_algorithm() -> tuple[SaveRule, ReferenceInstall] | None:
    """The rule and install that derive on save: the first rule whose algorithm is installed (newest install)."""
    for rule in SAVE_RULES:
        record = current(KIND, name=rule.algorithm)
        if record is not None:
            return rule, record
    return None


def apply(tumor: Tumor, staging: TumorStaging, rule: SaveRule) -> dict[str, list[Any]]:
    """Store the derived values on the tumor; returns {column: [before, after]} of what changed."""
    if staging.result is None:
        previous = (tumor.staging_algorithm or "").split(" ")[0]
        if previous != rule.algorithm:
            return {}  # never derived by this algorithm: nothing of ours to clear
        target: dict[str, Any] = dict.fromkeys(rule.columns)
    else:
        target = dict(staging.values)
    target["staging_algorithm"] = staging.label
    changes = {c: [getattr(tumor, c), v] for c, v in target.items() if getattr(tumor, c) != v}
    for column, (_, value) in changes.items():
        setattr(tumor, column, value)
    if changes:
        tumor.staged_at = utcnow()
    return changes


# ----- derive on save ------------------------------------------------------------------------------------------
_EDITED = "staging_edited_tumors"


def _owned_columns() -> set[str]:
    return {c for rule in SAVE_RULES for c in rule.columns} | {"staging_algorithm", "staged_at", "version",
                                                               "updated_at"}


def _mark(session: Session | None, tumor: Tumor | None) -> None:
    if session is not None and tumor is not None:
        session.info.setdefault(_EDITED, weakref.WeakSet()).add(tumor)


@event.listens_for(Tumor, "before_insert")
@event.listens_for(Tumor, "before_update")
def _tumor_written(_mapper: Any, _connection: Any, tumor: Tumor) -> None:
    """Remember abstracts whose own fields this save changes (not only what this module derives)."""
    state = inspect(tumor)
    owned = _owned_columns()
    if state.key is None or any(state.attrs[a.key].history.has_changes()
                                for a in state.mapper.column_attrs if a.key not in owned):
        _mark(state.session, tumor)


@event.listens_for(FirstCourseTreatment, "before_insert")
@event.listens_for(FirstCourseTreatment, "before_update")
def _treatment_written(_mapper: Any, _connection: Any, treatment: FirstCourseTreatment) -> None:
    _mark(inspect(treatment).session, treatment.tumor)


@event.listens_for(session_factory, "after_commit")
@event.listens_for(session_factory, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_EDITED, None)


@after_tumor_saved
def derive_on_save(session: Session, tumor: Tumor) -> None:
    """Derive stage inside the save when a save-rule algorithm is installed.

    Codes the schema refuses in the abstract's own fields stop a save of that abstract (InvalidInput naming
    each field, nothing written); a save of the patient (demographics, follow-up) is never refused for a
    tumor's codes — the tumor is staged as it stands and the problems are reported. Every other staging
    problem (no schema yet, a discriminator to answer) is reported, not raised: the derived items are left
    blank and the result is kept in ``session.info['staging_results'][tumor.id]`` and logged.
    """
    chosen = save_algorithm()
    edited = session.info.get(_EDITED)
    own_save = edited is not None and tumor in edited
    if edited is not None:
        edited.discard(tumor)
    if chosen is None:
        return
    rule, record = chosen
    staging = stage_tumor(tumor, algorithm_for(record), rule)
    if own_save:
        invalid = staging.invalid_codes()
        if invalid:
            raise InvalidInput(invalid, record=f"tumor {tumor.id}")
    apply(tumor, staging, rule)
    session.info.setdefault("staging_results", {})[tumor.id] = staging
    if staging.result is not None and (staging.result.status != STAGED or staging.result.errors):
        log.info("tumor %s: %s %s", tumor.id, staging.result.status, "; ".join(staging.messages()))


# ----- the abstract form's Stage section --------------------------------------------------------------------
def schema_form(algorithm: Algorithm, site: str | None, hist: str | None, answers: dict[str, str] | None = None,
                values: dict[str, str] | None = None) -> dict[str, Any]:
    """The schema for a site/histology (and discriminator answers), or the questions to ask first.

    ``inputs`` lists the chosen schema's inputs in bundle order with the abstract field each is kept in, its
    valid codes and descriptions, the current value (from ``values``) and whether the schema accepts it.
    """
    answers = {k: v for k, v in (answers or {}).items() if v and k not in ("site", "hist")}
    values = values or {}
    sources = _input_sources(algorithm)
    lookup = algorithm.lookup_schema(site, hist, **answers)
    form: dict[str, Any] = {"algorithm": algorithm.name, "version": algorithm.version, "status": lookup.status,
                            "site": site, "hist": hist, "answers": answers, "schema": None,
                            "candidates": [{"id": s.id, "name": s.name} for s in lookup.schemas],
                            "questions": [], "inputs": []}
    for q in lookup.questions:
        source = sources.get(q.key, (None, None))[1]
        form["questions"].append({"key": q.key, "name": q.name, "field": source.field if source else None,
                                  "codes": [{"code": c, "description": d} for c, d in q.codes]})
    schema = lookup.schema
    if schema is None:
        return form
    schema_item = next((o.default for o in schema.outputs if o.naaccr_xml_id == "schemaId"), None)
    form["schema"] = {"id": schema.id, "name": schema.name, "title": schema.title, "naaccr_schema_id": schema_item}
    for inp in schema.inputs:
        source = sources.get(inp.key, (None, None))[1]
        value = values.get(inp.key)
        form["inputs"].append({
            "key": inp.key, "name": inp.name, "naaccr_item": inp.naaccr_item, "naaccr_id": inp.naaccr_xml_id,
            "field": "computed" if inp.naaccr_xml_id in COMPUTED else (source.field if source else None),
            "used_for_staging": inp.used_for_staging, "default": inp.default, "value": value,
            "valid": None if not value else algorithm.is_code_valid(schema.id, inp.key, value, values),
            "codes": [{"code": c, "description": d} for c, d in algorithm.valid_codes(schema.id, inp.key)]})
    return form


def stage_section(tumor: Tumor) -> dict[str, Any]:
    """What the abstract's Stage section shows for ``tumor``: schema or question, inputs, and the derived result.

    ``status`` is ``NO_ALGORITHM`` (with ``message`` saying how to install one), ``NOT_APPLICABLE`` (diagnosis
    year outside the algorithm), or the schema lookup status ``MATCH``/``MULTIPLE_MATCHES``/``NO_MATCH``.
    """
    chosen = save_algorithm()
    if chosen is None:
        return {"status": "NO_ALGORITHM", "message": f"No EOD staging algorithm is installed; an administrator "
                                                     f"installs one with {INSTALL_HINT}"}
    rule, record = chosen
    algorithm = algorithm_for(record)
    staging = stage_tumor(tumor, algorithm, rule)
    if staging.result is None:
        return {"status": "NOT_APPLICABLE", "algorithm": algorithm.name, "version": algorithm.version,
                "message": staging.reason}
    everything, _ = tumor_inputs(tumor, algorithm, _input_sources(algorithm))
    answers = {k: everything[k] for k in algorithm.selection_keys if k in everything}
    form = schema_form(algorithm, everything.get("site"), everything.get("hist"), answers, everything)
    form["result"] = {"status": staging.result.status, "schema_id": staging.result.schema_id,
                      "outputs": staging.result.outputs, "errors": staging.messages(),
                      "stored": {c: getattr(tumor, c) for c in rule.columns},
                      "staging_algorithm": tumor.staging_algorithm}
    return form


# ----- re-derivation after a new version -----------------------------------------------------------------------
@dataclass
class RederiveReport:
    algorithm: str
    version: str
    examined: int = 0
    changed: int = 0
    relabelled: int = 0
    unchanged: int = 0
    statuses: Counter = field(default_factory=Counter)
    columns: Counter = field(default_factory=Counter)
    result_file: str | None = None

    def lines(self) -> list[str]:
        out = [f"re-derived {self.examined} tumors with {self.algorithm} {self.version}: {self.changed} with changed "
               f"values, {self.relabelled} with only the algorithm version updated, {self.unchanged} unchanged"]
        if self.columns:
            out.append("changed: " + ", ".join(f"{c} {n}" for c, n in self.columns.most_common()))
        out.append("results: " + ", ".join(f"{s} {n}" for s, n in sorted(self.statuses.items())))
        if self.result_file:
            out.append(f"changed tumors: {self.result_file}")
        return out


def rule_for(spec: str) -> SaveRule:
    name, _ = split_spec(spec)
    for rule in SAVE_RULES:
        if rule.algorithm == name:
            return rule
    raise UnknownAlgorithm(f"'{name}' is not derived into the abstracts (re-derivation covers "
                           f"{', '.join(r.algorithm for r in SAVE_RULES)}); use 'staging run' to stage a file")


def rederive(spec: str, result_dir: Path, *, actor: Actor = SYSTEM,
             progress: Callable[[int, str], None] | None = None, batch: int = 1000) -> RederiveReport:
    """Stage again every tumor the algorithm covers (or that it staged before) and store what changed.

    Batches of ``batch`` tumors are one audited transaction each, so the registry stays usable meanwhile and
    an interrupted run is simply run again. Never raises for a tumor's data: problems go into the report.
    """
    rule = rule_for(spec)
    record = find_install(spec)
    algorithm = algorithm_for(record)
    report = RederiveReport(algorithm.name, algorithm.version)
    ids = list(db_session.scalars(
        select(Tumor.id).where(or_(Tumor.date_of_diagnosis >= str(rule.first_year),
                                   Tumor.staging_algorithm.like(f"{rule.algorithm} %"))).order_by(Tumor.id)))
    db_session.rollback()
    result_dir.mkdir(parents=True, exist_ok=True)
    path = result_dir / f"staging-rederive-{algorithm.name}-{algorithm.version}-{uuid.uuid4().hex[:8]}.csv"
    columns = [*rule.columns, "staging_algorithm"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = SafeWriter(handle)
        writer.writerow(["tumor_id", "patient_id_number", "result", *(f"{c}_{w}" for c in columns
                                                                        for w in ("before", "after")), "errors"])
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            with operation(actor, f"staging_rederive:{algorithm.name}-{algorithm.version}") as session:
                tumors = session.scalars(select(Tumor).where(Tumor.id.in_(chunk)).order_by(Tumor.id).options(
                    selectinload(Tumor.patient), selectinload(Tumor.treatment))).all()
                for tumor in tumors:
                    staging = stage_tumor(tumor, algorithm, rule)
                    before = {c: getattr(tumor, c) for c in columns}
                    changes = apply(tumor, staging, rule)
                    report.examined += 1
                    report.statuses[staging.result.status if staging.result else "NOT_APPLICABLE"] += 1
                    value_changes = [c for c in changes if c != "staging_algorithm"]
                    if value_changes:
                        report.changed += 1
                        report.columns.update(value_changes)
                        writer.writerow([tumor.id, tumor.patient.patient_id_number,
                                         staging.result.status if staging.result else "NOT_APPLICABLE",
                                         *(v for c in columns for v in (before[c] or "", getattr(tumor, c) or "")),
                                         "; ".join(staging.messages())])
                    elif changes:
                        report.relabelled += 1
                    else:
                        report.unchanged += 1
                session.flush()
            if progress:
                done = min(start + batch, len(ids))
                progress(int(done * 100 / max(len(ids), 1)), f"{done} of {len(ids)} tumors")
    report.result_file = str(path)
    return report


def rederive_job(progress: Callable[[int, str], None], algorithm: str, user_id: int | None = None,
                 username: str = "system") -> str:
    """Job kind ``staging-rederive``: the report goes into the job's messages, changed tumors into its CSV."""
    from flask import current_app
    actor = Actor(user_id, username) if user_id else SYSTEM
    report = rederive(algorithm, Path(current_app.config["JOB_FILES_DIR"]), actor=actor, progress=progress)
    progress(100, "\n".join(report.lines()))
    return report.result_file or ""


def register_jobs() -> None:
    from registry.jobs import job_kind
    job_kind("staging-rederive")(rederive_job)


register_jobs()
