"""Installed official reference tables: what, which version, from which file, by whom."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from registry.models.patient import utcnow


class ReferenceInstall(Base):
    __tablename__ = "reference_install"
    __table_args__ = (
        Index("ix_reference_kind_name", "kind", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, doc="e.g. naaccr-dictionary, staging-algorithm")
    name: Mapped[str] = mapped_column(String(120), nullable=False, doc="what it is within its kind, e.g. eod_public")
    version: Mapped[str] = mapped_column(String(60), nullable=False)
    source_file: Mapped[str] = mapped_column(String(255), nullable=False, doc="the file name as given")
    checksum: Mapped[str] = mapped_column(String(64), nullable=False, doc="SHA-256 of the file")
    stored_path: Mapped[str] = mapped_column(String(500), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    installed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    installed_by: Mapped[str] = mapped_column(String(80), nullable=False)
    installed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
