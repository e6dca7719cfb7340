"""The MLLP listener: a batch sent over TCP gets one ACK per message, each only after its report is committed."""
import socket

import hl7
from sqlalchemy import create_engine, func, select

from abstracts.epath.mllp import END, START, Listener
from registry.models import CasefindingReport
from tests.casefinding.test_intake import message


class Acks:
    """ACK frames read off a socket, one at a time."""

    def __init__(self, sock: socket.socket):
        self.sock, self.buffer = sock, b""

    def next(self) -> bytes:
        while END not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "the listener closed the connection early"
            self.buffer += chunk
        frame, self.buffer = self.buffer.split(END, 1)
        return frame.lstrip(START)


def test_batch_over_tcp_one_ack_per_message_after_commit(app, database_url):
    listener = Listener(app, "127.0.0.1", 0)
    listener.start()
    observer = create_engine(database_url)  # another connection: sees only what is committed
    try:
        bad = message("B2").replace("PID|1", "PIDX|1")
        batch = "\r".join(["FHS|^~\\&|LIS", "BHS|^~\\&|LIS", message("B1"), bad,
                           message("B3", accession="ACC-3"), "BTS|3", "FTS|1"])
        with socket.create_connection(("127.0.0.1", listener.port), timeout=60) as sock:
            reader = Acks(sock)
            sock.sendall(START + batch.encode() + END)
            acks, committed_at_ack = [], []
            for _ in range(3):
                acks.append(reader.next())
                committed_at_ack.append(_stored(observer))
            sock.sendall(START + message("S4", accession="ACC-4").encode() + END)
            acks.append(reader.next())
        parsed = [hl7.parse(a.decode()) for a in acks]
        assert [(str(m.segment("MSA")[1]), str(m.segment("MSA")[2])) for m in parsed] == [
            ("AA", "B1"), ("AR", "B2"), ("AA", "B3"), ("AA", "S4")]
        assert "PIDX" in str(parsed[1].segment("MSA")[3])
        assert "B1" in committed_at_ack[0] and "B3" in committed_at_ack[2]
        stored = _stored(observer)
        assert stored == {"B1", "B3", "S4"}
    finally:
        listener.shutdown()
        listener.server_close()
        observer.dispose()


def _stored(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(CasefindingReport.message_id)))


def test_unreadable_frame_answered_with_a_reject(app):
    listener = Listener(app, "127.0.0.1", 0)
    listener.start()
    try:
        with socket.create_connection(("127.0.0.1", listener.port), timeout=60) as sock:
            sock.sendall(START + b"hello there" + END)
            ack = Acks(sock).next().decode()
        assert "MSA|AR|" in ack and "neither an HL7 v2 message" in ack
    finally:
        listener.shutdown()
        listener.server_close()


def test_malformed_messages_answered_with_the_reason_nothing_stored_good_ones_acknowledged(app, database_url,
                                                                                           monkeypatch):
    """On one connection: a good message, a date that is not one, a segment that is not ORU^R01, a message
    whose storing fails, and a good one again; only the good ones leave a trace."""
    from abstracts.epath import intake
    from registry.models import AuditEntry, SuspenseCase
    real_store = intake._store_chunk

    def failing_store(session, prepared, actor, source):
        taken = real_store(session, prepared, actor, source)  # written, then the transaction fails
        if any(p.report.message_id == "E4" for p in prepared):
            raise RuntimeError("disk full")
        return taken

    monkeypatch.setattr(intake, "_store_chunk", failing_store)
    listener = Listener(app, "127.0.0.1", 0)
    listener.start()
    observer = create_engine(database_url)
    try:
        frames = [message("G1"), message("D2", accession="ACC-2").replace("||19600101|F", "||2021-13-45|F"),
                  message("S3", accession="ACC-3").replace("OBR|1", "ZZZ|1"), message("E4", accession="ACC-4"),
                  message("G5", accession="ACC-5")]
        with socket.create_connection(("127.0.0.1", listener.port), timeout=60) as sock:
            reader = Acks(sock)
            acks = []
            for text in frames:
                sock.sendall(START + text.encode() + END)
                acks.append(hl7.parse(reader.next().decode()))
        answers = [(str(msa[1]), str(msa[2]), ack.unescape(str(msa[3])) if len(msa) > 3 else "")
                   for ack, msa in ((ack, ack.segment("MSA")) for ack in acks)]
        assert answers == [
            ("AA", "G1", ""),
            ("AR", "D2", "PID-7 '2021-13-45' is not a date (HL7 form YYYYMMDD[HHMM[SS]])"),
            ("AR", "S3", answers[2][2]),
            ("AE", "E4", "not stored: disk full"),
            ("AA", "G5", ""),
        ]
        assert answers[2][2].startswith("segment 3 'ZZZ|1||ACC-3|11529-5^Surgical Pathology^' is not an ORU^R01 segment")
        assert _stored(observer) == {"G1", "G5"}
        with observer.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(SuspenseCase)) == 1
            details = conn.scalars(select(AuditEntry.detail).where(AuditEntry.action == "casefinding_intake")).all()
        assert len(details) == 2 and all(("G1" in d) != ("G5" in d) for d in details)
    finally:
        listener.shutdown()
        listener.server_close()
        observer.dispose()
