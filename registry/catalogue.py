"""The NAACCR item catalogue: every Patient and Tumor item of the A record, as data.

The installed NAACCR base dictionaries (``naaccr-dictionary`` reference installs; the shipped official copies
when nothing is installed yet) say what each item *is*: number, naaccrId, level, length, data type, record
types. Our own table ``staging_tables/naaccr_items.csv`` says where a registrar finds it (section, group,
label), which NAACCR lookup is its code list, whether it is text documentation or derived, whether it is a
HIPAA Safe Harbor identifier (left out of every de-identified view and research release), and the diagnosis
years it applies to; ``staging_tables/completion_required.csv`` says which items completing an abstract needs
and which list (CoC STORE, NPCR) asks for them. Validation, the abstract form, the API schemas, the research
data dictionary, NAACCR import/export and the edits read this one table: a new NAACCR version is a new
dictionary and new rows, not new code.

Where an item lives: a typed column (``registry.items.item`` on the models) when queries need it, the tumor's
``site_specific_items`` for the 2018+ site-specific data items, otherwise ``extra_items`` of the patient or
tumor, keyed by naaccrId (JSONB on PostgreSQL; see docs/architecture.md).
"""
from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from registry.dates import date_problem
from registry.items import ItemSpec, naaccr_items

TABLES = Path(__file__).resolve().parent.parent / "staging_tables"
ITEMS_FILE = TABLES / "naaccr_items.csv"
REQUIRED_FILE = TABLES / "completion_required.csv"
OFFICIAL_NAACCR = TABLES / "official" / "naaccr"

SECTIONS: tuple[tuple[str, str], ...] = (
    ("patient", "Patient demographics"),
    ("diagnosis", "Cancer identification"),
    ("stage", "Stage and prognostic factors"),
    ("treatment", "First-course treatment"),
    ("follow_up", "Recurrence, follow-up and death"),
    ("text", "Text documentation"),
    ("administrative", "Administrative and hospital-specific"),
)
RETIRED_GROUP = "Retired items (older NAACCR versions)"
UNPLACED_GROUP = "Items not yet placed in a section"
SSDI_STORE = "site_specific_items"
EXTRA_STORE = "extra_items"
#: Site-specific data items: the 2018+ SSDI number block, less the NCDB COVID-19 items that share it.
SSDI_NUMBERS = frozenset(range(3801, 4000)) - {3943, 3944, 3945, 3946}
_RANGE = re.compile(r"(\d+)-(\d+)")
_DATA_TYPES: dict[str, tuple[re.Pattern[str], str]] = {
    "digits": (re.compile(r"[0-9]+"), "digits only"),
    "numeric": (re.compile(r"-?[0-9]*\.?[0-9]+"), "a number"),
    "alpha": (re.compile(r"[A-Z]+"), "upper-case letters only"),
    "mixed": (re.compile(r"[A-Z0-9]+"), "upper-case letters and digits only"),
}


@dataclass(frozen=True)
class CodeList:
    """A NAACCR lookup: exact codes and ``low-high`` ranges of same-width numbers (``002-988``)."""

    name: str
    codes: dict[str, str]
    ranges: tuple[tuple[int, int, int, str], ...] = ()

    def __contains__(self, value: object) -> bool:
        if value in self.codes:
            return True
        if isinstance(value, str) and value.isdigit():
            number = int(value)
            return any(len(value) == width and low <= number <= high for low, high, width, _ in self.ranges)
        return False

    def term(self, value: str) -> str:
        if value in self.codes:
            return self.codes[value]
        if value.isdigit():
            for low, high, width, label in self.ranges:
                if len(value) == width and low <= int(value) <= high:
                    return label
        return ""

    def entries(self) -> list[tuple[str, str]]:
        """Codes and ranges as the lookup lists them, for pickers."""
        return list(self.codes.items()) + [(f"{low:0{w}d}-{high:0{w}d}", label) for low, high, w, label in self.ranges]

    @classmethod
    def of(cls, name: str, rows: Iterable[tuple[str, str]]) -> CodeList:
        codes: dict[str, str] = {}
        ranges = []
        for code, label in rows:
            found = _RANGE.fullmatch(code)
            if found and len(found.group(1)) == len(found.group(2)):
                ranges.append((int(found.group(1)), int(found.group(2)), len(found.group(1)), label))
            else:
                codes.setdefault(code, label)
        return cls(name, codes, tuple(ranges))


