"""Streaming NAACCR XML reader and validator.

Files hold hundreds of thousands of tumors, so the reader never builds the whole
tree: lxml's pull parser delivers one ``Patient`` at a time and every finished
element is cleared, so memory stays flat whatever the file size.  The same pass
checks what the XSD (1.8) and the dictionaries require, so one read both loads and
validates, and every problem carries its line, patient and tumor position.
"""
from __future__ import annotations

import calendar
import codecs
import collections
import functools
import gzip
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Union

from lxml import etree

from .dictionary import (NAACCR_NS, RECORD_TYPES, Dictionary, DictionaryError, DictionarySource,
                         DictionaryStore, ItemDef, ItemLookup, PathLike, as_dictionary,
                         base_version_from_uri)
from .text_records import DECLARED_ENCODING, HEAD, PATIENT_END, PATIENT_START, Rule, read_record

Source = Union[PathLike, IO[bytes]]

_ROOT_ATTRIBUTES = ("baseDictionaryUri", "userDictionaryUri", "timeGenerated", "recordType",
                    "specificationVersion")
_NCNAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
_DATE_TIME = re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
                        r"(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?$")
_LEVELS = ("NaaccrData", "Patient", "Tumor")
_EVENT_TAGS = ["{*}NaaccrData", "{*}Patient", "{*}Tumor"]
_VALUE_PATTERNS = {
    "digits": (re.compile(r"^\d+$"), "only digits 0-9"),
    "alpha": (re.compile(r"^[A-Z]+$"), "only upper-case letters A-Z"),
    "mixed": (re.compile(r"^[A-Z\d]+$"), "only upper-case letters A-Z and digits"),
    "numeric": (re.compile(r"^\d+(\.\d+)?$"), "a number (digits, optionally a decimal point and more digits)"),
    "date": (re.compile(r"^(18|19|20)\d\d((0[1-9]|1[012])(0[1-9]|[12]\d|3[01])?)?$"),
             "a date CCYYMMDD, CCYYMM or CCYY (unknown day or month left off)"),
    "dateTime": (_DATE_TIME, "a date and time such as 2025-01-31T13:45:00"),
}
#: What one record (a Patient with its Tumors) may make the reader hold, so a hostile file cannot
#: exhaust memory: child elements (Items, Tumors, extensions; a record of 100 tumors with every
#: item of a dictionary stays far below), decompressed bytes, and problems listed (the rest counted).
MAX_ITEMS_PER_RECORD = 50_000
MAX_RECORD_BYTES = 8 * 2**20
MAX_PROBLEMS_PER_RECORD = 100


class NaaccrError(Exception):
    """Base of the errors the reader raises; ``problem`` says where and why."""

    def __init__(self, problem: "Problem") -> None:
        super().__init__(str(problem))
        self.problem = problem


class NaaccrSyntaxError(NaaccrError):
    """The file is not well-formed XML (or cannot be decompressed/decoded) from some point on."""


class NaaccrReadError(NaaccrError):
    """The file cannot be read as NAACCR XML at all (wrong root, no usable base dictionary...)."""


