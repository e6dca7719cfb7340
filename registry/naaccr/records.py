"""Registry records <-> NAACCR items, driven by the item metadata on the model columns.

No field is named here: every column that carries a naaccrId (``registry.items.naaccr_items``)
maps itself, the installed dictionary says at which level an item sits, site-specific data
items go to ``Tumor.site_specific_items`` and every other item is kept verbatim in
``extra_items`` so a record exported again carries everything it was imported with.

NAACCR puts the medical record number and the address at diagnosis at the Tumor level while
the registry keeps one per patient ("carried" items): an import takes them from the patient's
first tumor and keeps a differing value of a later tumor in that tumor's ``extra_items``
(``""`` when that tumor had none); an export writes the patient's value on every tumor unless
the tumor holds its own.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.items import naaccr_items
from registry.models import FirstCourseTreatment, Patient, Tumor
from registry.naaccr.dictionary import Dictionary, DictionaryStore, ItemLookup, load_dictionary
from registry.naaccr.reader import Patient as NaaccrPatient
from registry.naaccr.reader import Problem

#: Which model holds a record part; a treatment belongs to its tumor in NAACCR.
PARTS: dict[str, type] = {"patient": Patient, "tumor": Tumor, "treatment": FirstCourseTreatment}
#: Site-specific data items: the 2018+ SSDI number block, less the NCDB COVID-19 items that share it.
SSDI_NUMBERS = frozenset(range(3801, 4000)) - {3943, 3944, 3945, 3946}


@dataclass(frozen=True)
class ColumnItem:
    part: str
    attribute: str
    naaccr_id: str
    naaccr_num: int


@functools.cache
def column_items() -> dict[str, ColumnItem]:
    """``{naaccrId: ColumnItem}`` for every NAACCR column of patient, tumor and treatment."""
    columns: dict[str, ColumnItem] = {}
    for part, model in PARTS.items():
        for attribute, spec in naaccr_items(model).items():
            columns[spec.naaccr_id] = ColumnItem(part, attribute, spec.naaccr_id, spec.naaccr_num)
    return columns


@functools.cache
def attributes(part: str) -> tuple[str, ...]:
    return tuple(c.attribute for c in column_items().values() if c.part == part)


class ItemMap:
    """Where each item lives for one dictionary set (base + user dictionaries)."""

    def __init__(self, lookup: ItemLookup | Dictionary | None) -> None:
        self.lookup = lookup
        self.columns = column_items()
        self.carried = {c.naaccr_id: c.attribute for c in self.columns.values()
                        if c.part == "patient" and self.level(c.naaccr_id, "Patient") == "Tumor"}
        self.patient_columns = [(c.naaccr_id, c.attribute) for c in self.columns.values()
                                if c.part == "patient" and c.naaccr_id not in self.carried]
        self.tumor_columns = [(c.naaccr_id, c.attribute) for c in self.columns.values() if c.part == "tumor"]
        self.treatment_columns = [(c.naaccr_id, c.attribute) for c in self.columns.values()
                                  if c.part == "treatment"]

    def level(self, naaccr_id: str, default: str) -> str:
        item = self.lookup.get(naaccr_id) if self.lookup is not None else None
        return item.parent if item is not None else default

    def is_ssdi(self, naaccr_id: str) -> bool:
        item = self.lookup.get(naaccr_id) if self.lookup is not None else None
        return item is not None and item.naaccr_num in SSDI_NUMBERS

    # -- import ---------------------------------------------------------------------------------------

    def incoming(self, patient: NaaccrPatient) -> IncomingPatient:
        """Split a read patient into column values, SSDIs and verbatim extras per record part."""
        result = IncomingPatient(line=patient.line, index=patient.index, items=patient.items,
                                 item_lines=patient.item_lines, problems=patient.all_problems)
        for naaccr_id, value in patient.items.items():
            column = self.columns.get(naaccr_id)
            if column is not None and column.part == "patient":
                result.values[column.attribute] = value
            else:
                result.extra[naaccr_id] = value
        first = patient.tumors[0].items if patient.tumors else {}
        for naaccr_id, attribute in self.carried.items():
            if naaccr_id in first:
                result.values[attribute] = first[naaccr_id]
        for tumor in patient.tumors:
            incoming = IncomingTumor(line=tumor.line, index=tumor.index, items=tumor.items,
                                     item_lines=tumor.item_lines)
            for naaccr_id, value in tumor.items.items():
                column = self.columns.get(naaccr_id)
                if column is not None and column.part == "tumor":
                    incoming.values[column.attribute] = value
                elif column is not None and column.part == "treatment":
                    incoming.treatment[column.attribute] = value
                elif naaccr_id in self.carried:
                    continue
                elif self.is_ssdi(naaccr_id):
                    incoming.ssdi[naaccr_id] = value
                else:
                    incoming.extra[naaccr_id] = value
            for naaccr_id in self.carried:
                own = tumor.items.get(naaccr_id)
                if own != first.get(naaccr_id):
                    incoming.extra[naaccr_id] = own or ""
            result.tumors.append(incoming)
        return result

    # -- export ---------------------------------------------------------------------------------------

    def record(self, patient: Mapping[str, Any],
               tumors: Iterable[tuple[Mapping[str, Any], Mapping[str, Any] | None]]) -> dict[str, Any]:
        """The writer's ``{"items", "tumors"}`` for a patient given as ``{attribute: value}`` mappings."""
        items: dict[str, str] = dict(patient.get("extra_items") or {})
        for naaccr_id, attribute in self.patient_columns:
            value = patient.get(attribute)
            if value:
                items[naaccr_id] = value
        carried = {naaccr_id: patient.get(attribute) for naaccr_id, attribute in self.carried.items()}
        carried = {key: value for key, value in carried.items() if value}
        written = []
        for tumor, treatment in tumors:
            tumor_items: dict[str, str] = dict(carried)
            tumor_items.update(tumor.get("extra_items") or {})
            tumor_items.update(tumor.get("site_specific_items") or {})
            for naaccr_id, attribute in self.tumor_columns:
                value = tumor.get(attribute)
                if value:
                    tumor_items[naaccr_id] = value
            if treatment:
                for naaccr_id, attribute in self.treatment_columns:
                    value = treatment.get(attribute)
                    if value:
                        tumor_items[naaccr_id] = value
            written.append({"items": tumor_items})
        return {"items": items, "tumors": written}

    def record_of(self, patient: Patient, tumors: Iterable[Tumor] | None = None) -> dict[str, Any]:
        """:meth:`record` for ORM objects (tests, pages); exports use plain rows for speed."""
        chosen = patient.tumors if tumors is None else tumors
        return self.record(_values(patient, "patient", ("extra_items",)),
                           [(_values(t, "tumor", ("extra_items", "site_specific_items")),
                             _values(t.treatment, "treatment", ()) if t.treatment else None) for t in chosen])


