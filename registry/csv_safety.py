"""Cells of every CSV the registry writes, made safe to open in a spreadsheet (CSV/formula injection).

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula (tab and carriage
return can hide such a start), so a token name or a free-text field could make a reader's spreadsheet
fetch a URL or run a command. Following OWASP, a text cell beginning with one of those characters gets a
leading single quote, which spreadsheets show as text. Numbers are data, not formulas: a value that is an
int or float, or text that is a plain decimal number such as ``-1.5`` or ``-2e-3``, is written unchanged so
that survival and research tables keep their negative values. NAACCR codes never begin with those characters.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will read it as data: risky text gets a leading ``'``, numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose every cell passes through :func:`safe_cell`."""

    def __init__(self, handle: Any, **options: Any):
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):
    """``csv.DictWriter`` whose every value passes through :func:`safe_cell`."""

    def writerow(self, rowdict: dict[str, Any]) -> Any:
        return super().writerow({key: safe_cell(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[dict[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells pass through :func:`safe_cell` (numeric columns are left alone)."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype) == "string":
            frame[column] = frame[column].map(safe_cell)
    frame.columns = [safe_cell(str(name)) for name in frame.columns]
    return frame
