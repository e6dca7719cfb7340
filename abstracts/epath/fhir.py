"""FHIR R4 bundles (JSON or XML) read with ``fhir.resources``: Central Cancer Registry Reporting content and
reporting bundles, US Pathology / Cancer Pathology Data Sharing bundles, and single resources.

What casefinding needs is taken into a :class:`PathologyReport`: the patient, the primary cancer condition
(site, histology/behavior, laterality, date), stage group and TNM categories, the diagnostic report with
its synoptic observations, procedures and medication administrations. Examples in the wild break the
specification here and there (an empty string, a narrative without its ``div``): such an element is
left out, the report says which, and the rest is read.
"""
from __future__ import annotations

import base64
import json
import re
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from lxml import etree
from pydantic import ValidationError

from abstracts.epath.report import CodedFinding, PathologyReport, Section, SynopticAnswer, hl7_date

FHIR_NS = "http://hl7.org/fhir"
#: Observation codes of stage and TNM (LOINC and SNOMED), read as coded findings rather than synoptic answers.
STAGE_CODES = {"21908-9": "stage_group", "21902-2": "stage_group", "21914-7": "stage_group",
               "21905-5": "tnm", "21906-3": "tnm", "21907-1": "tnm", "21899-0": "tnm", "21900-6": "tnm",
               "21901-4": "tnm", "399390009": "tnm", "399387003": "tnm", "399534004": "tnm", "371508000": "tnm",
               "371494008": "tnm", "371497001": "tnm"}
HISTOLOGY_EXTENSION = "mcode-histology-morphology-behavior"
LATERALITY_EXTENSION = "mcode-laterality-qualifier"
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
MAX_REPAIRS = 50


class UnreadableBundle(ValueError):
    """Not a FHIR resource this intake can read; nothing of it is stored."""


def parse_resource(data: str | bytes) -> tuple[Resource, list[str]]:
    """The resource in ``data`` (JSON or XML) and what had to be left out to read it."""
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig", errors="replace")
    text = data.strip()
    if text.startswith("<"):
        return _parse_xml(text), []
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableBundle(f"not JSON or XML: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(content, dict) or "resourceType" not in content:
        raise UnreadableBundle("JSON without a resourceType: not a FHIR resource")
    return _validated(content)


def _model(resource_type: str) -> type[Resource]:
    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError):
        raise UnreadableBundle(f"'{resource_type}' is not a FHIR R4 resource type") from None


