"""Research releases: data use agreements, every dataset that left the registry, and the study-id key.

A release is accountable after the fact: who asked, for which purpose, with which filters and
variables, at which de-identification level, how many rows, the file's checksum and where it
was written. The study ids a release used for patients and tumors are random per release; the
key linking them back to registry records stays here and never leaves.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base
from registry.models.patient import utcnow
from registry.models.user import User


class DataUseAgreement(Base):
    """A data use agreement recorded by an administrator: it lets one user receive limited data sets
    for one project until it expires."""

    __tablename__ = "data_use_agreement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    project: Mapped[str] = mapped_column(String(200), nullable=False)
    expires_on: Mapped[dt.date] = mapped_column(Date, nullable=False, doc="last day the agreement is valid")
    recorded_by: Mapped[str] = mapped_column(String(80), nullable=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship()

    def valid_on(self, day: dt.date) -> bool:
        return self.revoked_at is None and day <= self.expires_on


class ResearchRelease(Base):
    """One research dataset as released: the release log."""

    __tablename__ = "research_release"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False,
                                                    index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False, default="")
    level: Mapped[str] = mapped_column(String(20), nullable=False, doc="safe_harbor, limited or aggregate")
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("data_use_agreement.id"), nullable=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    variables: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    file_format: Mapped[str] = mapped_column(String(10), nullable=False, doc="csv, parquet or naaccr")
    row_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    patient_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False, doc="SHA-256 of the zip as written")
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    file_path: Mapped[str] = mapped_column(String(500), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    purged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    agreement: Mapped[DataUseAgreement | None] = relationship()


class ResearchStudyKey(Base):
    """Which registry tumor and patient each study id of a release stands for (never exported)."""

    __tablename__ = "research_study_key"

    release_id: Mapped[int] = mapped_column(ForeignKey("research_release.id", ondelete="CASCADE"),
                                            primary_key=True)
    tumor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(Integer, nullable=False)
    study_patient_id: Mapped[str] = mapped_column(String(12), nullable=False)
    study_tumor_id: Mapped[str] = mapped_column(String(12), nullable=False)
