"""Reports into the suspense queue: stored with their screening, match and suggestions, grouped per tumor,
refused messages leaving nothing behind, and an abstract started pre-filled from them."""
from sqlalchemy import func, select

from abstracts import casefinding
from abstracts import operations as ops
from abstracts.epath.intake import take_in
from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import AuditEntry, CasefindingReport, SuspenseCase, SuspenseStatus, Tumor
from tests.reference import REFERENCE_DIR

EPATH = REFERENCE_DIR / "epath"


def message(control: str, *, status: str = "F", accession: str = "ACC-1", mrn: str = "MRN77",
            diagnosis: str = "Adenocarcinoma of sigmoid colon", name: str = "Doe^Jane") -> str:
    return "\r".join([
        f"MSH|^~\\&|LIS|LAB^11D0000000^CLIA|REG|STATE|20250101||ORU^R01^ORU_R01|{control}|P|2.5.1",
        f"PID|1||{mrn}^^^LAB^MR||{name}||19600101|F",
        f"OBR|1||{accession}|11529-5^Surgical Pathology^LN|||20250101|||||||||||||||20250102|||{status}",
        f"OBX|1|TX|22637-3^final diagnosis^LN||{diagnosis}||||||{status}",
    ])


def count(model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def test_reference_file_taken_in_with_everything_kept(app):
    data = (EPATH / "hl7v2/sdc-cdm/obx-Adrenal.hl7").read_bytes()
    result = take_in(data, actor=SYSTEM, source="obx-Adrenal.hl7")
    assert [t.reportable for t in result.taken] == [True] and result.refused == []
    row = db_session.get(CasefindingReport, result.taken[0].report_id)
    case = db_session.get(SuspenseCase, row.suspense_case_id)
    assert (case.name_last, case.date_of_birth, case.medical_record_number) == ("TestFourteen-Menethil", "19970531",
                                                                                "AR00009634")
    assert case.primary_site == "C749" and case.status is SuspenseStatus.OPEN and case.source == "epath_hl7"
    assert row.document.startswith("MSH|") and "Conventional adrenal cortical carcinoma" in row.report_text
    assert row.screening["result"] == "REPORTABLE" and row.reportable
    for keyword in row.screening["keywords"]:
        assert row.report_text[keyword["start"]:keyword["end"] + 1] == keyword["text"]
    assert {s["item"]: s["code"] for s in row.suggestions}["histology"] == "8370/3"
    assert row.match["status"] == "new"
    assert db_session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "casefinding_intake")) \
        .startswith("obx-Adrenal.hl7 message 1")


def test_malformed_message_refused_and_nothing_of_it_stored(app):
    data = (EPATH / "hl7v2/imsweb-layout/fake-naaccr-hl7-bad1.txt").read_bytes()
    result = take_in(data, actor=SYSTEM, source="bad1.txt")
    assert result.taken == []
    assert "segment 8 'Something unexpected...'" in result.refused[0][1]
    assert count(CasefindingReport) == 0 and count(SuspenseCase) == 0


def test_batch_others_go_on(app):
    bad = message("M2").replace("PID|1", "PIDX|1")
    batch = "\r".join(["BHS|^~\\&|LIS", message("M1"), bad, message("M3", accession="ACC-3"), "BTS|3"])
    result = take_in(batch, actor=SYSTEM, source="batch.hl7")
    assert [t.control_id for t in result.taken] == ["M1", "M3"]
    assert [label for label, _ in result.refused] == ["batch.hl7 message 2 (M2)"]
    assert count(CasefindingReport) == 2


def test_reports_on_one_tumor_grouped_and_a_correction_replaces(app):
    first = take_in(message("M1"), actor=SYSTEM, source="a").taken[0]
    second = take_in(message("M2", accession="ACC-2"), actor=SYSTEM, source="b").taken[0]
    other_site = take_in(message("M3", accession="ACC-3", diagnosis="Infiltrating duct carcinoma, left breast"),
                         actor=SYSTEM, source="c").taken[0]
    corrected = take_in(message("M4", status="C", diagnosis="Mucinous adenocarcinoma of sigmoid colon"),
                        actor=SYSTEM, source="d").taken[0]
    assert second.case_id == first.case_id and second.grouped == "joined case"
    assert other_site.case_id != first.case_id
    assert corrected.case_id == first.case_id and corrected.grouped == f"replaced report {first.report_id}"
    assert db_session.get(CasefindingReport, first.report_id).superseded_by_id == corrected.report_id


