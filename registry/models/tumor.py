"""The tumor abstract (one per reportable primary) and its first-course treatment."""
from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, DateTime, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.dates import display_date
from registry.db import ITEM_STORE, Base
from registry.items import item
from registry.models.patient import utcnow
from registry.summary_stage import SummaryStage, summary_stage, summary_stage_sql

if TYPE_CHECKING:
    from registry.models.patient import Patient
    from registry.models.user import User

AJCC = r"[A-Za-z0-9:.+()-]{1,15}"
EOD_TUMOR_NODES = r"[0-9]{3}|[0-9]{2}[A-Z]|[A-Z0-9]{3}"


class WorkflowState(enum.StrEnum):
    """Where an abstract stands: in progress → complete → reviewed (a reviewer may return it)."""

    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    REVIEWED = "reviewed"


#: Laterality [410] as a word in :attr:`Tumor.described` (codes 0 and 9 say nothing worth repeating).
LATERALITY_WORDS = {"1": "right", "2": "left", "3": "one side", "4": "bilateral", "5": "midline"}


class Tumor(Base):
    """One reportable primary: diagnosis, stage and workflow of the abstract."""

    __tablename__ = "tumor"
    __table_args__ = (
        Index("ix_tumor_site_dx", "primary_site", "date_of_diagnosis"),
        # the work queues: abstracts of one workflow state, the most (or least) recently changed first
        Index("ix_tumor_workflow_updated", "workflow_state", "updated_at"),
        Index("ix_tumor_workflow_dx", "workflow_state", "date_of_diagnosis"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)

    primary_site: Mapped[str | None] = item(400, "primarySite", 4, kind="pattern", pattern=r"C[0-9]{3}",
                                            label="Primary Site [400]")
    laterality: Mapped[str | None] = item(410, "laterality", 1, kind="code", code_list="laterality",
                                          label="Laterality [410]")
    histology: Mapped[str | None] = item(522, "histologicTypeIcdO3", 4, kind="pattern", pattern=r"[89][0-9]{3}",
                                         label="Histologic Type ICD-O-3 [522]")
    behavior: Mapped[str | None] = item(523, "behaviorCodeIcdO3", 1, kind="code", code_list="behavior",
                                        label="Behavior Code ICD-O-3 [523]")
    grade_clinical: Mapped[str | None] = item(3843, "gradeClinical", 1, kind="code", code_list="grade_2018",
                                              label="Grade Clinical [3843]")
    grade_pathological: Mapped[str | None] = item(3844, "gradePathological", 1, kind="code",
                                                  code_list="grade_2018", label="Grade Pathological [3844]")
    grade_post_therapy: Mapped[str | None] = item(3845, "gradePostTherapy", 1, kind="code",
                                                  code_list="grade_2018", label="Grade Post Therapy [3845]")
    grade_pre_2018: Mapped[str | None] = item(440, "grade", 1, kind="code", code_list="grade_pre_2018",
                                              label="Grade [440] (diagnoses before 2018)")
    diagnostic_confirmation: Mapped[str | None] = item(490, "diagnosticConfirmation", 1, kind="code",
                                                       code_list="diagnostic_confirmation",
                                                       label="Diagnostic Confirmation [490]")
    date_of_diagnosis: Mapped[str | None] = item(390, "dateOfDiagnosis", 8, kind="date", index=True,
                                                 label="Date of Diagnosis [390]")
    sequence_number_hospital: Mapped[str | None] = item(560, "sequenceNumberHospital", 2, kind="pattern",
                                                        pattern=r"[0-5][0-9]|6[0-9]|7[0-9]|8[0-8]|98|99",
                                                        label="Sequence Number--Hospital [560]")
    sequence_number_central: Mapped[str | None] = item(380, "sequenceNumberCentral", 2, kind="pattern",
                                                       pattern=r"[0-5][0-9]|6[0-9]|7[0-9]|8[0-8]|98|99",
                                                       label="Sequence Number--Central [380]")
    class_of_case: Mapped[str | None] = item(610, "classOfCase", 2, kind="code", code_list="class_of_case",
                                             label="Class of Case [610]")
    type_of_reporting_source: Mapped[str | None] = item(500, "typeOfReportingSource", 1, kind="code",
                                                        code_list="type_of_reporting_source",
                                                        label="Type of Reporting Source [500]")
    date_of_first_contact: Mapped[str | None] = item(580, "dateOf1stContact", 8, kind="date",
                                                     label="Date of 1st Contact [580]")

    summary_stage_2018: Mapped[str | None] = item(764, "summaryStage2018", 1, kind="code",
                                                  code_list="summary_stage_2018", label="Summary Stage 2018 [764]")
    summary_stage_2000: Mapped[str | None] = item(759, "seerSummaryStage2000", 1, kind="code",
                                                  code_list="summary_stage_2000",
                                                  label="SEER Summary Stage 2000 [759] (diagnoses 2001-2017)")
    eod_primary_tumor: Mapped[str | None] = item(772, "eodPrimaryTumor", 3, kind="pattern",
                                                 pattern=EOD_TUMOR_NODES, label="EOD Primary Tumor [772]")
    eod_regional_nodes: Mapped[str | None] = item(774, "eodRegionalNodes", 3, kind="pattern",
                                                  pattern=EOD_TUMOR_NODES, label="EOD Regional Nodes [774]")
    eod_mets: Mapped[str | None] = item(776, "eodMets", 2, kind="pattern", pattern=r"[0-9]{2}",
                                        label="EOD Mets [776]")
    ajcc_clinical_t: Mapped[str | None] = item(1001, "ajccTnmClinT", 15, kind="pattern", pattern=AJCC,
                                               label="AJCC TNM Clin T [1001]")
    ajcc_clinical_n: Mapped[str | None] = item(1002, "ajccTnmClinN", 15, kind="pattern", pattern=AJCC,
                                               label="AJCC TNM Clin N [1002]")
    ajcc_clinical_m: Mapped[str | None] = item(1003, "ajccTnmClinM", 15, kind="pattern", pattern=AJCC,
                                               label="AJCC TNM Clin M [1003]")
    ajcc_clinical_stage_group: Mapped[str | None] = item(1004, "ajccTnmClinStageGroup", 15, kind="pattern",
                                                         pattern=AJCC, label="AJCC TNM Clin Stage Group [1004]")
    ajcc_pathological_t: Mapped[str | None] = item(1011, "ajccTnmPathT", 15, kind="pattern", pattern=AJCC,
                                                   label="AJCC TNM Path T [1011]")
    ajcc_pathological_n: Mapped[str | None] = item(1012, "ajccTnmPathN", 15, kind="pattern", pattern=AJCC,
                                                   label="AJCC TNM Path N [1012]")
    ajcc_pathological_m: Mapped[str | None] = item(1013, "ajccTnmPathM", 15, kind="pattern", pattern=AJCC,
                                                   label="AJCC TNM Path M [1013]")
    ajcc_pathological_stage_group: Mapped[str | None] = item(1014, "ajccTnmPathStageGroup", 15, kind="pattern",
                                                             pattern=AJCC,
                                                             label="AJCC TNM Path Stage Group [1014]")
    schema_id: Mapped[str | None] = item(3800, "schemaId", 5, kind="digits", label="Schema ID [3800]")
    schema_discriminator_1: Mapped[str | None] = item(3926, "schemaDiscriminator1", 1,
                                                      label="Schema Discriminator 1 [3926]")
    schema_discriminator_2: Mapped[str | None] = item(3927, "schemaDiscriminator2", 1,
                                                      label="Schema Discriminator 2 [3927]")
    schema_discriminator_3: Mapped[str | None] = item(3928, "schemaDiscriminator3", 1,
                                                      label="Schema Discriminator 3 [3928]")
    derived_summary_stage_2018: Mapped[str | None] = item(
        762, "derivedSummaryStage2018", 1, kind="code", code_list="summary_stage_2018", derived=True,
        label="Derived Summary Stage 2018 [762]")
    derived_eod_2018_t: Mapped[str | None] = item(785, "derivedEod2018T", 15, kind="pattern", pattern=AJCC,
                                                  derived=True, label="Derived EOD 2018 T [785]")
    derived_eod_2018_n: Mapped[str | None] = item(815, "derivedEod2018N", 15, kind="pattern", pattern=AJCC,
                                                  derived=True, label="Derived EOD 2018 N [815]")
    derived_eod_2018_m: Mapped[str | None] = item(795, "derivedEod2018M", 15, kind="pattern", pattern=AJCC,
                                                  derived=True, label="Derived EOD 2018 M [795]")
    derived_eod_2018_stage_group: Mapped[str | None] = item(818, "derivedEod2018StageGroup", 15, kind="pattern",
                                                            pattern=AJCC, derived=True,
                                                            label="Derived EOD 2018 Stage Group [818]")
    derived_summary_grade_2018: Mapped[str | None] = item(1975, "derivedSummaryGrade2018", 1, derived=True,
                                                          label="Derived Summary Grade 2018 [1975]")
    staging_algorithm: Mapped[str | None] = mapped_column(String(60), nullable=True,
                                                          doc="algorithm and version that derived the stage")
    staged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    surv_date_active_followup: Mapped[str | None] = item(1782, "survDateActiveFollowup", 8, kind="date",
                                                         derived=True, label="Surv-Date Active Followup [1782]")
    surv_flag_active_followup: Mapped[str | None] = item(1783, "survFlagActiveFollowup", 1, kind="digits",
                                                         derived=True, label="Surv-Flag Active Followup [1783]")
    surv_mos_active_followup: Mapped[str | None] = item(1784, "survMosActiveFollowup", 4, kind="digits",
                                                        derived=True, label="Surv-Mos Active Followup [1784]")
    surv_date_presumed_alive: Mapped[str | None] = item(1785, "survDatePresumedAlive", 8, kind="date",
                                                        derived=True, label="Surv-Date Presumed Alive [1785]")
    surv_flag_presumed_alive: Mapped[str | None] = item(1786, "survFlagPresumedAlive", 1, kind="digits",
                                                        derived=True, label="Surv-Flag Presumed Alive [1786]")
    surv_mos_presumed_alive: Mapped[str | None] = item(1787, "survMosPresumedAlive", 4, kind="digits",
                                                       derived=True, label="Surv-Mos Presumed Alive [1787]")
    surv_date_dx_recode: Mapped[str | None] = item(1788, "survDateDxRecode", 8, kind="date", derived=True,
                                                   label="Surv-Date DX Recode [1788]")
    site_specific_items: Mapped[dict[str, str]] = mapped_column(ITEM_STORE, default=dict, nullable=False,
                                                                doc="SSDIs keyed by naaccrId")
    extra_items: Mapped[dict[str, Any]] = mapped_column(
        ITEM_STORE, default=dict, nullable=False,
        doc="catalogued NAACCR items without a column, keyed by naaccrId (registry.catalogue), and items of "
            "user dictionaries kept verbatim")

    workflow_state: Mapped[WorkflowState] = mapped_column(
        Enum(WorkflowState, name="workflow_state", native_enum=False, length=20,
             values_callable=lambda states: [s.value for s in states]),
        default=WorkflowState.IN_PROGRESS, nullable=False, index=True)
    workflow_comment: Mapped[str | None] = mapped_column(Text, nullable=True,
                                                         doc="the reviewer's note when an abstract is returned")
    abstracted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    abstracted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True, index=True,
                                                       doc="the registrar whose work list holds the abstract")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow,
                                                    nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    patient: Mapped[Patient] = relationship(back_populates="tumors")
    treatment: Mapped[FirstCourseTreatment] = relationship(back_populates="tumor", uselist=False,
                                                           cascade="all, delete-orphan")
    abstracted_by: Mapped[User | None] = relationship(foreign_keys=[abstracted_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def morphology(self) -> str:
        """ICD-O-3 morphology as registrars write it, e.g. ``8500/3``."""
        return f"{self.histology or '????'}/{self.behavior or '?'}"

    @property
    def described(self) -> str:
        """The tumor as registrars tell tumors apart, for messages (never the database id):
        ``C50.4 8500/3 right, diagnosed 2025-03-14, sequence 00``."""
        site = self.primary_site or ""
        head = [f"{site[:3]}.{site[3:]}" if len(site) == 4 else site or "site ?",
                self.morphology if self.histology else "histology ?"]
        side = LATERALITY_WORDS.get(self.laterality or "")
        if side:
            head.append(side)
        parts = [" ".join(head), f"diagnosed {display_date(self.date_of_diagnosis)}" if self.date_of_diagnosis
                 else "diagnosis date blank"]
        if self.sequence_number_hospital:
            parts.append(f"sequence {self.sequence_number_hospital}")
        return ", ".join(parts)

    @property
    def stage_at_diagnosis(self) -> SummaryStage:
        """The tumor's summary stage and the scheme it came from (rule: registry.summary_stage)."""
        return summary_stage(self)

    @hybrid_property
    def summary_stage(self) -> str | None:
        """Summary stage code by the registry's rule; in a query, the same rule as SQL."""
        return summary_stage(self).code

    @summary_stage.inplace.expression
    @classmethod
    def _summary_stage_sql(cls) -> ColumnElement[str | None]:
        return summary_stage_sql(cls).code

    @hybrid_property
    def summary_stage_scheme(self) -> str | None:
        """Where :attr:`summary_stage` came from: ``SS2018``, ``SS2018 derived`` or ``SS2000``."""
        return summary_stage(self).scheme

    @summary_stage_scheme.inplace.expression
    @classmethod
    def _summary_stage_scheme_sql(cls) -> ColumnElement[str | None]:
        return summary_stage_sql(cls).scheme


class FirstCourseTreatment(Base):
    """First-course treatment summary of one tumor (edited with the tumor; shares its version)."""

    __tablename__ = "first_course_treatment"

    tumor_id: Mapped[int] = mapped_column(ForeignKey("tumor.id", ondelete="CASCADE"), primary_key=True)
    surgery_of_primary_site: Mapped[str | None] = item(
        1290, "rxSummSurgPrimSite", 2, kind="digits", label="RX Summ--Surg Prim Site [1290] (diagnoses before 2023)")
    surgery_of_primary_site_2023: Mapped[str | None] = item(
        1291, "rxSummSurgPrimSite2023", 4, kind="pattern", pattern=r"[A-B][0-9]{3}",
        label="RX Summ--Surg Prim Site 2023 [1291]")
    date_of_surgery: Mapped[str | None] = item(1200, "rxDateSurgery", 8, kind="date",
                                               label="RX Date--Surgery [1200]")
    scope_regional_lymph_node_surgery: Mapped[str | None] = item(
        1292, "rxSummScopeRegLnSur", 1, kind="code", code_list="scope_regional_lymph_node_surgery",
        label="RX Summ--Scope Reg LN Sur [1292]")
    surgery_other_sites: Mapped[str | None] = item(1294, "rxSummSurgOthRegDis", 1, kind="code",
                                                   code_list="surgery_other_sites",
                                                   label="RX Summ--Surg Oth Reg/Dis [1294]")
    reason_for_no_surgery: Mapped[str | None] = item(1340, "reasonForNoSurgery", 1, kind="code",
                                                     code_list="reason_for_no_surgery",
                                                     label="Reason for No Surgery [1340]")
    radiation_modality: Mapped[str | None] = item(1506, "phase1RadiationTreatmentModality", 2, kind="code",
                                                  code_list="radiation_modality",
                                                  label="Phase I Radiation Treatment Modality [1506]")
    radiation_modality_phase2: Mapped[str | None] = item(1516, "phase2RadiationTreatmentModality", 2,
                                                         kind="code", code_list="radiation_modality",
                                                         label="Phase II Radiation Treatment Modality [1516]")
    date_of_radiation: Mapped[str | None] = item(1210, "rxDateRadiation", 8, kind="date",
                                                 label="RX Date--Radiation [1210]")
    chemotherapy: Mapped[str | None] = item(1390, "rxSummChemo", 2, kind="code", code_list="chemotherapy",
                                            label="RX Summ--Chemo [1390]")
    date_of_chemotherapy: Mapped[str | None] = item(1220, "rxDateChemo", 8, kind="date",
                                                    label="RX Date--Chemo [1220]")
    hormone_therapy: Mapped[str | None] = item(1400, "rxSummHormone", 2, kind="code",
                                               code_list="hormone_therapy", label="RX Summ--Hormone [1400]")
    date_of_hormone_therapy: Mapped[str | None] = item(1230, "rxDateHormone", 8, kind="date",
                                                       label="RX Date--Hormone [1230]")
    immunotherapy: Mapped[str | None] = item(1410, "rxSummBrm", 2, kind="code", code_list="immunotherapy",
                                             label="RX Summ--BRM (immunotherapy) [1410]")
    date_of_immunotherapy: Mapped[str | None] = item(1240, "rxDateBrm", 8, kind="date",
                                                     label="RX Date--BRM [1240]")
    transplant_endocrine: Mapped[str | None] = item(3250, "rxSummTransplntEndocr", 2, kind="code",
                                                    code_list="transplant_endocrine",
                                                    label="RX Summ--Transplnt/Endocr [3250]")
    other_therapy: Mapped[str | None] = item(1420, "rxSummOther", 1, kind="code", code_list="other_therapy",
                                             label="RX Summ--Other [1420]")
    date_of_other_therapy: Mapped[str | None] = item(1250, "rxDateOther", 8, kind="date",
                                                     label="RX Date--Other [1250]")
    date_of_initial_treatment: Mapped[str | None] = item(1270, "date1stCrsRxCoc", 8, kind="date",
                                                         label="Date 1st Crs RX--CoC [1270]")

    tumor: Mapped[Tumor] = relationship(back_populates="treatment")

    @hybrid_property
    def surgery_performed(self) -> bool:
        """Surgery of the primary site by [1290] or [1291], so every report counts both items by one rule
        (``staging_tables/surgery_codes.csv``); in a query, the same rule as SQL."""
        from staging_tables.surgery import surgery_performed
        return surgery_performed(self.surgery_of_primary_site, self.surgery_of_primary_site_2023)

    @surgery_performed.inplace.expression
    @classmethod
    def _surgery_performed_sql(cls) -> ColumnElement[bool]:
        from staging_tables.surgery import surgery_performed_sql
        return surgery_performed_sql(cls.surgery_of_primary_site, cls.surgery_of_primary_site_2023)
