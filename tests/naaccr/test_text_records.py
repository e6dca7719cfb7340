"""Plain records are read from the text, and anything else hands the rest of the file to lxml.

The differential tests (test_reader_differential.py) prove the text path reads every reference and
generated file as the element-per-event driver does; these pin down *when* it is used, that lines
stay the file's across the hand-over, and the positions it works out on demand.
"""
from __future__ import annotations

import gzip
import io
import pickle
import tracemalloc

import pytest

from registry.naaccr import NaaccrReader, read_patients, validate
from registry.naaccr.reader import _COMMENT_LINES, QueuedStream
from registry.naaccr.text_records import ItemLines

from .test_reader_differential import EventReader, outcome

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<NaaccrData xmlns="http://naaccr.org/naaccrxml"\n'
        '    baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml" recordType="A"\n'
        '    specificationVersion="1.8">\n  <Item naaccrId="registryId">0000001234</Item>\n')


def _patient(n: int, site: str = "C509", extra: str = "") -> str:
    return (f'  <Patient>\n    <Item naaccrId="patientIdNumber">{n:08d}</Item>\n'
            f'    <Item naaccrId="nameLast">O&apos;Brien &amp; Sons</Item>\n{extra}'
            f'    <Tumor>\n      <Item naaccrId="primarySite">{site}</Item>\n'
            '      <Item naaccrId="dateOfDiagnosis">20240229</Item>\n    </Tumor>\n  </Patient>\n')


def _from_text(patient) -> bool:
    return isinstance(patient.item_lines, ItemLines)


def _read(path, store):
    with NaaccrReader(path, store) as reader:
        return [(p, _from_text(p)) for p in reader], reader


def test_plain_records_are_read_from_the_text_with_their_positions(store, tmp_path):
    path = tmp_path / "plain.xml"
    path.write_text(HEAD + "".join(_patient(n) for n in range(3)) + "</NaaccrData>\n", encoding="utf-8")
    patients, reader = _read(path, store)
    assert [text for _, text in patients] == [True, True, True]
    first = patients[0][0]
    assert first.items == {"patientIdNumber": "00000000", "nameLast": "O'Brien & Sons"}
    assert (first.line, first.tumors[0].line) == (6, 9)
    assert dict(first.item_lines) == {"patientIdNumber": 7, "nameLast": 8}
    assert dict(first.tumors[0].item_lines) == {"primarySite": 10, "dateOfDiagnosis": 11}
    assert patients[2][0].line == 6 + 2 * 8
    assert reader.data.items == {"registryId": "0000001234"} and reader.data.item_lines == {"registryId": 5}
    assert (reader.patient_count, reader.tumor_count) == (3, 3)
    assert outcome(NaaccrReader, path, store) == outcome(EventReader, path, store)


def test_a_record_with_a_problem_hands_the_rest_to_lxml_with_the_files_lines(store, tmp_path):
    path = tmp_path / "mixed.xml"
    body = [_patient(0), _patient(1, site="C5099"), _patient(2), _patient(3, extra='    <Item naaccrId="sex">1</Item>\n')]
    path.write_text(HEAD + "".join(body) + "</NaaccrData>\n", encoding="utf-8")
    patients, _ = _read(path, store)
    assert [text for _, text in patients] == [True, False, False, False]
    bad = patients[1][0].tumors[0]
    assert [(p.line, p.patient, p.tumor, p.naaccr_id) for p in bad.problems] == [(18, 2, 1, "primarySite")]
    assert patients[3][0].item_lines["sex"] == 6 + 3 * 8 + 3
    assert outcome(NaaccrReader, path, store) == outcome(EventReader, path, store)


