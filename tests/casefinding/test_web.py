"""Ways in and out: POST /api/v1/casefinding, the upload page (a job), the case page with highlighted keywords,
the searchable list of reports, the audited source document, and an abstract exported as FHIR."""

import pytest
from sqlalchemy import select

from abstracts import operations as ops
from abstracts.epath.export import codes_from_bundle
from abstracts.tokens import create_token
from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import AuditEntry, CasefindingReport, JobStatus
from tests.abstracting.conftest import PATIENT, TUMOR
from tests.casefinding.test_intake import message
from tests.reference import REFERENCE_DIR
from tests.jobs import ended as _wait


@pytest.fixture
def api(client, make_user):
    def as_role(role: str):
        user = make_user(role, f"api-{role}")
        _, token = create_token(user, "tests")

        def call(method: str, path: str, **kwargs):
            return client.open(f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {token}"},
                               **kwargs)
        return call
    return as_role


def test_api_takes_in_hl7_and_fhir_and_refuses_plainly(api):
    registrar = api("registrar")
    response = registrar("POST", "/casefinding", data=message("API1"), content_type="x-application/hl7-v2+er7")
    assert response.status_code == 201
    body = response.get_json()
    assert body["taken"][0]["control_id"] == "API1" and body["taken"][0]["reportable"] is True
    bundle = (REFERENCE_DIR / "epath/fhir/ccrr/ccrr-primary-cancer-condition-breast.json").read_bytes()
    assert registrar("POST", "/casefinding", data=bundle, content_type="application/fhir+json").status_code == 201
    bad = registrar("POST", "/casefinding", data="hello", content_type="text/plain")
    assert bad.status_code == 422 and "neither an HL7 v2 message" in bad.get_json()["error"]["fields"]["document"]
    refused = registrar("POST", "/casefinding", data=message("X").replace("PID|", "QQQ|"), content_type="text/plain")
    assert refused.status_code == 422 and "QQQ" in refused.get_json()["refused"][0]["reason"]
    assert api("researcher")("POST", "/casefinding", data=message("R1")).status_code == 403


def test_fhir_export_reads_back_into_the_same_codes(api):
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    tumor = ops.create_tumor(patient.id, {**TUMOR, "date_of_diagnosis": "202401"}, actor=SYSTEM)
    response = api("registrar")("GET", f"/tumors/{tumor.id}/fhir")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    codes = codes_from_bundle(response.get_data())
    assert codes == {"primary_site": "C504", "laterality": "1", "histology": "8500", "behavior": "3",
                     "date_of_diagnosis": "202401", "diagnostic_confirmation": "1", "grade_clinical": "2",
                     "grade_pathological": "2", "sequence_number_hospital": "00"}
    assert response.get_json()["entry"][0]["resource"]["name"][0]["family"] == PATIENT["name_last"]
    assert api("researcher")("GET", f"/tumors/{tumor.id}/fhir").status_code == 403
    assert db_session.scalar(select(AuditEntry.patient_id).where(AuditEntry.action == "api_fhir_tumor")) == patient.id


