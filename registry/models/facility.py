"""The reporting facility: who this registry is, as letters, reports and NAACCR exports name it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from registry.items import item
from registry.models.patient import utcnow


class Facility(Base):
    """One row: the facility's name, identifiers and address (administrators edit it; every change audited)."""

    __tablename__ = "facility"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    reporting_facility: Mapped[str | None] = item(540, "reportingFacility", 10,
                                                  label="Reporting Facility [540] (facility identification number)")
    npi_reporting_facility: Mapped[str | None] = item(545, "npiReportingFacility", 10, kind="digits",
                                                      label="NPI--Reporting Facility [545]")
    archive_fin: Mapped[str | None] = item(3100, "archiveFin", 10, kind="digits", label="Archive FIN [3100]")
    address_street: Mapped[str | None] = mapped_column(String(120), nullable=True)
    address_city: Mapped[str | None] = mapped_column(String(60), nullable=True)
    address_state: Mapped[str | None] = mapped_column(String(2), nullable=True)
    address_postal_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    telephone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    registry_contact: Mapped[str | None] = mapped_column(String(120), nullable=True,
                                                         doc="who letters and reports name as the registry's contact")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow,
                                                    nullable=False)
