"""The annual report's numbers: SQL over the registry's models, grouped with definitions.py.

Every function takes a :class:`Scope` (diagnosis year, optional reporting facility, the date
follow-up is judged at) and returns plain pandas tables or dicts, so the PDF, the tests and
any page that wants the same figure read them from one place.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select

from registry.db import db_session
from registry.models import FirstCourseTreatment, Patient, Tumor
from reports.annual_report import definitions as d
from reports.definitions import add_months, follow_up_window, survival_cutoff

TREATMENT_COLUMNS = sorted({column for column, _codes in d.TREATMENT_GIVEN.values()})


@dataclass(frozen=True)
class Scope:
    """What a report covers: the diagnosis year, one reporting facility [540] or all, and the
    date at which follow-up is judged current."""

    year: int
    facility: str | None = None
    as_of: dt.date = field(default_factory=dt.date.today)


def diagnosed_between(first: int, last: int):
    """Date of Diagnosis [390] in years ``first``..``last``; partial dates (CCYY, CCYYMM) included."""
    return Tumor.date_of_diagnosis.between(f"{first:04d}", f"{last:04d}9999")


def in_scope(stmt: Select, scope: Scope, first: int | None = None, last: int | None = None) -> Select:
    stmt = stmt.where(diagnosed_between(scope.year if first is None else first, scope.year if last is None else last))
    if scope.facility:
        stmt = stmt.where(Tumor.extra_items["reportingFacility"].as_string() == scope.facility)
    return stmt


def _frame(stmt: Select) -> pd.DataFrame:
    result = db_session.execute(stmt)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _parts(date: str | None) -> tuple[int | None, int | None, int | None]:
    if not date or len(date) < 4:
        return None, None, None
    return int(date[:4]), int(date[4:6]) if len(date) >= 6 else None, int(date[6:8]) if len(date) >= 8 else None


def age_at(birth: str | None, when: str | None) -> int | None:
    """Completed years from birth to ``when``; when either month is unknown, the difference of
    the years (no month or day is invented)."""
    by, bm, bd = _parts(birth)
    wy, wm, wd = _parts(when)
    if by is None or wy is None:
        return None
    years = wy - by
    if bm is None or wm is None:
        return years
    if (wm, wd or 31) < (bm, bd or 1):
        return years - 1
    return years


def year_cases(scope: Scope) -> pd.DataFrame:
    """One row per tumor diagnosed in the year (analytic and non-analytic), with the report's groupings."""
    stmt = (select(Tumor.id.label("tumor_id"), Tumor.patient_id, Tumor.primary_site, Tumor.histology,
                   Tumor.behavior, Tumor.class_of_case, Tumor.date_of_diagnosis, Tumor.date_of_first_contact,
                   Tumor.summary_stage, Tumor.summary_stage_scheme, Tumor.ajcc_clinical_stage_group,
                   Tumor.ajcc_pathological_stage_group, Tumor.derived_eod_2018_stage_group,
                   Tumor.workflow_state, Tumor.abstracted_at, Patient.sex, Patient.date_of_birth,
                   Patient.county_at_dx, Patient.addr_at_dx_state,
                   *(getattr(FirstCourseTreatment, c).label(c) for c in TREATMENT_COLUMNS))
            .join(Patient, Patient.id == Tumor.patient_id)
            .outerjoin(FirstCourseTreatment, FirstCourseTreatment.tumor_id == Tumor.id))
    frame = _frame(in_scope(stmt, scope))
    return add_groupings(frame)


def add_groupings(frame: pd.DataFrame) -> pd.DataFrame:
    """Site group, analytic, stage, AJCC group, age and treatment flags from the coded items."""
    if frame.empty:
        for column in ("site_group", "analytic", "stage", "ajcc", "age", "age_group", "workflow",
                       *d.TREATMENT_GIVEN):
            frame[column] = pd.Series(dtype=object)
        return frame
    frame["site_group"] = [d.site_group(s, h) for s, h in zip(frame["primary_site"], frame["histology"])]
    frame["analytic"] = frame["class_of_case"].isin(d.ANALYTIC_CLASSES)
    frame["stage"] = [d.stage_category(code) for code in frame["summary_stage"]]
    frame["ajcc"] = [d.ajcc_group(p or c or e) for p, c, e in zip(frame["ajcc_pathological_stage_group"],
                                                                   frame["ajcc_clinical_stage_group"],
                                                                   frame["derived_eod_2018_stage_group"])]
    frame["age"] = [age_at(b, x) for b, x in zip(frame["date_of_birth"], frame["date_of_diagnosis"])]
    frame["age_group"] = [d.age_group(a) for a in frame["age"]]
    frame["workflow"] = [getattr(w, "value", w) for w in frame["workflow_state"]]
    for label, (column, given) in d.TREATMENT_GIVEN.items():
        frame[label] = frame[column].isin(given)
    return frame


