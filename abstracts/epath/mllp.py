"""An MLLP listener: each HL7 v2 message received is stored, and only then acknowledged.

Frames are ``<VT> message(s) <FS><CR>``. A frame may hold one message or a batch (FHS/BHS…); every
message gets its own ACK: AA once its report and suspense case are committed, AR with the reason
when it cannot be read (nothing of it stored), AE when storing it failed.
"""
from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable
from typing import Any

import hl7
from flask import Flask

from abstracts.epath.intake import Document, read_documents, store_documents
from registry.audit import Actor
from registry.db import db_session

START, END = b"\x0b", b"\x1c\x0d"
LISTENER_ACTOR = Actor(None, "casefinding-mllp")
MAX_FRAME = 50 * 1024 * 1024


def frame(message: str) -> bytes:
    return START + message.encode("utf-8") + END


def acknowledgement(document: Document, code: str, reason: str | None = None) -> str:
    """The ACK for ``document`` (MSA-1 ``code``, MSA-3 the reason), built by ``hl7`` from its MSH; the
    reason is HL7-escaped, so a receiver reads it back whole (``ORU^R01``, a quoted ``ZZZ|1``)."""
    try:
        message = hl7.parse(document.text.split("\r\r")[0])
        message.segment("MSH")
        ack = message.create_ack(ack_code=code, application="CANCER-REGISTRY", facility="CASEFINDING")
    except (hl7.HL7Exception, KeyError, IndexError, ValueError):
        control = (document.control_id or "").replace("|", "").replace("\r", "")
        ack = hl7.parse(f"MSH|^~\\&|CANCER-REGISTRY|CASEFINDING|||||ACK|{hl7.generate_message_control_id()}|P|"
                        f"2.5.1\rMSA|{code}|{control}")
    text = str(ack)
    if reason:
        clean = ack.escape(" ".join(reason.split())[:200])
        lines = text.rstrip("\r").split("\r")
        lines = [line + f"|{clean}" if line.startswith("MSA") and line.count("|") == 2 else line for line in lines]
        text = "\r".join(lines)
    return text


def handle_payload(payload: bytes, peer: str, send: Callable[[str], None]) -> None:
    """Store each message of one frame and ``send`` its ACK, in order, each as soon as it is committed."""
    try:
        documents = read_documents(payload, f"mllp {peer}")
    except Exception as exc:  # an unreadable frame still gets an answer
        send(acknowledgement(Document(f"mllp {peer}", payload.decode("utf-8", "replace")), "AR", str(exc)))
        return
    for document in documents:
        if document.report is None:
            send(acknowledgement(document, "AR", document.error))
            continue
        try:
            store_documents([document], actor=LISTENER_ACTOR, source=f"mllp {peer}", chunk=1)
        except Exception as exc:  # the sender must hear that this one was not stored
            db_session.rollback()
            send(acknowledgement(document, "AE", f"not stored: {exc}"))
            continue
        send(acknowledgement(document, "AA"))


class _Handler(socketserver.StreamRequestHandler):
    server: Listener

    def handle(self) -> None:
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        buffer = b""
        while True:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            buffer += chunk
            if len(buffer) > MAX_FRAME:
                return
            while END in buffer:
                raw, buffer = buffer.split(END, 1)
                payload = raw[raw.find(START) + 1:] if START in raw else raw
                with self.server.app.app_context():
                    try:
                        handle_payload(payload, peer, self._send)
                    finally:
                        db_session.remove()

    def _send(self, ack: str) -> None:
        self.wfile.write(frame(ack))
        self.wfile.flush()


class Listener(socketserver.ThreadingTCPServer):
    """The TCP server; ``serve_forever`` in the CLI, ``start`` in a thread for tests."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: Flask, host: str, port: int):
        super().__init__((host, port), _Handler)
        self.app = app

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="casefinding-mllp", daemon=True)
        thread.start()
        return thread

    @property
    def port(self) -> Any:
        return self.server_address[1]
