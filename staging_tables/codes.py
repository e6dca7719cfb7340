"""The code lists of every coded item we store, read from ``code_lists.csv`` (our own table)."""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

CODE_LISTS_FILE = Path(__file__).with_name("code_lists.csv")


@lru_cache(maxsize=1)
def code_lists() -> dict[str, dict[str, str]]:
    """``{list name: {code: term}}`` in file order."""
    lists: dict[str, dict[str, str]] = {}
    with CODE_LISTS_FILE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            lists.setdefault(row["list"], {})[row["code"]] = row["term"]
    return lists


def terms(list_name: str) -> dict[str, str]:
    """The codes and terms of one list; KeyError names the list when it does not exist."""
    try:
        return code_lists()[list_name]
    except KeyError:
        raise KeyError(f"no code list named '{list_name}'") from None


def term(list_name: str, code: str | None) -> str:
    """The term of ``code`` in ``list_name`` for display; blank for no code, the code itself if unknown."""
    if not code:
        return ""
    return code_lists().get(list_name, {}).get(code, code)
