"""A syntax error is placed by what the reader has seen, the same with every lxml/libxml2 it runs on.

lxml 6.2's ``iterparse`` drops the events still queued when libxml2 fails, so a reader driven by it
lost the open Patient/Tumor (and the root too when the break was in the first 32 KiB), and closing
a broken file makes up ``end`` events for what was left open. libxml2 2.13 also re-worded some
reasons (a NUL byte: "Invalid character: Char 0x0 out of allowed range" with a newline); lines and
the partial tree did not change. Each test id names the lxml and libxml2 it ran with.

Run on (tests/naaccr, each in a throwaway venv from requirements.lock):
lxml 6.2.0 / libxml2 2.14.6 (requirements.lock, the newest on the index): all pass;
lxml 6.1.3 / libxml2 2.14.6: all pass; lxml 5.4.0 / libxml2 2.13.8: all pass;
lxml 5.3.0 / libxml2 2.12.9: all pass.
Before the fix, lxml 6.2.0 failed the open-Patient/Tumor, differential and unbalanced-tags tests;
the others passed.
"""
import pytest
from lxml import etree

from registry.naaccr import NaaccrReader, NaaccrSyntaxError, validate
from registry.naaccr.reader import ElementEvents

from .conftest import VALIDITY_DIR

RUNNING_ON = f"lxml-{etree.__version__}-libxml2-{'.'.join(map(str, etree.LIBXML_VERSION))}"

HEAD = ('<?xml version="1.0"?>\n<NaaccrData xmlns="http://naaccr.org/naaccrxml" '
        'baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml" recordType="A" '
        'specificationVersion="1.8">\n')
TUMOR = '<Tumor>\n<Item naaccrId="primarySite">C509</Item>\n</Tumor>\n'


def patient_with(tumors: int) -> str:
    return '<Patient>\n<Item naaccrId="patientIdNumber">00001234</Item>\n' + TUMOR * tumors + '</Patient>\n'


def broken_file(patients_before: int, tumors_before: int, break_text: str) -> tuple[str, int]:
    """``patients_before`` whole patients, then one whose tumor ``tumors_before + 1`` holds ``break_text``.

    Returns the text and the line ``break_text`` starts on.
    """
    text = HEAD + patient_with(2) * patients_before + '<Patient>\n' + TUMOR * tumors_before
    text += '<Tumor>\n<Item naaccrId="primarySite">C1</Item>\n'
    return text + break_text + '\n</Tumor>\n</Patient>\n</NaaccrData>\n', text.count("\n") + 1


# 1 patient is ~0.2 KiB: 3 breaks in the parser's first chunk, 160 past it, 1000 several chunks on
@pytest.mark.parametrize("patients_before", [0, 3, 160, 1000])
@pytest.mark.parametrize("tumors_before", [0, 1])
@pytest.mark.parametrize("break_text", ['<Item naaccrId="sex">1</Itm>', "</Patient>", "<Item <"])
@pytest.mark.parametrize("lxml", [RUNNING_ON])
def test_syntax_error_names_the_open_patient_and_tumor(store, tmp_path, lxml, patients_before, tumors_before,
                                                       break_text):
    text, line = broken_file(patients_before, tumors_before, break_text)
    path = tmp_path / "broken.xml"
    path.write_text(text)
    report = validate(path, store)
    problem = report.problems[-1]
    assert report.status == "invalid"
    assert (problem.code, problem.line, problem.patient, problem.tumor) == ("syntax", line, patients_before + 1,
                                                                            tumors_before + 1), str(problem)
    assert (report.patients, report.tumors) == (patients_before + 1, 2 * patients_before + tumors_before + 1)
    assert "column" not in problem.message and "\n" not in problem.message


@pytest.mark.parametrize("lxml", [RUNNING_ON])
def test_patients_before_the_break_are_all_delivered(store, tmp_path, lxml):
    text, _ = broken_file(1000, 1, "</Patient>")
    path = tmp_path / "broken.xml"
    path.write_text(text)
    delivered = []
    with NaaccrReader(path, store) as reader, pytest.raises(NaaccrSyntaxError) as raised:
        delivered.extend(patient.index for patient in reader)
    assert delivered == list(range(1, 1001))
    assert raised.value.problem.patient == 1001


@pytest.mark.parametrize("ending, patient, tumor", [
    ("<Patient", 2, None),                  # an unfinished start tag: its Patient is open
    ("<Patient><Tumor", 2, 1),
    ("<Patient></Patient>", None, None),    # the Patient closed (and was delivered): the break is outside it
    ("<Patient><Tumor></Tumor>", 2, None),  # the Tumor closed, its Patient did not
])
@pytest.mark.parametrize("lxml", [RUNNING_ON])
def test_file_cut_short_is_placed_where_it_ends(store, tmp_path, lxml, ending, patient, tumor):
    text = HEAD + patient_with(1) + ending
    path = tmp_path / "cut.xml"
    path.write_text(text)
    report = validate(path, store)
    problem = report.problems[-1]
    assert report.status == "invalid"
    assert (problem.code, problem.line, problem.patient, problem.tumor) == ("syntax", text.count("\n") + 1,
                                                                            patient, tumor), str(problem)
    assert report.patients == 2


@pytest.mark.parametrize("lxml", [RUNNING_ON])
def test_unbalanced_tags_are_placed_in_the_open_patient(store, lxml):
    report = validate(VALIDITY_DIR / "invalid" / "invalid_unbalanced-tags-2.xml", store)
    [problem] = report.problems
    assert (report.status, report.patients, report.tumors) == ("invalid", 1, 1)
    assert (problem.line, problem.patient, problem.tumor) == (12, 1, None)
    assert problem.message == ("the file is not well-formed XML: Opening and ending tag mismatch: "
                               "Patient line 7 and NaaccrData")


@pytest.mark.parametrize("chunk_size", [1, 7, 32768])
@pytest.mark.parametrize("lxml", [RUNNING_ON])
def test_events_before_a_break_do_not_depend_on_how_the_file_is_fed(tmp_path, lxml, chunk_size, monkeypatch):
    """Every element event before the break, then the error; none made up for what was left open."""
    text = HEAD + patient_with(1) + '<Patient>\n<Tumor>\n</Tumo>'
    monkeypatch.setattr(ElementEvents, "chunk_size", chunk_size)
    path = tmp_path / "broken.xml"
    path.write_text(text)
    seen = []
    with open(path, "rb") as stream, pytest.raises(etree.XMLSyntaxError):
        for event, element in ElementEvents(stream, ["{*}Patient", "{*}Tumor"]):
            seen.append((event, etree.QName(element).localname, element.sourceline))
    assert seen == [("start", "Patient", 3), ("start", "Tumor", 5), ("end", "Tumor", 5), ("end", "Patient", 3),
                    ("start", "Patient", 9), ("start", "Tumor", 10)]
