"""Streaming NAACCR XML writer (v24, v25, v26).

Patients are written one at a time straight to the (optionally gzipped) file, so an
export of any size needs the memory of one patient.  What goes into a file is
decided by the dictionary alone: an item is written only at its own level, only
when the record type is in its ``recordTypes`` (an incidence file therefore carries
no confidential items), and always in dictionary order.
"""
from __future__ import annotations

import gzip
import io
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import IO, Any, Union

from .dictionary import (NAACCR_NS, RECORD_TYPES, Dictionary, ItemLookup, PathLike, as_dictionary,
                         convert_sex_items)
from .reader import check_value, plain_rule

WRITABLE_VERSIONS = ("240", "250", "260")
Target = Union[PathLike, IO[bytes]]

_NEEDS_ESCAPE = re.compile(r"[&<>\r\"]")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Either of the two above: text without any of these is written as it is.
_SPECIAL = re.compile("[&<>\r\"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class NaaccrWriteError(ValueError):
    """A value that would make the written file invalid (bad characters, too long, wrong type)."""


def escape_text(value: str) -> str:
    """Escape for element content; a carriage return becomes ``&#13;`` so it survives parsing."""
    if _ILLEGAL_XML.search(value):
        raise NaaccrWriteError(f"value {value!r} holds a control character XML 1.0 cannot carry")
    if not _NEEDS_ESCAPE.search(value):
        return value
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;").replace('"', "&quot;"))


def _items_of(entity: Any) -> Mapping[str, str]:
    if isinstance(entity, Mapping):
        inner = entity.get("items")
        return inner if isinstance(inner, Mapping) else entity
    return entity.items


def _tumors_of(patient: Any) -> Iterable[Any]:
    if isinstance(patient, Mapping):
        return patient.get("tumors", ())
    return patient.tumors


def _extensions_of(entity: Any) -> Iterable[bytes | str]:
    if isinstance(entity, Mapping):
        return entity.get("extensions", ()) if "items" in entity else ()
    return getattr(entity, "extensions", ())


class NaaccrWriter:
    """Write a NAACCR XML file patient by patient.

    ``patient`` objects may be reader :class:`~registry.naaccr.reader.Patient`s or
    mappings ``{"items": {...}, "tumors": [{"items": {...}}, ...]}``.  Items the
    dictionaries do not know, or that the record type excludes, are left out and
    counted in :attr:`skipped`.  Submissions use v24–v26; ``allow_any_version``
    permits older base dictionaries (for re-writing legacy files).  With ``check_values`` a value that breaks its
    item's length or data type raises :class:`NaaccrWriteError` before anything of
    that patient is written.
    """

    def __init__(self, target: Target, dictionary: PathLike | Dictionary, record_type: str = "A",
                 user_dictionaries: Iterable[PathLike | Dictionary] = (), *,
                 compress: bool | None = None, root_items: Mapping[str, str] | None = None,
                 time_generated: str | None = None, extra_attributes: Mapping[str, str] | None = None,
                 namespaces: Mapping[str, str] | None = None, root_extensions: Iterable[bytes | str] = (),
                 convert_sex: bool = True, check_values: bool = True, compresslevel: int = 6,
                 allow_any_version: bool = False) -> None:
        base = as_dictionary(dictionary)
        if not base.is_base:
            raise ValueError(f"{base.uri} is not a NAACCR base dictionary")
        if base.naaccr_version not in WRITABLE_VERSIONS and not allow_any_version:
            raise ValueError(f"writing NAACCR {base.naaccr_version} is not supported "
                             f"(only {', '.join(WRITABLE_VERSIONS)})")
        if record_type not in RECORD_TYPES:
            raise ValueError(f"record type must be one of {', '.join(RECORD_TYPES)}, not {record_type!r}")
        self.dictionary = base
        self.lookup = ItemLookup(base, [as_dictionary(entry) for entry in user_dictionaries])
        self.record_type = record_type
        self.version = base.naaccr_version
        self._convert_sex = convert_sex
        self._check = check_values
        self.skipped: Counter[str] = Counter()
        self.patients = 0
        self.tumors = 0
        # per item: dictionary position, opening tag, and the (length, test) that pass only
        # values check_value passes (anything else is asked of check_value, for its message)
        order: dict[str, dict[str, tuple[int, str, float, Any]]] = {"NaaccrData": {}, "Patient": {}, "Tumor": {}}
        for position, item in enumerate(self.lookup.items.values()):
            if record_type in item.record_types:
                order[item.parent][item.naaccr_id] = (position, f'<Item naaccrId="{item.naaccr_id}">',
                                                      *plain_rule(item, check_values))
        self._order = order
        self._owns = isinstance(target, (str, os.PathLike))
        if compress is None:
            compress = self._owns and os.fspath(target).endswith(".gz")
        raw: IO[bytes] = open(os.fspath(target), "wb") if self._owns else target  # type: ignore[assignment]
        self._raw = raw
        self._gzip = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=compresslevel) if compress else None
        self._out = io.TextIOWrapper(self._gzip or raw, encoding="utf-8", newline="\n", write_through=False)
        self._closed = False
        self._write_root(root_items or {}, time_generated, extra_attributes or {}, namespaces or {},
                         root_extensions)

    def __enter__(self) -> "NaaccrWriter":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _write_root(self, root_items: Mapping[str, str], time_generated: str | None,
                    extra_attributes: Mapping[str, str], namespaces: Mapping[str, str],
                    extensions: Iterable[bytes | str]) -> None:
        generated = time_generated or datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        attrs = [f'baseDictionaryUri="{escape_text(self.dictionary.uri)}"']
        if self.lookup.user:
            attrs.append(f'userDictionaryUri="{escape_text(" ".join(d.uri for d in self.lookup.user))}"')
        attrs += [f'recordType="{self.record_type}"', f'timeGenerated="{escape_text(generated)}"',
                  f'specificationVersion="{self.dictionary.specification_version or "1.8"}"']
        prefixes = {uri: prefix for prefix, uri in namespaces.items() if prefix and uri != NAACCR_NS}
        for name, value in extra_attributes.items():
            uri, _, local = name[1:].partition("}")
            if not name.startswith("{") or uri == NAACCR_NS:
                raise NaaccrWriteError(f"extra root attribute {name} needs its own namespace")
            prefix = prefixes.setdefault(uri, f"ns{len(prefixes) + 1}")
            attrs.append(f'{prefix}:{local}="{escape_text(value)}"')
        attrs.append(f'xmlns="{NAACCR_NS}"')
        attrs += [f'xmlns:{prefix}="{escape_text(uri)}"' for uri, prefix in prefixes.items()]
        head = ['<?xml version="1.0" encoding="UTF-8"?>\n', "<NaaccrData " + "\n            ".join(attrs) + ">\n"]
        head += self._items("NaaccrData", root_items, "    ")
        head += self._extensions(extensions, "    ")
        self._out.write("".join(head))

    def _items(self, level: str, items: Mapping[str, str], indent: str) -> list[str]:
        if self._convert_sex and level == "Patient" and ("sex" in items or "sexAssignedAtBirth" in items):
            items = convert_sex_items(dict(items), self.version)
        order = self._order[level]
        chosen = []
        for naaccr_id, value in items.items():
            if value is None or value == "":
                continue
            known = order.get(naaccr_id)
            if known is None:
                self.skipped[naaccr_id] += 1
                continue
            if len(value) > known[2] or (known[3] is not None and not known[3](value)):
                reason = check_value(self.lookup.items[naaccr_id], value)
                if reason:
                    raise NaaccrWriteError(f"{level} item {naaccr_id}: {reason}")
            chosen.append((known[0], known[1], value))
        chosen.sort()
        special = _SPECIAL.search
        return [f"{indent}{tag}{escape_text(value) if special(value) else value}</Item>\n"
                for _, tag, value in chosen]

    @staticmethod
    def _extensions(extensions: Iterable[bytes | str], indent: str) -> list[str]:
        return [indent + (ext.decode("utf-8") if isinstance(ext, bytes) else ext).strip() + "\n"
                for ext in extensions]

    def write_patient(self, patient: Any) -> None:
        """Append one patient (and its tumors); nothing is written if a value is rejected."""
        parts = ["    <Patient>\n"]
        parts += self._items("Patient", _items_of(patient), "        ")
        parts += self._extensions(_extensions_of(patient), "        ")
        count = 0
        for tumor in _tumors_of(patient):
            parts.append("        <Tumor>\n")
            parts += self._items("Tumor", _items_of(tumor), "            ")
            parts += self._extensions(_extensions_of(tumor), "            ")
            parts.append("        </Tumor>\n")
            count += 1
        parts.append("    </Patient>\n")
        self._out.write("".join(parts))
        self.patients += 1
        self.tumors += count

    def write_patients(self, patients: Iterable[Any]) -> None:
        for patient in patients:
            self.write_patient(patient)

    def close(self) -> None:
        """Finish the document; the underlying stream is closed only if the writer opened it."""
        self._finish(complete=True)

    def abort(self) -> None:
        """Stop without the closing tag, so a failed export can never pass for a complete file."""
        self._finish(complete=False)

    def _finish(self, complete: bool) -> None:
        if self._closed:
            return
        self._closed = True
        if complete:
            self._out.write("</NaaccrData>\n")
        self._out.flush()
        self._out.detach()
        if self._gzip is not None:
            self._gzip.close()
        if self._owns:
            self._raw.close()


def write_file(target: Target, patients: Iterable[Any], dictionary: PathLike | Dictionary,
               record_type: str = "A", **options: Any) -> NaaccrWriter:
    """Write all ``patients`` to ``target`` and return the (closed) writer for its counts."""
    with NaaccrWriter(target, dictionary, record_type, **options) as writer:
        writer.write_patients(patients)
    return writer
