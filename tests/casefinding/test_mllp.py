"""The MLLP listener: a batch sent over TCP gets one ACK per message, each only after its report is committed."""
import socket

import hl7
from sqlalchemy import create_engine, select

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