@dataclass(frozen=True)
class Requirement:
    """One row of the completion table: an item an abstract needs before it is complete, and who asks."""

    naaccr_id: str
    required_by: tuple[str, ...]
    first_year: int | None
    last_year: int | None
    analytic_only: bool

    def applies(self, year: int | None, analytic: bool) -> bool:
        if self.analytic_only and not analytic:
            return False
        if year is None:
            return True
        return (self.first_year is None or year >= self.first_year) and (self.last_year is None or year <= self.last_year)


@dataclass(frozen=True)
class CatalogueItem:
    """One NAACCR item: what the dictionary says, where a registrar finds it and where it is stored."""

    naaccr_id: str
    naaccr_num: int
    name: str
    level: str  # Patient or Tumor (NAACCR XML parent element)
    length: int
    data_type: str
    record_types: frozenset[str]
    section: str
    group: str
    label: str
    code_list: str | None
    text_documentation: bool
    derived: bool
    first_year: int | None
    last_year: int | None
    versions: tuple[str, ...]
    column: ItemSpec | None = None
    column_part: str | None = None  # patient, tumor or treatment when the item is a typed column
    allow_unlimited_text: bool = False
    identifier: bool = False  # a HIPAA Safe Harbor identifier: never in a de-identified view

    @property
    def store(self) -> str:
        """``column``, ``site_specific_items`` or ``extra_items``."""
        if self.column is not None:
            return "column"
        return SSDI_STORE if self.naaccr_num in SSDI_NUMBERS else EXTRA_STORE

    @property
    def record(self) -> str:
        """The record that holds it: ``patient``, ``tumor`` or ``treatment``."""
        if self.column_part is not None:
            return self.column_part
        return "patient" if self.level == "Patient" else "tumor"

    @property
    def field_name(self) -> str:
        """The name forms use: the column attribute, else ``site_specific_items.<naaccrId>``,
        ``extra_items.<naaccrId>`` (tumor) or ``patient_items.<naaccrId>`` (patient)."""
        if self.column is not None:
            return self.column.attribute
        if self.level == "Patient":
            return f"patient_items.{self.naaccr_id}"
        return f"{self.store}.{self.naaccr_id}"

    @property
    def retired(self) -> bool:
        """Not in the newest installed dictionary (kept so older files still import and export)."""
        return self.group == RETIRED_GROUP

    @property
    def entered(self) -> bool:
        """Entered by people (False for the items the registry itself derives: stage, survival time)."""
        return not (self.column is not None and self.column.derived)

    def applies(self, year: int | None) -> bool:
        """Whether the item is used for a diagnosis in ``year`` (every year when the year is not known)."""
        if year is None:
            return True
        return (self.first_year is None or year >= self.first_year) and (self.last_year is None or year <= self.last_year)


