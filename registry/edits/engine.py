"""The edits engine: every edit is data (id, fields, severity, message, rule) run over plain dicts.

Records are dicts keyed by model attribute names, so the same edits check the database,
CSV files and NAACCR files. Three sources make up the edit set, in this order:

* item validity, generated from the NAACCR metadata every model column carries (``IV####``);
* table rules in ``staging_tables/edits.csv`` written in a small condition language (``E###``);
* Python predicates registered in :mod:`registry.edits.predicates` (``P###``) for what a
  table cannot say (comparisons across a patient's tumors).

A table rule fails when all of its conditions hold. Conditions are ``field op [values]``
joined by `` & ``; values are separated by ``;`` and may be ranges (``9510-9514``, compared
as equal-width strings) or ``@group`` names from ``staging_tables/edit_site_groups.csv``.
Operators: ``in``, ``not_in``, ``prefix``, ``not_prefix``, ``blank``, ``present``,
``after FIELD`` (certainly later, partial dates never guessed), ``future``, ``ge N``, ``lt N``.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from registry.dates import InvalidDate, PartialDate
from registry.items import ItemSpec
from staging_tables.codes import terms

STAGING_DIR = Path(__file__).resolve().parents[2] / "staging_tables"
EDITS_FILE = STAGING_DIR / "edits.csv"
GROUPS_FILE = STAGING_DIR / "edit_site_groups.csv"
SEVERITIES = ("error", "warning")
LEVELS = ("patient", "tumor", "case")
#: Reference kinds an edit may be ``replaced_by`` (the runner knows when each is installed).
REPLACING_KINDS = ("site-histology",)

#: Values computed once per tumor that rules may read, with the items they come from.
DERIVED: dict[str, tuple[str, ...]] = {
    "age_at_diagnosis": ("date_of_birth", "date_of_diagnosis"),
    "year_of_diagnosis": ("date_of_diagnosis",),
}


class EditDefinitionError(ValueError):
    """An edit in the table or registry is malformed; the message names the edit."""


@dataclass(frozen=True)
class EditFailure:
    """One edit that failed on one record."""

    edit_id: str
    severity: str
    fields: tuple[str, ...]
    message: str
    patient_id: str | None = None
    tumor_index: int | None = None
    tumor_sequence: str | None = None


@dataclass(frozen=True)
class Edit:
    """One check. ``check`` answers True when the record fails.

    ``level`` says what ``check`` receives: ``patient`` (the patient dict), ``tumor`` (patient
    and tumor items merged, plus :data:`DERIVED` values) or ``case`` (patient dict and the list
    of tumor dicts; it returns the indexes of failing tumors, None for the patient itself).
    Every record also carries ``__today__`` and ``__site_histology__`` (the installed SEER
    site/histology list or None).
    """

    id: str
    name: str
    severity: str
    fields: tuple[str, ...]
    message: str
    rule: str
    source: str
    level: str
    check: Callable[..., Any] = field(repr=False, compare=False)
    render: Callable[[dict[str, Any]], str] | None = field(default=None, repr=False, compare=False)
    #: A reference kind whose install makes this edit redundant (embedded fallbacks such as the
    #: site/histology rules, which the installed SEER list replaces).
    replaced_by: str | None = None

    def message_for(self, values: dict[str, Any]) -> str:
        if self.render is not None:
            return self.render(values)
        return self.message.format_map(_Shown(values))


class _Shown(dict):
    """Template values: blanks read as ``blank`` and age ranges as ``60-61``."""

    def __init__(self, values: dict[str, Any]):
        super().__init__()
        self.values = values

    def __missing__(self, key: str) -> str:
        value = self.values.get(key)
        if value is None or value == "":
            return "blank"
        if isinstance(value, tuple):
            low, high = value
            return str(low) if low == high else f"{low}-{high}"
        return str(value)


# --- dates -----------------------------------------------------------------------------------

_DATE_CACHE: dict[str, PartialDate | None] = {}


def cached_date(value: str) -> PartialDate | None:
    """The parsed date, or None when blank or invalid (the validity edit reports those)."""
    found = _DATE_CACHE.get(value, False)
    if found is not False:
        return found
    try:
        parsed: PartialDate | None = PartialDate.parse(value) if value.strip() else None
    except InvalidDate:
        parsed = None
    if len(_DATE_CACHE) > 500_000:
        _DATE_CACHE.clear()
    _DATE_CACHE[value] = parsed
    return parsed


def age_range(birth: str | None, diagnosis: str | None) -> tuple[int, int] | None:
    """Youngest and oldest possible age in completed years; None when either date is unknown."""
    if not birth or not diagnosis:
        return None
    born, dx = cached_date(birth), cached_date(diagnosis)
    if born is None or dx is None:
        return None

    def years(start: dt.date, end: dt.date) -> int:
        return end.year - start.year - ((end.month, end.day) < (start.month, start.day))

    return max(years(born.latest(), dx.earliest()), 0), max(years(born.earliest(), dx.latest()), 0)


# --- the condition language -------------------------------------------------------------------

@lru_cache(maxsize=1)
def site_groups() -> dict[str, tuple[str, ...]]:
    """``{group: values}`` from ``edit_site_groups.csv``."""
    with GROUPS_FILE.open(newline="", encoding="utf-8") as handle:
        return {row["group"]: tuple(v.strip() for v in row["values"].split(",") if v.strip())
                for row in csv.DictReader(handle)}


@lru_cache(maxsize=None)
def site_group_test(group: str) -> Callable[[str], bool]:
    """``test(code)`` for membership in a group of ``edit_site_groups.csv`` (codes and ranges)."""
    return _membership(site_groups()[group], group)


def _values(text: str, edit_id: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        if part.startswith("@"):
            try:
                out.extend(site_groups()[part[1:]])
            except KeyError:
                raise EditDefinitionError(f"{edit_id}: unknown group {part}") from None
        else:
            out.append(part)
    if not out:
        raise EditDefinitionError(f"{edit_id}: operator needs values")
    return tuple(out)


def _membership(values: Sequence[str], edit_id: str) -> Callable[[str], bool]:
    """A fast test for exact codes plus equal-width ranges such as ``9590-9993``."""
    exact = frozenset(v for v in values if "-" not in v)
    ranges = []
    for value in values:
        if "-" in value:
            low, high = value.split("-", 1)
            if len(low) != len(high) or low > high:
                raise EditDefinitionError(f"{edit_id}: bad range {value}")
            ranges.append((low, high))
    if not ranges:
        return exact.__contains__
    return lambda v: v in exact or any(len(v) == len(lo) and lo <= v <= hi for lo, hi in ranges)


def _condition(text: str, edit_id: str, known: frozenset[str]) -> tuple[Callable[[dict], bool], set[str]]:
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise EditDefinitionError(f"{edit_id}: cannot read condition {text!r}")
    name, op = parts[0], parts[1]
    arg = parts[2] if len(parts) > 2 else ""
    if name not in known and name not in DERIVED:
        raise EditDefinitionError(f"{edit_id}: unknown field {name!r}")
    reads = set(DERIVED.get(name, (name,)))
    if op in ("in", "not_in"):
        member = _membership(_values(arg, edit_id), edit_id)
        if op == "in":
            return (lambda r: bool(v := r.get(name)) and member(v)), reads
        return (lambda r: bool(v := r.get(name)) and not member(v)), reads
    if op in ("prefix", "not_prefix"):
        prefixes = _values(arg, edit_id)
        if op == "prefix":
            return (lambda r: bool(v := r.get(name)) and v.startswith(prefixes)), reads
        return (lambda r: bool(v := r.get(name)) and not v.startswith(prefixes)), reads
    if op == "blank":
        return (lambda r: not r.get(name)), reads
    if op == "present":
        return (lambda r: bool(r.get(name))), reads
    if op == "after":
        other = arg.strip()
        if other not in known:
            raise EditDefinitionError(f"{edit_id}: unknown field {other!r}")

        def after(r: dict) -> bool:
            a, b = r.get(name), r.get(other)
            if not a or not b:
                return False
            first, second = cached_date(a), cached_date(b)
            return first is not None and second is not None and first.earliest() > second.latest()
        return after, reads | {other}
    if op == "future":
        return (lambda r: bool(v := r.get(name)) and (d := cached_date(v)) is not None
                and d.earliest() > r["__today__"]), reads
    if op in ("ge", "lt"):
        try:
            limit = int(arg)
        except ValueError:
            raise EditDefinitionError(f"{edit_id}: {op} needs a whole number, not {arg!r}") from None
        # A range (age from partial dates) fails only when every possible value fails.
        if op == "ge":
            return (lambda r: (v := r.get(name)) is not None
                    and (v[0] if isinstance(v, tuple) else v) >= limit), reads
        return (lambda r: (v := r.get(name)) is not None
                and (v[1] if isinstance(v, tuple) else v) < limit), reads
    raise EditDefinitionError(f"{edit_id}: unknown operator {op!r}")


def compile_rule(rule: str, edit_id: str, known: Iterable[str]) -> tuple[Callable[[dict], bool], tuple[str, ...]]:
    """The predicate (True = fails) and the items read, for one table rule."""
    names = frozenset(known)
    tests, reads = [], []
    for text in rule.split(" & "):
        test, fields = _condition(text.strip(), edit_id, names)
        tests.append(test)
        reads.extend(f for f in sorted(fields) if f not in reads)
    return _all_of(tests), tuple(reads)


def _all_of(tests: list[Callable[[dict], bool]]) -> Callable[[dict], bool]:
    """Chain the tests with ``and`` (a generator per record would cost a third of the run time)."""
    first = tests[0]
    if len(tests) == 1:
        return first
    rest = _all_of(tests[1:])
    return lambda r: first(r) and rest(r)


# --- item validity ----------------------------------------------------------------------------

def validity_check(spec: ItemSpec) -> Callable[[dict], bool]:
    """A fast equivalent of ``spec.problem(value) is not None`` for a present value."""
    name, length = spec.attribute, spec.length
    if spec.kind == "code":
        codes = frozenset(terms(spec.code_list or ""))
        return lambda r: bool(v := r.get(name)) and v not in codes
    if spec.kind == "date":
        return lambda r: bool(v := r.get(name)) and (len(v) > length or cached_date(v) is None)
    if spec.kind == "digits":
        return lambda r: bool(v := r.get(name)) and (len(v) > length or not v.isdigit())
    if spec.kind == "pattern":
        regex = re.compile(spec.pattern or "")
        return lambda r: bool(v := r.get(name)) and (len(v) > length or regex.fullmatch(v) is None)
    return lambda r: bool(v := r.get(name)) and len(v) > length
