"""Legacy fixed-width NAACCR flat files (v18 and earlier).

Since v21 only XML is exchanged, but registries still hold v18 flat files.  Item
positions come from the dictionary's ``startColumn``/``length`` (filled in the 140–180
dictionaries), so no layout is hard-coded here.  Each line is one tumor; consecutive
lines with the same Patient ID Number form one patient, as NAACCR XML converters do.
"""
from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from typing import IO, Union

from .dictionary import Dictionary, ItemLookup, PathLike, as_dictionary
from .reader import NaaccrData, Patient, Problem, Tumor, check_value, open_source

Source = Union[PathLike, IO[bytes]]


class FlatReader:
    """Iterate patients of a flat file; NaaccrData-level items come from the first line."""

    def __init__(self, source: Source, dictionary: PathLike | Dictionary,
                 user_dictionaries: Iterable[PathLike | Dictionary] = (), *, encoding: str = "utf-8",
                 group_patients: bool = True, check_values: bool = True) -> None:
        base = as_dictionary(dictionary)
        self.lookup = ItemLookup(base, [as_dictionary(entry) for entry in user_dictionaries])
        self._fields = sorted(((item.start_column - 1, item.start_column - 1 + item.length, item)
                               for item in self.lookup.items.values() if item.start_column),
                              key=lambda field: field[0])
        if not self._fields:
            raise ValueError(f"dictionary {base.uri} has no startColumn: it cannot describe a flat file")
        self.record_length = max(end for _, end, _ in self._fields)
        self._owns = isinstance(source, (str, os.PathLike))
        self._file = open(os.fspath(source), "rb") if self._owns else source
        self._text = io.TextIOWrapper(open_source(self._file), encoding=encoding, newline=None)  # type: ignore[arg-type]
        self._group = group_patients
        self._check = check_values
        self.data = NaaccrData(base_dictionary_uri=base.uri)
        self.problems: list[Problem] = []
        self.patient_count = 0
        self.tumor_count = 0

    def __enter__(self) -> "FlatReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._text.detach()
        if self._owns:
            self._file.close()

    def _split(self, line: str) -> dict[str, tuple[str, str]]:
        values: dict[str, tuple[str, str]] = {}
        for start, end, item in self._fields:
            raw = line[start:end]
            value = raw.strip() if item.trim != "none" else raw.rstrip()
            if value:
                values[item.naaccr_id] = (item.parent, value)
        return values

    def _record(self, line: str, number: int, problems: list[Problem]) -> dict[str, tuple[str, str]]:
        width = len(line)
        if width > self.record_length:
            problems.append(Problem(f"line is {width} characters long, more than the {self.record_length} "
                                    "the dictionary describes", number, code="structure"))
        elif any(start < width < end for start, end, _ in self._fields):
            problems.append(Problem(f"line is {width} characters long and ends inside an item", number,
                                    code="structure"))
        values = self._split(line)
        if self._check:
            for naaccr_id, (_, value) in values.items():
                reason = check_value(self.lookup.items[naaccr_id], value)
                if reason:
                    problems.append(Problem(reason, number, naaccr_id=naaccr_id,
                                            code="too-long" if "too long" in reason else "data-type"))
        return values

    def __iter__(self) -> Iterator[Patient]:
        current: Patient | None = None
        current_id: str | None = None
        for number, line in enumerate(self._text, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            problems: list[Problem] = []
            values = self._record(line, number, problems)
            if number == 1 or not self.data.items:
                for naaccr_id, (level, value) in values.items():
                    if level == "NaaccrData":
                        self.data.items[naaccr_id] = value
                        self.data.item_lines[naaccr_id] = number
            patient_id = values.get("patientIdNumber", ("", ""))[1] or None
            if current is None or not self._group or patient_id is None or patient_id != current_id:
                if current is not None:
                    yield current
                self.patient_count += 1
                current = Patient(line=number, index=self.patient_count)
                current_id = patient_id
                for naaccr_id, (level, value) in values.items():
                    if level == "Patient":
                        current.items[naaccr_id] = value
                        current.item_lines[naaccr_id] = number
            tumor = Tumor(line=number, index=len(current.tumors) + 1)
            for naaccr_id, (level, value) in values.items():
                if level == "Tumor":
                    tumor.items[naaccr_id] = value
                    tumor.item_lines[naaccr_id] = number
            for problem in problems:
                problem.patient, problem.tumor = current.index, tumor.index
            tumor.problems = problems
            current.tumors.append(tumor)
            self.tumor_count += 1
        if current is not None:
            yield current


def read_flat(source: Source, dictionary: PathLike | Dictionary,
              user_dictionaries: Iterable[PathLike | Dictionary] = (), **options: object) -> Iterator[Patient]:
    """Convenience generator over :class:`FlatReader` that closes the file when done."""
    with FlatReader(source, dictionary, user_dictionaries, **options) as reader:  # type: ignore[arg-type]
        yield from reader
