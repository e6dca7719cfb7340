"""Cohorts of tumors for survival: the one query the Survival page, the CLI and the annual
report share, so the same choice of sites, years, stage, sex and ages always gives the
same patients.

A cohort is a plain description (:class:`Cohort`) that reads from and writes to query
arguments; :func:`cohort_frame` turns it into one row per tumor holding only coded,
de-identified values (no names, numbers or dates beyond the derived follow-up time), ready
for :mod:`reports.survival`. Follow-up comes from the stored SEER survival items: time is
the days from the (imputed) diagnosis date to the active follow-up date, and only tumors
with some survival (flags 1 and 3) are analysed, as SEER does; the others are counted in
``attrs["excluded"]``.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from registry.item_filters import parse_item_filters
from registry.models import Patient, Tumor
from reports.survival.cause_specific import cause_specific_death, site_recode, site_recodes
from reports.survival.icss import ICSS_AGE_GROUPS

if TYPE_CHECKING:
    import pandas as pd

DAYS_PER_YEAR = 365.24

#: Codes of a tumor's summary stage (registry.summary_stage: SS2018 [764], else derived [762]; SS2000 [759]
#: before 2018) → the stage group a report shows.
STAGE_GROUPS: dict[str, str] = {"0": "in situ", "1": "localized", "2": "regional", "3": "regional",
                                "4": "regional", "5": "regional", "7": "distant", "8": "not applicable",
                                "9": "unknown"}
STAGE_ORDER = ("in situ", "localized", "regional", "distant", "not applicable", "unknown")
SEX_LABELS = {"1": "male", "2": "female"}
#: Age groups at diagnosis: children, then the ICSS groups used for age-standardisation.
AGE_GROUPS: tuple[tuple[int, int | None, str], ...] = ((0, 15, "0-14"),) + ICSS_AGE_GROUPS
#: Survival-months flags [1783] that count: complete or incomplete dates with some survival.
ANALYSED_FLAGS = frozenset({"1", "3"})
EXCLUSION_REASONS = {"0": "no survival time (same-day dates)", "2": "possibly no survival time",
                     "8": "death certificate or autopsy only", "9": "unknown survival time",
                     None: "survival time not computed"}
#: What a cohort can be compared by, with the column holding it.
COMPARE_BY = {"stage": "stage", "sex": "sex_label", "age": "age_group", "site": "site_name"}


@dataclass
class Cohort:
    """Which tumors: SEER site recodes or primary-site prefixes, diagnosis years, stage
    groups, sexes (NAACCR codes), age groups and any catalogued item that is not an identifier
    (``items``: ``naaccrId=codes or ranges``, registry.item_filters); empty means no restriction."""
    sites: list[str] = field(default_factory=list)
    first_year: int | None = None
    last_year: int | None = None
    stages: list[str] = field(default_factory=list)
    sexes: list[str] = field(default_factory=list)
    ages: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)

    @property
    def site_recodes(self) -> list[str]:
        return [s for s in self.sites if s.isdigit()]

    @property
    def site_prefixes(self) -> list[str]:
        return [s.upper().replace(".", "") for s in self.sites if s[:1].upper() == "C"]

    def problems(self) -> dict[str, str]:
        """What is wrong with the choice, by argument name (empty when it is valid)."""
        errors = {}
        names = site_names()
        bad = [s for s in self.sites if not (s in names or (s[:1].upper() == "C" and s[1:].replace(".", "").isdigit()))]
        if bad:
            errors["site"] = (f"{', '.join(bad)}: not a SEER site recode (e.g. 39 Breast) or a primary "
                              "site prefix (e.g. C50)")
        if self.first_year and self.last_year and self.first_year > self.last_year:
            errors["years"] = f"first year {self.first_year} is after last year {self.last_year}"
        bad = [s for s in self.stages if s not in STAGE_ORDER]
        if bad:
            errors["stage"] = f"{', '.join(bad)}: stage must be one of {', '.join(STAGE_ORDER)}"
        bad = [s for s in self.sexes if s not in SEX_LABELS]
        if bad:
            errors["sex"] = f"{', '.join(bad)}: sex must be 1 (male) or 2 (female)"
        labels = [label for _, _, label in AGE_GROUPS]
        bad = [a for a in self.ages if a not in labels]
        if bad:
            errors["age"] = f"{', '.join(bad)}: age group must be one of {', '.join(labels)}"
        errors.update(parse_item_filters(self.items)[1])
        return errors

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Cohort:
        """From query arguments (a MultiDict or a dict of lists): site, from, to, stage, sex, age, and
        ``item`` (one ``naaccrId=codes`` filter per argument, since the codes are comma-separated)."""
        def many(name: str) -> list[str]:
            values = args.getlist(name) if hasattr(args, "getlist") else args.get(name) or []
            values = [values] if isinstance(values, str) else values
            return [part.strip() for value in values for part in str(value).split(",") if part.strip()]

        def year(name: str) -> int | None:
            value = args.get(name)
            value = value[0] if isinstance(value, list) and value else value
            text = str(value or "").strip()
            if not text:
                return None
            if not text.isdigit() or len(text) != 4:
                raise ValueError(f"{name}: {text!r} is not a year")
            return int(text)
        items = args.getlist("item") if hasattr(args, "getlist") else args.get("item") or []
        items = [items] if isinstance(items, str) else items
        return cls(sites=many("site"), first_year=year("from"), last_year=year("to"),
                   stages=many("stage"), sexes=many("sex"), ages=many("age"),
                   items=[str(entry).strip() for entry in items if str(entry).strip()])

    def to_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"site": self.sites, "stage": self.stages, "sex": self.sexes, "age": self.ages,
                                "item": self.items}
        if self.first_year:
            args["from"] = self.first_year
        if self.last_year:
            args["to"] = self.last_year
        return {k: v for k, v in args.items() if v not in ([], None)}

    def describe(self) -> str:
        names = site_names()
        parts = [", ".join(names.get(s, s) for s in self.sites) or "all sites"]
        if self.first_year or self.last_year:
            parts.append(f"diagnosed {self.first_year or '…'}–{self.last_year or '…'}")
        if self.stages:
            parts.append("stage " + ", ".join(self.stages))
        if self.sexes:
            parts.append(", ".join(SEX_LABELS.get(s, s) for s in self.sexes))
        if self.ages:
            parts.append("aged " + ", ".join(self.ages))
        parts += self.items
        return "; ".join(parts)


def site_names() -> dict[str, str]:
    """SEER site recode → name, in the recode's order."""
    names: dict[str, str] = {}
    for line in site_recodes():
        names.setdefault(line.recode, line.name)
    return names


