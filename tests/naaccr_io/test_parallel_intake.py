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
    helper = list(read_in_helper(path, store=store, batch_size=10, balance="never"))
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
    # 90 patients into an empty registry, at least 20 and as many as before each time: after 21, 42 and 84;
    # the tumor tables once, at the end
    assert analyzed == ([importer.PATIENT_STATISTICS] * 3 + [importer.TUMOR_STATISTICS] if postgresql else [])
    if postgresql:  # and the planner's row counts moved (ANALYZE writes them at once; -1 means never analyzed)
        counts = dict(db_session.execute(text(
            "SELECT relname, reltuples FROM pg_class WHERE oid IN ('patient'::regclass, 'tumor'::regclass)")).all())
        assert counts["patient"] >= 84 and counts["tumor"] >= 94


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


def _settled(messages, intake_of):
    """The messages with every deferred batch split and checked on this side, as the importer does."""
    settled, intake = [], None
    for message in messages:
        if isinstance(message, Opened):
            intake = intake_of(message)
        elif isinstance(message, Batch) and message.deferred:
            message = intake.settle(message)
        settled.append(message)
    return settled


def _comparable(messages):
    """Everything the messages carry, in file order, whatever the batch boundaries (a deferred batch counts
    its rejected records toward its size, so its boundaries can differ)."""
    records, rejections, counts, finished = [], [], [0, 0, 0], None
    for message in messages:
        if isinstance(message, Batch):
            assert not message.deferred
            records += [(r[0].index, r[0].line, r[0].items, r[0].extra, r[1],
                         [(t.index, t.items, t.ssdi, t.extra, v, tr) for t, v, tr in r[2]]) for r in message.records]
            rejections += [row.row() for row in message.rejections]
            counts = [counts[0] + message.patients_read, counts[1] + message.tumors_read,
                      counts[2] + message.records_rejected]
        elif isinstance(message, Finished):
            finished = ([row.row() for row in message.rejections], str(message.fatal))
    return records, rejections, counts, finished


def _record_intake(keep):
    from registry.naaccr.intake import RecordIntake
    return lambda opened: RecordIntake(opened.lookup, keep)


@pytest.mark.parametrize("pattern", [[True], [False, True], [True, True, False]], ids=["all", "every-2nd", "two-of-3"])
def test_batches_checked_by_the_receiver_are_the_batches_the_reader_would_send(app, dictionaries, tmp_path, pattern):
    """A deferred batch, once settled, holds the same records, rejections and counts (bad records and a cut-off file)."""
    import itertools

    from registry.naaccr.importer import _MATCH_ITEMS
    store, _ = installed_dictionaries()
    path = _broken_copy(tmp_path, 60)
    plain = list(read_batches(path, store=store, batch_size=10, keep_items=_MATCH_ITEMS))
    answers = itertools.cycle(pattern)
    deferring = list(read_batches(path, store=store, batch_size=10, keep_items=_MATCH_ITEMS,
                                  defer=lambda: next(answers)))
    assert sum(bool(message.deferred) for message in deferring if isinstance(message, Batch)) >= 2
    settled = _settled(deferring, _record_intake(tuple(_MATCH_ITEMS)))
    assert _comparable(settled) == _comparable(plain)
    assert any(message.rejections for message in settled if isinstance(message, Batch))


def test_helper_leaves_every_batch_to_the_importer_when_told(app, dictionaries, tmp_path):
    from registry.naaccr.importer import _MATCH_ITEMS
    store, _ = installed_dictionaries()
    path = _broken_copy(tmp_path, None)
    plain = list(read_batches(path, store=store, batch_size=10, keep_items=_MATCH_ITEMS))
    helper = list(read_in_helper(path, store=store, batch_size=10, keep_items=_MATCH_ITEMS, balance="always"))
    batches = [message for message in helper if isinstance(message, Batch)]
    assert all(message.deferred or not message.patients_read for message in batches) and not any(
        message.records for message in batches)
    assert _comparable(_settled(helper, _record_intake(tuple(_MATCH_ITEMS)))) == _comparable(plain)


def test_an_import_shares_the_checking_with_its_helper(app, dictionaries, tmp_path):
    """The importer waits for the helper's first batch, so asks for it unchecked: some batches are checked here,
    and the import is the same as one checked wholly in the helper or in one process."""
    from registry.naaccr.importer import Importer
    store, _ = installed_dictionaries()
    path = _broken_copy(tmp_path, None)
    here = import_file(path, actor=SYSTEM, store=store, batch_size=7, dry_run=True, parallel=False)
    shared = Importer(actor=SYSTEM, store=store, batch_size=7, parallel=True).run(path)
    assert shared.batches_checked_here >= 1 and here.batches_checked_here == 0
    assert _outcome(shared) == _outcome(here)
    assert db_session.scalar(select(func.count(Tumor.id))) == shared.tumors_created


def test_batches_travel_through_the_pipe_unchanged(app, dictionaries, tmp_path):
    """What the helper sends (records as marshal data) arrives as the batch it was, tumors shared as before."""
    import pickle

    from registry.naaccr.intake import _pack, _Packed, _unpack
    store, _ = installed_dictionaries()
    batches = [message for message in read_batches(_broken_copy(tmp_path), store=store, batch_size=10)
               if isinstance(message, Batch)]
    assert sum(len(batch.records) for batch in batches) > 50 and any(batch.rejections for batch in batches)
    for batch in batches:
        sent = pickle.loads(pickle.dumps(_pack(batch)))
        assert isinstance(sent, _Packed) == bool(batch.records)
        arrived = _unpack(sent)
        assert arrived == batch
        for incoming, _, tumors in arrived.records:
            assert all(mine is theirs for mine, (theirs, _, _) in zip(incoming.tumors, tumors, strict=True))


def test_a_batch_marshal_cannot_write_is_pickled_whole(app, dictionaries, tmp_path):
    from registry.naaccr.intake import _pack
    store, _ = installed_dictionaries()
    batch = next(message for message in read_batches(SAMPLE, store=store, batch_size=10)
                 if isinstance(message, Batch) and message.records)
    batch.records[0][0].problems.append(object())
    assert _pack(batch) is batch
