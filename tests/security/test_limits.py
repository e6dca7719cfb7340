"""What a file can make the server hold or write is bounded (issue 21, item 1): request size, items and problems
per record, report rows, where imports run, and how long their files stay."""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import registry.naaccr.importer  # noqa: F401 - registers the naaccr-import job kind
from registry.db import db_session
from registry.jobs import enqueue, execute, job_kind
from registry.models import AuditEntry, Job, JobStatus, LoginThrottle
from registry.models.patient import utcnow
from tests.reference import REFERENCE_DIR
from tests.security.conftest import csrf_of, sign_in

SAMPLE = REFERENCE_DIR / "naaccr" / "samples" / "naaccr-xml-sample-v250-abstract-10.xml.gz"
DICTIONARY = REFERENCE_DIR / "naaccr" / "dictionaries" / "naaccr-dictionary-250.xml"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<NaaccrData baseDictionaryUri='
        '"http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml" recordType="A" specificationVersion="1.8" '
        'xmlns="http://naaccr.org/naaccrxml">\n')


@pytest.fixture
def naaccr_store(app, tmp_path):
    from registry.audit import SYSTEM
    from registry.naaccr.records import installed_dictionaries
    from registry.reference import install
    install("naaccr-dictionary", DICTIONARY, actor=SYSTEM, store=tmp_path / "store")
    return installed_dictionaries()


def _race5_attack(path: Path, repeats: int) -> Path:
    """The issue's attack: one Patient holding ``repeats`` race5 Items, gzipped (a few hundred KB at most)."""
    with gzip.open(path, "wb") as out:
        out.write((HEAD + '<Patient>\n<Item naaccrId="patientIdNumber">00000777</Item>\n').encode())
        block = b'<Item naaccrId="race5">01</Item>\n' * 1000
        for _ in range(repeats // 1000):
            out.write(block)
        out.write(b'<Tumor><Item naaccrId="primarySite">C509</Item></Tumor>\n</Patient>\n</NaaccrData>\n')
    return path


# -- (a) request size ------------------------------------------------------------------------------


def test_the_request_size_limit_comes_from_the_environment(monkeypatch):
    from registry.config import load_config
    monkeypatch.delenv("MAX_CONTENT_LENGTH", raising=False)
    assert load_config()["MAX_CONTENT_LENGTH"] == 100 * 2**20
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "5000")
    assert load_config()["MAX_CONTENT_LENGTH"] == 5000
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "0")
    assert load_config()["MAX_CONTENT_LENGTH"] is None


def test_an_upload_over_the_limit_gets_a_413_page_and_nothing_is_kept(app, make_user):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    client = sign_in(app, make_user("registrar").username)
    token = csrf_of(client.get("/account").get_data(as_text=True))
    answer = client.post("/naaccr/import", data={"csrf_token": token, "file": (SAMPLE.open("rb"), "big.xml.gz")},
                         content_type="multipart/form-data")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 413, page[:300]
    assert "Too large" in page and "larger than the 0.00390625 MB this server accepts" in page
    assert db_session.scalar(select(func.count(Job.id))) == 0
    uploads = Path(app.config["JOB_FILES_DIR"]) / "imports"
    assert not uploads.exists() or not any(uploads.iterdir())
    small = client.post("/naaccr/import", data={"csrf_token": token}, content_type="multipart/form-data")
    assert small.status_code == 200, "a request under the limit is refused"


def test_an_api_request_over_the_limit_gets_a_413_json_answer(app, make_user):
    from abstracts import tokens
    app.config["MAX_CONTENT_LENGTH"] = 2048
    _, plain = tokens.create_token(make_user("registrar"), "limits")
    answer = app.test_client().post("/api/v1/patients", json={"name_last": "x" * 5000},
                                    headers={"Authorization": f"Bearer {plain}"})
    assert answer.status_code == 413
    assert answer.get_json()["error"]["code"] == "too_large"
    assert "larger than" in answer.get_json()["error"]["message"]


# -- (b) items per record, repeated items ----------------------------------------------------------


