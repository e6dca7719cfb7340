"""``edits check`` over NAACCR XML files: an official sample, a constructed file with known failures,
and files it cannot read."""
from __future__ import annotations

import csv
import gzip
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from registry.audit import SYSTEM
from registry.edits import naaccr_id_map
from registry.edits.cli import REPORT_COLUMNS, edits_group
from registry.naaccr import load_dictionary
from registry.reference import install
from registry.reference.cli import reference_store
from tests.edits.cases import BASE_PATIENT, BASE_TUMOR
from tests.reference import REFERENCE_DIR

DICTIONARIES = REFERENCE_DIR / "naaccr" / "dictionaries"
SAMPLE = REFERENCE_DIR / "naaccr" / "samples" / "naaccr-xml-sample-v250-abstract-100.xml.gz"
NS = "{http://naaccr.org/naaccrxml}"


@pytest.fixture
def runner(app):
    app.cli.add_command(edits_group)
    install("naaccr-dictionary", DICTIONARIES / "naaccr-dictionary-250.xml", actor=SYSTEM, store=reference_store())
    return app.test_cli_runner()


def _check(runner, source: Path, report: Path):
    return runner.invoke(args=["edits", "check", "--input", str(source), "--report", str(report)])


def _report(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == REPORT_COLUMNS
        return list(reader)


def test_an_official_sample_is_read_and_every_failure_points_at_its_element(runner, tmp_path):
    result = _check(runner, SAMPLE, tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    root = ET.fromstring(gzip.decompress(SAMPLE.read_bytes()))
    patients = root.findall(f"{NS}Patient")
    tumors = sum(len(p.findall(f"{NS}Tumor")) for p in patients)
    assert f"read {tumors} tumor(s) of {len(patients)} patient(s) from NAACCR XML" in result.output
    rows = _report(tmp_path / "out.csv")
    assert rows, "the synthetic sample has invalid combinations"
    lines = gzip.decompress(SAMPLE.read_bytes()).decode("utf-8").splitlines()
    ids = {p.findtext(f"{NS}Item[@naaccrId='patientIdNumber']") for p in patients}
    for row in rows:
        match = re.fullmatch(r"patient (\d+)(?: tumor (\d+))? \(line (\d+)\)", row["record_position"])
        assert match, row
        patient, tumor, line = match.groups()
        element = "<Tumor" if tumor else "<Patient"
        assert lines[int(line) - 1].strip().startswith(element), row
        assert 1 <= int(patient) <= len(patients) and row["patient_id"] in ids
        if tumor:
            assert int(tumor) <= len(patients[int(patient) - 1].findall(f"{NS}Tumor"))


def _xml(patients: list[tuple[dict, list[dict]]]) -> str:
    """A v25 file of our model values, each item written at the level the dictionary gives it."""
    dictionary = load_dictionary(DICTIONARIES / "naaccr-dictionary-250.xml")
    ids = {attribute: naaccr_id for naaccr_id, (_, attribute) in naaccr_id_map().items()}

    def items(values: dict, level: str) -> str:
        return "".join(f'<Item naaccrId="{ids[name]}">{escape(value)}</Item>\n' for name, value in values.items()
                       if value and dictionary.get(ids[name]) and dictionary.get(ids[name]).parent == level)

    body = ""
    for patient, tumors in patients:
        merged = [patient | tumor for tumor in tumors]
        body += "<Patient>\n" + items(patient, "Patient")
        body += "".join("<Tumor>\n" + items(values, "Tumor") + "</Tumor>\n" for values in merged)
        body += "</Patient>\n"
    return ('<?xml version="1.0"?>\n<NaaccrData baseDictionaryUri="http://naaccr.org/naaccrxml/'
            'naaccr-dictionary-250.xml" recordType="A" specificationVersion="1.7" '
            'xmlns="http://naaccr.org/naaccrxml">\n' + body + "</NaaccrData>\n")


def test_a_constructed_file_reports_its_known_failures(runner, tmp_path):
    other = BASE_PATIENT | {"patient_id_number": "00000002", "sex": "1", "vital_status": "0"}
    text = _xml([
        (BASE_PATIENT, [BASE_TUMOR, BASE_TUMOR | {"primary_site": "C189", "laterality": "0"}]),
        (other, [BASE_TUMOR | {"primary_site": "C539", "laterality": "0", "behavior": "7"}]),
    ])
    source = tmp_path / "constructed.xml"
    source.write_text(text, encoding="utf-8")
    result = _check(runner, source, tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert "read 3 tumor(s) of 2 patient(s) from NAACCR XML" in result.output
    lines = text.splitlines()
    tumor_lines = [n for n, line in enumerate(lines, start=1) if line == "<Tumor>"]
    patient_lines = [n for n, line in enumerate(lines, start=1) if line == "<Patient>"]
    found = {(r["record_position"], r["patient_id"], r["edit_id"]) for r in _report(tmp_path / "out.csv")}
    assert found == {
        (f"patient 1 tumor 1 (line {tumor_lines[0]})", "00000001", "P001"),
        (f"patient 1 tumor 2 (line {tumor_lines[1]})", "00000001", "P001"),
        (f"patient 1 tumor 2 (line {tumor_lines[1]})", "00000001", "P002"),
        # both tumors numbered 00: the rules give 01 and 02
        (f"patient 1 tumor 1 (line {tumor_lines[0]})", "00000001", "P007"),
        (f"patient 1 tumor 2 (line {tumor_lines[1]})", "00000001", "P007"),
        (f"patient 2 tumor 1 (line {tumor_lines[2]})", "00000002", "E050"),
        (f"patient 2 tumor 1 (line {tumor_lines[2]})", "00000002", "IV0523"),
        # duct carcinoma (8500) of the colon and of the cervix: not on the installed SEER list
        (f"patient 1 tumor 2 (line {tumor_lines[1]})", "00000001", "P006"),
        (f"patient 2 tumor 1 (line {tumor_lines[2]})", "00000002", "P006"),
        (f"patient 2 (line {patient_lines[1]})", "00000002", "E101"),
    }
    packed = tmp_path / "constructed.xml.gz"
    packed.write_bytes(gzip.compress(text.encode("utf-8")))
    again = _check(runner, packed, tmp_path / "again.csv")
    assert again.exit_code == 0 and _report(tmp_path / "again.csv") == _report(tmp_path / "out.csv")


def test_an_xml_file_is_recognised_by_its_content(runner, tmp_path):
    source = tmp_path / "submission.txt"
    source.write_bytes(gzip.compress(_xml([(BASE_PATIENT, [BASE_TUMOR])]).encode("utf-8")))
    result = _check(runner, source, tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert "read 1 tumor(s) of 1 patient(s) from NAACCR XML: 0 error(s), 0 warning(s)" in result.output


@pytest.mark.parametrize("content, message", [
    (b'<?xml version="1.0"?>\n<NaaccrData baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml" '
     b'recordType="A" xmlns="http://naaccr.org/naaccrxml">\n<Patient><Item naaccrId="sex">1</Item>',
     "not a readable NAACCR XML file"),
    (b'<?xml version="1.0"?>\n<NaaccrData baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-180.xml" '
     b'recordType="A" xmlns="http://naaccr.org/naaccrxml"><Patient/></NaaccrData>', "is not installed"),
    (b"<html><body>not NAACCR</body></html>", "root element must be NaaccrData"),
    (gzip.compress(b"<?xml version='1.0'?><NaaccrData")[:20], "submission.xml.gz"),
])
def test_an_unreadable_file_is_a_message_and_a_non_zero_exit(runner, tmp_path, content, message):
    source = tmp_path / "submission.xml.gz"
    source.write_bytes(content)
    report = tmp_path / "out.csv"
    result = _check(runner, source, report)
    assert result.exit_code != 0
    assert message in result.output
    assert not report.exists() and not (tmp_path / "out.csv.part").exists()


def test_without_a_base_dictionary_the_message_says_how_to_install_one(app, no_reference_tables, tmp_path):
    app.cli.add_command(edits_group)
    source = tmp_path / "in.xml"
    source.write_text(_xml([(BASE_PATIENT, [BASE_TUMOR])]), encoding="utf-8")
    result = _check(app.test_cli_runner(), source, tmp_path / "out.csv")
    assert result.exit_code != 0 and "reference install naaccr-dictionary" in result.output