@dataclass
class Catalogue:
    """Every catalogued item by naaccrId, in the order the abstract shows them."""

    items: dict[str, CatalogueItem]
    code_lists: dict[str, CodeList]
    requirements: tuple[Requirement, ...]
    dictionaries: tuple[str, ...]
    by_field: dict[tuple[str, str], CatalogueItem] = field(default_factory=dict)
    _checks: dict[str, Callable[[str], str | None]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.by_field = {(item.record, item.field_name): item for item in self.items.values()}

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.items.values())

    def get(self, naaccr_id: str) -> CatalogueItem | None:
        return self.items.get(naaccr_id)

    @cached_property
    def column_sections(self) -> dict[str, str]:
        """``{column attribute: title of the section it is entered in}``, the first item naming the column
        winning (the Stage section asks for each of its inputs)."""
        titles = dict(SECTIONS)
        found: dict[str, str] = {}
        for item in self.items.values():
            if item.column is not None:
                found.setdefault(item.column.attribute, titles.get(item.section, ""))
        return found

    def sections(self) -> list[tuple[str, str, list[tuple[str, list[CatalogueItem]]]]]:
        """``[(key, title, [(group, items)])]`` in form order."""
        out = []
        for key, title in SECTIONS:
            groups: dict[str, list[CatalogueItem]] = {}
            for item in self.items.values():
                if item.section == key:
                    groups.setdefault(item.group, []).append(item)
            out.append((key, title, list(groups.items())))
        return out

    def codes(self, naaccr_id: str) -> CodeList | None:
        item = self.items.get(naaccr_id)
        return self.code_lists.get(item.code_list or "") if item is not None else None

    def term(self, naaccr_id: str, value: str | None) -> str:
        codes = self.codes(naaccr_id)
        return codes.term(value) if codes is not None and value else ""

    def problem(self, naaccr_id: str, value: str | None) -> str | None:
        """Why ``value`` is not acceptable for the item, or None; blank is always acceptable here."""
        if not value:
            return None
        check = self._checks.get(naaccr_id)
        if check is None:
            item = self.items.get(naaccr_id)
            if item is None:
                return f"'{naaccr_id}' is not an item of the NAACCR dictionaries installed"
            check = self._checks[naaccr_id] = _checker(item, self._code_list_checked(item))
        return check(value)

    def accepts(self, naaccr_id: str) -> Callable[[str], Any]:
        """A test passing only non-blank, unpadded values :meth:`problem` accepts, C-level where it can be
        (a frozenset or compiled pattern: the import calls it for millions of values); a value it does not
        pass is then asked of :meth:`problem`, which decides and says why."""
        item = self.items.get(naaccr_id)
        if item is None:
            return _never
        if item.column is not None:
            spec = item.column
            return lambda value: bool(value) and value.strip() == value and spec.problem(value) is None
        codes = self._code_list_checked(item)
        if codes is not None:
            if not codes.ranges:
                return frozenset(code for code in codes.codes if len(code) <= item.length).__contains__
            return lambda value: len(value) <= item.length and value in codes
        if item.data_type == "date":
            return _CALENDAR_DATE
        most = "" if item.allow_unlimited_text else str(item.length)
        shapes = {"digits": f"[0-9]{{1,{most}}}", "alpha": f"[A-Z]{{1,{most}}}", "mixed": f"[A-Z0-9]{{1,{most}}}",
                  "numeric": r"-?[0-9]*\.?[0-9]+"}
        if item.data_type in shapes:
            pattern = re.compile(shapes[item.data_type]).fullmatch
            if item.data_type != "numeric":
                return pattern
            return lambda value: len(value) <= item.length and pattern(value) is not None
        inner = "" if item.length < 2 else f"(?:.{{0,{'' if item.allow_unlimited_text else item.length - 2}}}\\S)?"
        return re.compile(f"\\S{inner}", re.DOTALL).fullmatch

    def _code_list_checked(self, item: CatalogueItem) -> CodeList | None:
        """The code list values must come from: not for derived items, which other systems compute with
        the code lists of their own time (a 2010 CS-derived descriptor 'N' is no v26 code) and which
        are checked for length and type only."""
        return None if item.derived else self.code_lists.get(item.code_list or "")

    def required(self, year: int | None, analytic: bool) -> list[tuple[CatalogueItem, Requirement]]:
        """The items completing an abstract of a ``year`` diagnosis needs, with the list that asks for each."""
        out = []
        for requirement in self.requirements:
            item = self.items.get(requirement.naaccr_id)
            if item is not None and requirement.applies(year, analytic):
                out.append((item, requirement))
        return out

    def in_record_type(self, record_type: str) -> frozenset[str]:
        """naaccrIds of the items a record of ``record_type`` (A, M, C, I) carries."""
        return frozenset(i.naaccr_id for i in self.items.values() if record_type in i.record_types)


_YEAR = "(?:18[5-9][0-9]|19[0-9][0-9]|[2-9][0-9][0-9][0-9])"
_MONTH_DAY = "(?:(?:0[1-9]|1[012])(?:0[1-9]|1[0-9]|2[0-8])?|(?:0[13-9]|1[012])(?:29|30)|(?:0[13578]|1[02])31)?"
_LEAP_YEAR = "(?:18(?:5[26]|[68][048]|[79][26])|(?:19|[2-9][0-9])(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[3579][26])00)"
#: every value :func:`~registry.dates.date_problem` accepts written in ASCII digits (year 1850 on, real
#: calendar days): one C-level match for the millions of dates an import checks
_CALENDAR_DATE = re.compile(f"{_YEAR}{_MONTH_DAY}|{_LEAP_YEAR}0229").fullmatch


def _never(value: str) -> bool:
    return False


def _checker(item: CatalogueItem, codes: CodeList | None) -> Callable[[str], str | None]:
    """The value test of one item: length, data type, code list, partial date."""
    def check(value: str) -> str | None:
        if item.column is not None:
            return item.column.problem(value)
        if len(value) > item.length and not item.allow_unlimited_text:
            return f"'{value[:40]}' is longer than {item.length} characters"
        if item.data_type == "date":
            return date_problem(value)
        if codes is not None:
            if value not in codes:
                shown = ", ".join(code for code, _ in codes.entries()[:12])
                more = " …" if len(codes.entries()) > 12 else ""
                return f"'{value}' is not a valid code for {item.label} (codes: {shown}{more})"
            return None
        rule = _DATA_TYPES.get(item.data_type)
        if rule is not None and not rule[0].fullmatch(value):
            return f"'{value}' must be {rule[1]} for {item.label}"
        return None
    return check