def test_the_race5_attack_is_refused_with_one_message_holding_a_bounded_tree(app, naaccr_store, tmp_path):
    """120,000 race5 Items in one Patient: one rejection row, and the reader never holds much more than the limit
    (before, every Item stayed in the tree until the Patient closed and each repeat was a problem of its own)."""
    from registry.audit import SYSTEM
    from registry.naaccr.importer import import_file
    from registry.naaccr.reader import MAX_ITEMS_PER_RECORD, NaaccrReader
    path = _race5_attack(tmp_path / "race5.xml.gz", 120_000)
    assert path.stat().st_size < 300_000
    store, users = naaccr_store
    held = []
    with NaaccrReader(path, store, users) as reader:
        guard = reader._events.after_chunk

        def watched() -> None:
            guard()
            if reader._open_patient is not None:
                held.append(len(reader._open_patient))
        reader._events.after_chunk = watched
        patients = list(reader)
    assert len(patients) == 1 and [p.code for p in patients[0].all_problems] == ["too-big"]
    assert not patients[0].items and not patients[0].tumors
    refused = [count for count in held if count <= 2]
    assert max(held) <= MAX_ITEMS_PER_RECORD and len(refused) >= 60 and held[-len(refused):] == refused, \
        "the refused record's Items were kept"
    report = tmp_path / "report.csv"
    result = import_file(path, actor=SYSTEM, store=store, user_dictionaries=users, report=report)
    assert (result.records_rejected, result.patients_created) == (1, 0)
    assert len(result.rejections) == 1
    assert f"more than {MAX_ITEMS_PER_RECORD} elements" in result.rejections[0].reason
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert len(rows) == 1 and rows[0]["outcome"] == "rejected" and rows[0]["line"] == "3"


def test_a_record_over_the_item_limit_is_refused_once_and_the_next_record_is_read(app, naaccr_store, tmp_path):
    from registry.naaccr.reader import NaaccrReader
    items = "".join(f'<Item naaccrId="race{n % 5 + 1}">01</Item>\n' for n in range(5)) * 400
    path = tmp_path / "two.xml"
    path.write_text(HEAD + f"<Patient>{items}</Patient>\n<Patient>"
                    '<Item naaccrId="patientIdNumber">00000002</Item></Patient>\n</NaaccrData>\n')
    with NaaccrReader(path, *naaccr_store, max_items=500) as reader:
        first, second = list(reader)
    assert [str(p) for p in first.all_problems] == [
        "line 3, patient 1: the record holds more than 500 elements (Items, Tumors and extensions, its Tumors' "
        "included); it was not read further and is rejected whole"]
    assert second.items == {"patientIdNumber": "00000002"} and not second.all_problems


def test_a_flood_outside_any_record_stops_the_reading_with_one_problem(app, naaccr_store, tmp_path):
    from registry.naaccr.reader import NaaccrReader, NaaccrReadError, validate
    path = tmp_path / "root-flood.xml.gz"
    with gzip.open(path, "wb") as out:
        out.write(HEAD.encode() + b'<Patient><Item naaccrId="patientIdNumber">00000001</Item></Patient>\n')
        out.write(b'<Tumor>' + b'<Item naaccrId="race5">01</Item>\n' * 300_000 + b"</Tumor></NaaccrData>\n")
    held = []
    with NaaccrReader(path, *naaccr_store) as reader:
        guard = reader._events.after_chunk

        def watched() -> None:
            held.append(reader._events.fed)
            guard()
        reader._events.after_chunk = watched
        first = next(iter(reader))
        with pytest.raises(NaaccrReadError, match="outside any Patient; the file is not read further"):
            list(reader)
    assert first.items == {"patientIdNumber": "00000001"}
    assert held[-1] <= 8 * 2**20 + 2 * 32768, "the reader went on past the limit"
    report = validate(path, *naaccr_store)
    assert [problem.code for problem in report.problems] == ["too-big"]


def test_an_item_repeated_many_times_is_one_problem(app, naaccr_store, tmp_path):
    from registry.naaccr.reader import validate
    path = tmp_path / "repeats.xml"
    path.write_text(HEAD + "<Patient>" + '<Item naaccrId="race5">01</Item>\n' * 300
                    + '<Tumor>' + '<Item naaccrId="primarySite">C509</Item>' * 3 + "</Tumor></Patient></NaaccrData>")
    report = validate(path, *naaccr_store)
    assert [(p.code, p.naaccr_id, p.tumor) for p in report.problems] == [("duplicate", "race5", None),
                                                                      ("duplicate", "primarySite", 1)]


# -- (c) report rows -------------------------------------------------------------------------------