def _parse_xml(text: str) -> Resource:
    try:
        root = etree.fromstring(text.encode("utf-8"))
    except etree.XMLSyntaxError as exc:
        raise UnreadableBundle(f"XML not well formed: {exc}") from None
    tag = etree.QName(root)
    if tag.namespace != FHIR_NS:
        raise UnreadableBundle(f"root element {root.tag} is not in the FHIR namespace {FHIR_NS}")
    try:
        return _model(tag.localname).model_validate_xml(text.encode("utf-8"))
    except ValidationError as exc:
        raise UnreadableBundle(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def _validated(content: dict[str, Any]) -> tuple[Resource, list[str]]:
    """Validate, leaving out each element that breaks the specification (at most :data:`MAX_REPAIRS`)."""
    model = _model(content["resourceType"])
    repairs: list[str] = []
    for _ in range(MAX_REPAIRS):
        try:
            return model.model_validate(content), repairs
        except ValidationError as exc:
            error = exc.errors()[0]
            path = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
            drop = path[:-1] if error["type"].endswith("missing") and len(path) > 1 else path
            if not drop or not _remove(content, drop):
                raise UnreadableBundle(_describe(exc)) from None
            repairs.append(f"left out {'.'.join(map(str, drop))} ({error['msg']})")
    raise UnreadableBundle(f"more than {MAX_REPAIRS} elements break the FHIR specification")


def _remove(content: Any, path: list[Any]) -> bool:
    node = content
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = path[-1]
    try:
        if isinstance(node, dict) and last in node:
            del node[last]
            return True
        if isinstance(node, list) and isinstance(last, int) and last < len(node):
            node.pop(last)
            return True
    except TypeError:
        return False
    return False


def resources(resource: Resource) -> list[Resource]:
    """Every resource of a bundle, nested bundles (a reporting bundle's content) included."""
    if isinstance(resource, Bundle):
        found: list[Resource] = []
        for entry in resource.entry or []:
            if entry.resource is not None:
                found.extend(resources(entry.resource))
        return found
    contained = list(getattr(resource, "contained", None) or [])
    return [resource] + contained


def _concept(concept: Any) -> tuple[str | None, str | None, str | None]:
    """(code, system, display) of a CodeableConcept's first coding, display falling back to its text."""
    if concept is None:
        return None, None, None
    coding = (concept.coding or [None])[0]
    code = coding.code if coding else None
    system = coding.system if coding else None
    display = (coding.display if coding else None) or concept.text
    return code, system, display


def _value(observation: Any) -> str:
    if observation.valueCodeableConcept is not None:
        return _concept(observation.valueCodeableConcept)[2] or _concept(observation.valueCodeableConcept)[0] or ""
    if observation.valueQuantity is not None:
        quantity = observation.valueQuantity
        return f"{quantity.value} {quantity.unit or quantity.code or ''}".strip()
    for name in ("valueString", "valueBoolean", "valueInteger", "valueDateTime"):
        value = getattr(observation, name, None)
        if value is not None:
            return str(value).lower() if isinstance(value, bool) else str(value)
    return ""


def read_bundle(data: str | bytes) -> PathologyReport:
    """A bundle (or one resource) → a report; refuses one that names no patient and holds no report,
    condition or observation."""
    resource, repairs = parse_resource(data)
    report = PathologyReport(format="fhir", warnings=list(repairs))
    report.message_id = getattr(resource, "id", None)
    everything = resources(resource)
    kinds = {r.get_resource_type() for r in everything}
    useful = kinds & {"Patient", "Condition", "DiagnosticReport", "Observation", "Procedure",
                      "MedicationAdministration"}
    if any(r.get_resource_type() == "Composition" and r.section for r in everything):
        useful.add("Composition")
    if not useful:
        raise UnreadableBundle(f"a {resource.get_resource_type()} holding {', '.join(sorted(kinds)) or 'nothing'}: "
                               "no patient, condition, report or observation to take in")
    reported_ids: set[str] = set()
    for item in everything:
        if item.get_resource_type() == "DiagnosticReport":
            for reference in item.result or []:
                reported_ids.add((reference.reference or "").rsplit("/", 1)[-1].rsplit("#", 1)[-1])
    coded_lines: list[str] = []
    for item in everything:
        kind = item.get_resource_type()
        if kind == "Patient" and report.patient.name_last is None:
            _read_patient(item, report)
        elif kind == "Organization" and not report.sending_facility:
            report.sending_facility = item.name
        elif kind == "Practitioner" and not report.pathologist and item.name:
            name = item.name[0]
            report.pathologist = " ".join([*(name.given or []), name.family or ""]).strip() or name.text
        elif kind == "DiagnosticReport":
            _read_diagnostic_report(item, report)
        elif kind == "Composition":
            for section in item.section or []:
                text = narrative(section.text.div) if section.text is not None else ""
                if text:
                    report.sections.append(Section(None, (section.title or "composition").lower(), text))
        elif kind == "Specimen":
            _read_specimen(item, report)
        elif kind == "Condition":
            coded_lines += _read_condition(item, report)
        elif kind == "Observation":
            coded_lines += _read_observation(item, report)
        elif kind == "Procedure":
            code, system, display = _concept(item.code)
            report.coded.append(CodedFinding("procedure", code, system, display,
                                             hl7_date(str(item.performedDateTime or "")) or None))
            coded_lines.append(f"Procedure: {display or code}")
        elif kind == "MedicationAdministration":
            code, system, display = _concept(item.medicationCodeableConcept)
            report.coded.append(CodedFinding("medication", code, system, display,
                                             hl7_date(str(item.effectiveDateTime or "")) or None))
            coded_lines.append(f"Medication administered: {display or code}")
    if coded_lines:
        report.sections.append(Section(None, "coded findings", "\n".join(coded_lines)))
    if report.patient.name_last is None:
        _patient_from_subject(everything, report)
    return report


def narrative(div: str | None) -> str:
    """The text of an XHTML narrative ``div``, tags removed."""
    if not div:
        return ""
    try:
        return " ".join(" ".join(etree.fromstring(div.encode("utf-8")).itertext()).split())
    except etree.XMLSyntaxError:
        return " ".join(re.sub(r"<[^>]+>", " ", div).split())


def _read_patient(patient: Any, report: PathologyReport) -> None:
    who = report.patient
    if patient.name:
        name = patient.name[0]
        who.name_last = name.family or None
        who.name_first = (name.given or [None])[0]
    who.date_of_birth = hl7_date(str(patient.birthDate)) if patient.birthDate else None
    who.sex = patient.gender
    for identifier in patient.identifier or []:
        type_code = _concept(identifier.type)[0] if identifier.type else None
        if identifier.system == SSN_SYSTEM or type_code == "SS":
            who.social_security_number = re.sub(r"\D", "", identifier.value or "")[:9] or None
        elif type_code == "MR" and not who.medical_record_number:
            who.medical_record_number = (identifier.value or "")[:15] or None
    if not who.medical_record_number:
        others = [i.value for i in patient.identifier or [] if i.value and i.system != SSN_SYSTEM]
        if others:
            who.medical_record_number = others[0][:15]
            report.warnings.append(f"no identifier typed MR: took '{others[0][:15]}' as the medical record number")
    if patient.address:
        address = patient.address[0]
        who.address = ", ".join(p for p in [*(address.line or []), address.city, address.state, address.postalCode]
                                if p) or None


def _patient_from_subject(everything: list[Resource], report: PathologyReport) -> None:
    for item in everything:
        subject = getattr(item, "subject", None)
        if subject is not None and getattr(subject, "display", None):
            given, _, family = subject.display.strip().rpartition(" ")
            report.patient.name_last, report.patient.name_first = family, given or None
            report.warnings.append(f"no Patient resource: the name comes from {item.get_resource_type()}.subject")
            return
        if subject is not None and getattr(subject, "reference", None):
            report.warnings.append(f"no Patient resource in the bundle; it refers to {subject.reference}")
            return


def _read_diagnostic_report(item: Any, report: PathologyReport) -> None:
    if item.identifier and not report.accession:
        report.accession = item.identifier[0].value
    if item.status in {"amended", "corrected", "appended"}:
        report.status = "C"
    elif item.status == "preliminary" and report.status != "C":
        report.status = "P"
    report.report_type = report.report_type or _concept(item.code)[2]
    report.collection_date = report.collection_date or hl7_date(str(item.effectiveDateTime or ""))
    report.report_date = report.report_date or hl7_date(str(item.issued or ""))
    if item.performer and not report.pathologist:
        report.pathologist = item.performer[0].display
    if item.conclusion:
        report.sections.append(Section(None, "final diagnosis", item.conclusion))
    for code in item.conclusionCode or []:
        report.coded.append(CodedFinding("condition", *_concept(code)))
    for form in item.presentedForm or []:
        if not form.data:
            continue
        content = form.data if isinstance(form.data, bytes) else base64.b64decode(form.data)  # decoded by the model
        if b"urn:ihe:qrph:sdc" in content[:2000]:
            report.synoptic.extend(sdc_answers(content))
            title, category = sdc_form(content)
            report.form_title = report.form_title or title
            report.form_category = report.form_category or category
        elif (form.contentType or "").startswith("text/plain"):
            report.sections.append(Section(None, form.title or "pathology report",
                                           content.decode("utf-8", errors="replace")))


def sdc_form(content: bytes) -> tuple[str | None, str | None]:
    """The title and CAP category of an IHE SDC form (``formTitle``, the ``Category`` property), which say
    the organ the checklist is for."""
    try:
        root = etree.fromstring(content)
    except etree.XMLSyntaxError:
        return None, None
    design = next(root.iter("{*}FormDesign"), None)
    if design is None:
        return None, None
    category = next((p.get("val") for p in design.iterfind("{*}Property")
                     if p.get("name") == "Category" or p.get("propName") == "Category"), None)
    return (design.get("formTitle") or "").strip() or None, (category or "").strip() or None


def sdc_answers(content: bytes) -> list[SynopticAnswer]:
    """The answered questions of an IHE SDC form (the CAP checklist as XML): selected list items and
    filled responses, each under its question's title."""
    try:
        root = etree.fromstring(content)
    except etree.XMLSyntaxError:
        return []
    answers = []
    for question in root.iter("{*}Question"):
        title = (question.get("title") or "").lstrip("?").strip()
        chosen = []
        for list_item in question.iterfind("{*}ListField/{*}List/{*}ListItem"):
            if list_item.get("selected") == "true":
                chosen.append((list_item.get("title") or "").lstrip("?").strip())
        for response in question.iterfind("{*}ResponseField/{*}Response/*"):
            if response.get("val"):
                chosen.append(response.get("val"))
        for value in chosen:
            if value:
                answers.append(SynopticAnswer(question.get("ID"), title or question.get("ID") or "", value))
    return answers


def _read_specimen(item: Any, report: PathologyReport) -> None:
    display = _concept(item.type)[2]
    if display and display not in report.specimens:
        report.specimens.append(display)
    if item.collection is not None:
        collected = hl7_date(str(item.collection.collectedDateTime or ""))
        report.collection_date = collected or report.collection_date


def _read_condition(item: Any, report: PathologyReport) -> list[str]:
    lines = []
    code, system, display = _concept(item.code)
    onset = hl7_date(str(item.onsetDateTime or item.recordedDate or ""))
    for extension in item.extension or []:
        if extension.url.endswith("condition-assertedDate") and not onset:
            onset = hl7_date(str(extension.valueDateTime or ""))
        if extension.url.endswith(HISTOLOGY_EXTENSION) and extension.valueCodeableConcept is not None:
            finding = CodedFinding("histology", *_concept(extension.valueCodeableConcept))
            report.coded.append(finding)
            lines.append(f"Histology: {finding.display or finding.code}")
    report.coded.append(CodedFinding("condition", code, system, display, onset))
    lines.insert(0, f"Condition: {display or code}")
    for site in item.bodySite or []:
        report.coded.append(CodedFinding("body_site", *_concept(site)))
        lines.append(f"Body site: {_concept(site)[2] or _concept(site)[0]}")
        for extension in site.extension or []:
            if extension.url.endswith(LATERALITY_EXTENSION) and extension.valueCodeableConcept is not None:
                report.coded.append(CodedFinding("laterality", *_concept(extension.valueCodeableConcept)))
    for stage in item.stage or []:
        if stage.summary is not None:
            report.coded.append(CodedFinding("stage_group", *_concept(stage.summary)))
            lines.append(f"Stage: {_concept(stage.summary)[2]}")
    profiles = [str(p) for p in (item.meta.profile or [])] if item.meta is not None else []
    is_cancer = any("cancer" in p for p in profiles) or any(f.kind == "histology" for f in report.coded)
    if onset and is_cancer and not report.collection_date:
        report.collection_date = onset
    return lines


def _read_observation(item: Any, report: PathologyReport) -> list[str]:
    code, system, display = _concept(item.code)
    value = _value(item)
    if code in STAGE_CODES:
        report.coded.append(CodedFinding(STAGE_CODES[code], _concept(item.valueCodeableConcept)[0], system,
                                         value, display))
        return [f"{display}: {value}"]
    if not value and not item.component:
        return []
    question = (display or code or "").lstrip("?").strip()
    report.synoptic.append(SynopticAnswer(code, question, value.lstrip("?").strip(),
                                          _concept(item.valueCodeableConcept)[0]
                                          if item.valueCodeableConcept is not None else None))
    for component in item.component or []:
        component_code, _system, component_display = _concept(component.code)
        component_value = _value(component)
        if component_value:
            report.synoptic.append(SynopticAnswer(component_code, (component_display or "").lstrip("?").strip(),
                                                  component_value))
    return []