def _year(text: str) -> int | None:
    return int(text) if text.strip() else None


def _column_specs() -> dict[str, tuple[str, ItemSpec]]:
    from registry.models import FirstCourseTreatment, Patient, Tumor
    specs: dict[str, tuple[str, ItemSpec]] = {}
    for part, model in (("patient", Patient), ("tumor", Tumor), ("treatment", FirstCourseTreatment)):
        for spec in naaccr_items(model).values():
            specs.setdefault(spec.naaccr_id, (part, spec))
    return specs


def build(dictionaries: Iterable[Any], lookups: Mapping[str, list[tuple[str, str]]]) -> Catalogue:
    """The catalogue from loaded base dictionaries (oldest first) and ``{naaccrId: [(code, label)]}`` lookups."""
    defs: dict[str, Any] = {}
    versions: dict[str, list[str]] = {}
    names = []
    for dictionary in dictionaries:
        names.append(dictionary.uri)
        version = dictionary.naaccr_version or ""
        for definition in dictionary.items.values():
            if definition.parent in ("Patient", "Tumor") and "A" in definition.record_types:
                defs[definition.naaccr_id] = definition
                versions.setdefault(definition.naaccr_id, []).append(version)
    columns = _column_specs()
    items: dict[str, CatalogueItem] = {}
    with ITEMS_FILE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            definition = defs.get(row["naaccr_id"])
            if definition is None:
                continue  # an item of a NAACCR version not installed here
            part, spec = columns.get(row["naaccr_id"], (None, None))
            items[row["naaccr_id"]] = CatalogueItem(
                naaccr_id=definition.naaccr_id, naaccr_num=definition.naaccr_num,
                name=definition.name or definition.naaccr_id, level=definition.parent, length=definition.length,
                data_type=definition.data_type, record_types=definition.record_types, section=row["section"],
                group=row["group"], label=row["label"], code_list=row["code_list"] or None,
                text_documentation=row["text_documentation"] == "Y",
                derived=row["derived"] == "Y" or bool(spec is not None and spec.derived),
                first_year=_year(row["first_year"]), last_year=_year(row["last_year"]),
                versions=tuple(versions[definition.naaccr_id]), column=spec, column_part=part,
                allow_unlimited_text=definition.allow_unlimited_text, identifier=row.get("identifier") == "Y")
    newest = versions and max(v for vs in versions.values() for v in vs)
    for naaccr_id in sorted(set(defs) - set(items), key=lambda i: defs[i].naaccr_num):
        # an item our table does not place yet (an older or newer dictionary): kept, validated, editable
        definition = defs[naaccr_id]
        part, spec = columns.get(naaccr_id, (None, None))
        retired = newest not in versions[naaccr_id]
        items[naaccr_id] = CatalogueItem(
            naaccr_id=naaccr_id, naaccr_num=definition.naaccr_num, name=definition.name or naaccr_id,
            level=definition.parent, length=definition.length, data_type=definition.data_type,
            record_types=definition.record_types, section="administrative",
            group=RETIRED_GROUP if retired else UNPLACED_GROUP,
            label=f"{definition.name or naaccr_id} [{definition.naaccr_num}]",
            code_list=naaccr_id if naaccr_id in lookups else None, text_documentation=False,
            derived=bool(spec is not None and spec.derived), first_year=None, last_year=None,
            versions=tuple(versions[naaccr_id]), column=spec, column_part=part,
            allow_unlimited_text=definition.allow_unlimited_text, identifier=True)  # unknown: kept from researchers
    code_lists = {name: CodeList.of(name, rows) for name, rows in lookups.items()}
    requirements = []
    with REQUIRED_FILE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            requirements.append(Requirement(row["naaccr_id"], tuple(row["required_by"].split(";")),
                                            _year(row["first_year"]), _year(row["last_year"]),
                                            row["analytic_only"] == "Y"))
    return Catalogue(items, code_lists, tuple(requirements), tuple(names))


