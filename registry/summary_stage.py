"""The stage of a tumor: one summary stage from the item its diagnosis year is staged in.

Registry practice: diagnoses from 2018 take SEER Summary Stage 2018 [764] as the registrar coded it, else
Derived Summary Stage 2018 [762] from the EOD items (filled by the staging engine on save); diagnoses
before 2018 take SEER Summary Stage 2000 [759]. An item outside its years is not read (an SS2000 code on a
2019 diagnosis is a coding error, not a stage), and when the diagnosis year is unknown every item may
answer, in the same order. The rule is the table :data:`SOURCES`; :func:`summary_stage` applies it in
Python and :func:`summary_stage_sql` builds the same table into SQL ``CASE`` expressions, so the pages
and the SQL selects of the annual report, research exports and survival cohorts cannot disagree (a test
compares both forms over many tumors on SQLite and PostgreSQL). docs/architecture.md, "Stage of a tumor".
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, String, and_, case, func, literal, null, or_, true


@dataclass(frozen=True)
class StageSource:
    """One item the stage may come from: its scheme label, Tumor column, item number, code list and years."""

    scheme: str
    column: str
    item: int
    label: str
    code_list: str
    first_year: int | None = None
    last_year: int | None = None


#: In order of preference; the first that covers the diagnosis year and is not blank gives the stage.
SOURCES: tuple[StageSource, ...] = (
    StageSource("SS2018", "summary_stage_2018", 764, "Summary Stage 2018 [764]", "summary_stage_2018",
                first_year=2018),
    StageSource("SS2018 derived", "derived_summary_stage_2018", 762, "Derived Summary Stage 2018 [762]",
                "summary_stage_2018", first_year=2018),
    StageSource("SS2000", "summary_stage_2000", 759, "SEER Summary Stage 2000 [759]", "summary_stage_2000",
                last_year=2017),
)
SCHEMES: dict[str, StageSource] = {source.scheme: source for source in SOURCES}
#: The columns the rule reads besides the stage items.
DIAGNOSIS_DATE = "date_of_diagnosis"


class SummaryStage(NamedTuple):
    """A tumor's summary stage code and the scheme it came from (both None when nothing is coded)."""

    code: str | None
    scheme: str | None

    @property
    def source(self) -> StageSource | None:
        return SCHEMES.get(self.scheme or "")

    @property
    def term(self) -> str:
        """The code's meaning in its scheme's code list (blank when unknown)."""
        from staging_tables.codes import term
        return term(self.source.code_list, self.code) if self.source else ""

    @property
    def text(self) -> str:
        """What a page shows, e.g. ``Localized only (SS2018 derived)``; blank when nothing is coded."""
        return f"{self.term} ({self.scheme})" if self.source else ""


def _value(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def _covers(source: StageSource, year: str) -> bool:
    """Whether ``source`` applies to a diagnosis year given as the first four characters of [390]."""
    if len(year) < 4:
        return True
    return ((source.first_year is None or year >= f"{source.first_year:04d}")
            and (source.last_year is None or year <= f"{source.last_year:04d}"))


def summary_stage(record: Any) -> SummaryStage:
    """The stage of a tumor given as a Tumor, a row or a mapping with the columns of :data:`SOURCES`."""
    year = (_value(record, DIAGNOSIS_DATE) or "")[:4]
    for source in SOURCES:
        code = _value(record, source.column)
        if code not in (None, "") and _covers(source, year):
            return SummaryStage(code, source.scheme)
    return SummaryStage(None, None)


class SummaryStageSql(NamedTuple):
    code: ColumnElement[str | None]
    scheme: ColumnElement[str | None]


def summary_stage_sql(tumor: Any = None) -> SummaryStageSql:
    """:func:`summary_stage` as SQL over ``tumor`` (the Tumor entity, an alias of it, or its table's ``c``)."""
    if tumor is None:
        from registry.models import Tumor
        tumor = Tumor
    year = func.substr(func.coalesce(getattr(tumor, DIAGNOSIS_DATE), ""), 1, 4)
    unknown_year = func.length(year) < 4
    whens = []
    for source in SOURCES:
        column = getattr(tumor, source.column)
        years = []
        if source.first_year is not None:
            years.append(year >= f"{source.first_year:04d}")
        if source.last_year is not None:
            years.append(year <= f"{source.last_year:04d}")
        covered = or_(unknown_year, and_(*years)) if years else true()
        whens.append((source, and_(column.is_not(None), column != "", covered), column))
    return SummaryStageSql(
        case(*((condition, column) for _source, condition, column in whens), else_=null()),
        case(*((condition, literal(source.scheme, String)) for source, condition, _column in whens), else_=null()))