def yearly_counts(scope: Scope, first: int, last: int) -> pd.DataFrame:
    """Analytic cases per diagnosis year and site group, years ``first``..``last`` (one SQL GROUP BY)."""
    year = func.substr(Tumor.date_of_diagnosis, 1, 4)
    stmt = (select(year.label("year"), Tumor.primary_site, Tumor.histology, func.count().label("n"))
            .where(Tumor.class_of_case.in_(d.ANALYTIC_CLASSES))
            .group_by(year, Tumor.primary_site, Tumor.histology))
    frame = _frame(in_scope(stmt, scope, first, last))
    if frame.empty:
        return pd.DataFrame(columns=["year", "site_group", "n"])
    frame["year"] = frame["year"].astype(int)
    frame["site_group"] = [d.site_group(s, h) for s, h in zip(frame["primary_site"], frame["histology"])]
    return frame.groupby(["year", "site_group"], as_index=False)["n"].sum()


def _latest(date: str | None) -> str:
    """A partial date as the latest CCYYMMDD string it may stand for (comparison only)."""
    return (date or "").ljust(8, "9") if date else ""


def follow_up(scope: Scope) -> dict[str, Any]:
    """CoC follow-up rates as of ``scope.as_of``, over the diagnosis years of reports.definitions (the same
    for the follow-up page and the annual report): analytic cases from the reference year (the first year
    with an eligible analytic case) and those of the five complete years before the as-of year."""
    window = follow_up_window(scope.as_of)
    stmt = (select(Tumor.primary_site, Tumor.histology, Tumor.behavior, Tumor.date_of_diagnosis,
                   Tumor.summary_stage, Patient.date_of_birth, Patient.vital_status, Patient.date_of_last_contact,
                   Patient.addr_at_dx_state)
            .join(Patient, Patient.id == Tumor.patient_id)
            .where(Tumor.class_of_case.in_(d.ANALYTIC_CLASSES)))
    frame = _frame(in_scope(stmt, scope, 1, window.last_year))
    cutoff = window.cutoff.strftime("%Y%m%d")
    as_of = scope.as_of.strftime("%Y%m%d")
    excluded: Counter[str] = Counter()
    rows = []
    for row in frame.itertuples(index=False):
        year = int(row.date_of_diagnosis[:4])
        stage = d.stage_category(row.summary_stage)
        reason = d.follow_up_exclusion(row.primary_site, row.histology, row.behavior, stage)
        alive = row.vital_status != "0"
        if reason is None and row.addr_at_dx_state in d.FOREIGN_RESIDENCE_STATES:
            reason = "foreign resident"
        if reason is None and alive and (age_at(row.date_of_birth, as_of) or 0) >= d.FOLLOW_UP_OLDEST_AGE:
            reason = f"alive and aged {d.FOLLOW_UP_OLDEST_AGE} or more"
        if reason:
            excluded[reason] += 1
            continue
        rows.append((year, not alive or _latest(row.date_of_last_contact) >= cutoff))
    reference_year = min((y for y, _ in rows), default=window.first_recent_year)

    def rate(selected: list[bool]) -> dict[str, Any]:
        return {"eligible": len(selected), "current": sum(selected),
                "rate": 100 * sum(selected) / len(selected) if selected else None}

    return {"as_of": scope.as_of, "cutoff": window.cutoff, "reference_year": reference_year,
            "first_recent_year": window.first_recent_year, "last_year": window.last_year,
            "definition": window.sentence,
            "all": rate([c for _y, c in rows]) | {"standard": d.COC_ALL_CASES_STANDARD},
            "recent": rate([c for y, c in rows if y >= window.first_recent_year])
            | {"standard": d.COC_RECENT_CASES_STANDARD},
            "excluded": dict(sorted(excluded.items())), "non_analytic_left_out": True}


def timeliness(cases: pd.DataFrame) -> dict[str, Any]:
    """Share of the year's analytic cases abstracted within six months of first contact [580]."""
    analytic = cases[cases["analytic"]] if not cases.empty else cases
    timely = late = not_abstracted = no_contact = 0
    for first_contact, abstracted in zip(analytic.get("date_of_first_contact", []), analytic.get("abstracted_at", [])):
        if abstracted is None or pd.isna(abstracted):
            not_abstracted += 1
            continue
        if not first_contact or len(first_contact) < 8:
            no_contact += 1
            continue
        first = dt.date(int(first_contact[:4]), int(first_contact[4:6]), int(first_contact[6:8]))
        if pd.Timestamp(abstracted).date() <= add_months(first, d.TIMELINESS_MONTHS):
            timely += 1
        else:
            late += 1
    measured = timely + late
    return {"cases": len(analytic), "timely": timely, "late": late, "not_abstracted": not_abstracted,
            "no_first_contact": no_contact, "rate": 100 * timely / measured if measured else None,
            "standard": 90}