def site_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Site recodes grouped under their headings, for a select box."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for line in site_recodes():
        entries = groups.setdefault(line.site_group, [])
        if line.recode not in [code for code, _ in entries]:
            entries.append((line.recode, line.name))
    return list(groups.items())


def _partial_to_date(text: str | None, middle: bool = True) -> dt.date | None:
    """A NAACCR date; an unknown month or day is taken as the middle of the year or month."""
    text = (text or "").strip()
    if len(text) < 4 or not text[:4].isdigit():
        return None
    year = int(text[:4])
    month = int(text[4:6]) if len(text) >= 6 and text[4:6].isdigit() else (7 if middle else 1)
    day = int(text[6:8]) if len(text) >= 8 and text[6:8].isdigit() else (15 if len(text) >= 6 else 1)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _age_group(age: float) -> str | None:
    if age is None or math.isnan(age):
        return None
    for low, high, label in AGE_GROUPS:
        if age >= low and (high is None or age < high):
            return label
    return None


def cohort_frame(session: Session, cohort: Cohort, *, end_point_year: int) -> pd.DataFrame:
    """One row per tumor of the cohort with follow-up and the coded values survival needs.

    Columns: ``site_recode``, ``site_name``, ``primary_site``, ``stage`` (group of the tumor's summary
    stage, registry.summary_stage), ``stage_scheme`` (the item it came from), ``sex`` (NAACCR
    code), ``sex_label``, ``age`` and ``age_group`` at diagnosis, ``year`` of diagnosis
    (decimal), ``time`` (years of follow-up), ``dead`` (1 died by the end of the end-point
    year), ``cancer_death`` (1 death from this cancer by SEER's classification; NaN when
    it cannot be classified). ``attrs["excluded"]`` counts the tumors left out and why.
    """
    t, p = Tumor, Patient
    stmt = select(t.primary_site, t.histology, t.behavior, t.date_of_diagnosis, t.sequence_number_hospital,
                  t.summary_stage, t.summary_stage_scheme, t.surv_flag_active_followup,
                  t.surv_date_dx_recode, t.surv_date_active_followup, p.sex, p.date_of_birth, p.vital_status,
                  p.date_of_last_contact, p.cause_of_death).join(p, p.id == t.patient_id)
    if cohort.first_year:
        stmt = stmt.where(t.date_of_diagnosis >= f"{cohort.first_year:04d}")
    if cohort.last_year:
        stmt = stmt.where(t.date_of_diagnosis < f"{cohort.last_year + 1:04d}")
    if cohort.sexes:
        stmt = stmt.where(p.sex.in_(cohort.sexes))
    if cohort.site_prefixes and not cohort.site_recodes:
        stmt = stmt.where(or_(*[t.primary_site.startswith(prefix) for prefix in cohort.site_prefixes]))
    item_filters, problems = parse_item_filters(cohort.items)
    if problems:
        raise ValueError("; ".join(problems.values()))
    stmt = stmt.where(*[item_filter.condition() for item_filter in item_filters])
    rows = session.execute(stmt).all()
    names = site_names()
    records, excluded = [], {}
    for row in rows:
        dx_year = int(row.date_of_diagnosis[:4]) if (row.date_of_diagnosis or "")[:4].isdigit() else None
        recode = site_recode(row.primary_site, row.histology, row.behavior, dx_year)
        site = (row.primary_site or "")
        if cohort.sites and not (recode in cohort.site_recodes
                                 or any(site.startswith(prefix) for prefix in cohort.site_prefixes)):
            continue
        stage = STAGE_GROUPS.get(row.summary_stage or "9", "unknown")
        if cohort.stages and stage not in cohort.stages:
            continue
        dx = _partial_to_date(row.surv_date_dx_recode)
        birth = _partial_to_date(row.date_of_birth)
        age = (dx - birth).days / 365.25 if dx and birth else float("nan")
        age_group = _age_group(age)
        if cohort.ages and age_group not in cohort.ages:
            continue
        flag = row.surv_flag_active_followup
        end = _partial_to_date(row.surv_date_active_followup)
        if flag not in ANALYSED_FLAGS or dx is None or end is None:
            reason = EXCLUSION_REASONS.get(flag, EXCLUSION_REASONS["9"])
            excluded[reason] = excluded.get(reason, 0) + 1
            continue
        last_year = int(row.date_of_last_contact[:4]) if (row.date_of_last_contact or "")[:4].isdigit() else None
        dead = int(row.vital_status == "0" and (last_year is None or last_year <= end_point_year))
        specific, _other = cause_specific_death(
            cause_of_death=row.cause_of_death, primary_site=row.primary_site, histology=row.histology,
            sequence_number=row.sequence_number_hospital, icd_revision="1" if dead else "0",
            behavior=row.behavior, diagnosis_year=dx.year)
        records.append({
            "site_recode": recode, "site_name": names.get(recode, "unclassified site"),
            "primary_site": row.primary_site, "stage": stage, "stage_scheme": row.summary_stage_scheme,
            "sex": row.sex,
            "sex_label": SEX_LABELS.get(row.sex or "", "other or unknown"), "age": age, "age_group": age_group,
            "year": dx.year + (dx.timetuple().tm_yday - 0.5) / (366 if dx.year % 4 == 0 else 365),
            "time": (end - dx).days / DAYS_PER_YEAR, "dead": dead,
            "cancer_death": {"0": 0.0, "1": 1.0}.get(specific, math.nan),
        })
    columns = ["site_recode", "site_name", "primary_site", "stage", "stage_scheme", "sex", "sex_label", "age",
               "age_group", "year", "time", "dead", "cancer_death"]
    import pandas as pd  # here, not at start-up: the cohort pages and filters need no pandas
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame.attrs["excluded"] = excluded
    frame.attrs["cohort"] = cohort.describe()
    frame.attrs["end_point_year"] = end_point_year
    frame.attrs["stage_chosen"] = bool(cohort.stages)
    return frame