def test_the_report_keeps_at_most_its_row_limit_and_says_how_many_were_left_out(app, naaccr_store, tmp_path):
    from registry.audit import SYSTEM
    from registry.naaccr.importer import import_file
    data = gzip.decompress(SAMPLE.read_bytes()).decode()
    path = tmp_path / "unknown.xml"
    path.write_text(data.replace("<Patient>", '<Patient><Item naaccrId="notAnItem">1</Item>'))
    report = tmp_path / "report.csv"
    result = import_file(path, actor=SYSTEM, store=naaccr_store[0], user_dictionaries=naaccr_store[1],
                         report=report, max_report_rows=3)
    assert result.records_rejected == 8 and len(result.rejections) == 3 and result.report_rows_left_out == 5
    rows = list(csv.reader(report.open(encoding="utf-8")))[1:]
    assert len(rows) == 4 and all(row[6] == "rejected" for row in rows[:3])
    assert rows[-1][5] == "5 more rows left out: the report keeps at most 3; the counts of the summary are complete"
    assert "8 records rejected (5 report rows left out)" in result.summary()


# -- (d) problems per record -----------------------------------------------------------------------


def test_a_record_lists_at_most_its_problem_limit_and_counts_the_rest(app, naaccr_store, tmp_path):
    from registry.naaccr.reader import MAX_PROBLEMS_PER_RECORD, NaaccrReader
    unknown = "".join(f'<Item naaccrId="unknownItem{n}">1</Item>\n' for n in range(500))
    path = tmp_path / "many.xml"
    path.write_text(HEAD + f"<Patient>{unknown}<Tumor>{unknown}</Tumor></Patient></NaaccrData>")
    with NaaccrReader(path, *naaccr_store) as reader:
        (patient,) = list(reader)
    problems = patient.all_problems
    assert len(problems) == MAX_PROBLEMS_PER_RECORD + 1
    assert str(problems[-1]) == (f"line 3, patient 1: {1000 - MAX_PROBLEMS_PER_RECORD} more problems in this record "
                                 f"are not listed (at most {MAX_PROBLEMS_PER_RECORD} are)")


# -- (e) where jobs run ----------------------------------------------------------------------------


@job_kind("test-where-am-i")
def _where_am_i(progress, folder: str) -> str:
    progress(50, f"running in process {os.getpid()}")
    result = Path(folder) / "pid.txt"
    result.write_text(str(os.getpid()))
    return str(result)


def _not_in(web_process: int) -> None:
    """Stop a job meant to harm its own process when it runs in the web process (the test's) after all."""
    if os.getpid() == web_process:
        raise RuntimeError("the job runs inside the web process")


@job_kind("test-dies")
def _dies(progress, web_process: int) -> None:
    _not_in(web_process)
    progress(30, "about to be killed")
    os.kill(os.getpid(), signal.SIGKILL)


@job_kind("test-greedy")
def _greedy(progress, web_process: int) -> None:
    _not_in(web_process)
    progress(10, "allocating")
    bytearray(3 * 2**30)


def _ended(job_id: int) -> Job:
    for _ in range(1500):
        db_session.expire_all()
        job = db_session.get(Job, job_id)
        if job.status in (JobStatus.FINISHED, JobStatus.FAILED):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not end")


def test_without_redis_a_job_runs_in_a_process_of_its_own(app):
    folder = Path(app.config["JOB_FILES_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    job = _ended(enqueue("test-where-am-i", {"folder": str(folder)}, user=None).id)
    assert job.status is JobStatus.FINISHED, job.messages
    child = int((folder / "pid.txt").read_text())
    assert child != os.getpid()
    assert f"running in process {child}" in job.messages


def test_a_job_whose_process_is_killed_fails_with_the_reason_and_the_site_stays_up(app, make_user):
    user = make_user("admin")
    job = _ended(enqueue("test-dies", {"web_process": os.getpid()}, user=user).id)
    assert job.status is JobStatus.FAILED
    assert job.failure.startswith("the process running it stopped (exit code -9, killed: out of memory?)")
    assert "about to be killed" in job.messages
    logged = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "job_worker_stopped")).all()
    assert [entry.entity_id for entry in logged] == [str(job.id)]
    assert sign_in(app, user.username).get(f"/jobs/{job.id}").status_code == 200