def _values(obj: Any, part: str, plain: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in (*attributes(part), *plain)}


@dataclass
class IncomingTumor:
    line: int | None
    index: int
    items: dict[str, str]
    item_lines: dict[str, int]
    values: dict[str, str] = field(default_factory=dict)
    treatment: dict[str, str] = field(default_factory=dict)
    ssdi: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class IncomingPatient:
    """One patient of a file, split for the database, with the reader's problems."""

    line: int | None
    index: int
    items: dict[str, str]
    item_lines: dict[str, int]
    problems: list[Problem]
    values: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    tumors: list[IncomingTumor] = field(default_factory=list)


# -- installed dictionaries ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _load(path: str, checksum: str) -> Dictionary:
    return load_dictionary(path)


def installed_dictionaries() -> tuple[DictionaryStore, list[Dictionary]]:
    """The installed base dictionaries as a store, and the installed user dictionaries (newest install wins)."""
    from registry.reference import installed
    bases: dict[str, Dictionary] = {}
    users: dict[str, Dictionary] = {}
    for record in installed("naaccr-dictionary"):
        if record.name in bases or record.name in users or not Path(record.stored_path).is_file():
            continue
        dictionary = _load(record.stored_path, record.checksum)
        (bases if dictionary.is_base else users)[dictionary.uri] = dictionary
    return DictionaryStore(bases), list(users.values())


def dictionary_store() -> DictionaryStore:
    """A :class:`DictionaryStore` of the installed base dictionaries."""
    return installed_dictionaries()[0]