@dataclass(slots=True)
class Problem:
    """One thing wrong with a file, in words a registrar can act on."""

    message: str
    line: int | None = None
    patient: int | None = None
    tumor: int | None = None
    naaccr_id: str | None = None
    code: str = "error"

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.patient is not None:
            where.append(f"patient {self.patient}")
        if self.tumor is not None:
            where.append(f"tumor {self.tumor}")
        if self.naaccr_id:
            where.append(f"item {self.naaccr_id}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(slots=True)
class Tumor:
    """One ``Tumor``: item values exactly as written (never padded, trimmed or truncated)."""

    items: dict[str, str] = field(default_factory=dict)
    line: int | None = None
    index: int = 0
    item_lines: dict[str, int] = field(default_factory=dict)
    extensions: list[bytes] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class Patient:
    """One ``Patient`` with its tumors; ``problems`` are the patient's own, see :attr:`all_problems`."""

    items: dict[str, str] = field(default_factory=dict)
    tumors: list[Tumor] = field(default_factory=list)
    line: int | None = None
    index: int = 0
    item_lines: dict[str, int] = field(default_factory=dict)
    extensions: list[bytes] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def all_problems(self) -> list[Problem]:
        return self.problems + [problem for tumor in self.tumors for problem in tumor.problems]


@dataclass(slots=True)
class NaaccrData:
    """The root element: its attributes, NaaccrData-level items and extensions."""

    base_dictionary_uri: str | None = None
    user_dictionary_uris: list[str] = field(default_factory=list)
    record_type: str | None = None
    specification_version: str | None = None
    time_generated: str | None = None
    extra_attributes: dict[str, str] = field(default_factory=dict)
    namespaces: dict[str | None, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    item_lines: dict[str, int] = field(default_factory=dict)
    extensions: list[bytes] = field(default_factory=list)
    line: int | None = None

    @property
    def naaccr_version(self) -> str | None:
        return base_version_from_uri(self.base_dictionary_uri)


def open_source(source: Source) -> IO[bytes]:
    """Open a path or binary stream, transparently un-gzipping (by magic bytes, not by name)."""
    stream: IO[bytes]
    if isinstance(source, (str, os.PathLike)):
        stream = open(os.fspath(source), "rb")
    else:
        stream = source
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    return buffered


def check_value(item: ItemDef, value: str) -> str | None:
    """Why ``value`` breaks ``item``'s length or data type, or None when it is fine."""
    if value == "":
        return None
    if len(value) > item.length and not item.allow_unlimited_text:
        return f"value is too long: {len(value)} characters, at most {item.length} allowed"
    rule = _VALUE_PATTERNS.get(item.data_type)
    if rule is None:
        return None
    pattern, wanted = rule
    if not pattern.match(value):
        return f"value {value!r} is not valid for data type {item.data_type}: expected {wanted}"
    if item.data_type == "date" and len(value) == 8:
        year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
        if day > calendar.monthrange(year, month)[1]:
            return f"value {value!r} is not a calendar date"
    return None


def _top(element: etree._Element) -> etree._Element:
    while (parent := element.getparent()) is not None:
        element = parent
    return element


def plain_date_pattern(centuries: str) -> str:
    """``CCYY``, ``CCYYMM`` or ``CCYYMMDD`` (CC one of ``centuries``, a regex alternation) of a real calendar day.

    February 29 is left out: only it needs the year to decide, so a full match never needs the calendar.
    """
    return (f"({centuries})[0-9][0-9]((0[1-9]|1[012])(0[1-9]|1[0-9]|2[0-8])?"
            "|(0[13-9]|1[012])(29|30)|(0[13578]|1[02])31)?")


#: Tests (C-level, true or false) that accept only values :func:`check_value` accepts: digits by
#: ``str.isdecimal`` (the characters ``\\d`` matches, without building a match object: most items
#: are digits), other types by a full match (every calendar date but February 29, left to the calendar).
_PLAIN_MATCHES = {"digits": str.isdecimal, "numeric": str.isdecimal,
                  "alpha": re.compile("[A-Z]+").fullmatch, "mixed": re.compile("[A-Z0-9]+").fullmatch,
                  "date": re.compile(plain_date_pattern("18|19|20")).fullmatch}


_NEVER = re.compile("(?!)").fullmatch
_SPACE = re.compile("[ \t\r\n]*")
_TEXT_CHUNK = 2**16
#: longer records (a hundred tumors with long texts) are read by lxml
_TEXT_RECORD_CHARS = 2**20
#: line breaks per comment handed to lxml for lines read as text: small, so a hand-over near the end of a
#: big file costs a few dozen kilobytes at a time, not a megabyte per million lines
_COMMENT_LINES = 2**16
_COMMENT_OPEN, _COMMENT_CLOSE = b"<!--", b"-->"


def _no_reason(value: str) -> None:
    return None


def plain_rule(item: ItemDef, check_values: bool) -> tuple[float, Callable[[str], Any] | None]:
    """(longest value, test) that pass only values :func:`check_value` passes; others get the full check."""
    if not check_values:
        return float("inf"), None
    limit = float("inf") if item.allow_unlimited_text else item.length
    if item.data_type in _PLAIN_MATCHES:
        return limit, _PLAIN_MATCHES[item.data_type]
    if item.data_type in _VALUE_PATTERNS:
        return limit, _NEVER  # rare types (dateTime): always the full check
    return limit, None


def value_checker(item: ItemDef) -> Callable[[str], str | None]:
    """:func:`check_value` for one item, with the common valid values decided by one full match."""
    limit, match = plain_rule(item, True)

    def check(value: str) -> str | None:
        if value == "" or (len(value) <= limit and (match is None or match(value))):
            return None
        return check_value(item, value)
    return check


def _before_1_2(version: str | None) -> bool:
    """Whether a specificationVersion (``1.0`` … ``1.8``) predates 1.2, the first to allow several user dictionaries."""
    major, _, minor = (version or "").partition(".")
    return major.isdecimal() and minor.isdecimal() and (int(major), int(minor)) < (1, 2)


class ElementEvents:
    """``start``/``end`` events of the elements named by ``tags`` (all when None), as ``iterparse`` gives them.

    The reader feeds the parser itself so that, in every lxml version, each event for the part of
    the file before a syntax error is delivered before the error is raised: from lxml 6.2 on,
    ``iterparse`` drops the events still queued when the parser fails (so a break in the first
    32 KiB hid even the root), and closing a broken file makes up ``end`` events for the elements
    left open.  Those are left out here: an end tag the file completes is always parsed before the
    input ends, so a failing close can only add the start of an unfinished tag.  ``root`` is the
    root element once the whole file has parsed.
    """

    chunk_size = 32768

    def __init__(self, stream: IO[bytes], tags: list[str] | None) -> None:
        self._stream = stream
        self._parser = etree.XMLPullParser(events=("start", "end"), tag=tags, resolve_entities=False,
                                           no_network=True, load_dtd=False, remove_comments=True, remove_pis=True)
        self._events = self._parse()
        self.root: etree._Element | None = None
        #: bytes fed to the parser so far, and what to call once each chunk's events are handled
        self.fed = 0
        self.after_chunk: Callable[[], None] | None = None

    def __iter__(self) -> "ElementEvents":
        return self

    def feed(self, data: bytes) -> list[tuple[str, etree._Element]]:
        """Parse ``data`` now and return its events (the reader hands lxml the file's head this way)."""
        self._parser.feed(data)
        self.fed += len(data)
        return list(self._parser.read_events())

    def __next__(self) -> tuple[str, etree._Element]:
        return next(self._events)

    def _parse(self) -> Iterator[tuple[str, etree._Element]]:
        parser, read = self._parser, self._stream.read
        while data := read(self.chunk_size):
            try:
                parser.feed(data)
            except etree.XMLSyntaxError as error:
                yield from parser.read_events()
                raise error
            yield from parser.read_events()
            self.fed += len(data)
            if self.after_chunk is not None:
                self.after_chunk()
        try:
            self.root = parser.close()
        except etree.XMLSyntaxError as error:
            yield from ((event, element) for event, element in parser.read_events() if event == "start")
            raise error
        yield from parser.read_events()


class QueuedStream:
    """A byte stream that gives back what was pushed onto it before the rest of the underlying stream.

    The reader's text path reads the file itself; when it hands over to lxml, what it read and did
    not use goes here first, and an error met while reading is raised where the bytes run out.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        #: bytes, or a number of line breaks still to give as comments (made as they are read, so
        #: the lines of a whole file read as text do not sit here at once)
        self._queue: collections.deque[bytes | int] = collections.deque()
        self._error: BaseException | None = None

    def push(self, data: bytes) -> None:
        if data:
            self._queue.append(data)

    def push_line_breaks(self, count: int) -> int:
        """Give ``count`` line breaks, as comments of at most ``_COMMENT_LINES`` each, before what follows;
        the number of bytes they will take."""
        if count <= 0:
            return 0
        self._queue.append(count)
        return count + len(_COMMENT_OPEN + _COMMENT_CLOSE) * -(-count // _COMMENT_LINES)

    def fail_after_pushed(self, error: BaseException) -> None:
        self._error = error

    def read(self, size: int = -1) -> bytes:
        if self._queue:
            data = self._queue.popleft()
            if isinstance(data, int):
                piece = min(data, _COMMENT_LINES)
                if data > piece:
                    self._queue.appendleft(data - piece)
                return _COMMENT_OPEN + b"\n" * piece + _COMMENT_CLOSE
            return data
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._stream.read(size)


def syntax_message(error: etree.XMLSyntaxError) -> str:
    """The parser's reason, without its own ", line N, column M" and on one line (libxml2 2.13 added a newline)."""
    message = re.sub(r",\s*line \d+, column \d+\s*$", "", error.msg or str(error))
    return " ".join(message.split())


class NaaccrReader:
    """Iterate the patients of a NAACCR XML file (``.xml`` or ``.xml.gz``), checking as it goes.

    ``dictionaries`` is a directory of installed dictionaries, a mapping of URI or
    version to a path/:class:`Dictionary`, or a :class:`DictionaryStore`; the base
    dictionary is the one the file's ``baseDictionaryUri`` names.  Every supplied
    user dictionary applies, whatever ``userDictionaryUri`` says, because the caller
    chose them.  ``renamed_items`` maps old naaccrIds to current ones (see
    :func:`~registry.naaccr.dictionary.load_renamed_items`) for files written with
    ids a dictionary later renamed; the new id is used only when the old one is unknown.  With ``strict_namespaces=False`` (the
    relaxed reading the NAACCR XML rules allow a reader) a file without the NAACCR namespace, and
    attributes of its own on NaaccrData without a namespace, are read without complaint (as older
    tools wrote them).  A record that holds more than ``max_items`` child elements or
    ``max_record_bytes`` is not read further and comes with one problem (``too-big``); an item
    repeated in one element is reported once; at most ``max_problems`` problems are listed per
    record, and one more says how many were left out.
    """

    def __init__(self, source: Source, dictionaries: DictionarySource,
                 user_dictionaries: Iterable[PathLike | Dictionary] = (), *,
                 strict_namespaces: bool = True, check_values: bool = True,
                 renamed_items: Mapping[str, str] | None = None, max_items: int = MAX_ITEMS_PER_RECORD,
                 max_record_bytes: int = MAX_RECORD_BYTES, max_problems: int = MAX_PROBLEMS_PER_RECORD) -> None:
        self._renamed = dict(renamed_items or {})
        self._max_items, self._max_record_bytes, self._max_problems = max_items, max_record_bytes, max_problems
        self._store = DictionaryStore.coerce(dictionaries)
        self._user = [as_dictionary(entry) for entry in user_dictionaries]
        self._strict = strict_namespaces
        self._check_values = check_values
        self._owns = isinstance(source, (str, os.PathLike))
        self._source_name = os.fspath(source) if self._owns else getattr(source, "name", "<stream>")
        self._file = open(os.fspath(source), "rb") if self._owns else source
        self._raw = open_source(self._file)
        # Python sees only the root, Patient and Tumor elements as they open and close; everything
        # inside a finished Patient is then walked once (see _advance), which is much cheaper than
        # an event per Item.
        self._stream = QueuedStream(self._raw)
        self._events = ElementEvents(self._stream, _EVENT_TAGS)
        self._events.after_chunk = self._guard_record
        self.problems: list[Problem] = []
        self._repeated = set()
        self.lookup: ItemLookup | None = None
        self._data: NaaccrData | None = None
        self._root: etree._Element | None = None
        self._ns: str | None = None
        self._pending: list[Patient] = []
        self._done = False
        self.patient_count = 0
        self.tumor_count = 0
        #: raw naaccrId -> (ItemDef, its number as text, its value check); only ids the dictionaries
        #: know, so their Items skip the id checks.
        self._known: dict[str, tuple[ItemDef, str, Callable[[str], str | None]]] = {}
        #: per level, naaccrId -> (longest valid value, a full match of valid values or None for any, the id):
        #: the shortcut for the plain Items (known, at their own level) that make up nearly all of a file.
        self._plain: dict[str | None, dict[str, tuple[float, Callable[[str], Any] | None, str]]] = {}

    def __enter__(self) -> "NaaccrReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if isinstance(self._raw, gzip.GzipFile):
            self._raw.close()
        if self._owns:
            self._file.close()

    @property
    def data(self) -> NaaccrData:
        """Root attributes and NaaccrData-level items (complete once the first patient is read)."""
        while self._data is None or (not self._pending and not self._done and self._before_patients):
            if not self._advance():
                break
        if self._data is None:
            raise NaaccrReadError(Problem("the file has no NaaccrData element", code="structure"))
        return self._data

    def __iter__(self) -> Iterator[Patient]:
        while True:
            if self._pending:
                yield self._pending.pop(0)
                continue
            if self._done or not self._advance():
                return

    def _problem(self, message: str, element: etree._Element | None = None, *, code: str = "error",
                 naaccr_id: str | None = None, line: int | None = None) -> None:
        problem = Problem(message, line if line is not None else (element.sourceline if element is not None else None),
                          self._patient.index if self._patient else None,
                          self._tumor.index if self._tumor else None, naaccr_id, code)
        target = self._tumor or self._patient
        listed = self._record_problems if target is not None else len(self.problems)
        if listed >= self._max_problems:
            if target is not None:
                self._record_unlisted += 1
            else:
                self._file_unlisted += 1
            return
        if target is not None:
            self._record_problems += 1
        (target.problems if target is not None else self.problems).append(problem)

    def _list_unlisted_file_problems(self) -> None:
        """The line that says how many problems outside any record were left out (once the file ends)."""
        if self._file_unlisted:
            self.problems.append(Problem(f"{self._file_unlisted} more problems outside the records are not listed "
                                         f"(at most {self._max_problems} are)", code="unlisted"))
            self._file_unlisted = 0

    def _guard_outside_records(self) -> None:
        """Between records nothing is delivered, so a flood there (Items under NaaccrData, a stray element's
        contents) ends the reading: a real file holds a few dozen elements and bytes outside its Patients."""
        root = self._root
        if root is None:
            return
        if len(root) > self._max_items or self._events.fed - self._settled_fed > self._max_record_bytes:
            self._done = True
            raise NaaccrReadError(Problem(f"NaaccrData holds more than {self._max_items} elements or "
                                          f"{self._max_record_bytes // 2**20} MB outside any Patient; the file is not "
                                          "read further", code="too-big"))

    def _guard_record(self) -> None:
        """After each chunk parsed: refuse the open record once it holds too much, and drop what it holds.

        Counted as the chunks arrive (lxml builds a whole Patient before its end event), so a record of
        millions of Items never gets built: its finished children are deleted as they come, and it is
        delivered with one problem.
        """
        patient = self._open_patient
        if patient is None:
            self._guard_outside_records()
            return
        if self._overflow is None or self._overflow[0] is not patient:
            tumor = self._open_tumor
            held = self._closed_tumor_children + len(patient) + (len(tumor) if tumor is not None else 0)
            size = self._events.fed - self._patient_fed
            if held > self._max_items:
                reason = (f"the record holds more than {self._max_items} elements (Items, Tumors and extensions, "
                          "its Tumors' included)")
            elif size > self._max_record_bytes:
                reason = f"the record is larger than {self._max_record_bytes // 2**20} MB"
            else:
                return
            self._overflow = (patient, f"{reason}; it was not read further and is rejected whole")
        node = patient
        while len(node):  # finished children go; the last one may still be open, so it stays
            del node[:-1]
            node = node[-1]

    # The parse loop: one call handles events until a patient is complete (or the file ends).
    _patient: Patient | None = None
    _tumor: Tumor | None = None
    _before_patients = True
    _skip_depth = 0
    _depth = 0
    _open_patient: etree._Element | None = None
    _open_tumor: etree._Element | None = None
    _replayed: etree._Element | None = None
    _stray_tails: list[etree._Element] | None = None
    _overflow: tuple[etree._Element, str] | None = None
    _patient_fed = 0
    _settled_fed = 0
    _closed_tumor_children = 0
    _record_problems = 0
    _record_unlisted = 0
    _file_unlisted = 0
    _repeated: set[tuple[int, str]]
    _patient_tag = _tumor_tag = "\0"
    _in_item = False
    _item_tag = "\0"
    _stage: list[int]

    # The text path (see text_records): plain records read from the decoded text, the rest by lxml.
    _text: bool | None = None
    _buf = ""
    _pos = 0
    _line = 1
    _lxml_line = 1
    _text_rules: dict[str, dict[str, Rule]]
    _text_record_limit = 0
    _decoder: codecs.IncrementalDecoder

    def _advance(self) -> bool:
        if self._text is None:
            self._text = self._begin_text()
        while self._text:
            if self._text_record():
                return True
        return self._advance_lxml()

    def _begin_text(self) -> bool:
        """Read up to the first ``<Patient`` and decide whether records can be read as text.

        Only when everything before holds nothing but the XML declaration (UTF-8), the NaaccrData
        start tag with the NAACCR namespace as default and NaaccrData Items: then the first
        ``<Patient`` of the text is the first Patient, and lxml parses that head as usual.
        Otherwise every byte read goes back to lxml, which reads the whole file.
        """
        chunks, text, found = [], "", -1
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while (found := text.find("<Patient")) < 0 and len(text) <= self._max_record_bytes:
                chunks.append(data := self._raw.read(_TEXT_CHUNK))
                text += self._decoder.decode(data, final=not data)
                if not data:
                    break
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            found = -1
            if not isinstance(exc, UnicodeDecodeError):
                self._stream.fail_after_pushed(exc)
        head = text[:found] if found >= 0 else ""
        probe = self._probe_head(head) if found >= 0 else None
        if probe is None:
            for chunk in chunks:
                self._stream.push(chunk)
            return False
        for event, element in self._events.feed(head.encode()):
            if event == "start" and element.getparent() is None:
                self._start(element)
        self._buf, self._pos = text, found
        self._line = self._lxml_line = 1 + head.count("\n")
        root, lookup, data = self._root, self.lookup, self._data
        if root is None or lookup is None or data is None or len(root) != len(probe):
            self._to_lxml(found)
            return False
        for child in probe:
            self._replay(child)
        self._replayed = root[-1] if len(root) else None
        record_type = data.record_type
        self._text_record_limit = min(_TEXT_RECORD_CHARS, self._max_record_bytes // 4)
        self._text_rules = {"Patient": {}, "Tumor": {}}
        for item in lookup.items.values():
            if item.parent in self._text_rules and (record_type not in RECORD_TYPES
                                                    or record_type in item.record_types):
                limit, match = plain_rule(item, self._check_values)
                check = value_checker(item) if self._check_values else _no_reason
                self._text_rules[item.parent][item.naaccr_id] = (limit, match, check)
        return True

    def _probe_head(self, head: str) -> etree._Element | None:
        """The NaaccrData element of the file's head, parsed apart, when records after it may be read as text."""
        if not HEAD.fullmatch(head):
            return None
        declared = DECLARED_ENCODING.match(head.lstrip("\ufeff"))
        if declared and declared.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
            return None
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                                 remove_pis=True)
        try:
            root = etree.fromstring((head + "</NaaccrData>").encode(), parser)
        except etree.XMLSyntaxError:
            return None
        item_tag = f"{{{NAACCR_NS}}}Item"
        if (root.tag != f"{{{NAACCR_NS}}}NaaccrData" or root.nsmap.get(None) != NAACCR_NS
                or any(child.tag != item_tag for child in root)):
            return None
        return root

    def _text_record(self) -> bool:
        """Read the next record as text; False once the rest of the file is handed to lxml."""
        buf, pos = self._buf, self._pos
        while True:
            start = _SPACE.match(buf, pos).end()  # type: ignore[union-attr]
            gap = buf[pos:start]
            if "\r" in gap and gap.count("\r") != gap.count("\r\n"):
                return self._to_lxml(pos)
            if start < len(buf) and not buf.startswith(PATIENT_START[:len(buf) - start], start):
                return self._to_lxml(start)  # not a Patient: the end of the file, or a record lxml reads
            end = buf.find(PATIENT_END, start) if buf.startswith(PATIENT_START, start) else -1
            after = _SPACE.match(buf, end + len(PATIENT_END)).end() if end >= 0 else 0  # type: ignore[union-attr]
            if end < 0 or after == len(buf):  # the record, or the space after it, goes on in the next chunk
                if len(buf) - start > self._text_record_limit:
                    return self._to_lxml(start)  # a record this big is lxml's, whose guard limits it as it is built
                self._line += buf.count("\n", pos, start)
                self._buf, self._pos = buf[start:], 0
                if not self._read_text():
                    return False
                buf, pos = self._buf, 0
                continue
            line = self._line + buf.count("\n", pos, start)
            record = buf[start:end + len(PATIENT_END)]
            # text after the record would be its tail in lxml's tree ("between elements"): lxml reads it
            read = None if buf[after] != "<" else read_record(record, line, self._text_rules, self._max_items,
                                                               self._text_record_limit)
            if read is None:
                self._line, self._pos = line, start
                return self._to_lxml(start)
            items, item_lines, tumors = read
            self.patient_count += 1
            patient = Patient(items=items, line=line, index=self.patient_count, item_lines=item_lines)  # type: ignore[arg-type]
            patient.tumors = [Tumor(items=tumor_items, line=tumor_line, index=index, item_lines=tumor_lines)  # type: ignore[arg-type]
                              for index, (tumor_items, tumor_line, tumor_lines) in enumerate(tumors, 1)]
            self.tumor_count += len(tumors)
            self._before_patients = False
            self._stage[-1] = 2
            self._line = line + record.count("\n")
            self._pos = end + len(PATIENT_END)
            self._pending.append(patient)
            return True

    def _read_text(self) -> bool:
        """Add the next chunk of the file to the text; False (and the rest to lxml) at its end or on a fault."""
        try:
            data = self._raw.read(_TEXT_CHUNK)
        except (OSError, EOFError) as exc:
            self._stream.fail_after_pushed(exc)
            return self._to_lxml(0)
        if not data:
            return self._to_lxml(0)
        try:
            self._buf += self._decoder.decode(data)
        except UnicodeDecodeError:
            return self._to_lxml(0, data)
        return True

    def _to_lxml(self, at: int, unread: bytes = b"") -> bool:
        """Hand lxml the rest of the file from ``self._buf[at:]`` (and ``unread`` bytes after it).

        The lines read as text reach lxml as comments (which it drops), so its line numbers stay the file's.
        """
        self._line += self._buf.count("\n", self._pos, at)
        self._settled_fed = self._events.fed + self._stream.push_line_breaks(self._line - self._lxml_line)
        rest, size = self._buf[at:].encode() + self._decoder.getstate()[0] + unread, ElementEvents.chunk_size
        for offset in range(0, len(rest), size):  # in lxml's own chunks, so its guards see a big record grow
            self._stream.push(rest[offset:offset + size])
        self._buf, self._pos, self._text = "", 0, False
        return False

    def _advance_lxml(self) -> bool:
        try:
            for event, element in self._events:
                parent = element.getparent()
                if self._root is None and parent is not None:
                    self._start(_top(element))  # the root is not NaaccrData: says so
                if parent is None:
                    if event == "start":
                        self._start(element)
                    else:
                        self._replay_root_children(None)
                        self._end(element)
                elif parent is not self._root:
                    if parent.getparent() is self._root:  # a Tumor (or stray) opening or closing in a Patient
                        self._open_tumor = element if event == "start" else None
                        if event == "end":
                            self._closed_tumor_children += len(element)
                elif event == "start":
                    self._open_patient = element if element.tag == self._patient_tag else None
                    self._patient_fed, self._closed_tumor_children = self._events.fed, 0
                else:
                    self._open_patient = self._open_tumor = None
                    self._settled_fed = self._events.fed
                    self._replay_root_children(element)
                    if self._pending:
                        return True
            if self._root is None and self._events.root is not None:
                self._start(self._events.root)  # the root is not NaaccrData: says so
        except etree.XMLSyntaxError as exc:
            self._done = True
            if self._root is None and self._events.root is not None:
                self._start(self._events.root)
            self._replay_finished_root_children()
            self._list_unlisted_file_problems()
            message = syntax_message(exc)
            patient, tumor = self._open_positions()
            raise NaaccrSyntaxError(Problem(f"the file is not well-formed XML: {message}", exc.lineno, patient, tumor,
                                            code="syntax")) from None
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            self._done = True
            raise NaaccrSyntaxError(Problem(f"the file cannot be read: {exc}", code="unreadable")) from None
        self._done = True
        self._list_unlisted_file_problems()
        return False

    def _open_positions(self) -> tuple[int | None, int | None]:
        """Patient and tumor positions of the Patient/Tumor left open where the file breaks off (counted as read)."""
        patient = self._open_patient
        if patient is None:
            return None, None
        self.patient_count += 1
        tumors = sum(1 for child in patient if child.tag == self._tumor_tag)
        self.tumor_count += tumors
        tumor = self._open_tumor
        return self.patient_count, tumors if tumor is not None and tumor.tag == self._tumor_tag else None

    def _replay_root_children(self, last: etree._Element | None) -> None:
        """Check the root's children not yet checked, up to ``last`` (all when None), in document order."""
        root = self._root
        if root is None:
            return
        children = list(root)
        start = children.index(self._replayed) + 1 if self._replayed is not None else 0
        for child in children[start:] if last is None else children[start:children.index(last) + 1]:
            if isinstance(child.tag, str):
                self._replay(child)
        self._replayed = last if last is not None else None

    def _replay_finished_root_children(self) -> None:
        """Where the file breaks off, check the root's children as far as they were read.

        The open Patient is left alone (its patient is never delivered). Any other last child
        without text after it is taken as unfinished: only its start is checked, and so on
        down its own last children (an element that closes right where the file breaks off
        is therefore taken as unfinished too).
        """
        root = self._root
        if root is None or not len(root):
            return
        children = list(root)
        start = children.index(self._replayed) + 1 if self._replayed is not None else 0
        if children[-1] is self._open_patient:
            children.pop()
        self._replay_open_chain(children[start:])

    def _replay_open_chain(self, children: list[etree._Element]) -> None:
        for child in children:
            if not isinstance(child.tag, str):
                continue
            if child is not children[-1] or child.tail is not None:
                self._replay(child)
                continue
            self._start(child)
            if not self._skip_depth:
                self._replay_open_chain(list(child))

    def _replay(self, element: etree._Element) -> None:
        """Feed one finished element and its descendants to _start/_end as iterparse events would.

        Plain Items (no child nodes) take a shortcut with the same effect as their two events.
        """
        self._start(element)
        if not self._skip_depth:
            item_tag = self._item_tag
            level = _LEVELS[self._depth - 1] if self._depth < 4 else None
            holder = self._tumor if level == "Tumor" else self._patient if level == "Patient" else self._data
            stage = self._stage
            plain = self._plain.setdefault(level, {})
            items = holder.items if holder is not None else {}
            lines = holder.item_lines if holder is not None else {}
            stray = []
            items_here = holder is not None and not self._in_item  # Items here are the holder's, not an Item's content
            in_order = not stage[-1]  # no child element yet that Items must come before
            for child in element:
                tail = child.tail
                if tail is not None and not tail.isspace():
                    stray.append(child)
                tag = child.tag
                if tag == item_tag and items_here and not len(child):
                    attributes = child.items()
                    if len(attributes) == 1 and in_order:
                        naaccr_id = attributes[0][1]
                        rule = plain.get(naaccr_id)
                        # a known item at its own level, said once, with a value of the right length and type
                        if rule is not None and attributes[0][0] == "naaccrId" and naaccr_id not in items:
                            value = child.text
                            if value is None or (len(value) <= rule[0]
                                                 and (rule[1] is None or rule[1](value))):
                                naaccr_id = rule[2]  # the dictionary's own string: one object for every record
                                items[naaccr_id] = value or ""
                                lines[naaccr_id] = child.sourceline
                                continue
                    if stage[-1]:
                        self._order(0, level, child)
                    self._item(child, level, holder)
                elif isinstance(tag, str):
                    self._replay(child)
                    in_order = not stage[-1]
            self._stray_tails = stray  # children with text after them, for _end's check
        self._end(element)

    def _kind(self, element: etree._Element) -> tuple[str, str | None]:
        """('naaccr', local name), ('extension', ns) or ('foreign', None) for an unqualified stray."""
        tag = element.tag
        if not isinstance(tag, str):
            return "other", None
        if tag[0] == "{":
            ns, local = tag[1:].split("}", 1)
        else:
            ns, local = None, tag
        if ns == self._ns:
            return "naaccr", local
        if ns is None or ns == NAACCR_NS:
            return "foreign", local
        return "extension", ns

    def _start(self, element: etree._Element) -> None:
        self._depth += 1
        if self._skip_depth:
            return
        if element.tag == self._item_tag and not self._in_item:
            self._in_item = True
            if self._stage[-1]:
                self._order(0, ("NaaccrData", "Patient", "Tumor")[self._depth - 2], element)
            return
        if self._root is None:
            self._open_root(element)
            return
        if self._in_item:
            self._problem("an Item may only contain text, not elements", element, code="structure",
                          naaccr_id=element.getparent().get("naaccrId"))
            self._skip_depth = self._depth
            return
        kind, name = self._kind(element)
        parent_level = ("NaaccrData", "Patient", "Tumor")[self._depth - 2]
        if kind == "naaccr" and name == {"NaaccrData": "Patient", "Patient": "Tumor"}.get(parent_level or ""):
            self._order(2, parent_level, element)
            if name == "Patient":
                self._before_patients = False
                self.patient_count += 1
                self._patient = Patient(line=element.sourceline, index=self.patient_count)
                self._record_problems = self._record_unlisted = 0
                self._repeated = set()
            else:
                assert self._patient is not None
                self.tumor_count += 1
                self._tumor = Tumor(line=element.sourceline, index=len(self._patient.tumors) + 1)
            self._stage.append(0)
            self._no_attributes(element, name)
            return
        if kind == "extension":
            self._order(1, parent_level, element)
        elif kind == "naaccr":
            self._problem(f"unexpected element {name} inside {parent_level}", element, code="structure")
        elif name in ("Item", "Patient", "Tumor", "NaaccrData"):
            self._problem(f"element {name} is not in the NAACCR namespace {NAACCR_NS}", element, code="namespace")
        else:
            self._problem(f"element {name} inside {parent_level} is not in a namespace; extension elements "
                          "need their own namespace", element, code="namespace")
        self._skip_depth = self._depth

    def _order(self, stage: int, level: str | None, element: etree._Element) -> None:
        """Enforce the XSD sequence Item*, extensions*, child elements*."""
        current = self._stage[-1]
        if stage < current:
            what = ("Item", "an extension element", "a child element")[stage]
            after = ("Items", "extension elements", "Patient" if level == "NaaccrData" else "Tumor")[current]
            self._problem(f"{what} in {level} must come before {after}", element, code="structure")
        else:
            self._stage[-1] = stage

    def _no_attributes(self, element: etree._Element, name: str) -> None:
        for attribute in element.attrib:
            self._problem(f"{name} may not have attributes (found {attribute})", element, code="structure")

    def _open_root(self, element: etree._Element) -> None:
        self._root = element
        tag = element.tag if isinstance(element.tag, str) else ""
        ns, local = (tag[1:].split("}", 1) if tag.startswith("{") else (None, tag))
        if local != "NaaccrData":
            raise NaaccrReadError(Problem(f"the root element must be NaaccrData, not {local}", element.sourceline,
                                          code="structure"))
        self._ns = ns
        self._item_tag, self._patient_tag, self._tumor_tag = (f"{{{ns}}}{name}" if ns else name
                                                              for name in ("Item", "Patient", "Tumor"))
        if ns is None and self._strict:
            self._problem(f"NaaccrData must be in the NAACCR namespace (xmlns=\"{NAACCR_NS}\")", element,
                          code="namespace")
        elif ns not in (None, NAACCR_NS):
            raise NaaccrReadError(Problem(f"NaaccrData is in namespace {ns}, not {NAACCR_NS}", element.sourceline,
                                          code="namespace"))
        self._stage = [0]
        data = NaaccrData(line=element.sourceline, namespaces=dict(element.nsmap))
        attrs = element.attrib
        for name, value in attrs.items():
            if name in _ROOT_ATTRIBUTES:
                continue
            if (name.startswith("{") and not name.startswith("{" + NAACCR_NS + "}")) or not self._strict:
                data.extra_attributes[name] = value
            else:
                self._problem(f"attribute {name} is not allowed on NaaccrData (own attributes need their own "
                              f"namespace)", element, code="structure")
        data.base_dictionary_uri = attrs.get("baseDictionaryUri")
        data.user_dictionary_uris = (attrs.get("userDictionaryUri") or "").split()
        data.record_type = attrs.get("recordType")
        data.specification_version = attrs.get("specificationVersion")
        data.time_generated = attrs.get("timeGenerated")
        for required in ("baseDictionaryUri", "recordType", "specificationVersion"):
            if not attrs.get(required):
                self._problem(f"required attribute {required} is missing on NaaccrData", element, code="structure")
        if data.record_type and data.record_type not in RECORD_TYPES:
            self._problem(f"recordType must be A, M, C or I, not {data.record_type!r}", element, code="structure")
        if len(data.user_dictionary_uris) > 1 and _before_1_2(data.specification_version):
            self._problem(f"userDictionaryUri names {len(data.user_dictionary_uris)} user dictionaries, but "
                          f"specificationVersion {data.specification_version} allows one (several need 1.2 or later)",
                          element, code="structure")
        if data.time_generated is not None and not _DATE_TIME.match(data.time_generated):
            self._problem(f"timeGenerated {data.time_generated!r} is not a valid date and time "
                          "(e.g. 2025-01-31T09:12:41-04:00)", element, code="structure")
        self._data = data
        if not data.base_dictionary_uri:
            raise NaaccrReadError(Problem("cannot check items: NaaccrData has no baseDictionaryUri",
                                          element.sourceline, code="dictionary"))
        base = self._store.get(data.base_dictionary_uri)
        if base is None:
            raise NaaccrReadError(Problem(f"base dictionary {data.base_dictionary_uri} is not installed",
                                          element.sourceline, code="dictionary"))
        try:
            self.lookup = ItemLookup(base, self._user)
        except DictionaryError as exc:
            raise NaaccrReadError(Problem(str(exc), element.sourceline, code="dictionary")) from None

    def _end(self, element: etree._Element) -> None:
        depth = self._depth
        self._depth -= 1
        if element.tag == self._item_tag and not self._skip_depth:
            self._in_item = False
            level = _LEVELS[depth - 2]
            holder = self._tumor if level == "Tumor" else self._patient if level == "Patient" else self._data
            if holder is not None:
                self._item(element, level, holder)
            return
        if self._skip_depth:
            if depth == self._skip_depth:
                self._skip_depth = 0
                kind, _ = self._kind(element)
                if kind == "extension":
                    holder = self._tumor or self._patient or self._data
                    tail, element.tail = element.tail, None
                    holder.extensions.append(etree.tostring(element))
                    element.tail = tail
                element.clear(keep_tail=True)
            return
        kind, name = self._kind(element)
        if kind != "naaccr":
            return
        if name == "Tumor" and self._tumor is not None and depth == 3:
            self._text_only_whitespace(element, "Tumor")
            self._patient.tumors.append(self._tumor)  # type: ignore[union-attr]
            self._tumor = None
            self._stage.pop()
            element.clear(keep_tail=True)
        elif name == "Patient" and self._patient is not None and depth == 2:
            self._text_only_whitespace(element, "Patient")
            patient, self._patient = self._patient, None
            self._stage.pop()
            if self._overflow is not None and self._overflow[0] is element:
                patient = Patient(line=patient.line, index=patient.index, problems=[Problem(
                    self._overflow[1], patient.line, patient.index, code="too-big")])
                self._overflow = None
            elif self._record_unlisted:
                patient.problems.append(Problem(f"{self._record_unlisted} more problems in this record are not "
                                                f"listed (at most {self._max_problems} are)", patient.line,
                                                patient.index, code="unlisted"))
            element.clear(keep_tail=True)
            self._release_siblings(element)
            self._pending.append(patient)
        elif depth == 1:
            self._text_only_whitespace(element, "NaaccrData")
            self._release_siblings(None)

    def _release_siblings(self, element: etree._Element | None) -> None:
        """Drop finished elements that precede ``element`` (all of them when None) to keep memory flat."""
        root = self._root
        assert root is not None
        while len(root) and root[0] is not element:
            tail = root[0].tail
            if tail and tail.strip():
                self._problem("text is not allowed between elements of NaaccrData", root, code="structure")
            del root[0]

    def _text_only_whitespace(self, element: etree._Element, name: str) -> None:
        if element.text and element.text.strip():
            self._problem(f"text is not allowed directly inside {name}", element, code="structure")
        if name == "NaaccrData":
            return
        stray, self._stray_tails = self._stray_tails, None
        for child in element if stray is None else stray:
            if child.tail and child.tail.strip():
                self._problem(f"text is not allowed between elements of {name}", child, code="structure")

    def _item(self, element: etree._Element, level: str, holder: Any) -> None:
        attributes = element.items()
        if len(attributes) == 1 and attributes[0][0] == "naaccrId":
            naaccr_id: str | None = attributes[0][1]
            num = None
        else:
            naaccr_id = element.get("naaccrId")
            num = element.get("naaccrNum")
            for attribute, _ in attributes:
                if attribute not in ("naaccrId", "naaccrNum"):
                    self._problem(f"attribute {attribute} is not allowed on Item", element, code="structure",
                                  naaccr_id=naaccr_id)
        value = element.text or ""
        if len(element) and self._unread_entity(element, naaccr_id):
            return
        known = self._known.get(naaccr_id) if naaccr_id is not None else None
        if known is None:
            self._unusual_item(element, level, holder, naaccr_id, num, value)
            return
        items = holder.items
        if naaccr_id in items:
            self._repeat(element, level, holder, naaccr_id)
            return
        items[naaccr_id] = value
        holder.item_lines[naaccr_id] = element.sourceline
        item, number, check = known
        if num is not None and num != number:
            num = self._number(num, element, naaccr_id)
        self._defined_item(element, level, naaccr_id, item, num, value, check)

    def _repeat(self, element: etree._Element, level: str, holder: Any, naaccr_id: str) -> None:
        """A repeated item is reported at its first repeat only: a million repeats are one problem, not a million."""
        key = (id(holder), naaccr_id)
        if key in self._repeated:
            return
        self._repeated.add(key)
        self._problem(f"item {naaccr_id} appears more than once in this {level}", element, code="duplicate",
                      naaccr_id=naaccr_id)

    def _unread_entity(self, element: etree._Element, naaccr_id: str | None) -> bool:
        """An entity reference is never resolved (external ones could read files), so the Item's text misses it:
        its value cannot be read, and taking the rest as the value would blank or shorten a stored one."""
        entities = [child.text for child in element if child.tag is etree.Entity]
        if entities:
            self._problem(f"the value holds the entity reference {', '.join(entities)}, which is never resolved, "
                          "so it cannot be read", element, code="entity", naaccr_id=naaccr_id)
        return bool(entities)

    def _defined_item(self, element: etree._Element, level: str, naaccr_id: str, item: ItemDef, num: str | None,
                      value: str, check: Callable[[str], str | None]) -> None:
        """The checks of an item the dictionaries define: level, naaccrNum agreement, length and data type."""
        if item.parent != level:
            self._problem(f"item {naaccr_id} belongs in {item.parent}, not in {level}", element, code="level",
                          naaccr_id=naaccr_id)
        if num is not None and int(num) != item.naaccr_num:
            self._problem(f"naaccrNum {int(num)} does not match item {naaccr_id}, which is number {item.naaccr_num}",
                          element, code="number", naaccr_id=naaccr_id)
        if self._check_values and value:
            reason = check(value)
            if reason:
                self._problem(reason, element, code="too-long" if "too long" in reason else "data-type",
                              naaccr_id=naaccr_id)

    def _number(self, num: str, element: etree._Element, naaccr_id: str) -> str | None:
        if _INTEGER.match(num):
            return num
        self._problem(f"naaccrNum {num!r} is not a number", element, code="structure", naaccr_id=naaccr_id)
        return None

    def _unusual_item(self, element: etree._Element, level: str, holder: Any, naaccr_id: str | None,
                      num: str | None, value: str) -> None:
        """An item whose naaccrId is not (yet) in the cache: missing, invalid, renamed, unknown or first seen."""
        lookup = self.lookup
        assert lookup is not None
        raw = naaccr_id
        if naaccr_id is not None and naaccr_id in self._renamed and naaccr_id not in lookup:
            naaccr_id = self._renamed[naaccr_id]
        if naaccr_id is None or not _NCNAME.match(naaccr_id):
            self._problem("Item has no valid naaccrId attribute" if naaccr_id is None
                          else f"naaccrId {naaccr_id!r} is not a valid identifier", element, code="structure")
            return
        item = lookup.get(naaccr_id)
        record_type = self._data.record_type if self._data is not None else None
        allowed = item is None or record_type not in RECORD_TYPES or record_type in item.record_types
        if item is not None and raw == naaccr_id and allowed:
            self._known[naaccr_id] = (item, str(item.naaccr_num), value_checker(item))
            self._plain.setdefault(item.parent, {})[naaccr_id] = (*plain_rule(item, self._check_values),
                                                                 item.naaccr_id)
        if naaccr_id in holder.items:
            self._repeat(element, level, holder, naaccr_id)
            return
        holder.items[naaccr_id] = value
        holder.item_lines[naaccr_id] = element.sourceline
        if num is not None:
            num = self._number(num, element, naaccr_id)
        if item is None:
            where = f"base dictionary {lookup.base.naaccr_version or lookup.base.uri}"
            where += " or the supplied user dictionaries" if lookup.user else " (no user dictionary supplied)"
            self._problem(f"unknown item {naaccr_id}: not defined in the {where}", element, code="unknown",
                          naaccr_id=naaccr_id)
            return
        if not allowed:
            self._problem(f"item {naaccr_id} is not allowed in a record type {record_type} file (its dictionary "
                          f"allows it in record types {','.join(sorted(item.record_types))})", element,
                          code="record-type", naaccr_id=naaccr_id)
        self._defined_item(element, level, naaccr_id, item, num, value, functools.partial(check_value, item))


def read_patients(source: Source, dictionaries: DictionarySource,
                  user_dictionaries: Iterable[PathLike | Dictionary] = (), **options: Any) -> Iterator[Patient]:
    """Convenience generator over :class:`NaaccrReader` that closes the file when done."""
    with NaaccrReader(source, dictionaries, user_dictionaries, **options) as reader:
        yield from reader


@dataclass(slots=True)
class ValidationReport:
    """Outcome of :func:`validate`: ``status`` is valid, invalid or unreadable (the CLI's 0/1/2)."""

    problems: list[Problem] = field(default_factory=list)
    patients: int = 0
    tumors: int = 0
    readable: bool = True
    truncated: bool = False
    data: NaaccrData | None = None

    @property
    def valid(self) -> bool:
        return self.readable and not self.problems

    @property
    def status(self) -> str:
        return "unreadable" if not self.readable else "valid" if not self.problems else "invalid"


def validate(source: Source, dictionaries: DictionarySource,
             user_dictionaries: Iterable[PathLike | Dictionary] = (), *, strict_namespaces: bool = True,
             max_problems: int | None = None, renamed_items: Mapping[str, str] | None = None) -> ValidationReport:
    """Check a whole file and list every problem (stopping only at the first XML syntax error).

    A file that cannot be opened, decompressed or parsed up to its root element is
    *unreadable*; anything else wrong makes it *invalid*.
    """
    report = ValidationReport()

    def add(problems: Iterable[Problem]) -> bool:
        for problem in problems:
            if max_problems is not None and len(report.problems) >= max_problems:
                report.truncated = True
                return False
            report.problems.append(problem)
        return True

    try:
        reader = NaaccrReader(source, dictionaries, user_dictionaries, strict_namespaces=strict_namespaces,
                              renamed_items=renamed_items)
    except OSError as exc:
        report.readable = False
        report.problems.append(Problem(f"the file cannot be opened: {exc}", code="unreadable"))
        return report
    with reader:
        try:
            for patient in reader:
                if not add(reader.problems) or not add(patient.all_problems):
                    break
                reader.problems.clear()
        except NaaccrError as exc:
            add(reader.problems)
            reader.problems.clear()
            if reader._root is None or exc.problem.code == "unreadable":
                report.readable = False
            add([exc.problem])
        add(reader.problems)
        report.patients = reader.patient_count
        report.tumors = reader.tumor_count
        report.data = reader._data
    return report
