"""The patient: identity, demographics, address at diagnosis and follow-up status."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import ITEM_STORE, Base
from registry.items import item

if TYPE_CHECKING:
    from registry.models.tumor import Tumor

ICD10_CAUSE = r"0000|7777|7797|[A-Z][0-9]{2,3}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Patient(Base):
    """One person in the registry. Name, SSN, MRN and street address are PHI.

    NAACCR carries the medical record number [2300] and the address at diagnosis at the
    tumor level; a hospital registry keeps one of each per patient, so they live here and
    the NAACCR writer repeats them on every tumor.
    """

    __tablename__ = "patient"
    __table_args__ = (
        Index("ix_patient_name", "name_last", "name_first"),
        # follow-ups due and delinquent: living patients by Date of Last Contact [1750] (work queue, worklist)
        Index("ix_patient_follow_up", "vital_status", "date_of_last_contact"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id_number: Mapped[str] = mapped_column(
        String(8), unique=True, nullable=False,
        info={"naaccr_num": 20, "naaccr_id": "patientIdNumber", "length": 8, "kind": "digits",
              "code_list": None, "pattern": None, "label": "Patient ID Number [20]"})
    medical_record_number: Mapped[str | None] = item(2300, "medicalRecordNumber", 15, index=True,
                                                     label="Medical Record Number [2300]")
    name_last: Mapped[str | None] = item(2230, "nameLast", 40, label="Last name [2230]")
    name_first: Mapped[str | None] = item(2240, "nameFirst", 40, label="First name [2240]")
    name_middle: Mapped[str | None] = item(2250, "nameMiddle", 40, label="Middle name [2250]")
    name_birth_surname: Mapped[str | None] = item(2232, "nameBirthSurname", 40,
                                                  label="Birth surname (maiden name) [2232]")
    date_of_birth: Mapped[str | None] = item(240, "dateOfBirth", 8, kind="date", index=True,
                                             label="Date of Birth [240]")
    sex: Mapped[str | None] = item(220, "sex", 1, kind="code", code_list="sex", label="Sex [220]")
    sex_assigned_at_birth: Mapped[str | None] = item(
        225, "sexAssignedAtBirth", 1, kind="code", code_list="sex_assigned_at_birth",
        label="Sex Assigned at Birth [225]")
    race1: Mapped[str | None] = item(160, "race1", 2, kind="code", code_list="race", label="Race 1 [160]")
    race2: Mapped[str | None] = item(161, "race2", 2, kind="code", code_list="race", label="Race 2 [161]")
    race3: Mapped[str | None] = item(162, "race3", 2, kind="code", code_list="race", label="Race 3 [162]")
    race4: Mapped[str | None] = item(163, "race4", 2, kind="code", code_list="race", label="Race 4 [163]")
    race5: Mapped[str | None] = item(164, "race5", 2, kind="code", code_list="race", label="Race 5 [164]")
    spanish_hispanic_origin: Mapped[str | None] = item(
        190, "spanishHispanicOrigin", 1, kind="code", code_list="spanish_hispanic_origin",
        label="Spanish/Hispanic Origin [190]")
    social_security_number: Mapped[str | None] = item(2320, "socialSecurityNumber", 9, kind="digits",
                                                      index=True, label="Social Security Number [2320]")
    addr_at_dx_street: Mapped[str | None] = item(2330, "addrAtDxNoStreet", 60,
                                                 label="Address at diagnosis, number and street [2330]")
    addr_at_dx_city: Mapped[str | None] = item(70, "addrAtDxCity", 50, label="City at diagnosis [70]")
    addr_at_dx_state: Mapped[str | None] = item(80, "addrAtDxState", 2, kind="pattern", pattern=r"[A-Z]{2}",
                                                label="State at diagnosis [80]")
    addr_at_dx_postal_code: Mapped[str | None] = item(100, "addrAtDxPostalCode", 9, kind="pattern",
                                                      pattern=r"[0-9]{5}([0-9]{4})?|[A-Z0-9]{3,9}",
                                                      label="Postal code at diagnosis [100]")
    county_at_dx: Mapped[str | None] = item(90, "countyAtDx", 3, kind="digits", label="County at diagnosis [90]")
    vital_status: Mapped[str | None] = item(1760, "vitalStatus", 1, kind="code", code_list="vital_status",
                                            label="Vital Status [1760]")
    date_of_last_contact: Mapped[str | None] = item(1750, "dateOfLastContact", 8, kind="date",
                                                    label="Date of Last Contact [1750]")
    cause_of_death: Mapped[str | None] = item(1910, "causeOfDeath", 4, kind="pattern", pattern=ICD10_CAUSE,
                                              label="Cause of Death [1910]")
    extra_items: Mapped[dict[str, Any]] = mapped_column(
        ITEM_STORE, default=dict, nullable=False,
        doc="catalogued NAACCR Patient items without a column, keyed by naaccrId (registry.catalogue)")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow,
                                                    nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    tumors: Mapped[list[Tumor]] = relationship(back_populates="patient", order_by="Tumor.sequence_number_hospital",
                                               cascade="all, delete-orphan")
    follow_ups: Mapped[list[FollowUpContact]] = relationship(
        back_populates="patient", order_by="FollowUpContact.date_of_contact", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        first = " ".join(part for part in (self.name_first, self.name_middle) if part)
        return f"{self.name_last or '?'}, {first}".rstrip(", ")

    @property
    def described(self) -> str:
        """The patient as registrars find them, for messages (never the database id): ``Doe, Jane (MRN 12345)``,
        or with the Patient ID Number [20] when there is no medical record number."""
        number = (f"MRN {self.medical_record_number}" if self.medical_record_number
                  else f"Patient ID {self.patient_id_number}")
        return f"{self.display_name} ({number})"


class FollowUpContact(Base):
    """One follow-up contact: when, how, the patient's vital status and each tumor's status."""

    __tablename__ = "follow_up_contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    date_of_contact: Mapped[str] = mapped_column(
        String(8), nullable=False,
        info={"naaccr_num": 1750, "naaccr_id": "dateOfLastContact", "length": 8, "kind": "date",
              "code_list": None, "pattern": None, "label": "Date of contact [1750]"})
    vital_status: Mapped[str | None] = item(1760, "vitalStatus", 1, kind="code", code_list="vital_status",
                                            label="Vital Status [1760]")
    follow_up_source: Mapped[str | None] = item(1790, "followUpSource", 1, kind="code",
                                                code_list="follow_up_source", label="Follow-up Source [1790]")
    next_follow_up_due: Mapped[str | None] = mapped_column(
        String(8), nullable=True, index=True,
        info={"kind": "date", "label": "Next follow-up due"})
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    server_default=func.now(), nullable=False)

    patient: Mapped[Patient] = relationship(back_populates="follow_ups")
    tumor_statuses: Mapped[list[FollowUpTumorStatus]] = relationship(back_populates="contact",
                                                                     cascade="all, delete-orphan")


class FollowUpTumorStatus(Base):
    """Cancer status [1770] of one tumor as learned at one contact."""

    __tablename__ = "follow_up_tumor_status"

    contact_id: Mapped[int] = mapped_column(ForeignKey("follow_up_contact.id", ondelete="CASCADE"),
                                            primary_key=True)
    tumor_id: Mapped[int] = mapped_column(ForeignKey("tumor.id", ondelete="CASCADE"), primary_key=True)
    cancer_status: Mapped[str | None] = item(1770, "cancerStatus", 1, kind="code", code_list="cancer_status",
                                      label="Cancer Status [1770]")

    contact: Mapped[FollowUpContact] = relationship(back_populates="tumor_statuses")
