"""NAACCR item metadata on model columns, and the one validator every operation uses.

Each coded column is declared with :func:`item`, which records its NAACCR item number,
naaccrId, length, kind and code list in the column's ``info``. NAACCR I/O, edits and
form validation read that table (:func:`naaccr_items`) instead of naming fields by hand.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import String, inspect
from sqlalchemy.orm import MappedColumn, mapped_column

from registry.dates import date_problem
from staging_tables.codes import terms

KINDS = {"code", "date", "digits", "text", "pattern"}
#: What a pattern asks for, in the registrar's words with an example (shown when a value does not fit).
PATTERN_HINTS = {
    r"C[0-9]{3}": "C and three digits, e.g. C504 (C50.4 is read too)",
    r"[89][0-9]{3}": "four digits from 8000 to 9999, e.g. 8500",
    r"[0-5][0-9]|6[0-9]|7[0-9]|8[0-8]|98|99": "two digits, e.g. 00 or 01 (60-88 for non-malignant tumors, 98, 99)",
    r"[0-9]{3}|[0-9]{2}[A-Z]|[A-Z0-9]{3}": "three characters, e.g. 100 or 30A",
    r"[0-9]{2}": "two digits, e.g. 00 or 70",
    r"[A-Za-z0-9:.+()-]{1,15}": "the AJCC category as written, up to 15 characters, e.g. cT2, p1A or 88",
    r"[A-Z]{2}": "two capital letters, e.g. IL",
    r"[0-9]{5}([0-9]{4})?|[A-Z0-9]{3,9}": "a 5- or 9-digit ZIP code, e.g. 60601, or a foreign postal code",
    r"0000|7777|7797|[A-Z][0-9]{2,3}": "an ICD-10 code, e.g. C509, or 0000 (alive), 7777 or 7797",
    r"[A-B][0-9]{3}": "A or B and three digits, e.g. A200",
}
#: How registrars write an ICD-O-3 morphology: histology and behavior together (8500/3, 8500-3, M-8500/3,
#: M8500/3, 85003), or histology alone (8500). One expression, read here and by the abstract form's script.
MORPHOLOGY_NOTATION = r"^(?:[Mm]-?)?([89][0-9]{3})(?:[/-]?([0-9]))?$"
#: The columns a morphology notation fills: Histologic Type ICD-O-3 [522] and Behavior Code ICD-O-3 [523].
MORPHOLOGY_FIELDS = ("histology", "behavior")


def read_morphology(text: str | None) -> tuple[str, str | None] | None:
    """``(histology, behavior)`` of a morphology as registrars write it (behavior None when not given),
    or None when ``text`` is no morphology notation."""
    found = re.fullmatch(MORPHOLOGY_NOTATION, (text or "").strip())
    return (found.group(1), found.group(2)) if found else None


def split_morphology(values: dict[str, Any]) -> str | None:
    """Split a notation typed into histology (``8500/3``) into histology and behavior, in ``values``.

    A behavior the notation gives fills a blank behavior; where ``values`` holds another behavior, histology is
    left as typed and the conflict is returned as the message for histology (nothing is guessed)."""
    histology, behavior = MORPHOLOGY_FIELDS
    text = values.get(histology)
    read = read_morphology(text) if isinstance(text, str) else None
    if read is None:
        return None
    code, given = read
    typed = (values.get(behavior) or "").strip() if isinstance(values.get(behavior), str) else ""
    if given is not None and typed and typed != given:
        return (f"'{text.strip()}' gives Behavior Code ICD-O-3 [523] {given}, but behavior {typed} was entered; "
                f"type the histology alone (e.g. {code}) or make the behaviors agree")
    values[histology] = code
    if given is not None:
        values[behavior] = given
    return None


@dataclass(frozen=True)
class ItemSpec:
    """What one model attribute means in NAACCR terms."""

    model: str
    attribute: str
    naaccr_num: int
    naaccr_id: str
    length: int
    kind: str
    code_list: str | None
    pattern: str | None
    label: str
    derived: bool = False

    def problem(self, value: str) -> str | None:
        """Why ``value`` is not acceptable for this item, or None (blank is always acceptable here)."""
        if value == "":
            return None
        if len(value) > self.length:
            return f"'{value}' is longer than the {self.length} characters {self.label} holds"
        if self.kind == "date":
            return date_problem(value)
        if self.kind == "digits" and not value.isdigit():
            return f"{self.label} takes digits only (up to {self.length}); '{value}' was typed"
        if self.kind == "code":
            codes = terms(self.code_list or "")
            if value not in codes:
                return f"'{value}' is not a valid code for {self.label} (allowed: {', '.join(codes)})"
        if self.kind == "pattern" and not re.fullmatch(self.pattern or "", value):
            hint = PATTERN_HINTS.get(self.pattern or "", f"in the form {self.pattern}")
            return f"{self.label} is {hint}; '{value}' was typed"
        return None


def item(naaccr_num: int, naaccr_id: str, length: int, *, kind: str = "text",
         code_list: str | None = None, pattern: str | None = None, label: str | None = None,
         index: bool = False, derived: bool = False) -> MappedColumn[Any]:
    """A nullable string column carrying its NAACCR identity.

    ``kind`` is ``code`` (value from ``code_list``), ``date`` (NAACCR partial date),
    ``digits``, ``pattern`` (regular expression) or ``text``. ``derived`` items are computed by the
    product (staging, survival time) and never accepted from a person.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown item kind {kind!r}")
    if kind == "code" and not code_list:
        raise ValueError(f"item {naaccr_id} is a code but names no code list")
    info = {"naaccr_num": naaccr_num, "naaccr_id": naaccr_id, "length": length, "kind": kind,
            "code_list": code_list, "pattern": pattern, "label": label, "derived": derived}
    return mapped_column(String(length), nullable=True, index=index, info=info)


def naaccr_items(model: type) -> dict[str, ItemSpec]:
    """``{attribute: ItemSpec}`` for every NAACCR-coded column of ``model`` (a copy of what the model's columns
    say, read once per model: the abstract page asks several times per request)."""
    return dict(_naaccr_items(model))


@lru_cache(maxsize=None)
def _naaccr_items(model: type) -> dict[str, ItemSpec]:
    specs: dict[str, ItemSpec] = {}
    for attr in inspect(model).column_attrs:
        column = attr.columns[0]
        info = column.info
        if "naaccr_num" not in info:
            continue
        specs[attr.key] = ItemSpec(
            model=model.__name__, attribute=attr.key, naaccr_num=info["naaccr_num"],
            naaccr_id=info["naaccr_id"], length=info["length"], kind=info["kind"],
            code_list=info["code_list"], pattern=info["pattern"],
            label=info["label"] or f"{attr.key.replace('_', ' ')} [{info['naaccr_num']}]",
            derived=info.get("derived", False))
    return specs
