"""Every HL7 v2 reference message: patient, report text and suggested site/histology as the file says."""
import pytest

from abstracts.epath.hl7v2 import MalformedMessage, read_messages, split_messages
from abstracts.epath.screening import screen
from abstracts.epath.suggest import suggest
from tests.reference import REFERENCE_DIR

HL7_DIR = REFERENCE_DIR / "epath" / "hl7v2"
CANDY = ("McMuffin", "Candy", "19570706")
#: file → one row per message: (last, first, birth date, MRN, words in the report text, site, histology)
EXPECTED = {
    "imsweb-layout/fake-naaccr-hl7.txt": [
        (*CANDY, "00466144", ["chronic lymphocytic leukemia/small", "Bone marrow."], "C421", "9823/3"),
        (*CANDY, "00466144", ["Evaluate for non-Hodgkin's lymphoma"], "C421", "9590/3"),
    ],
    "imsweb-layout/hl7_samples_from_official_documentation.txt": [
        (*CANDY, "00466144", ["monoclonal B-cells (Kappa)"], "C421", "9823/3"),
        (*CANDY, "00466144", ["Infiltrating duct carcinoma, left breast."], "C509", "8500/3"),
        (*CANDY, "00466144", ["Infiltrating duct carcinoma, left breast."], "C509", "8500/3"),
        (*CANDY, None, ["Infiltrating duct carcinoma, left breast."], "C509", "8500/3"),
        (*CANDY, None, ["3. Ext. of tumor into deep fatty tissue."], "C509", "8500/3"),
    ],
    "sdc-cdm/24-11-000312-2.txt.hl7": [
        ("TEST-CCR", "MESSAGE1", "19821010", "651984659", ["Papillary thyroid carcinoma, classic type.",
                                                           "Tumor Site: Left lobe"], "C739", "8260/3"),
    ],
    "sdc-cdm/obx-Adrenal.hl7": [
        ("TestFourteen-Menethil", "Arthus", "19970531", "AR00009634",
         ["Histologic Subtype (Notes C, D): Conventional adrenal cortical carcinoma"], "C749", "8370/3"),
    ],
    "sdc-connectathon/ColonPathReport_Rosa.hl7": [
        ("Gonzalez", "Rosa", "19670115", "1EKG4-TEST-RG56", ["Tumor Site (Note A): Right (ascending) colon"],
         "C182", "8140/3"),
    ],
}