@pytest.mark.parametrize("head, why", [
    (HEAD.replace("UTF-8", "ISO-8859-1"), "another encoding"),
    (HEAD.replace("<NaaccrData", "<!-- <Patient> -->\n<NaaccrData"), "a comment"),
    (HEAD.replace('xmlns="http://naaccr.org/naaccrxml"', 'xmlns:n="http://naaccr.org/naaccrxml"')
     .replace("<NaaccrData", "<n:NaaccrData").replace("<Item", "<n:Item").replace("</Item", "</n:Item"), "a prefix"),
])
def test_files_the_text_path_cannot_vouch_for_are_read_by_lxml(store, tmp_path, head, why):
    path = tmp_path / "other.xml"
    patient, closing = _patient(0), "</NaaccrData>\n"
    if "n:NaaccrData" in head:
        patient, closing = patient.replace("<", "<n:").replace("<n:/", "</n:"), "</n:NaaccrData>\n"
    path.write_bytes((head + patient + closing).encode("latin-1"))
    patients, _ = _read(path, store)
    assert [text for _, text in patients] == [False], why
    assert outcome(NaaccrReader, path, store) == outcome(EventReader, path, store)


def test_a_break_after_plain_records_is_placed_on_the_files_line(store, tmp_path):
    path = tmp_path / "cut.xml"
    path.write_text(HEAD + _patient(0) + _patient(1) + "  <Patient>\n    <Item naaccrId=\"sex\">1</Itm>\n",
                    encoding="utf-8")
    report = validate(path, store)
    assert report.status == "invalid" and report.patients == 3
    (problem,) = report.problems
    assert (problem.code, problem.line, problem.patient) == ("syntax", 23, 3)
    assert outcome(NaaccrReader, path, store) == outcome(EventReader, path, store)


def test_lines_past_65535_are_the_files(store, tmp_path):
    """libxml2 keeps lines past 65,535 only through text nodes; the text path counts them itself."""
    path = tmp_path / "long.xml.gz"
    records = "".join(_patient(n) for n in range(9000))  # 72,000 lines
    with gzip.open(path, "wt", encoding="utf-8", newline="\r\n") as out:
        out.write(HEAD + records + _patient(9000, site="C5099") + "</NaaccrData>\n")
    lines = gzip.open(path, "rt", encoding="utf-8").read().split("\n")
    patients, _ = _read(path, store)
    assert sum(text for _, text in patients) == 9000
    last_plain = patients[8999][0]
    assert last_plain.line > 65535 and lines[last_plain.line - 1].strip() == "<Patient>"
    assert lines[last_plain.tumors[0].line - 1].strip() == "<Tumor>"
    assert "00008999" in lines[last_plain.item_lines["patientIdNumber"] - 1]
    (problem,) = patients[9000][0].tumors[0].problems
    assert '"primarySite">C5099<' in lines[problem.line - 1]


def test_item_lines_pickle_as_a_plain_dict(store, tmp_path):
    path = tmp_path / "plain.xml"
    path.write_text(HEAD + _patient(0) + "</NaaccrData>\n", encoding="utf-8")
    (patient,) = read_patients(path, store)
    copied = pickle.loads(pickle.dumps(patient.tumors[0].item_lines))
    assert type(copied) is dict and copied == {"primarySite": 10, "dateOfDiagnosis": 11}


def test_line_breaks_for_lxml_are_made_as_it_reads_them():
    """A hand-over after millions of lines read as text holds a count, not the line breaks themselves."""
    stream = QueuedStream(io.BytesIO(b"</NaaccrData>"))
    tracemalloc.start()
    stream.push_line_breaks(10**9)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert held < 10_000
    stream = QueuedStream(io.BytesIO(b"</NaaccrData>"))
    assert stream.push_line_breaks(0) == 0
    promised = stream.push_line_breaks(2 * _COMMENT_LINES + 5)
    stream.push(b"<Patient>")
    pieces = [stream.read(), stream.read(), stream.read()]
    assert [piece.count(b"\n") for piece in pieces] == [_COMMENT_LINES, _COMMENT_LINES, 5]
    assert all(piece.startswith(b"<!--") and piece.endswith(b"-->") and len(piece) == piece.count(b"\n") + 7
               for piece in pieces)
    assert promised == sum(len(piece) for piece in pieces)
    assert (stream.read(), stream.read(100)) == (b"<Patient>", b"</NaaccrData>")
