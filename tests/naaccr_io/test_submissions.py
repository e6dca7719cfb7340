"""Exports of demo data: valid files, record types from the dictionary, submissions and M records."""
from __future__ import annotations

import gzip
import html
import hashlib
import re

import pytest
import xmlschema
from sqlalchemy import select

from abstracts.operations import update_patient, update_tumor
from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.demo import load_demo_data
from registry.models import Submission, SubmissionTumor, Tumor
from registry.naaccr import validate
from registry.naaccr.records import installed_dictionaries
from reports.submissions import changes_since_last, create_submission
from tests.naaccr_io.conftest import XSD_18
from tests.naaccr_io.helpers import file_items


@pytest.fixture
def demo(app, dictionaries):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 40, seed=6)


@pytest.mark.parametrize("version", ["250", "260"])
def test_demo_export_validates_against_xsd_and_dictionary(demo, version, tmp_path):
    out = tmp_path / f"demo-{version}.xml"
    submission = create_submission(out, version=version, record_type="A", actor=SYSTEM, include_incomplete=True)
    xmlschema.XMLSchema(str(XSD_18)).validate(str(out))
    store, _ = installed_dictionaries()
    report = validate(out, store)
    assert report.status == "valid", report.problems[:5]
    total = db_session.scalar(select(Tumor.id).order_by(Tumor.id.desc()).limit(1))
    assert (submission.tumor_count, report.tumors) == (total, total)
    assert submission.checksum == hashlib.sha256(out.read_bytes()).hexdigest()
    assert (submission.naaccr_version, submission.record_type, submission.created_by) == (version, "A", "system")
    patients = file_items(out, store)
    sex_item = "sexAssignedAtBirth" if version == "260" else "sex"
    assert all(sex_item in items for items, _ in patients)


def test_incidence_records_carry_no_confidential_items(demo, tmp_path):
    store, _ = installed_dictionaries()
    dictionary = store.get("250")
    confidential = {item.naaccr_id for item in dictionary if "I" not in item.record_types}
    create_submission(tmp_path / "a.xml", version="250", record_type="A", actor=SYSTEM, include_incomplete=True)
    create_submission(tmp_path / "i.xml.gz", version="250", record_type="I", actor=SYSTEM, include_incomplete=True)
    full = {key for items, tumors in file_items(tmp_path / "a.xml", store)
            for key in [*items, *(k for t in tumors for k in t)]}
    incidence = {key for items, tumors in file_items(tmp_path / "i.xml.gz", store)
                 for key in [*items, *(k for t in tumors for k in t)]}
    assert {"nameLast", "socialSecurityNumber", "medicalRecordNumber"} <= full & confidential
    assert not incidence & confidential
    assert gzip.open(tmp_path / "i.xml.gz").read(5) == b"<?xml"


def test_modified_records_send_only_what_changed_since_last_sent(demo, tmp_path):
    first = create_submission(tmp_path / "a.xml", version="250", record_type="A", diagnosis_year=None, actor=SYSTEM,
                              include_incomplete=True)
    assert changes_since_last()["changed"] == 0
    tumor = db_session.scalars(select(Tumor).order_by(Tumor.id)).first()
    update_tumor(tumor.id, {"laterality": "9" if tumor.laterality != "9" else "1"}, actor=SYSTEM)
    other = db_session.scalars(select(Tumor).where(Tumor.patient_id != tumor.patient_id).order_by(Tumor.id)).first()
    update_patient(other.patient_id, {"name_middle": "Q"}, actor=SYSTEM)
    expected = {tumor.id} | set(db_session.scalars(select(Tumor.id).where(Tumor.patient_id == other.patient_id)))
    assert changes_since_last()["changed"] == len(expected)

    modified = create_submission(tmp_path / "m.xml", version="250", record_type="M", actor=SYSTEM,
                                 include_incomplete=True)
    sent = set(db_session.scalars(select(SubmissionTumor.tumor_id).where(SubmissionTumor.submission_id == modified.id)))
    assert sent == expected and modified.tumor_count == len(expected)
    assert first.tumor_count > len(expected)
    again = create_submission(tmp_path / "m2.xml", version="250", record_type="M", actor=SYSTEM,
                              include_incomplete=True)
    assert again.tumor_count == 0
    assert [s.record_type for s in db_session.scalars(select(Submission).order_by(Submission.id))] == ["A", "M", "M"]


def test_diagnosis_year_limits_the_tumors(demo, tmp_path):
    year = int(db_session.scalars(select(Tumor.date_of_diagnosis).order_by(Tumor.id)).first()[:4])
    submission = create_submission(tmp_path / "y.xml", version="260", record_type="A", diagnosis_year=year,
                                   actor=SYSTEM, include_incomplete=True)
    store, _ = installed_dictionaries()
    dates = [t["dateOfDiagnosis"] for _, tumors in file_items(tmp_path / "y.xml", store) for t in tumors]
    assert dates and all(d.startswith(str(year)) for d in dates) and submission.diagnosis_year == year


