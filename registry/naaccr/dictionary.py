"""NAACCR XML base and user dictionaries.

The product does not ship NAACCR's dictionaries: the user installs them, so every
loader here takes a path (or an already loaded :class:`Dictionary`).  A
dictionary says, for each item, its level, length, data type, padding and record
types; the reader and writer rely on nothing else.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from lxml import etree

NAACCR_NS = "http://naaccr.org/naaccrxml"
LEVELS = ("NaaccrData", "Patient", "Tumor")
DATA_TYPES = ("text", "digits", "alpha", "mixed", "numeric", "date", "dateTime")
PADDINGS = ("none", "leftZero", "leftBlank", "rightZero", "rightBlank")
RECORD_TYPES = ("A", "M", "C", "I")

_ROOT_ATTRIBUTES = {"dictionaryUri", "naaccrVersion", "specificationVersion",
                    "dateLastModified", "description"}
_ITEM_ATTRIBUTES = {"naaccrId", "naaccrNum", "naaccrName", "parentXmlElement", "dataType",
                    "padding", "trim", "startColumn", "length", "sourceOfStandard",
                    "recordTypes", "allowUnlimitedText", "regexValidation"}
_BASE_URI = re.compile(r"naaccr-dictionary-(\d{3})\.xml$")
_NCNAME = re.compile(r"^[A-Za-z_][\w.\-]*$")

PathLike = Union[str, "os.PathLike[str]"]


class DictionaryError(ValueError):
    """A dictionary file that cannot be trusted (bad XML, missing or bad attributes, clashes)."""


@dataclass(frozen=True, slots=True)
class ItemDef:
    """One ``ItemDef``: everything the reader and writer need to know about an item."""

    naaccr_id: str
    naaccr_num: int
    parent: str
    length: int
    data_type: str = "text"
    name: str | None = None
    padding: str = "none"
    trim: str = "all"
    start_column: int | None = None
    record_types: frozenset[str] = frozenset(RECORD_TYPES)
    allow_unlimited_text: bool = False
    source_of_standard: str | None = None


@dataclass(slots=True)
class Dictionary:
    """A parsed base or user dictionary; ``items`` keeps file order, which the writer follows."""

    uri: str
    items: dict[str, ItemDef]
    naaccr_version: str | None = None
    specification_version: str | None = None
    description: str | None = None
    path: str | None = None
    by_num: dict[int, ItemDef] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.by_num:
            self.by_num = {item.naaccr_num: item for item in self.items.values()}

    @property
    def is_base(self) -> bool:
        return base_version_from_uri(self.uri) is not None

    def get(self, naaccr_id: str) -> ItemDef | None:
        return self.items.get(naaccr_id)

    def __contains__(self, naaccr_id: object) -> bool:
        return naaccr_id in self.items

    def __iter__(self) -> Iterator[ItemDef]:
        return iter(self.items.values())

    def __len__(self) -> int:
        return len(self.items)

    def level_items(self, level: str) -> list[ItemDef]:
        return [item for item in self.items.values() if item.parent == level]


def base_version_from_uri(uri: str | None) -> str | None:
    """``http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml`` -> ``"250"`` (None for user URIs)."""
    if not uri:
        return None
    match = _BASE_URI.search(uri.strip())
    return match.group(1) if match else None


def base_uri(version: str | int) -> str:
    """The official URI of a base dictionary, as written in ``baseDictionaryUri``."""
    return f"http://naaccr.org/naaccrxml/naaccr-dictionary-{version}.xml"


def _int(value: str | None, what: str, where: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise DictionaryError(f"{where}: {what} must be a whole number, not {value!r}") from None


def _spec_tuple(version: str | None) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in (version or "1.0").split("."))
    except ValueError:
        return (1, 0)


def load_dictionary(path: PathLike) -> Dictionary:
    """Read a dictionary file; raises :class:`DictionaryError` on anything the XSD or rules forbid."""
    path = os.fspath(path)
    try:
        tree = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True))
    except (OSError, etree.XMLSyntaxError) as exc:
        raise DictionaryError(f"{path}: not a readable XML dictionary ({exc})") from None
    root = tree.getroot()
    if etree.QName(root).localname != "NaaccrDictionary" or etree.QName(root).namespace not in (NAACCR_NS, None):
        raise DictionaryError(f"{path}: root element must be NaaccrDictionary in {NAACCR_NS}")
    unknown = set(root.attrib) - _ROOT_ATTRIBUTES
    if unknown:
        raise DictionaryError(f"{path}: unknown dictionary attribute(s) {', '.join(sorted(unknown))}")
    uri = (root.get("dictionaryUri") or "").strip()
    if not uri:
        raise DictionaryError(f"{path}: dictionaryUri is required")
    spec = root.get("specificationVersion")
    version = root.get("naaccrVersion")
    if version is None:
        version = base_version_from_uri(uri)
    is_base = base_version_from_uri(uri) is not None
    items: dict[str, ItemDef] = {}
    nums: dict[int, str] = {}
    for element in root.iter(f"{{{NAACCR_NS}}}ItemDef", "ItemDef"):
        where = f"{path}:{element.sourceline}"
        item = _item_from_attributes(dict(element.attrib), where)
        if item.allow_unlimited_text and not is_base and _spec_tuple(spec) >= (1, 6):
            raise DictionaryError(f"{where}: allowUnlimitedText was removed in specification 1.6")
        if item.naaccr_id in items:
            raise DictionaryError(f"{where}: naaccrId {item.naaccr_id} is defined twice")
        if item.naaccr_num in nums:
            raise DictionaryError(f"{where}: naaccrNum {item.naaccr_num} is used by {nums[item.naaccr_num]} and {item.naaccr_id}")
        items[item.naaccr_id] = item
        nums[item.naaccr_num] = item.naaccr_id
    return Dictionary(uri=uri, items=items, naaccr_version=version, specification_version=spec,
                      description=root.get("description"), path=path)


def _item_from_attributes(attrs: dict[str, str], where: str) -> ItemDef:
    unknown = {name for name in attrs if not name.startswith("{")} - _ITEM_ATTRIBUTES
    if unknown:
        raise DictionaryError(f"{where}: unknown ItemDef attribute(s) {', '.join(sorted(unknown))}")
    for required in ("naaccrId", "naaccrNum", "parentXmlElement", "length"):
        if not (attrs.get(required) or "").strip():
            raise DictionaryError(f"{where}: ItemDef attribute {required} is required")
    naaccr_id = attrs["naaccrId"].strip()
    if not _NCNAME.match(naaccr_id):
        raise DictionaryError(f"{where}: {naaccr_id!r} is not a valid naaccrId")
    parent = attrs["parentXmlElement"].strip()
    if parent not in LEVELS:
        raise DictionaryError(f"{where}: parentXmlElement of {naaccr_id} must be one of {', '.join(LEVELS)}")
    data_type = (attrs.get("dataType") or "text").strip()
    if data_type not in DATA_TYPES:
        raise DictionaryError(f"{where}: dataType {data_type!r} of {naaccr_id} is not one of {', '.join(DATA_TYPES)}")
    padding = (attrs.get("padding") or "none").strip()
    if padding not in PADDINGS:
        raise DictionaryError(f"{where}: padding {padding!r} of {naaccr_id} is not one of {', '.join(PADDINGS)}")
    length = _int(attrs["length"], "length", where)
    if length is None or length < 1:
        raise DictionaryError(f"{where}: length of {naaccr_id} must be at least 1")
    start = _int(attrs.get("startColumn") or None, "startColumn", where)
    record_types_raw = (attrs.get("recordTypes") or "A,M,C,I").strip()
    record_types = frozenset(part.strip() for part in record_types_raw.split(",") if part.strip())
    if not record_types <= set(RECORD_TYPES):
        raise DictionaryError(f"{where}: recordTypes {record_types_raw!r} of {naaccr_id} may only list A, M, C, I")
    unlimited = (attrs.get("allowUnlimitedText") or "false").strip().lower() in ("true", "1")
    return ItemDef(naaccr_id=naaccr_id, naaccr_num=_int(attrs["naaccrNum"], "naaccrNum", where) or 0,
                   parent=parent, length=length, data_type=data_type, name=attrs.get("naaccrName"),
                   padding=padding, trim=(attrs.get("trim") or "all").strip(), start_column=start,
                   record_types=record_types, allow_unlimited_text=unlimited,
                   source_of_standard=attrs.get("sourceOfStandard"))


def read_dictionary_uri(path: PathLike) -> str | None:
    """Only the ``dictionaryUri`` of a file, without parsing its items (for indexing a directory)."""
    try:
        for _event, element in etree.iterparse(os.fspath(path), events=("start",)):
            return element.get("dictionaryUri")
    except (OSError, etree.XMLSyntaxError):
        return None
    return None


class ItemLookup:
    """A base dictionary combined with user dictionaries: the set of items a file may hold."""

    def __init__(self, base: Dictionary, user: Iterable[Dictionary] = ()) -> None:
        self.base = base
        self.user = list(user)
        self.items: dict[str, ItemDef] = dict(base.items)
        self.by_num: dict[int, ItemDef] = dict(base.by_num)
        for dictionary in self.user:
            for item in dictionary:
                known = self.items.get(item.naaccr_id)
                if known is not None and known.naaccr_num != item.naaccr_num:
                    raise DictionaryError(
                        f"user dictionary {dictionary.uri}: {item.naaccr_id} is item #{known.naaccr_num} "
                        f"in {base.uri}, not #{item.naaccr_num}")
                other = self.by_num.get(item.naaccr_num)
                if other is not None and other.naaccr_id != item.naaccr_id:
                    raise DictionaryError(
                        f"user dictionary {dictionary.uri}: naaccrNum {item.naaccr_num} already belongs to {other.naaccr_id}")
                self.items[item.naaccr_id] = item
                self.by_num[item.naaccr_num] = item

    def get(self, naaccr_id: str) -> ItemDef | None:
        return self.items.get(naaccr_id)

    def __contains__(self, naaccr_id: object) -> bool:
        return naaccr_id in self.items

    def ordered(self, level: str) -> list[ItemDef]:
        """Items of one level in dictionary order (base first, then user dictionaries)."""
        return [item for item in self.items.values() if item.parent == level]


DictionarySource = Union[PathLike, Mapping[str, Union[PathLike, Dictionary]], "DictionaryStore"]


class DictionaryStore:
    """Installed dictionaries found by URI (or by base version); files are parsed once, on first use."""

    def __init__(self, entries: Mapping[str, PathLike | Dictionary] | None = None) -> None:
        self._entries: dict[str, PathLike | Dictionary] = {}
        for key, value in (entries or {}).items():
            self.add(value, key)

    @classmethod
    def from_directory(cls, directory: PathLike) -> "DictionaryStore":
        """Index every ``*.xml`` in ``directory`` by the ``dictionaryUri`` it declares."""
        store = cls()
        for path in sorted(Path(directory).glob("*.xml")):
            uri = read_dictionary_uri(path)
            if uri:
                store.add(path, uri.strip())
        return store

    @classmethod
    def coerce(cls, source: DictionarySource) -> "DictionaryStore":
        if isinstance(source, DictionaryStore):
            return source
        if isinstance(source, Mapping):
            return cls(source)
        return cls.from_directory(source)

    def add(self, entry: PathLike | Dictionary, key: str | None = None) -> None:
        """Register a dictionary under its URI (and, for base dictionaries, its version)."""
        uri = key or (entry.uri if isinstance(entry, Dictionary) else read_dictionary_uri(entry))
        if not uri:
            raise DictionaryError(f"{entry}: no dictionaryUri")
        self._entries[uri] = entry
        version = base_version_from_uri(uri) if not uri.isdigit() else uri
        if version:
            self._entries.setdefault(base_uri(version), entry)
            self._entries.setdefault(version, entry)

    def get(self, uri_or_version: str | int) -> Dictionary | None:
        key = str(uri_or_version).strip()
        entry = self._entries.get(key)
        if entry is None:
            version = base_version_from_uri(key)
            entry = self._entries.get(version) if version else None
        if entry is None:
            return None
        if not isinstance(entry, Dictionary):
            entry = load_dictionary(entry)
            self._entries[key] = entry
        return entry

    def versions(self) -> list[str]:
        return sorted({key for key in self._entries if key.isdigit()})


def load_renamed_items(path: PathLike) -> dict[str, str]:
    """Old -> new naaccrId from a CSV ``Item Number, Old XML ID, new XML ID`` (as IMS publishes them)."""
    import csv

    renamed: dict[str, str] = {}
    with open(os.fspath(path), newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        next(rows, None)
        for row in rows:
            if len(row) >= 3 and row[1].strip() and row[2].strip():
                renamed[row[1].strip()] = row[2].strip()
    return renamed


def as_dictionary(value: PathLike | Dictionary) -> Dictionary:
    return value if isinstance(value, Dictionary) else load_dictionary(value)


# Sex [220] (up to v25) became Sex Assigned at Birth [225] in v26.  Codes 1, 2 and 9 mean
# the same in both; the v25 codes for "natal male/female" keep the sex at birth, and the
# codes that say nothing about sex at birth (3 other/intersex, 4 transsexual NOS) become 9.
SEX_TO_SEX_AT_BIRTH = {"1": "1", "2": "2", "3": "9", "4": "9", "5": "1", "6": "2", "9": "9"}
SEX_AT_BIRTH_TO_SEX = {"1": "1", "2": "2", "9": "9"}


def convert_sex_items(items: dict[str, str], target_version: str | int) -> dict[str, str]:
    """Return ``items`` with sex/sexAssignedAtBirth renamed for ``target_version`` (copy; input untouched).

    An explicit target value already present wins; codes that have no equivalent are
    mapped to 9 (unknown) rather than dropped, so the item is never silently lost.
    """
    target = int(str(target_version)[:3])
    out = dict(items)
    if target >= 260 and "sex" in out:
        value = out.pop("sex")
        out.setdefault("sexAssignedAtBirth", SEX_TO_SEX_AT_BIRTH.get(value.strip(), "9") if value.strip() else value)
    elif target < 260 and "sexAssignedAtBirth" in out:
        value = out.pop("sexAssignedAtBirth")
        out.setdefault("sex", SEX_AT_BIRTH_TO_SEX.get(value.strip(), "9") if value.strip() else value)
    return out
