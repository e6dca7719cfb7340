"""The reader's fast drivers decide exactly as the plain one: an event per element.

``NaaccrReader`` reads plain records from the text (``registry.naaccr.text_records``) and hands
everything else to lxml, which reports only the root, Patient and Tumor elements; each finished
Patient is then walked, taking a shortcut for plain Items. ``ElementReader`` below is that lxml
driver alone (no text path), and ``EventReader`` drives the very same checks
(``_start``/``_end``/``_item``) from a parse event for every element, the obvious and slow way;
all three must give the same patients, items, lines and problems, in the same order, for every
reference file and for generated broken files.

One thing is compared loosely: past line 65,535 libxml2 keeps an element's line only through the
text after it, so lxml's ``sourceline`` of an element followed by a line break is one too high
there; the text path counts the real line (``test_lines_past_65535_are_the_files``).
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from registry.naaccr import NaaccrReader
from registry.naaccr.reader import ElementEvents, NaaccrError, NaaccrSyntaxError, Problem, syntax_message

from .conftest import NAACCR_DIR


class EventReader(NaaccrReader):
    """The reference driver: every element's start and end goes through ``_start``/``_end``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._events = ElementEvents(self._raw, None)

    def _advance(self) -> bool:
        try:
            for event, element in self._events:
                if event == "start":
                    self._start(element)
                else:
                    self._end(element)
                    if self._pending:
                        return True
        except etree.XMLSyntaxError as exc:
            self._done = True
            raise NaaccrSyntaxError(Problem(f"the file is not well-formed XML: {syntax_message(exc)}", exc.lineno,
                                            self._patient.index if self._patient else None,
                                            self._tumor.index if self._tumor else None, code="syntax")) from None
        self._done = True
        return False


class ElementReader(NaaccrReader):
    """The lxml driver alone: every record read from lxml's elements, none from the text."""

    def _begin_text(self) -> bool:
        return False


LXML_LINE_LIMIT = 65535


def _line(line):
    """A line as compared between drivers: past 65,535 lxml's element lines may be one too high."""
    return line if line is None or line < LXML_LINE_LIMIT else "past 65535"


def _lines(item_lines) -> dict:
    return {naaccr_id: _line(line) for naaccr_id, line in item_lines.items()}


def _problems(problems: list[Problem]) -> list[tuple]:
    return [(p.message, _line(p.line), p.patient, p.tumor, p.naaccr_id, p.code) for p in problems]


def outcome(reader_class: type, path, store, **options) -> list:
    """Everything a reader reports, in the order it reports it."""
    seen: list = []
    reader = reader_class(path, store, **options)
    with reader:
        try:
            for patient in reader:
                seen.append(("file", _problems(reader.problems)))
                reader.problems.clear()
                seen.append(("patient", patient.index, _line(patient.line), patient.items,
                             _lines(patient.item_lines), patient.extensions, _problems(patient.problems)))
                seen += [("tumor", t.index, _line(t.line), t.items, _lines(t.item_lines), t.extensions,
                          _problems(t.problems))
                         for t in patient.tumors]
        except NaaccrError as exc:
            seen.append(("error", type(exc).__name__, _problems([exc.problem])))
        seen.append(("end", _problems(reader.problems), reader.patient_count, reader.tumor_count,
                     reader._data.items if reader._data else None))
    return seen


REFERENCE_FILES = sorted(path for folder in ("validity", "reader-cases", "samples")
                         for path in (NAACCR_DIR / folder).rglob("*") if path.suffix in (".xml", ".gz"))


def test_there_are_reference_files():
    assert len(REFERENCE_FILES) > 50


@pytest.mark.parametrize("path", REFERENCE_FILES, ids=lambda p: str(p.relative_to(NAACCR_DIR)))
def test_reference_files_read_the_same(path, store):
    reference = outcome(EventReader, path, store)
    assert outcome(NaaccrReader, path, store) == reference
    assert outcome(ElementReader, path, store) == reference


HEAD = ('<?xml version="1.0"?>\n<NaaccrData xmlns="http://naaccr.org/naaccrxml" xmlns:x="urn:x" '
        'baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml" recordType="A" '
        'specificationVersion="1.8">\n')
ITEMS = [("patientIdNumber", "00001234"), ("nameLast", "SMITH"), ("dateOfBirth", "19500230"), ("sex", "1"),
         ("primarySite", "C509"), ("dateOfDiagnosis", "20230115"), ("histologicTypeIcdO3", "85A0"),
         ("recordType", "A"), ("unknownThing", "1"), ("addrAtDxCity", "X" * 60), ("sequenceNumberCentral", "00")]
PIECES = st.one_of(
    st.sampled_from(ITEMS).map(lambda kv: f'<Item naaccrId="{kv[0]}">{kv[1]}</Item>'),
    st.sampled_from(ITEMS).map(lambda kv: f'<Item naaccrId="{kv[0]}"/>'),
    st.sampled_from(ITEMS).map(lambda kv: f'<Item naaccrId="{kv[0]}" naaccrNum="20">{kv[1]}</Item>'),
    st.sampled_from(['<Item naaccrId="primarySite">C5<x:e/>0</Item>', '<Item>1</Item>', '<Item naaccrId="9a">1</Item>',
                     '<Item naaccrId="sex" extra="1">2</Item>', '<x:ext a="1"><Item naaccrId="sex">1</Item></x:ext>',
                     '<Other/>', '<y xmlns="">1</y>', 'stray text', '\n', '<!-- note -->', '<?pi x?>',
                     '<Patient/>', '<Tumor/>', '<NaaccrData/>', '<Item naaccrId="nameLast">A&amp;B</Item>',
                     '<Tumor a="1"></Tumor>', '<Patient><Patient/></Patient>', '<Item naaccrId="x"><Item/></Item>']),
)


def _element(name: str, children: list[str]) -> str:
    return f"<{name}>" + "".join(children) + f"</{name}>"


TUMORS = st.lists(PIECES, max_size=6).map(lambda c: _element("Tumor", c))
PATIENTS = st.lists(st.one_of(PIECES, TUMORS), max_size=6).map(lambda c: _element("Patient", c))
DOCUMENTS = st.lists(st.one_of(PIECES, PATIENTS, PATIENTS), max_size=6).map(lambda c: HEAD + "\n".join(c)
                                                                               + "\n</NaaccrData>\n")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=DOCUMENTS, cut=st.one_of(st.none(), st.floats(min_value=0, max_value=1)))
def test_generated_files_read_the_same(document, cut, store, tmp_path):
    """Well-formed files with every kind of structural fault, and the same cut short (a syntax error)."""
    path = tmp_path / "generated.xml"
    end = len(document) if cut is None else len(HEAD) + int(cut * (len(document) - len(HEAD)))
    path.write_text(document[:end], encoding="utf-8")
    text, fast, plain = (outcome(reader, path, store) for reader in (NaaccrReader, ElementReader, EventReader))
    if cut is not None and document[:end].endswith(">"):
        # The one documented difference: an element that closes exactly where the file breaks off
        # is taken as unfinished, so only its start is checked. Everything else must agree.
        text, fast, plain = (found[:-1] + [found[-1][2:4]] for found in (text, fast, plain))
    assert fast == plain
    assert text == plain
