"""Plain records read as text: the reader's fast path.

Nearly every NAACCR file is a run of plain records: a ``<Patient>`` holding ``<Item naaccrId="…">``
elements and plain ``<Tumor>`` elements, nothing else.  Building lxml elements for their millions
of Items and asking each one for its tag, attributes, text and line costs more Python than the XML
parse itself, so such a record is recognised in the decoded text and split by regular expressions
(C code, no object per element), and its values are checked with the same per-item tests the
element walk uses.  A record this module cannot prove plain *and* valid is not read here: the reader
hands the rest of the file to lxml, which reads it the general way and reports every problem.

What "plain" rules out, so a record read here is well-formed XML and means what lxml would read:
attributes other than ``naaccrId`` (and on Patient/Tumor at all), other elements, comments,
processing instructions, CDATA, character and entity references other than the five predefined
ones, characters XML does not allow, ``]]>``, a carriage return not followed by a line feed,
an item said twice, an item the dictionaries do not define at that level for that record type,
and any value that fails its item's length or data-type check.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

#: (longest valid value, quick test or None, full check giving the reason or None) per naaccrId
Rule = tuple[float, Callable[[str], Any] | None, Callable[[str], str | None]]

_CHARACTER = "[^<&\x00-\x08\x0b-\x1f\ufffe\uffff]"
_ITEM = '[ \t\n]*<Item naaccrId="([^"<&\\s]+)">({value})</Item>'
_ITEMS = re.compile(_ITEM.format(value=_CHARACTER + "*"))
_ESCAPED_ITEMS = re.compile(_ITEM.format(value=f"(?:{_CHARACTER}|&(?:amp|lt|gt|quot|apos);)*"))
_ITEM_START = re.compile('<Item naaccrId="([^"]+)">')
#: what may come before the first Patient for its records to be read as text: an XML declaration,
#: the NaaccrData start tag and NaaccrData-level Items (no comment, DOCTYPE, CDATA or other element
#: that could hide a "<Patient")
HEAD = re.compile('\ufeff?(?:<\\?xml\\s[^<>?]*\\?>)?[ \t\r\n]*<NaaccrData(?:\\s[^<>]*)?>'
                  '(?:[ \t\r\n]*<Item\\s[^<>]*>[^<]*</Item>)*[ \t\r\n]*')
DECLARED_ENCODING = re.compile("""<\\?xml\\s[^>]*encoding\\s*=\\s*["']([^"']*)["']""")
PATIENT_START, PATIENT_END = "<Patient>", "</Patient>"


class ItemLines(Mapping[str, int]):
    """Line of each Item of a Patient or Tumor read as text, worked out when first asked for.

    Only records with a problem need positions, so the lines are counted from the record's text on
    demand; pickled (to the import's helper pipe) it becomes a plain dict.
    """

    __slots__ = ("_text", "_start", "_end", "_line", "_lines")

    def __init__(self, text: str, start: int, end: int, line: int) -> None:
        self._text: str | None = text
        self._start, self._end, self._line = start, end, line
        self._lines: dict[str, int] | None = None

    def _resolved(self) -> dict[str, int]:
        if self._lines is None:
            text, at, line = self._text, self._start, self._line
            assert text is not None
            lines: dict[str, int] = {}
            for match in _ITEM_START.finditer(text, self._start, self._end):
                line += text.count("\n", at, match.start())
                at = match.start()
                lines[match.group(1)] = line
            self._lines, self._text = lines, None
        return self._lines

    def __getitem__(self, naaccr_id: str) -> int:
        return self._resolved()[naaccr_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())

    def __repr__(self) -> str:
        return repr(self._resolved())

    def __reduce__(self) -> tuple:
        return dict, (self._resolved(),)


def _items(content: str, rules: dict[str, Rule], split: Callable[[str], list[str]],
           escaped: bool) -> dict[str, str] | None:
    """The Items of one Patient's or Tumor's own text, or None unless every one is plain and valid."""
    pieces = split(content)  # [between, id, value, between, id, value, …, after]
    if any(pieces[0:-1:3]) or pieces[-1].strip(" \t\n"):
        return None
    items = dict(zip(pieces[1::3], pieces[2::3]))
    if 3 * len(items) + 1 != len(pieces):
        return None  # an item said twice
    if escaped:
        for naaccr_id, value in items.items():
            if "&" in value:
                items[naaccr_id] = html.unescape(value)
    get = rules.get
    for naaccr_id, value in items.items():
        rule = get(naaccr_id)
        if rule is None:
            return None
        if value and (len(value) > rule[0] or (rule[1] is not None and not rule[1](value))) and rule[2](value):
            return None
    return items


TumorText = tuple[dict[str, str], int, ItemLines]


def read_record(record: str, line: int, rules: Mapping[str, dict[str, Rule]], max_children: int,
                max_chars: int) -> tuple[dict[str, str], ItemLines, list[TumorText]] | None:
    """Patient items, their lines and (items, line, item lines) per Tumor of one ``<Patient>…</Patient>``
    starting on ``line``; None when the record is not plain and valid (or too big) and needs lxml."""
    if len(record) > max_chars or "]]>" in record:
        return None
    if "\r" in record:
        record = record.replace("\r\n", "\n")
        if "\r" in record:
            return None
    escaped = "&" in record
    split = (_ESCAPED_ITEMS if escaped else _ITEMS).split
    segments = record[len(PATIENT_START):-len(PATIENT_END)].split("<Tumor>")
    patient = _items(segments[0], rules["Patient"], split, escaped)
    if patient is None:
        return None
    at = len(PATIENT_START) + len(segments[0])
    patient_lines = ItemLines(record, 0, at, line)
    tumors: list[TumorText] = []
    children = len(patient)
    tumor_rules = rules["Tumor"]
    for segment in segments[1:]:
        content, closed, after = segment.partition("</Tumor>")
        if not closed or after.strip(" \t\n"):
            return None
        items = _items(content, tumor_rules, split, escaped)
        if items is None:
            return None
        tumor_line = line + record.count("\n", 0, at)
        tumors.append((items, tumor_line, ItemLines(record, at, at + 7 + len(content), tumor_line)))
        children += 1 + len(items)
        at += 7 + len(segment)
    if children > max_children:
        return None
    return patient, patient_lines, tumors
