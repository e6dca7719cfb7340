"""What abstracting work needs beside the abstract: name keys for search, casefinding suspense,
API tokens and the last edit result of each abstract."""
from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Enum, ForeignKey, Index, Integer, String, Text, event, insert, inspect, update
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from registry.models.patient import Patient, utcnow

_SOUNDEX = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
            "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}


def fold(name: str | None) -> str:
    """Lower-case letters only, accents removed: how names are compared."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]", "", text)


def soundex(name: str | None) -> str:
    """American Soundex (letter + three digits); '' for a name without letters."""
    letters = fold(name)
    if not letters:
        return ""
    code, last = letters[0].upper(), _SOUNDEX.get(letters[0], "")
    for char in letters[1:]:
        digit = _SOUNDEX.get(char, "")
        if digit and digit != last:
            code += digit
            if len(code) == 4:
                break
        if char not in "hw":
            last = digit
    return code.ljust(4, "0")


class PatientNameKey(Base):
    """Phonetic and folded names of each patient, kept by the ORM hooks below (and the demo loader).

    A table of its own so search reads a narrow index and the audit trail of the patient shows only
    what a person changed.
    """

    __tablename__ = "patient_name_key"
    __table_args__ = (Index("ix_patient_name_key_last_key", "last_key", "first_name"),)

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), primary_key=True)
    last_key: Mapped[str] = mapped_column(String(4), nullable=False, doc="Soundex of the last name")
    last_name: Mapped[str] = mapped_column(String(40), nullable=False, index=True, doc="folded last name")
    first_name: Mapped[str] = mapped_column(String(40), nullable=False, doc="folded first name")
    birth_surname: Mapped[str] = mapped_column(String(40), nullable=False, default="", index=True)


def name_key_row(patient_id: int, name_last: str | None, name_first: str | None,
                 name_birth_surname: str | None = None) -> dict[str, Any]:
    return {"patient_id": patient_id, "last_key": soundex(name_last), "last_name": fold(name_last)[:40],
            "first_name": fold(name_first)[:40], "birth_surname": fold(name_birth_surname)[:40]}


NAME_FIELDS = ("name_last", "name_first", "name_birth_surname")


@event.listens_for(Patient, "after_insert")
def _add_name_key(_mapper: Any, connection: Any, patient: Patient) -> None:
    connection.execute(insert(PatientNameKey), [name_key_row(patient.id, patient.name_last, patient.name_first,
                                                             patient.name_birth_surname)])


@event.listens_for(Patient, "after_update")
def _keep_name_key(_mapper: Any, connection: Any, patient: Patient) -> None:
    """Rewrite the key only when a name changed, and in place.

    A save that changes no name issues no UPDATE of the patient, so it holds no lock on it; when every
    save deleted and re-inserted the key, such a save racing a real change re-inserted a key the other
    had just inserted (duplicate key, HTTP 500).
    """
    state = inspect(patient)
    if not any(state.attrs[name].history.has_changes() for name in NAME_FIELDS):
        return
    row = name_key_row(patient.id, patient.name_last, patient.name_first, patient.name_birth_surname)
    updated = connection.execute(update(PatientNameKey).where(PatientNameKey.patient_id == patient.id)
                                 .values({key: value for key, value in row.items() if key != "patient_id"}))
    if updated.rowcount == 0:
        connection.execute(insert(PatientNameKey), [row])


class SuspenseStatus(enum.StrEnum):
    OPEN = "open"
    ABSTRACTED = "abstracted"
    NOT_REPORTABLE = "not_reportable"


class SuspenseCase(Base):
    """A potential case found in casefinding, waiting to be abstracted or ruled out."""

    __tablename__ = "suspense_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_last: Mapped[str | None] = mapped_column(String(40))
    name_first: Mapped[str | None] = mapped_column(String(40))
    date_of_birth: Mapped[str | None] = mapped_column(String(8))
    medical_record_number: Mapped[str | None] = mapped_column(String(15), index=True)
    primary_site: Mapped[str | None] = mapped_column(String(4))
    date_found: Mapped[str | None] = mapped_column(String(8), doc="date of the report or visit (partial date)")
    source: Mapped[str] = mapped_column(String(30), nullable=False, doc="casefinding source code")
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SuspenseStatus] = mapped_column(
        Enum(SuspenseStatus, name="suspense_status", native_enum=False, length=20,
             values_callable=lambda states: [s.value for s in states]),
        default=SuspenseStatus.OPEN, nullable=False, index=True)
    reason: Mapped[str | None] = mapped_column(Text, doc="why it is not reportable, or why a closed case "
                                                          "was re-opened (a corrected report after closing)")
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="SET NULL"))
    tumor_id: Mapped[int | None] = mapped_column(ForeignKey("tumor.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False, doc="first characters, to recognise it")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: The API rate limit's count without Redis: the window's start (epoch seconds) and requests in it.
    rate_window: Mapped[int | None] = mapped_column(BigInteger)
    rate_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")


class AbstractEditStatus(Base):
    """The edit result of an abstract at its last save, so the work queue can list abstracts with errors."""

    __tablename__ = "abstract_edit_status"

    tumor_id: Mapped[int] = mapped_column(ForeignKey("tumor.id", ondelete="CASCADE"), primary_key=True)
    errors: Mapped[int] = mapped_column(Integer, nullable=False, default=0, index=True)
    warnings: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
