"""Reportability screening of report text with data-driven keywords (``keyword|Group`` lines).

Groups: Positive (a reportable finding), Negative (a phrase that negates, e.g. "not cancer"), Other
(noted only). Every case-insensitive occurrence of a keyword as whole words is found (no letter just
before or after it: "C18" is found in "C182", "des" is not in "described"), overlapping ones too, as the
SEER/IMS screener does; a positive match lying inside or overlapping a negative match is cancelled; a
report is reportable when a positive match survives.
The default list is the SEER/IMS reportability-screener list shipped in ``data/``; an installed
``reportability-keywords`` reference table replaces it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from registry.errors import InvalidInput
from registry.reference import InvalidReference, ReferenceInfo, reference_kind, version_in_file_name

DEFAULT_KEYWORDS = Path(__file__).resolve().parent / "data" / "reportability-keywords.txt"
GROUPS = {"positive": "Positive", "negative": "Negative", "other": "Other"}
REPORTABLE, NON_REPORTABLE = "REPORTABLE", "NON_REPORTABLE"
_PREFIX = 2
_INDEXED = 4


@dataclass(frozen=True)
class KeywordMatch:
    text: str
    group: str
    start: int
    end: int  # inclusive, as the screener's JSON states it
    cancelled: bool = False

    def as_json(self) -> dict[str, object]:
        return {"text": self.text, "group": self.group, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class ScreeningResult:
    result: str
    matches: tuple[KeywordMatch, ...]

    @property
    def reportable(self) -> bool:
        return self.result == REPORTABLE

    def keywords(self, group: str | None = None, *, surviving: bool = False) -> list[KeywordMatch]:
        return [m for m in self.matches if (group is None or m.group == group) and not (surviving and m.cancelled)]

    def as_json(self) -> dict[str, object]:
        return {"result": self.result, "keywords": [m.as_json() for m in self.matches]}

    def dumps(self) -> str:
        return json.dumps(self.as_json())


def read_keywords(lines: list[str] | str, source: str = "keyword list") -> list[tuple[str, str]]:
    """``keyword|Group`` lines → (keyword, group); a bad line is refused naming its number."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    keywords, errors = [], {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        keyword, bar, group = line.rstrip("\r\n").rpartition("|")
        canonical = GROUPS.get(group.strip().lower())
        if not bar or not keyword.strip() or canonical is None:
            errors[f"line {number}"] = (f"'{line.strip()[:60]}' is not 'keyword|Group' with Group one of "
                                        "Positive, Negative, Other")
            continue
        keywords.append((keyword, canonical))
    if errors:
        raise InvalidInput(errors, record=source)
    if not keywords:
        raise InvalidInput({"file": "no keywords"}, record=source)
    return keywords


class Screener:
    """Keyword matcher: candidate positions (word starts) come from one regex over the keywords' first two
    letters; there only the keywords sharing the next letters are compared, so every overlapping match is
    found in one pass over the text."""

    def __init__(self, keywords: list[tuple[str, str]]):
        self.long: dict[str, list[tuple[str, str, int]]] = {}  # first four letters → keywords
        self.short: dict[int, dict[str, list[str]]] = {}  # length → keyword under four letters → its groups
        seen = set()
        for keyword, group in keywords:
            folded = keyword.lower()
            if (folded, group) in seen:
                continue
            seen.add((folded, group))
            entry = (folded, group, len(folded))
            if len(folded) >= _INDEXED:
                self.long.setdefault(folded[:_INDEXED], []).append(entry)
            else:
                self.short.setdefault(len(folded), {}).setdefault(folded, []).append(group)
        prefixes = {k[:_PREFIX] for k in self.long} | {k[:_PREFIX] for ks in self.short.values() for k in ks}
        alternatives = sorted(prefixes, key=len, reverse=True)
        self._starts = re.compile(r"(?<![^\W\d_])(?=(" + "|".join(re.escape(p) for p in alternatives) + "))",
                                  re.DOTALL)

    def screen(self, text: str) -> ScreeningResult:
        folded = text.lower()
        if len(folded) != len(text):  # a character whose lower case is longer: compare one by one
            folded = "".join(ch.lower()[0] if len(ch.lower()) > 1 else ch.lower() for ch in text)
        size = len(folded)
        found: list[tuple[int, int, str]] = []
        long_index, short_index = self.long, self.short
        for hit in self._starts.finditer(folded):
            start = hit.start()
            for keyword, group, length in long_index.get(folded[start:start + _INDEXED], ()):
                end = start + length
                if folded.startswith(keyword, start) and not (end < size and folded[end].isalpha()):
                    found.append((start, end - 1, group))
            for length, keywords in short_index.items():
                end = start + length
                groups = keywords.get(folded[start:end])
                if groups and not (end < size and folded[end].isalpha()):
                    found.extend((start, end - 1, group) for group in groups)
        negatives = [(s, e) for s, e, g in found if g == "Negative"]
        matches = []
        for start, end, group in sorted(found, key=lambda m: (m[0], m[1], m[2])):
            cancelled = group == "Positive" and any(ns <= end and start <= ne for ns, ne in negatives)
            matches.append(KeywordMatch(text[start:end + 1], group, start, end, cancelled))
        result = REPORTABLE if any(m.group == "Positive" and not m.cancelled for m in matches) else NON_REPORTABLE
        return ScreeningResult(result, tuple(matches))


@lru_cache(maxsize=8)
def _screener_for(path: str, mtime: float) -> Screener:
    return Screener(read_keywords(Path(path).read_text(encoding="utf-8"), source=Path(path).name))


def screener(path: str | Path | None = None) -> Screener:
    """The screener for a keyword file (default: the installed list, else the shipped SEER/IMS list)."""
    if path is None:
        path = installed_keywords() or DEFAULT_KEYWORDS
    path = Path(path)
    if not path.is_file():
        raise InvalidInput({"keywords": f"no keyword file at {path}"})
    return _screener_for(str(path), path.stat().st_mtime)


def installed_keywords() -> Path | None:
    """The newest installed ``reportability-keywords`` table, when an application is running."""
    from flask import has_app_context
    if not has_app_context():
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from registry.reference import current
    try:
        record = current(KEYWORDS_KIND)
    except SQLAlchemyError:  # no database yet: screening text needs none
        from registry.db import db_session
        db_session.rollback()
        return None
    return Path(record.stored_path) if record is not None and Path(record.stored_path).is_file() else None


def screen(text: str, keywords: str | Path | None = None) -> ScreeningResult:
    return screener(keywords).screen(text)


KEYWORDS_KIND = "reportability-keywords"


@reference_kind(KEYWORDS_KIND, "a reportability keyword list: 'keyword|Group' lines, Group one of Positive, "
                               "Negative, Other (the SEER/IMS reportability-screener format)")
def check_keywords(path: Path) -> ReferenceInfo:
    try:
        keywords = read_keywords(path.read_text(encoding="utf-8"), source=path.name)
    except UnicodeDecodeError:
        raise InvalidReference(f"{path.name}: not UTF-8 text") from None
    except InvalidInput as exc:
        raise InvalidReference(str(exc)) from None
    counts = {group: sum(1 for _k, g in keywords if g == group) for group in GROUPS.values()}
    return ReferenceInfo(name="Reportability keywords", version=version_in_file_name(path, r"(\d{4}[-\d]*)"),
                         summary=", ".join(f"{n} {g}" for g, n in counts.items()))
