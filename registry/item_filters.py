"""Filters on any catalogued NAACCR item, whatever its store, as one SQL condition.

An item is a typed column, or a key of the patient's or tumor's ``extra_items`` / the tumor's
``site_specific_items`` (JSON on SQLite, JSONB on PostgreSQL). :func:`item_expression` hides the
difference: SQLAlchemy renders ``json_extract(tumor.extra_items, '$."tumorSizeSummary"')`` on SQLite and
``tumor.extra_items ->> 'tumorSizeSummary'`` on PostgreSQL from the same expression, so survival cohorts
and research exports share one filter. A filter is written ``naaccrId=value,value`` where a value is a
code or a ``low-high`` range of same-width codes (``tumorSizeSummary=010-020,990``); date items filter on
the year only (``dateOfDiagnosis=2018-2020``), and identifiers (``identifier`` in naaccr_items.csv) are
refused, because researchers build these cohorts and must not select a person by name or number.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select

from registry.catalogue import Catalogue, CatalogueItem, catalogue
from registry.models import FirstCourseTreatment, Patient, Tumor

MODELS: dict[str, type] = {"patient": Patient, "tumor": Tumor, "treatment": FirstCourseTreatment}
DATE_TYPES = frozenset({"date", "dateTime"})


def item_model(item: CatalogueItem) -> type:
    """The model whose row holds the item (FirstCourseTreatment for treatment columns)."""
    if item.column is not None:
        return MODELS[item.record]
    return Patient if item.level == "Patient" else Tumor


def item_expression(naaccr_id: str, cat: Catalogue | None = None) -> ColumnElement[str]:
    """The item's value as text in SQL: its column, or its key of the JSON item store.

    Raises KeyError for an id the catalogue does not know."""
    item = (cat or catalogue()).get(naaccr_id)
    if item is None:
        raise KeyError(naaccr_id)
    model = item_model(item)
    if item.column is not None:
        return getattr(model, item.column.attribute)
    return getattr(model, item.store)[naaccr_id].as_string()


@dataclass(frozen=True)
class ItemFilter:
    """Tumors whose item holds one of ``values`` (codes, or ``low-high`` ranges of same-width codes)."""

    naaccr_id: str
    values: tuple[str, ...]

    def text(self) -> str:
        return f"{self.naaccr_id}={','.join(self.values)}"

    def condition(self, cat: Catalogue | None = None) -> ColumnElement[bool]:
        """A condition for a statement over Tumor joined to Patient (treatment items via a subquery)."""
        cat = cat or catalogue()
        item = cat.items[self.naaccr_id]
        value = item_expression(self.naaccr_id, cat)
        if item.data_type in DATE_TYPES:
            value = func.substr(value, 1, 4)
        choices = []
        exact = [v for v in self.values if _range(v) is None]
        if exact:
            choices.append(value.in_(exact))
        for entry in self.values:
            ends = _range(entry)
            if ends is not None:
                low, high = ends
                choices.append(and_(func.length(value) == len(low), value >= low, value <= high))
        matched = or_(*choices)
        if item_model(item) is FirstCourseTreatment:
            return Tumor.id.in_(select(FirstCourseTreatment.tumor_id).where(matched))
        return matched


def _range(entry: str) -> tuple[str, str] | None:
    """``(low, high)`` of a ``low-high`` entry, None for a single value (a leading minus is a sign)."""
    low, sep, high = entry[1:].partition("-")
    return (entry[0] + low, high) if sep else None


def _value_problem(item: CatalogueItem, value: str, cat: Catalogue) -> str | None:
    if item.data_type in DATE_TYPES:
        return None if len(value) == 4 and value.isdigit() else f"'{value}' is not a year (filter dates by year)"
    return cat.problem(item.naaccr_id, value)


def parse_item_filter(text: str, cat: Catalogue | None = None) -> ItemFilter:
    """``naaccrId=value,low-high`` → ItemFilter; ValueError says what is wrong, naming the item."""
    cat = cat or catalogue()
    naaccr_id, sep, raw = (part.strip() for part in text.partition("="))
    if not sep or not naaccr_id:
        raise ValueError(f"{text!r} is not naaccrId=value (e.g. tumorSizeSummary=010-020)")
    item = cat.get(naaccr_id)
    if item is None:
        raise ValueError(f"{naaccr_id} is not an item of the NAACCR dictionaries installed")
    if item.identifier:
        raise ValueError(f"{item.label} is an identifier (HIPAA Safe Harbor): a cohort cannot select on it")
    values = tuple(v.strip() for v in raw.split(",") if v.strip())
    if not values:
        raise ValueError(f"{item.label}: give at least one value after '='")
    for entry in values:
        ends = _range(entry) or (entry,)
        if len(ends) == 2 and (len(ends[0]) != len(ends[1]) or ends[0] > ends[1]):
            raise ValueError(f"{item.label}: {entry!r} is not a range of two same-width values, low first")
        for end in ends:
            problem = _value_problem(item, end, cat)
            if problem:
                raise ValueError(f"{item.label}: {problem}" if item.label not in problem else problem)
    return ItemFilter(naaccr_id, values)


def parse_item_filters(entries: Iterable[str], cat: Catalogue | None = None) -> tuple[list[ItemFilter],
                                                                                     dict[str, str]]:
    """Every entry parsed, and ``{"item.<naaccrId>": message}`` for those refused."""
    entries = list(entries)
    parsed: list[ItemFilter] = []
    errors: dict[str, str] = {}
    if not entries:
        return parsed, errors
    cat = cat or catalogue()
    for entry in entries:
        try:
            parsed.append(parse_item_filter(entry, cat))
        except ValueError as exc:
            errors[f"item.{entry.partition('=')[0].strip() or entry}"] = str(exc)
    return parsed, errors
