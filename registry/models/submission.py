"""NAACCR submissions: every exported file, and which tumors (at which version) it carried."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base
from registry.models.patient import utcnow


class Submission(Base):
    """One exported NAACCR XML file: what it is, who made it and when (the file itself stays on disk)."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_path: Mapped[str] = mapped_column(String(500), nullable=False)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False, doc="SHA-256 of the file as written")
    naaccr_version: Mapped[str] = mapped_column(String(3), nullable=False, doc="e.g. 250, 260")
    record_type: Mapped[str] = mapped_column(String(1), nullable=False, doc="A, M, C or I")
    diagnosis_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    patient_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tumor_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False,
                                                    index=True)
    include_incomplete: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="0",
        doc="a test file: abstracts in progress or failing error edits were sent too")
    left_out_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")

    tumors: Mapped[list[SubmissionTumor]] = relationship(back_populates="submission",
                                                         cascade="all, delete-orphan", passive_deletes=True)
    left_out: Mapped[list[SubmissionLeftOut]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SubmissionLeftOut.tumor_id")


class SubmissionTumor(Base):
    """A tumor sent in a submission, with the tumor and patient versions sent (what M records compare)."""

    __tablename__ = "submission_tumor"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True)
    tumor_id: Mapped[int] = mapped_column(ForeignKey("tumor.id", ondelete="CASCADE"), primary_key=True, index=True)
    tumor_version: Mapped[int] = mapped_column(Integer, nullable=False)
    patient_version: Mapped[int] = mapped_column(Integer, nullable=False)

    submission: Mapped[Submission] = relationship(back_populates="tumors")


class SubmissionLeftOut(Base):
    """A tumor the submission's selection named but did not send, and why (in progress, failing error edits)."""

    __tablename__ = "submission_left_out"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True)
    tumor_id: Mapped[int] = mapped_column(ForeignKey("tumor.id", ondelete="CASCADE"), primary_key=True, index=True)
    patient_id_number: Mapped[str] = mapped_column(String(8), nullable=False)
    primary_site: Mapped[str | None] = mapped_column(String(4), nullable=True)
    date_of_diagnosis: Mapped[str | None] = mapped_column(String(8), nullable=True)
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)

    submission: Mapped[Submission] = relationship(back_populates="left_out")