def test_not_reportable_kept_on_a_closed_case(app):
    taken = take_in(message("N1", diagnosis="Benign fibroadenoma. Negative for malignancy."), actor=SYSTEM,
                    source="n").taken[0]
    case = db_session.get(SuspenseCase, taken.case_id)
    assert not taken.reportable and case.status is SuspenseStatus.NOT_REPORTABLE
    assert "screened non-reportable" in case.reason


def test_matched_patient_by_mrn_and_abstract_prefilled(app):
    patient = ops.create_patient({"name_last": "Doe", "name_first": "Jane", "date_of_birth": "19600101",
                                  "medical_record_number": "MRN77", "sex": "2"}, actor=SYSTEM)
    taken = take_in(message("M1"), actor=SYSTEM, source="a").taken[0]
    row = db_session.get(CasefindingReport, taken.report_id)
    assert row.match["status"] == "matched" and row.patient_id == patient.id
    assert "same medical record number" in row.match["reasons"]
    tumor = casefinding.abstract_suspense_case(taken.case_id, actor=SYSTEM)
    tumor = db_session.get(Tumor, tumor.id)
    assert tumor.patient_id == patient.id
    assert (tumor.primary_site, tumor.histology, tumor.behavior, tumor.date_of_diagnosis) == ("C187", "8140", "3",
                                                                                              "20250101")
    detail = db_session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "abstract_suspense_case"))
    assert "pre-filled from casefinding: site C187 from report" in detail and "final diagnosis" in detail
    assert detail.startswith("abstract of C18.7 8140/3, diagnosed 2025-01-01")  # issue 20.12: not "tumor <id>"


def test_possible_match_by_name_and_birth_date(app):
    patient = ops.create_patient({"name_last": "Doe", "name_first": "Jane", "date_of_birth": "19600101",
                                  "medical_record_number": "OTHER1", "sex": "2"}, actor=SYSTEM)
    taken = take_in(message("M1"), actor=SYSTEM, source="a").taken[0]
    match = db_session.get(CasefindingReport, taken.report_id).match
    assert match["status"] == "matched" and match["patient_id"] == patient.id
    assert "same date of birth" in match["reasons"]


def test_fhir_bundle_taken_in(app):
    data = (EPATH / "fhir/sdc-connectathon/Bundle-TxBundleColorectalBx.json").read_bytes()
    taken = take_in(data, actor=SYSTEM, source="bundle.json").taken[0]
    case = db_session.get(SuspenseCase, taken.case_id)
    assert (case.name_last, case.source, case.primary_site) == ("Gonzalez", "epath_fhir", "C187")
    refused = take_in((EPATH / "fhir/ccrr/practitioner-1.json").read_bytes(), actor=SYSTEM, source="p.json")
    assert refused.taken == [] and "Practitioner" in refused.refused[0][1]


def test_large_files_read_by_helper_processes_give_the_same_result(app, monkeypatch):
    from abstracts.epath import intake
    from abstracts.epath.sample import oru_messages
    monkeypatch.setattr(intake, "PARALLEL_FROM", 4)
    monkeypatch.setattr(intake, "CHUNK", 3)
    messages = oru_messages(6, seed=3)
    messages[2] = messages[2].replace("PID|1", "PIDX|1")
    result = take_in("\r".join(messages), actor=SYSTEM, source="big.hl7")
    assert [t.control_id for t in result.taken] == ["DEMO0000001", "DEMO0000002", "DEMO0000004", "DEMO0000005",
                                                    "DEMO0000006"]
    assert result.refused == [("big.hl7 message 3 (DEMO0000003)", result.refused[0][1])]
    assert "PIDX" in result.refused[0][1]
    assert count(CasefindingReport) == 5


def test_reportability_value_set_makes_coded_reports_reportable(app, tmp_path):
    import json

    from registry.reference import install
    condition = json.dumps({"resourceType": "Condition", "subject": {"display": "Jo Codedemo"},
                            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "254837009"}]}})
    before = take_in(condition, actor=SYSTEM, source="coded-1.json").taken[0]
    assert not before.reportable
    install("reportability-codes", EPATH / "reportability/ValueSet-cancer-core-reportability-codes.json",
            actor=SYSTEM, store=tmp_path)
    after = take_in(condition, actor=SYSTEM, source="coded-2.json").taken[0]
    row = db_session.get(CasefindingReport, after.report_id)
    assert after.reportable and row.reportable
    assert row.screening["result"] == "NON_REPORTABLE" and row.screening["codes"] == ["SNOMED CT 254837009"]