def test_a_job_over_its_memory_limit_fails_instead_of_growing(app):
    app.config["JOB_MEMORY_LIMIT_MB"] = 1024
    job = _ended(enqueue("test-greedy", {"web_process": os.getpid()}, user=None).id)
    assert job.status is JobStatus.FAILED
    assert job.failure == "an unexpected MemoryError (the server log has the details)"


# -- (f) retention ---------------------------------------------------------------------------------


def _ended_job(app, kind: str, days_ago: float, *, upload: bool = True, result: str | None = "report.csv") -> Job:
    folder = Path(app.config["JOB_FILES_DIR"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    job = Job(kind=kind, params={}, status=JobStatus.FINISHED, progress=100,
              finished_at=utcnow() - dt.timedelta(days=days_ago))
    db_session.add(job)
    db_session.flush()
    if upload:
        path = folder / f"{job.id}-upload.xml"
        path.write_text("<NaaccrData/>")
        job.params = {"path": str(path)}
    if result:
        path = folder / f"{job.id}-{result}"
        path.write_text("line,reason\n")
        job.result_file = str(path)
    db_session.commit()
    return job


def test_job_files_are_deleted_when_their_retention_ends_by_the_cli_with_an_audit_entry(app, make_user, tmp_path):
    app.config["JOB_FILE_RETENTION_DAYS"] = 30
    old = _ended_job(app, "naaccr-import", 31)
    recent = _ended_job(app, "naaccr-import", 29)
    submission = _ended_job(app, "naaccr-export", 31, upload=False)
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("kept")
    foreign = Job(kind="naaccr-import", params={"path": str(outside)}, status=JobStatus.FAILED,
                  finished_at=utcnow() - dt.timedelta(days=90))
    orphan = Path(app.config["JOB_FILES_DIR"]) / "imports" / "orphan-upload.xml"
    orphan.write_text("<NaaccrData/>")
    stale = (utcnow() - dt.timedelta(days=40)).timestamp()
    os.utime(orphan, (stale, stale))
    db_session.add(foreign)
    db_session.commit()

    output = app.test_cli_runner().invoke(args=["jobs", "clean-up"]).output
    assert "2 files of 3 jobs past their retention deleted, 1 uploads no job names deleted" in output, output
    assert not Path(old.params["path"]).exists() and not Path(old.result_file).exists() and not orphan.exists()
    assert Path(recent.params["path"]).exists() and Path(recent.result_file).exists()
    assert Path(submission.result_file).exists(), "a submission file belongs to the submission history"
    assert outside.exists(), "a file outside the job files folder was deleted"
    db_session.expire_all()
    assert db_session.get(Job, old.id).files_deleted_at is not None
    assert db_session.get(Job, recent.id).files_deleted_at is None
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "job_files_deleted")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.username, e.entity_id) for e in entries] == [("cli:jobs-clean-up", str(old.id)),
                                                            ("cli:jobs-clean-up", str(submission.id)),
                                                            ("cli:jobs-clean-up", str(foreign.id)),
                                                            ("cli:jobs-clean-up", None)]
    assert f"{old.id}-upload.xml, {old.id}-report.csv" in entries[0].detail
    admin = make_user("admin")
    db_session.execute(Job.__table__.update().where(Job.id == old.id).values(user_id=admin.id))
    db_session.commit()
    page = sign_in(app, admin.username).get(f"/jobs/{old.id}/result")
    assert page.status_code == 404 and "job files are kept 30 days" in page.get_data(as_text=True)


def test_every_job_cleans_up_after_itself_and_stale_throttle_rows_are_forgotten(app):
    app.config["JOB_FILE_RETENTION_DAYS"] = 7
    old = _ended_job(app, "naaccr-import", 8)
    long_ago = utcnow() - dt.timedelta(days=2)
    db_session.add_all([LoginThrottle(address="192.0.2.1", failures=12, last_failure_at=long_ago,
                                      held_until=long_ago + dt.timedelta(minutes=15)),
                        LoginThrottle(address="192.0.2.2", failures=3, last_failure_at=utcnow())])
    db_session.commit()
    job = Job(kind="test-where-am-i", params={"folder": str(Path(app.config["JOB_FILES_DIR"]))})
    db_session.add(job)
    db_session.commit()
    assert execute(job.id).status is JobStatus.FINISHED
    assert not Path(old.params["path"]).exists() and not Path(old.result_file).exists()
    db_session.expire_all()
    assert db_session.scalars(select(LoginThrottle.address)).all() == ["192.0.2.2"]
