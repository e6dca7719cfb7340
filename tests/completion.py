"""Values for the items completing an abstract requires (``staging_tables/completion_required.csv``).

Tests that complete abstracts fill these, so the completion rule is exercised as it is, never loosened.
"""
from __future__ import annotations

from typing import Any

from abstracts.operations import is_analytic
from registry.catalogue import catalogue
from staging_tables.surgery import surgery_codes

#: One plausible (obviously fake) value per required item, by naaccrId.
SAMPLE: dict[str, str] = {
    "dateOfBirth": "19580412", "sexAssignedAtBirth": "2", "sex": "2", "race1": "01", "spanishHispanicOrigin": "0",
    "addrAtDxCity": "Testville", "addrAtDxState": "IL", "addrAtDxPostalCode": "62701", "countyAtDx": "167",
    "primaryPayerAtDx": "02", "dateOfDiagnosis": "20240105", "primarySite": "C504", "laterality": "1",
    "histologicTypeIcdO3": "8500", "behaviorCodeIcdO3": "3", "gradeClinical": "2", "gradePathological": "2",
    "grade": "2", "diagnosticConfirmation": "1", "sequenceNumberHospital": "00", "classOfCase": "14",
    "typeOfReportingSource": "1", "dateOf1stContact": "20240110", "reportingFacility": "0000999999",
    "npiReportingFacility": "1234567893", "accessionNumberHosp": "202400001", "abstractedBy": "TST",
    "tumorSizeSummary": "015", "regionalNodesPositive": "00", "regionalNodesExamined": "03",
    "lymphVascularInvasion": "0", "summaryStage2018": "1", "seerSummaryStage2000": "1",
    "rxSummSurgPrimSite": "22", "rxSummSurgPrimSite2023": "B200", "rxSummScopeRegLnSur": "2",
    "rxSummSurgOthRegDis": "0", "reasonForNoSurgery": "0", "phase1RadiationTreatmentModality": "00",
    "reasonForNoRadiation": "1", "rxSummChemo": "00", "rxSummHormone": "00", "rxSummBrm": "00",
    "rxSummTransplntEndocr": "00", "rxSummOther": "0", "rxSummSurgRadSeq": "0", "rxSummSystemicSurSeq": "0",
    "date1stCrsRxCoc": "20240201", "dateOfLastContact": "20250301", "vitalStatus": "1",
    "textPrimarySiteTitle": "Breast, upper-outer quadrant (test text)",
    "textHistologyTitle": "Invasive ductal carcinoma (test text)",
    "textDxProcPe": "Test text: palpable mass of the left breast on examination.",
}


def sample_value(naaccr_id: str, year: int | None, site: str | None = None, histology: str | None = None) -> str:
    """The :data:`SAMPLE` value, but for surgery of the primary site from 2023 a resection code of the
    site-specific table of the tumor's year (breast is A-coded in 2023, B-coded from 2024)."""
    if naaccr_id != "rxSummSurgPrimSite2023" or year is None:
        return SAMPLE[naaccr_id]
    codes = [row.code for row in surgery_codes(site or SAMPLE["primarySite"], histology or None, year)]
    return next((code for code in ("B200", "A200") if code in codes), next(code for code in codes if code[1] == "2"))


def required_values(year: int | None, analytic: bool = True, site: str | None = None,
                    histology: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(patient, tumor)`` changes that fill every item completion requires for a ``year`` diagnosis (of
    ``site``/``histology``, default those of :data:`SAMPLE`), in the shape ``create_patient`` / ``create_tumor``
    take (``tumor['treatment']``, item dictionaries by naaccrId)."""
    patient: dict[str, Any] = {}
    tumor: dict[str, Any] = {"treatment": {}}
    for item, _ in catalogue().required(year, analytic):
        value = sample_value(item.naaccr_id, year, site, histology)
        if item.column is not None:
            target = {"patient": patient, "tumor": tumor, "treatment": tumor["treatment"]}[item.record]
            target[item.column.attribute] = value
        elif item.level == "Patient":
            patient.setdefault("extra_items", {})[item.naaccr_id] = value
        else:
            tumor.setdefault("extra_items", {})[item.naaccr_id] = value
    return patient, tumor


def completable(patient: dict[str, Any], tumor: dict[str, Any], year: int | None = None
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``patient`` and ``tumor`` data with every required item they leave blank filled from :data:`SAMPLE`
    (what they give wins)."""
    year = year or int(tumor["date_of_diagnosis"][:4])
    case = tumor.get("class_of_case") or ""
    need_patient, need_tumor = required_values(year, is_analytic(case), tumor.get("primary_site"),
                                               tumor.get("histology"))
    out_patient = need_patient | patient
    out_patient["extra_items"] = need_patient.get("extra_items", {}) | (patient.get("extra_items") or {})
    out_tumor = need_tumor | tumor
    out_tumor["treatment"] = need_tumor["treatment"] | (tumor.get("treatment") or {})
    out_tumor["extra_items"] = need_tumor.get("extra_items", {}) | (tumor.get("extra_items") or {})
    treatment, diagnosed = out_tumor["treatment"], out_tumor.get("date_of_diagnosis")
    if "date_of_initial_treatment" not in (tumor.get("treatment") or {}) and "date_of_initial_treatment" in treatment:
        treatment["date_of_initial_treatment"] = treatment.get("date_of_surgery") or diagnosed
    if "date_of_first_contact" not in tumor and "date_of_first_contact" in out_tumor:
        out_tumor["date_of_first_contact"] = diagnosed
    return out_patient, out_tumor


def fill_required(tumor_id: int) -> None:
    """Fill, on a stored abstract, the required items it leaves blank (through the operations, as the system)."""
    from abstracts import operations as ops
    from registry.audit import SYSTEM
    from registry.db import db_session
    from registry.models import Tumor
    tumor = db_session.get(Tumor, tumor_id)
    patient: dict[str, Any] = {}
    changes: dict[str, Any] = {"treatment": {}}
    year = int(tumor.date_of_diagnosis[:4]) if (tumor.date_of_diagnosis or "")[:4].isdigit() else None
    for item, _ in ops.missing_required(tumor):
        value = sample_value(item.naaccr_id, year, tumor.primary_site, tumor.histology)
        if item.column is not None:
            target = {"patient": patient, "tumor": changes, "treatment": changes["treatment"]}[item.record]
            target[item.column.attribute] = value
        elif item.level == "Patient":
            patient.setdefault("extra_items", dict(tumor.patient.extra_items or {}))[item.naaccr_id] = value
        else:
            changes.setdefault("extra_items", dict(tumor.extra_items or {}))[item.naaccr_id] = value
    if patient:
        ops.update_patient(tumor.patient_id, patient, actor=SYSTEM)
    ops.update_tumor(tumor_id, changes, actor=SYSTEM)
