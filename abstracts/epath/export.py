"""An abstract as a FHIR Central Cancer Registry Reporting content bundle, and the codes read back from one.

The bundle holds the Patient and the primary cancer Condition: ICD-O-3 topography as the body site,
histology/behavior in the mCODE histology extension (ICD-O-3 morphology), laterality in the mCODE
laterality qualifier (the NAACCR code), the date of diagnosis as onset (a partial date stays partial),
grade and diagnostic confirmation as NAACCR item extensions. It is validated with ``fhir.resources``
before it leaves, and :func:`codes_from_bundle` reads it back with the same library.
"""
from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle

from registry.models import Patient, Tumor

CCRR = "http://hl7.org/fhir/us/central-cancer-registry-reporting/StructureDefinition"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
NAACCR_ITEM = "http://naaccr.org/fhir/StructureDefinition/item-"
LATERALITY_SYSTEM = "http://naaccr.org/fhir/CodeSystem/laterality"
#: Tumor fields carried as NAACCR item extensions on the condition (field → NAACCR XML id).
ITEM_EXTENSIONS = {"grade_clinical": "gradeClinical", "grade_pathological": "gradePathological",
                   "diagnostic_confirmation": "diagnosticConfirmation",
                   "sequence_number_hospital": "sequenceNumberHospital"}
SEX = {"1": "male", "2": "female", "9": "unknown"}


def fhir_date(value: str | None) -> str | None:
    """CCYYMMDD, CCYYMM or CCYY → the FHIR date of the same precision."""
    if not value:
        return None
    parts = [value[:4], value[4:6], value[6:8]]
    return "-".join(p for p in parts if p)


def _dotted(site: str) -> str:
    return f"{site[:3]}.{site[3:]}" if len(site) == 4 else site


def tumor_bundle(tumor: Tumor, patient: Patient) -> dict[str, Any]:
    """The content bundle of ``tumor`` as JSON-ready data, validated by ``fhir.resources``."""
    patient_ref = f"Patient/{patient.id}"
    person: dict[str, Any] = {"resourceType": "Patient", "id": str(patient.id),
                              "name": [{"family": patient.name_last, "given": [p for p in [patient.name_first] if p]}],
                              "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/"
                                                                   "CodeSystem/v2-0203", "code": "MR"}]},
                                              "value": patient.medical_record_number}]
                              if patient.medical_record_number else []}
    if patient.date_of_birth:
        person["birthDate"] = fhir_date(patient.date_of_birth)
    if patient.sex in SEX:
        person["gender"] = SEX[patient.sex]
    condition: dict[str, Any] = {
        "resourceType": "Condition", "id": f"tumor-{tumor.id}",
        "meta": {"profile": [f"{CCRR}/central-cancer-registry-primary-cancer-condition"]},
        "subject": {"reference": patient_ref},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "problem-list-item"}]}],
        "extension": [],
    }
    if tumor.primary_site:
        site = {"coding": [{"system": ICDO3, "code": _dotted(tumor.primary_site)}]}
        if tumor.laterality:
            site["extension"] = [{"url": f"{MCODE}/mcode-laterality-qualifier",
                                  "valueCodeableConcept": {"coding": [{"system": LATERALITY_SYSTEM,
                                                                       "code": tumor.laterality}]}}]
        condition["bodySite"] = [site]
        condition["code"] = {"coding": [{"system": ICDO3, "code": _dotted(tumor.primary_site)}]}
    if tumor.histology:
        morphology = f"{tumor.histology}/{tumor.behavior or '9'}"
        condition["extension"].append({"url": f"{MCODE}/mcode-histology-morphology-behavior",
                                       "valueCodeableConcept": {"coding": [{"system": ICDO3, "code": morphology}]}})
    for field, naaccr_id in ITEM_EXTENSIONS.items():
        value = getattr(tumor, field, None)
        if value:
            condition["extension"].append({"url": NAACCR_ITEM + naaccr_id, "valueString": value})
    if tumor.date_of_diagnosis:
        condition["onsetDateTime"] = fhir_date(tumor.date_of_diagnosis)
    if not condition["extension"]:
        del condition["extension"]
    bundle = {"resourceType": "Bundle", "id": f"tumor-{tumor.id}-content", "type": "collection",
              "meta": {"profile": [f"{CCRR}/ccrr-content-bundle"]},
              "entry": [{"fullUrl": f"urn:registry:{patient_ref}", "resource": person},
                        {"fullUrl": f"urn:registry:Condition/tumor-{tumor.id}", "resource": condition}]}
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)


def codes_from_bundle(data: str | bytes | dict[str, Any]) -> dict[str, str]:
    """The tumor codes of a content bundle, read with ``fhir.resources`` (what :func:`tumor_bundle` wrote)."""
    bundle = Bundle.model_validate(data) if isinstance(data, dict) else Bundle.model_validate_json(data)
    codes: dict[str, str] = {}
    for entry in bundle.entry or []:
        resource = entry.resource
        if resource is None or resource.get_resource_type() != "Condition":
            continue
        for site in resource.bodySite or []:
            for coding in site.coding or []:
                if coding.system == ICDO3:
                    codes["primary_site"] = coding.code.replace(".", "")
            for extension in site.extension or []:
                if extension.url.endswith("mcode-laterality-qualifier"):
                    codes["laterality"] = extension.valueCodeableConcept.coding[0].code
        for extension in resource.extension or []:
            if extension.url.endswith("mcode-histology-morphology-behavior"):
                histology, _, behavior = extension.valueCodeableConcept.coding[0].code.partition("/")
                codes["histology"], codes["behavior"] = histology, behavior
            elif extension.url.startswith(NAACCR_ITEM):
                field = {v: k for k, v in ITEM_EXTENSIONS.items()}[extension.url[len(NAACCR_ITEM):]]
                codes[field] = extension.valueString
        if resource.onsetDateTime is not None:
            codes["date_of_diagnosis"] = str(resource.onsetDateTime).replace("-", "")[:8]
    return codes