def test_rows_read_ahead_on_a_thread_are_the_rows_read_in_turn(demo, monkeypatch):
    """PostgreSQL's read-ahead thread hands over the same chunks, passes errors on and stops when the writer does."""
    import threading

    from sqlalchemy import literal_column

    from reports import submissions
    monkeypatch.setattr(submissions, "CHUNK_PATIENTS", 7)
    engine = db_session().get_bind()
    in_turn = list(submissions._chunks(db_session(), []))
    assert len(in_turn) > 2
    assert list(submissions._prefetched(engine, [])) == in_turn

    ahead = submissions._prefetched(engine, [])
    assert next(ahead) == in_turn[0]
    ahead.close()  # the writer stops early: the thread must not be left blocked on a full hand-off
    assert not any(thread.name == "export-prefetch" for thread in threading.enumerate())

    broken = [literal_column("no_such_column") == 1]
    with pytest.raises(Exception, match="no_such_column"):
        list(submissions._prefetched(engine, broken))


def test_a_submission_sends_only_finished_abstracts_and_lists_what_it_left_out(demo, tmp_path, app):
    """Issue 20.1: in-progress abstracts and abstracts failing error edits stay out, each with its reason."""
    from registry.edits.records import records_from_orm
    from registry.edits.runner import run_edits
    from registry.models import Patient, WorkflowState
    tumors = db_session.scalars(select(Tumor).order_by(Tumor.id)).all()
    with operation(SYSTEM, "test: reopen two abstracts") as session:
        for tumor in tumors[:2]:
            session.get(Tumor, tumor.id).workflow_state = WorkflowState.IN_PROGRESS
    in_progress = {t.id for t in db_session.scalars(select(Tumor).where(
        Tumor.workflow_state == WorkflowState.IN_PROGRESS))}
    assert len(in_progress) >= 2 and len(in_progress) < len(tumors)
    finished = next(t for t in tumors[2:] if t.workflow_state is not WorkflowState.IN_PROGRESS
                    and len(t.patient.tumors) == 1)
    with operation(SYSTEM, "test: break an abstract") as session:
        session.get(Tumor, finished.id).date_of_diagnosis = "20990101"  # in the future: error edits fail
    failing = set()
    for patient in db_session.scalars(select(Patient)):
        patient_record, tumor_records = records_from_orm(patient)
        for failure in run_edits(patient_record, tumor_records):
            if failure.severity == "error":
                failing |= ({t.id for t in patient.tumors} if failure.tumor_index is None
                            else {patient.tumors[failure.tumor_index].id})
    assert finished.id in failing

    submission = create_submission(tmp_path / "a.xml", version="260", record_type="A", actor=SYSTEM)

    sent = set(db_session.scalars(select(SubmissionTumor.tumor_id).where(SubmissionTumor.submission_id == submission.id)))
    assert sent == {t.id for t in tumors} - in_progress - failing
    left = {row.tumor_id: row.reason for row in submission.left_out}
    assert set(left) == in_progress | failing and submission.left_out_count == len(left)
    assert all("only complete or reviewed abstracts are sent" in left[t] for t in in_progress)
    assert "error edit(s) failing" in left[finished.id]
    assert submission.include_incomplete is False
    store, _ = installed_dictionaries()
    assert len([t for _, ts in file_items(tmp_path / "a.xml", store) for t in ts]) == len(sent)

    test_file = create_submission(tmp_path / "t.xml", version="260", record_type="A", actor=SYSTEM,
                                  include_incomplete=True)
    assert test_file.include_incomplete and test_file.tumor_count == len(tumors) and test_file.left_out_count == 0

    runner = app.test_cli_runner()
    out = runner.invoke(args=["naaccr", "export", "--output", str(tmp_path / "cli.xml"), "--version", "260"])
    assert out.exit_code == 0, out.output
    assert out.output.count("left out: patient ") == len(left)
    assert f"{len(left)} left out" in out.output


def test_the_submission_page_lists_each_tumor_left_out(demo, tmp_path, client, login):
    from registry.models import WorkflowState
    tumor = db_session.scalars(select(Tumor).order_by(Tumor.id)).first()
    with operation(SYSTEM, "test: reopen an abstract") as session:
        session.get(Tumor, tumor.id).workflow_state = WorkflowState.IN_PROGRESS
    submission = create_submission(tmp_path / "a.xml", version="260", record_type="A", actor=SYSTEM)
    login("admin")
    page = client.get(f"/admin/submissions/{submission.id}").get_data(as_text=True)
    assert tumor.patient.patient_id_number in page and "abstract in progress" in page
    history = client.get("/admin/submissions").get_data(as_text=True)
    assert f'/admin/submissions/{submission.id}"' in history and "Test file: also send" in history


def test_tumors_changed_since_sent_are_described_not_numbered(demo, tmp_path, client, login):
    """Issue 20.12: the page names a changed tumor and its patient as registrars know them, never by database id."""
    create_submission(tmp_path / "a.xml", version="260", record_type="A", actor=SYSTEM, include_incomplete=True)
    tumor = db_session.scalars(select(Tumor).order_by(Tumor.id)).first()
    update_tumor(tumor.id, {"laterality": "9" if tumor.laterality != "9" else "1"}, actor=SYSTEM)
    db_session.expire_all()
    tumor = db_session.get(Tumor, tumor.id)
    login("admin")
    page = html.unescape(client.get("/admin/submissions").get_data(as_text=True))
    row = re.search(r'<tr><td>([^<]*)</td><td>([^<]*)</td><td>\d+</td></tr>', page)
    assert row and (row.group(1), row.group(2)) == (tumor.described, tumor.patient.described)
