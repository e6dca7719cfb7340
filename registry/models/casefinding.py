"""Electronic casefinding: each pathology report or FHIR bundle taken in, kept with the suspense case it
raised or joined (the source document is PHI, read under the same rules as a patient page)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from registry.models.patient import utcnow


class CasefindingReport(Base):
    """One report as received, what was read from it, its screening, patient match and suggested codes."""

    __tablename__ = "casefinding_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suspense_case_id: Mapped[int] = mapped_column(ForeignKey("suspense_case.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    format: Mapped[str] = mapped_column(String(10), nullable=False, doc="hl7v2 or fhir")
    received_from: Mapped[str] = mapped_column(String(200), nullable=False, doc="file name, API or MLLP peer")
    message_id: Mapped[str | None] = mapped_column(String(100), doc="MSH-10 or the bundle id")
    accession: Mapped[str | None] = mapped_column(String(100), index=True, doc="the laboratory's report number")
    report_status: Mapped[str] = mapped_column(String(1), nullable=False, default="F",
                                               doc="F final, C corrected (replaces an earlier report), P preliminary")
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("casefinding_report.id", ondelete="SET NULL"))
    document: Mapped[str] = mapped_column(Text, nullable=False, doc="the message or bundle as received")
    report_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    content: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, doc="what was read (PathologyReport)")
    screening: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    reportable: Mapped[bool] = mapped_column(Boolean, nullable=False, index=True)
    suggestions: Mapped[list[Any]] = mapped_column(JSON, nullable=False)
    match: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False,
                                                  doc="matched or proposed patient with the reasons")
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="SET NULL"), index=True)
    group_key: Mapped[str] = mapped_column(String(120), nullable=False, index=True,
                                           doc="patient identity and site group: reports on one tumor share it")
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
