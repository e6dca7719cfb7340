"""Deleting an abstract entered in error: from the form, with a reason, never a completed or submitted one."""
import pytest
from sqlalchemy import select

from abstracts import operations as ops
from registry.audit import SYSTEM, operation
from registry.db import db_session, transaction
from registry.errors import NotAllowed
from registry.models import AuditEntry, Submission, SubmissionTumor, Tumor, WorkflowState
from tests.abstracting.conftest import TUMOR, csrf_of, form_fields

COLON = {**TUMOR, "primary_site": "C187", "laterality": "0", "histology": "8140", "date_of_diagnosis": "20240301",
         "sequence_number_hospital": None}


def _delete_form(client, patient, tumor):
    page = client.get(f"/patients/{patient.id}/tumors/{tumor.id}").get_data(as_text=True)
    assert 'id="delete-abstract"' in page
    return {"csrf_token": csrf_of(page), "tumor_version": form_fields(page, "abstract-form")["tumor_version"]}


def test_a_registrar_deletes_an_abstract_with_a_reason_and_the_numbers_are_proposed_again(
        client, login, patient_with_tumor):
    patient, breast = patient_with_tumor
    colon = ops.create_tumor(patient.id, COLON, actor=SYSTEM)
    db_session.expire_all()
    assert db_session.get(Tumor, breast.id).sequence_number_hospital == "01"
    login("registrar")
    url = f"/patients/{patient.id}/tumors/{colon.id}/delete"
    data = _delete_form(client, patient, colon)

    no_reason = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    assert "needs a reason" in no_reason
    db_session.expire_all()
    assert db_session.get(Tumor, colon.id) is not None

    done = client.post(url, data=data | {"reason": "entered in error: duplicate of the breast abstract"},
                       follow_redirects=True)
    assert done.request.path == f"/patients/{patient.id}"
    assert "deleted" in done.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Tumor, colon.id) is None
    assert db_session.get(Tumor, breast.id).sequence_number_hospital == "00"
    [reason] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "delete_tumor:reason")).all()
    assert reason.entity_id == str(colon.id) and reason.detail == "entered in error: duplicate of the breast abstract"
    assert reason.username == "registrar1"


def test_a_completed_abstract_is_reopened_before_it_can_be_deleted(client, login, patient_with_tumor):
    patient, tumor = patient_with_tumor
    login("registrar")
    data = _delete_form(client, patient, tumor)
    with operation(SYSTEM, "set_state") as session:
        session.get(Tumor, tumor.id).workflow_state = WorkflowState.COMPLETE
    db_session.expire_all()
    data["tumor_version"] = str(db_session.get(Tumor, tumor.id).version)  # a form opened after completion
    refused = client.post(f"/patients/{patient.id}/tumors/{tumor.id}/delete",
                          data=data | {"reason": "entered in error"}, follow_redirects=True).get_data(as_text=True)
    assert "is complete: reopen it before deleting it" in refused
    assert 'id="delete-abstract"' not in refused
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id) is not None


def test_an_abstract_a_submission_carried_cannot_be_deleted(app, patient_with_tumor):
    patient, tumor = patient_with_tumor
    with transaction() as session:
        sent = Submission(file_name="IL-2024-A.xml", stored_path="x", checksum="0" * 64, naaccr_version="250",
                          record_type="A", created_by="registrar1", include_incomplete=True)
        session.add(sent)
        session.flush()
        session.add(SubmissionTumor(submission_id=sent.id, tumor_id=tumor.id, tumor_version=tumor.version,
                                    patient_version=patient.version))
    with pytest.raises(NotAllowed, match=rf"sent to the state registry in submission {sent.id} \(IL-2024-A.xml\)"):
        ops.delete_tumor(tumor.id, actor=SYSTEM, reason="entered in error")
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id) is not None
    assert db_session.scalar(select(SubmissionTumor).where(SubmissionTumor.tumor_id == tumor.id)) is not None


@pytest.mark.parametrize("role", ["reviewer", "researcher"])
def test_only_registrars_and_admins_delete_abstracts(client, login, patient_with_tumor, role):
    patient, tumor = patient_with_tumor
    login(role)
    token = csrf_of(client.get("/account").get_data(as_text=True))
    response = client.post(f"/patients/{patient.id}/tumors/{tumor.id}/delete",
                           data={"csrf_token": token, "reason": "entered in error"})
    assert response.status_code == 403
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id) is not None


def test_over_the_api_with_version_and_reason(client, make_user, patient_with_tumor):
    from abstracts.tokens import create_token
    patient, tumor = patient_with_tumor
    tokens = {role: create_token(make_user(role, f"api-{role}"), "tests")[1] for role in ("registrar", "reviewer")}

    def delete(role, body):
        return client.delete(f"/api/v1/tumors/{tumor.id}", json=body,
                             headers={"Authorization": f"Bearer {tokens[role]}"})

    assert delete("reviewer", {"version": tumor.version, "reason": "entered in error"}).status_code == 403
    missing = delete("registrar", {"version": tumor.version})
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["fields"]
    stale = delete("registrar", {"version": tumor.version - 1, "reason": "entered in error"})
    assert stale.status_code == 409
    assert delete("registrar", {"version": tumor.version, "reason": "entered in error"}).status_code == 204
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id) is None
    assert client.get(f"/api/v1/tumors/{tumor.id}",
                      headers={"Authorization": f"Bearer {tokens['registrar']}"}).status_code == 404