def test_every_reference_file_is_covered():
    files = {str(p.relative_to(HL7_DIR)) for p in HL7_DIR.rglob("*") if p.is_file()}
    assert files == set(EXPECTED) | {"imsweb-layout/fake-naaccr-hl7-bad1.txt"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_messages(name):
    results = list(read_messages((HL7_DIR / name).read_bytes()))
    assert len(results) == len(EXPECTED[name])
    for (raw, report), (last, first, born, mrn, words, site, histology) in zip(results, EXPECTED[name]):
        assert not isinstance(report, MalformedMessage), report
        assert (report.patient.name_last, report.patient.name_first, report.patient.date_of_birth) == (last, first,
                                                                                                        born)
        assert report.patient.medical_record_number == mrn
        for phrase in words:
            assert phrase in report.text
        codes = {s.item: s for s in suggest(report, screen(report.text))}
        assert (codes["site"].code, codes["histology"].code) == (site, histology)
        assert codes["site"].source in {"synoptic", "text"} and codes["site"].detail


def test_synoptic_answers_come_before_the_text():
    report = next(r for _raw, r in read_messages((HL7_DIR / "sdc-cdm/obx-Adrenal.hl7").read_bytes()))
    codes = {s.item: s for s in suggest(report)}
    assert codes["site"].source == "synoptic" and codes["site"].detail == "Tumor Site: Adrenal gland"
    assert codes["laterality"].code == "1" and codes["laterality"].detail == "Specimen Laterality: Right"
    assert codes["date_of_diagnosis"].code == "20210223"


def test_thyroid_message_reads_both_orders_specimens_and_pathologist():
    report = next(r for _raw, r in read_messages((HL7_DIR / "sdc-cdm/24-11-000312-2.txt.hl7").read_bytes()))
    assert report.accession == "24-11-000312"
    assert report.collection_date == "20240808"
    assert "Thyroid, Total/Lobe" in report.specimens
    assert report.patient.social_security_number == "999999999"
    assert any(a.question == "pT Category" for a in report.synoptic)
    assert report.sending_facility == "PathGroup"


def test_malformed_message_refused_naming_message_and_segment():
    results = list(read_messages((HL7_DIR / "imsweb-layout/fake-naaccr-hl7-bad1.txt").read_bytes()))
    assert len(results) == 1
    raw, refusal = results[0]
    assert isinstance(refusal, MalformedMessage)
    assert "message 1 (2004072813390045)" in str(refusal)
    assert "segment 8 'Something unexpected...'" in str(refusal)


def _message(control: str, status: str = "F", diagnosis: str = "Adenocarcinoma of sigmoid colon") -> str:
    return "\r".join([
        f"MSH|^~\\&|LIS|LAB^11D0000000^CLIA|REG|STATE|20250101||ORU^R01^ORU_R01|{control}|P|2.5.1",
        "PID|1||MRN77^^^LAB^MR||Doe^Jane||19600101|F",
        f"OBR|1||ACC-1|11529-5^Surgical Pathology^LN|||20250101|||||||||||||||20250102|||{status}",
        f"OBX|1|TX|22637-3^final diagnosis^LN||{diagnosis}||||||{status}",
    ])


def test_batch_with_a_bad_message_the_others_go_on():
    bad = _message("M2").replace("PID|1", "PIDX|1")
    batch = "\r".join(["FHS|^~\\&|LIS", "BHS|^~\\&|LIS", _message("M1"), bad, _message("M3"), "BTS|3", "FTS|1"])
    results = list(read_messages(batch))
    assert [raw.control_id for raw, _ in results] == ["M1", "M2", "M3"]
    assert isinstance(results[1][1], MalformedMessage) and "PIDX" in str(results[1][1])
    assert results[0][1].patient.medical_record_number == "MRN77"
    assert not isinstance(results[2][1], MalformedMessage)


def test_corrected_report_status_and_231_layout():
    corrected = next(r for _raw, r in read_messages(_message("M9", status="C")))
    assert corrected.status == "C"
    old = "\r".join(["MSH|^~\\&|LAB|FAC|||20010101||ORU^R01|X1|P|2.3.1",
                     "PID|1|A123|||Roe^Rick||19500202|M|||||||||||123-45-6789",
                     "OBR|1||S01-1|88305^Surgical^L|||20010101||||||||LUNG^Lung, right upper lobe",
                     "OBX|1|TX|22637-3^Final diagnosis^LN||Squamous cell carcinoma, right upper lobe of lung||||||F"])
    report = next(r for _raw, r in read_messages(old))
    assert report.patient.social_security_number == "123456789"
    assert report.patient.medical_record_number == "A123"
    assert "Lung, right upper lobe" in report.specimens
    codes = {s.item: s.code for s in suggest(report)}
    assert codes["histology"] == "8070/3" and codes["site"] == "C341" and codes["laterality"] == "1"


def test_literal_cr_markers_and_line_ends_are_segment_ends():
    assert len(split_messages(_message("A").replace("\r", "<CR>\n") + "\n\n" + _message("B"))) == 2


@pytest.mark.parametrize("segment, field, value", [("PID", 7, "2021-13-45"), ("OBR", 7, "20210230"),
                                                   ("OBR", 22, "2025011"), ("SPM", 17, "20251301")])
def test_a_date_field_that_is_not_a_date_refuses_the_message_naming_the_field(segment, field, value):
    good = _message("M1") + "\rSPM|1|^ACC-1-1||TISS^Tissue^HL70487|||||||||||||20250101"
    lines = [line.split("|") for line in good.replace("M1", "M2").split("\r")]
    for line in lines:
        if line[0] == segment:
            line[field] = value
    bad = "\r".join("|".join(line) for line in lines)
    results = list(read_messages("\r".join([good, bad, good.replace("M1", "M3")])))
    assert [raw.control_id for raw, _ in results] == ["M1", "M2", "M3"]
    refusal = results[1][1]
    assert isinstance(refusal, MalformedMessage)
    assert str(refusal).startswith(f"message 2 (M2): {segment}-{field} '{value}' is not a date")
    assert not isinstance(results[0][1], MalformedMessage) and not isinstance(results[2][1], MalformedMessage)


def test_grade_and_diagnostic_confirmation_from_the_synoptic_answers():
    report = next(r for _raw, r in read_messages((HL7_DIR / "sdc-connectathon/ColonPathReport_Rosa.hl7").read_bytes()))
    codes = {s.item: s for s in suggest(report, screen(report.text))}
    assert (codes["grade"].code, codes["grade"].source, codes["grade"].detail) == (
        "3", "synoptic", "Histologic Grade (Note C): High-grade (poorly differentiated to undifferentiated)")
    confirmation = codes["diagnostic_confirmation"]
    assert (confirmation.code, confirmation.source, confirmation.detail) == ("1", "synoptic",
                                                                             "Procedure: Right hemicolectomy")
    adrenal = next(r for _raw, r in read_messages((HL7_DIR / "sdc-cdm/obx-Adrenal.hl7").read_bytes()))
    confirmation = next(s for s in suggest(adrenal) if s.item == "diagnostic_confirmation")
    assert (confirmation.code, confirmation.detail) == ("1", "Procedure: Adrenalectomy, total")


def test_an_aspiration_is_cytology_whatever_the_report_is_called():
    aspiration = _message("F1", diagnosis="Papillary thyroid carcinoma.") + \
        "\rOBX|2|CWE|820603.1000043^Procedure^CAPECC||2.1^Fine needle aspiration biopsy^CAPECC||||||F"
    report = next(r for _raw, r in read_messages(aspiration))
    confirmation = next(s for s in suggest(report) if s.item == "diagnostic_confirmation")
    assert (confirmation.code, confirmation.label, confirmation.source) == ("2", "Positive cytology", "synoptic")
    assert confirmation.detail == "Procedure: Fine needle aspiration biopsy"
    plain = next(r for _raw, r in read_messages(_message("F2", diagnosis="Papillary thyroid carcinoma.")))
    fallback = next(s for s in suggest(plain) if s.item == "diagnostic_confirmation")
    assert (fallback.code, fallback.source) == ("1", "rule")


def test_code_checks_know_every_code_of_the_reportability_value_set_and_refuse_others():
    from abstracts.epath.coding import check_code, coding_systems
    from abstracts.epath.valueset import read_value_set
    systems = coding_systems()
    listed = read_value_set(REFERENCE_DIR / "epath/reportability/ValueSet-cancer-core-reportability-codes.json")
    for name, uri in (("SCT", "http://snomed.info/sct"), ("I10C", "http://hl7.org/fhir/sid/icd-10-cm")):
        assert [c for c in listed[uri] if check_code(systems[name], c, {})[2]] == []
    assert check_code(systems["I10C"], "C5091", {})[1:] == ("C50.91", None)
    assert check_code(systems["ICDO3"], "C50.9", {})[:2] == ("body_site", "C509")
    assert check_code(systems["ICDO3"], "8888/3", {})[2] == "is not in the embedded ICD-O-3 morphology list"
    assert check_code(systems["SCT"], "254837019", {})[2] == ("is not a SNOMED CT concept identifier "
                                                              "(its partition is not 00 or 10)")
    assert "not an ICD-10-CM code" in check_code(systems["I10C"], "50.9", {})[2]


def test_coded_answers_read_with_their_system_and_place():
    data = (HL7_DIR / "sdc-cdm/obx-Adrenal.hl7").read_bytes()
    (_raw, report), = read_messages(data)
    answer = next(a for a in report.synoptic if a.answer == "Conventional adrenal cortical carcinoma")
    assert [(c["code"], c["system"], c["where"].split(", ")[1]) for c in answer.codings] == [
        ("2117.1000043", "CAPECC", "OBX-5"), ("2227007", "SCT", "OBX-5.4")]