def test_a_message_with_a_bad_date_refused_naming_message_segment_and_field_the_others_taken(app):
    bad_birth = message("M2", accession="ACC-2").replace("||19600101|F", "||2021-13-45|F")
    bad_collection = message("M3", accession="ACC-3").replace("|||20250101|||", "|||20250230|||", 1)
    batch = "\r".join([message("M1"), bad_birth, bad_collection, message("M4", accession="ACC-4")])
    result = take_in(batch, actor=SYSTEM, source="dates.hl7")
    assert [t.control_id for t in result.taken] == ["M1", "M4"]
    assert result.refused == [
        ("dates.hl7 message 2 (M2)", "PID-7 '2021-13-45' is not a date (HL7 form YYYYMMDD[HHMM[SS]])"),
        ("dates.hl7 message 3 (M3)", "OBR-7 '20250230' is not a date (HL7 form YYYYMMDD[HHMM[SS]])")]
    assert set(db_session.scalars(select(CasefindingReport.message_id))) == {"M1", "M4"}
    assert count(SuspenseCase) == 1
    details = db_session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "casefinding_intake")).all()
    assert len(details) == 2 and not any("M2" in d or "M3" in d for d in details)


def test_ssn_matches_a_differently_spelled_name_and_a_conflicting_ssn_is_only_a_candidate(app):
    stored = ops.create_patient({"name_last": "Doe", "name_first": "Jane", "date_of_birth": "19600101",
                                 "social_security_number": "123456789", "sex": "2"}, actor=SYSTEM)
    by_pid19 = message("S1", mrn="NEWMRN1", name="Dough^Janet").replace("||19600101|F", "||19520303|F") \
        .replace("|F\rOBR", "|F" + "|" * 11 + "123-45-6789\rOBR", 1)
    by_pid3 = message("S2", accession="ACC-2", name="Doh^J").replace("MRN77^^^LAB^MR", "123456789^^^SSA^SS")
    conflicting = message("S3", accession="ACC-3", mrn="NEWMRN3").replace("|F\rOBR", "|F" + "|" * 11 + "987654321\rOBR", 1)
    result = take_in("\r".join([by_pid19, by_pid3, conflicting]), actor=SYSTEM, source="ssn.hl7")
    matches = [db_session.get(CasefindingReport, t.report_id).match for t in result.taken]
    assert [m["status"] for m in matches] == ["matched", "matched", "possible"]
    assert matches[0]["patient_id"] == matches[1]["patient_id"] == stored.id
    assert "same SSN" in matches[0]["reasons"] and "same SSN" in matches[1]["reasons"]
    assert matches[2]["patient_id"] is None
    candidate = matches[2]["candidates"][0]
    assert candidate["patient_id"] == stored.id and "different SSN" in candidate["reasons"]
    assert "same date of birth" in candidate["reasons"]


def test_a_correction_after_closing_reopens_the_case(app):
    abstracted = take_in(message("A1"), actor=SYSTEM, source="a").taken[0]
    tumor = casefinding.abstract_suspense_case(abstracted.case_id, actor=SYSTEM)
    ruled_out = take_in(message("B1", accession="ACC-B", mrn="MRN88"), actor=SYSTEM, source="b").taken[0]
    casefinding.mark_not_reportable(ruled_out.case_id, "resident of another state", actor=SYSTEM)
    benign = take_in(message("C1", accession="ACC-C", mrn="MRN99", diagnosis="Benign fibroadenoma."),
                     actor=SYSTEM, source="c").taken[0]

    corrected = take_in("\r".join([
        message("A2", status="C", diagnosis="Amended: tubular adenoma of sigmoid colon, no malignancy"),
        message("B2", status="C", accession="ACC-B", mrn="MRN88", diagnosis="Mucinous adenocarcinoma of rectum"),
        message("C2", status="C", accession="ACC-C", mrn="MRN99", diagnosis="Benign fibroadenoma, two nodules.")]),
        actor=SYSTEM, source="corrections.hl7").taken
    assert [t.case_id for t in corrected] == [abstracted.case_id, ruled_out.case_id, benign.case_id]
    for earlier, later in zip((abstracted, ruled_out, benign), corrected):
        assert db_session.get(CasefindingReport, earlier.report_id).superseded_by_id == later.report_id
    assert [t.grouped for t in corrected] == [f"replaced report {abstracted.report_id}; case re-opened",
                                              f"replaced report {ruled_out.report_id}; case re-opened",
                                              f"replaced report {benign.report_id}"]
    case_a, case_b, case_c = (db_session.get(SuspenseCase, t.case_id) for t in corrected)
    assert case_a.status is SuspenseStatus.OPEN and case_a.tumor_id == tumor.id and case_a.resolved_at is None
    assert case_a.reason == ("corrected report after closing: ACC-1 (message A2) received after the case was "
                             "abstracted; check the abstract against it")
    assert case_b.status is SuspenseStatus.OPEN
    assert case_b.reason == ("corrected report after closing: ACC-B (message B2) received after the case was "
                             "closed as not reportable (resident of another state)")
    assert case_c.status is SuspenseStatus.NOT_REPORTABLE  # still benign: nothing to review
    reopened = db_session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "casefinding_reopened")).all()
    assert sorted(reopened) == sorted([str(case_a.id), str(case_b.id)])

    again = casefinding.abstract_suspense_case(case_a.id, actor=SYSTEM)
    assert again.id == tumor.id and count(Tumor) == 1
    case_a = db_session.get(SuspenseCase, case_a.id)
    assert case_a.status is SuspenseStatus.ABSTRACTED and case_a.reason is None