def test_upload_page_case_page_search_and_document(client, login):
    login("registrar")
    page = client.get("/casefinding/import")
    assert page.status_code == 200
    from tests.abstracting.conftest import csrf_of
    csrf = csrf_of(client.get("/suspense").get_data(as_text=True))
    import io
    hl7_file = (REFERENCE_DIR / "epath/hl7v2/imsweb-layout/hl7_samples_from_official_documentation.txt").read_bytes()
    bad_file = (REFERENCE_DIR / "epath/hl7v2/imsweb-layout/fake-naaccr-hl7-bad1.txt").read_bytes()
    response = client.post("/casefinding/import", data={
        "csrf_token": csrf, "files": [(io.BytesIO(hl7_file), "samples.txt"), (io.BytesIO(bad_file), "bad1.txt")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    job = _wait(int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]))
    assert job.status is JobStatus.FINISHED, job.messages
    assert "5 report(s) taken in (5 reportable, 0 not), 1 refused" in job.messages
    assert "bad1.txt message 1 (2004072813390045)" in job.messages
    rows = list(db_session.scalars(select(CasefindingReport).order_by(CasefindingReport.id)))
    assert len(rows) == 5
    breast = rows[1]
    case_page = client.get(f"/casefinding/cases/{breast.suspense_case_id}").get_data(as_text=True)
    assert '<mark class="kw kw-positive" title="Positive">carcinoma</mark>' in case_page.lower().replace(
        'title="positive"', 'title="Positive"')
    assert "8500/3" in case_page and "final diagnosis: &#39;infiltrating duct carcinoma&#39;" in case_page
    found = client.get("/casefinding/reports?q=infiltrating+duct").get_data(as_text=True)
    assert f"case {breast.suspense_case_id}" in found
    document = client.get(f"/casefinding/reports/{breast.id}/document")
    assert document.mimetype == "text/plain" and document.get_data(as_text=True).startswith("MSH|")
    assert db_session.scalar(select(AuditEntry.entity_id).where(AuditEntry.action == "casefinding_document_read")) \
        == str(breast.id)
    suspense = client.get("/suspense").get_data(as_text=True)
    assert f"/casefinding/cases/{breast.suspense_case_id}" in suspense


def test_upload_refuses_other_files(client, login):
    login("registrar")
    from tests.abstracting.conftest import csrf_of
    import io
    csrf = csrf_of(client.get("/suspense").get_data(as_text=True))
    response = client.post("/casefinding/import", data={"csrf_token": csrf, "files": [(io.BytesIO(b"x"), "a.exe")]},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "a.exe: not a .hl7" in response.get_data(as_text=True)


def test_abstract_it_opens_the_form_prefilled_with_the_suggestions_marked(client, login):
    from abstracts.epath.intake import take_in
    from tests.abstracting.conftest import csrf_of
    login("registrar")
    taken = take_in(message("W1"), actor=SYSTEM, source="w").taken[0]
    csrf = csrf_of(client.get("/suspense").get_data(as_text=True))
    response = client.post(f"/suspense/{taken.case_id}/abstract", data={"csrf_token": csrf}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Suggested by casefinding, check each: site C187 from report" in page
    assert "histology 8140/3 from report" in page and "final diagnosis" in page
    assert 'value="C187"' in page


def test_a_case_reopened_by_a_correction_is_flagged_and_reviews_the_same_abstract(client, login):
    from abstracts.epath.intake import take_in
    from tests.abstracting.conftest import csrf_of
    login("registrar")
    taken = take_in(message("W1"), actor=SYSTEM, source="w").taken[0]
    csrf = csrf_of(client.get("/suspense").get_data(as_text=True))
    first = client.post(f"/suspense/{taken.case_id}/abstract", data={"csrf_token": csrf})
    take_in(message("W2", status="C", diagnosis="Mucinous adenocarcinoma of sigmoid colon"), actor=SYSTEM, source="w")
    listing = client.get("/suspense").get_data(as_text=True)
    assert "corrected report after closing: ACC-1 (message W2)" in listing and "Review abstract" in listing
    again = client.post(f"/suspense/{taken.case_id}/abstract", data={"csrf_token": csrf})
    assert again.headers["Location"] == first.headers["Location"]
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "histology 8480/3 from report" in page
    assert "check it against the corrected report" in page and "Abstract started" not in page


def test_a_coded_value_not_in_its_list_is_shown_on_the_case(client, login):
    from abstracts.epath.intake import take_in
    from tests.casefinding.test_intake import coded_message
    login("registrar")
    taken = take_in(coded_message("K9", "8888/3^Invasive ductal carcinoma^ICDO3"), actor=SYSTEM,
                    source="k.hl7").taken[0]
    page = client.get(f"/casefinding/cases/{taken.case_id}").get_data(as_text=True)
    assert "k.hl7 message 1 (K9), segment 5 (OBX|2), OBX-5: ICD-O-3 code &#39;8888/3&#39;" in page
    assert "coded value(s) not in their code list" in client.get("/suspense").get_data(as_text=True)
