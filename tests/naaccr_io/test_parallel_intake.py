"""Reading a file in a helper process imports exactly what reading it here does."""
from __future__ import annotations

import gzip

import pytest
from sqlalchemy import func, select, text

from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import AuditEntry, Tumor
from registry.naaccr.importer import import_file
from registry.naaccr.intake import Batch, Finished, Opened, read_batches, read_in_helper
from registry.naaccr.records import installed_dictionaries
from reports.submissions import export_file
from tests.naaccr_io.conftest import SAMPLES_DIR
from tests.naaccr_io.helpers import file_items

SAMPLE = SAMPLES_DIR / "naaccr-xml-sample-v250-abstract-100.xml.gz"


def _broken_copy(tmp_path, cut_after_patients: int | None = None):
    """The 100-tumor sample with three bad values (in two or three records) and, optionally, cut off mid-file."""
    text = gzip.decompress(SAMPLE.read_bytes()).decode("utf-8")
    text = text.replace('<Item naaccrId="primarySite">', '<Item naaccrId="primarySite">X', 2)
    text = text.replace('<Item naaccrId="dateOfDiagnosis">', '<Item naaccrId="dateOfDiagnosis">2', 1)
    if cut_after_patients is not None:
        ends = [i for i in range(len(text)) if text.startswith("</Patient>", i)]
        text = text[:ends[cut_after_patients] + 60]
    path = tmp_path / "broken.xml"
    path.write_text(text, encoding="utf-8")
    return path


def _outcome(result):
    return (result.status, result.patients_read, result.tumors_read, result.records_rejected, result.tumors_created,
            [rejection.row() for rejection in result.rejections], str(result.fatal))


@pytest.mark.parametrize("cut", [None, 40], ids=["whole", "cut-off"])
def test_helper_process_accepts_and_rejects_exactly_the_same(app, dictionaries, tmp_path, cut):
    path = _broken_copy(tmp_path, cut)
    store, _ = installed_dictionaries()
    here = import_file(path, actor=SYSTEM, store=store, batch_size=7, dry_run=True, parallel=False)
    helper = import_file(path, actor=SYSTEM, store=store, batch_size=7, parallel=True)
    assert here.records_rejected >= 2 and here.rejections  # the file does hold bad records
    assert (cut is None) == (here.fatal is None)
    assert _outcome(helper) == _outcome(here)
    assert db_session.scalar(select(func.count(Tumor.id))) == helper.tumors_created


def test_records_written_from_the_helper_are_the_same_records(app, dictionaries, tmp_path):
    store, _ = installed_dictionaries()
    first = import_file(SAMPLE, actor=SYSTEM, store=store, batch_size=7, parallel=True, save_hooks=False)
    assert (first.patients_created, first.tumors_created) == (90, 100)
    audit_rows = db_session.scalar(select(func.count(AuditEntry.id)))
    again = import_file(SAMPLE, actor=SYSTEM, store=store, batch_size=7, parallel=False, save_hooks=False)
    assert (again.patients_unchanged, again.tumors_unchanged, again.patients_updated, again.tumors_updated) == \
        (90, 100, 0, 0)
    assert db_session.scalar(select(func.count(AuditEntry.id))) == audit_rows + 1
    out = tmp_path / "again.xml"
    export_file(out, store.get("250"), "A")
    assert file_items(out, store) == file_items(SAMPLE, store)


def test_helper_sends_the_same_messages(app, dictionaries, tmp_path):
    store, _ = installed_dictionaries()
    path = _broken_copy(tmp_path, 60)
    here = list(read_batches(path, store=store, batch_size=10))
    helper = list(read_in_helper(path, store=store, batch_size=10))
    assert [type(message) for message in helper] == [type(message) for message in here]
    assert isinstance(here[0], Opened) and isinstance(here[-1], Finished) and here[-1].fatal is not None
    for mine, theirs in zip(here, helper):
        if isinstance(mine, Batch):
            assert [(r[0].index, r[1], [(t.index, v, tr) for t, v, tr in r[2]]) for r in mine.records] == \
                [(r[0].index, r[1], [(t.index, v, tr) for t, v, tr in r[2]]) for r in theirs.records]
            assert (mine.rejections, mine.patients_read, mine.position) == \
                (theirs.rejections, theirs.patients_read, theirs.position)


def test_a_file_that_cannot_be_opened_fails_the_same_way(app, dictionaries, tmp_path):
    store, _ = installed_dictionaries()
    with pytest.raises(IsADirectoryError):
        list(read_batches(tmp_path, store=store))
    with pytest.raises(IsADirectoryError):
        list(read_in_helper(tmp_path, store=store))


def test_postgresql_statistics_are_refreshed_as_an_import_grows_the_tables(app, dictionaries, monkeypatch):
    """The planner must not keep matching batches with plans made for the near-empty tables (SQLite: no ANALYZE)."""
    engine = db_session().get_bind()
    postgresql = engine.dialect.name == "postgresql"
    from sqlalchemy import event

    from registry.naaccr import importer
    monkeypatch.setattr(importer, "STATISTICS_EVERY", 20)
    analyzed = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.startswith("ANALYZE"):
            analyzed.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        store, _ = installed_dictionaries()
        assert import_file(SAMPLE, actor=SYSTEM, store=store, batch_size=7).patients_created == 90
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # 90 patients into an empty registry, at least 20 and as many as before each time: after 21, 42 and 84
    assert len(analyzed) == (3 if postgresql else 0)
    if postgresql:  # and the planner's row count moved (ANALYZE writes it at once; -1 means never analyzed)
        assert db_session.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'patient'::regclass")).scalar() >= 84


def _kill_helpers() -> int:
    """Kill this process's `python -m registry.naaccr.intake` children (Linux /proc); how many."""
    import os
    import signal
    from pathlib import Path
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"registry.naaccr.intake" in command:
            os.kill(int(entry.name), signal.SIGKILL)
            killed += 1
    return killed


def test_a_helper_that_dies_ends_the_import_like_a_broken_file(app, dictionaries):
    store, _ = installed_dictionaries()
    killed = []

    def progress(percent, message):
        if not killed:
            killed.append(_kill_helpers())

    result = import_file(SAMPLE, actor=SYSTEM, store=store, batch_size=7, parallel=True, progress=progress)
    assert killed == [1]
    assert result.status == "unreadable" and "process reading the file stopped" in result.fatal.message
    # the batches written before it died stay, whole
    assert 0 < result.tumors_created < 100
    assert db_session.scalar(select(func.count(Tumor.id))) == result.tumors_created