def workflow(cases: pd.DataFrame) -> dict[str, int]:
    """The year's abstracts by workflow state (in progress, complete, reviewed)."""
    counts = Counter(cases["workflow"]) if not cases.empty else Counter()
    return {state: int(counts.get(state, 0)) for state in ("in_progress", "complete", "reviewed")}


def survival_cases(scope: Scope, first: int, last: int) -> pd.DataFrame:
    """First primaries (sequence 00/01), analytic, malignant, diagnosed ``first``..``last``, no death
    certificate or autopsy only; survival time from the survival library (SEER active follow-up) to the
    survival cut-off of reports.definitions, the same as the Survival page's."""
    from reports.survival import survival_time
    stmt = (select(Tumor.primary_site, Tumor.histology, Tumor.date_of_diagnosis, Tumor.summary_stage,
                   Tumor.sequence_number_hospital, Tumor.type_of_reporting_source,
                   Patient.sex, Patient.date_of_birth, Patient.vital_status, Patient.date_of_last_contact)
            .join(Patient, Patient.id == Tumor.patient_id)
            .where(Tumor.class_of_case.in_(d.ANALYTIC_CLASSES), Tumor.behavior == "3",
                   Tumor.sequence_number_hospital.in_(("00", "01")),
                   Tumor.type_of_reporting_source.not_in(("6", "7"))))
    frame = _frame(in_scope(stmt, scope, first, last))
    columns = ["site_group", "stage", "time", "dead", "age", "sex", "year"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    end_point_year = survival_cutoff(scope.as_of).end_point_year
    out = []
    for row in frame.itertuples(index=False):
        result = survival_time([{"dateOfDiagnosis": row.date_of_diagnosis, "dateOfBirth": row.date_of_birth,
                                 "dateOfLastContact": row.date_of_last_contact, "vitalStatus": row.vital_status,
                                 "typeOfReportingSource": row.type_of_reporting_source,
                                 "sequenceNumberCentral": row.sequence_number_hospital}],
                               end_point_year=end_point_year, today=scope.as_of)[0]
        months = int(result["survMosActiveFollowup"])
        if months == 9999 or result.get("vitalStatusRecode") is None:
            continue
        year = int(row.date_of_diagnosis[:4])
        dx = result["survDateDxRecode"]
        out.append((d.site_group(row.primary_site, row.histology),
                    d.stage_category(row.summary_stage),
                    months / 12, int(result["vitalStatusRecode"] == "0"), age_at(row.date_of_birth, dx),
                    row.sex, year + (int(dx[4:6]) - 0.5) / 12 if dx and dx != "99999999" else year + 0.5))
    return pd.DataFrame(out, columns=columns)


def edit_results(scope: Scope) -> dict[str, Any] | None:
    """Edit pass rate of the year's tumors (no failing edit of severity "error"); None when the
    edits package is not installed."""
    try:
        from registry.edits import run_edits
        from registry.edits.catalog import item_specs
    except ImportError:
        return None
    specs = item_specs()
    patient_columns = [getattr(Patient, name) for name in specs["patient"]]
    tumor_names = list(specs["tumor"])
    tumor_columns = [getattr(Tumor, n) if hasattr(Tumor, n) else getattr(FirstCourseTreatment, n)
                     for n in tumor_names]
    year_patients = in_scope(select(Tumor.patient_id), scope)
    patients = {row[0]: dict(zip(specs["patient"], (_text(v) for v in row[1:])))
                for row in db_session.execute(select(Patient.id, *patient_columns)
                                              .where(Patient.id.in_(year_patients)))}
    in_year = {tid for (tid,) in db_session.execute(in_scope(select(Tumor.id), scope))}
    tumors: dict[int, list[tuple[int, dict]]] = {}
    for row in db_session.execute(select(Tumor.patient_id, Tumor.id, *tumor_columns)
                                  .outerjoin(FirstCourseTreatment, FirstCourseTreatment.tumor_id == Tumor.id)
                                  .where(Tumor.patient_id.in_(year_patients))
                                  .order_by(Tumor.patient_id, Tumor.sequence_number_hospital, Tumor.id)):
        tumors.setdefault(row[0], []).append((row[1], dict(zip(tumor_names, (_text(v) for v in row[2:])))))
    checked = passed = 0
    failing: Counter[str] = Counter()
    for patient_id, patient in patients.items():
        records = tumors.get(patient_id, [])
        failures = [f for f in run_edits(patient, [r for _id, r in records], today=scope.as_of)
                    if f.severity == "error"]
        for index, (tumor_id, _record) in enumerate(records):
            if tumor_id not in in_year:
                continue
            mine = [f for f in failures if f.tumor_index in (None, index)]
            checked += 1
            passed += not mine
            failing.update({f.edit_id for f in mine})
    return {"checked": checked, "passed": passed, "rate": 100 * passed / checked if checked else None,
            "top_failing": failing.most_common(5)}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(getattr(value, "value", value)).strip()
    return text or None