def _sources() -> tuple[tuple[str, ...], str | None]:
    """Paths of the base dictionaries in use (installed, else shipped) and of the lookups zip."""
    from registry.naaccr.lookups import KIND as LOOKUPS
    from registry.reference import current, installed
    bases: dict[str, str] = {}
    lookups_path: str | None = None
    try:
        for record in installed("naaccr-dictionary"):
            if Path(record.stored_path).is_file() and record.name not in bases and "naaccr-dictionary-" in record.name:
                bases[record.name] = record.stored_path
        lookups = current(LOOKUPS)
        lookups_path = lookups.stored_path if lookups is not None and Path(lookups.stored_path).is_file() else None
    except Exception:  # no application or database yet (a script, a migration): the shipped copies
        bases, lookups_path = {}, None
    if not bases:
        bases = {p.name: str(p) for p in OFFICIAL_NAACCR.glob("naaccr-dictionary-*.xml")}
    ordered = [bases[name] for name in sorted(bases, key=_version_of)]
    if lookups_path is None:
        shipped = sorted(OFFICIAL_NAACCR.glob("naaccr-lookups-*.zip"))
        lookups_path = str(shipped[-1]) if shipped else None
    return tuple(ordered), lookups_path


def _version_of(path: str) -> str:
    found = re.search(r"naaccr-dictionary-(\d{3})", path)
    return found.group(1) if found else ""


@lru_cache(maxsize=4)
def _built(paths: tuple[str, ...], lookups_path: str | None) -> Catalogue:
    from registry.naaccr.dictionary import load_dictionary
    from registry.naaccr.lookups import read_lookups
    dictionaries = [load_dictionary(path) for path in paths]
    return build(dictionaries, read_lookups(lookups_path) if lookups_path else {})


def catalogue() -> Catalogue:
    """The catalogue for the dictionaries and lookups in use now (built once per set of files)."""
    return _built(*_sources())


def shipped_catalogue() -> Catalogue:
    """The catalogue of the shipped official dictionaries and lookups (no database needed)."""
    shipped = sorted(OFFICIAL_NAACCR.glob("naaccr-lookups-*.zip"))
    paths = tuple(sorted((str(p) for p in OFFICIAL_NAACCR.glob("naaccr-dictionary-*.xml")), key=_version_of))
    return _built(paths, str(shipped[-1]) if shipped else None)


def user_dictionary_items() -> dict[str, Any]:
    """``{naaccrId: ItemDef}`` of the installed user dictionaries (items a registry defines for itself)."""
    try:
        from registry.naaccr.records import installed_dictionaries
        return {item.naaccr_id: item for dictionary in installed_dictionaries()[1] for item in dictionary.items.values()}
    except Exception:  # no application context: no user dictionary is known
        return {}


def check_items(values: Mapping[str, Any], *, level: str, store: str = EXTRA_STORE,
                cat: Catalogue | None = None, existing: Mapping[str, Any] | None = None) -> dict[str, str]:
    """``{"<store>.<naaccrId>": message}`` for the items of a patient's or tumor's item store that may not be
    saved: an item that is neither catalogued nor in an installed user dictionary, one of the other level,
    a value that is not text, too long or not valid for the item. A value equal to the one ``existing``
    already holds is not asked again (a record imported with an item of a user dictionary since removed
    can still be edited elsewhere)."""
    cat = cat or catalogue()
    existing = existing or {}
    errors: dict[str, str] = {}
    users: dict[str, Any] | None = None
    for naaccr_id, value in values.items():
        key = f"{store}.{naaccr_id}"
        if naaccr_id in existing and existing[naaccr_id] == value:
            continue
        if value is not None and not isinstance(value, str):
            errors[key] = f"{naaccr_id} must be text, not {type(value).__name__}"
            continue
        item = cat.get(naaccr_id)
        if item is None:
            users = user_dictionary_items() if users is None else users
            own = users.get(naaccr_id)
            if own is None:
                errors[key] = (f"'{str(naaccr_id)[:60]}' is not an item of the NAACCR dictionaries installed "
                               "(base or user dictionaries)")
            elif value and len(value) > own.length and not own.allow_unlimited_text:
                errors[key] = f"'{value[:40]}' is longer than the {own.length} characters {naaccr_id} holds"
            continue
        if item.level != level and item.column is None:
            errors[key] = f"{item.label} is a {item.level} item, not an item of this {level.lower()}"
            continue
        if value is None:
            continue
        problem = cat.problem(naaccr_id, value.strip())
        if problem:
            errors[key] = f"{item.label}: {problem}" if item.label not in problem else problem
    return errors