def coded_message(control: str, histology: str, *, condition: bool = False) -> str:
    """A breast report whose only histology is a coded synoptic answer (OBX 2: code^text^system^alt^text^system),
    with an ICD-10-CM coded diagnosis (OBX 3) when ``condition``."""
    segments = message(control, diagnosis="Left breast, excision: see the synoptic report", mrn=f"MRN-{control}")
    segments += "\rOBX|2|CWE|44638-4^Histologic Type^LN||" + histology + "||||||F"
    if condition:
        segments += "\rOBX|3|CWE|C509^Primary diagnosis^I10C||C509^Malignant neoplasm of breast^I10C||||||F"
    return segments


def test_coded_answers_checked_against_their_code_lists(app, tmp_path):
    from registry.reference import install
    good = coded_message("K1", "8520/3^Lobular carcinoma^ICDO3^254837009^Malignant neoplasm of breast^SCT",
                         condition=True)
    bad_icdo3 = coded_message("K2", "8888/3^Invasive ductal carcinoma^ICDO3")
    bad_snomed = coded_message("K3", "44.1^Invasive ductal carcinoma^CAPECP^254837008^Invasive duct carcinoma^SCT")
    install("reportability-codes", EPATH / "reportability/ValueSet-cancer-core-reportability-codes.json",
            actor=SYSTEM, store=tmp_path)
    taken = take_in("\r".join([good, bad_icdo3, bad_snomed]), actor=SYSTEM, source="coded.hl7").taken
    rows = [db_session.get(CasefindingReport, t.report_id) for t in taken]
    suggested = [{s["item"]: s for s in row.suggestions} for row in rows]

    assert suggested[0]["histology"]["code"] == "8520/3" and rows[0].content["warnings"] == []
    assert rows[0].screening["codes"] == ["SNOMED CT 254837009 (Malignant neoplasm of breast)",
                                          "ICD-10-CM C50.9 (Malignant neoplasm of breast)"]
    assert [(f["code"], f["detail"]) for f in rows[0].content["coded"]] == [
        ("8520/3", "segment 5 (OBX|2), OBX-5"), ("254837009", "segment 5 (OBX|2), OBX-5.4"),
        ("C50.9", "segment 6 (OBX|3), OBX-5")]

    assert "histology" not in suggested[1]  # the answer's text would have said 8500/3
    assert rows[1].content["warnings"] == [
        "coded.hl7 message 2 (K2), segment 5 (OBX|2), OBX-5: ICD-O-3 code '8888/3' (Invasive ductal carcinoma) "
        "is not in the installed official ICD-O-3 morphology list; left out of the suggestions"]
    assert "histology" not in suggested[2]
    assert rows[2].content["warnings"] == [
        "coded.hl7 message 3 (K3), segment 5 (OBX|2), OBX-5.4: SNOMED CT code '254837008' (Invasive duct carcinoma) "
        "is not a SNOMED CT identifier (its check digit is wrong); left out of the suggestions"]
    assert rows[2].screening["codes"] == [] and rows[2].content["coded"] == []
    case = db_session.get(SuspenseCase, rows[1].suspense_case_id)
    assert "1 coded value(s) not in their code list, left out (see the report)" in case.note
