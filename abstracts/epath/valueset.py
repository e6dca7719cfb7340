"""Reportability of coded inputs: a FHIR ValueSet of ICD-10-CM and SNOMED CT codes (the CCRR
CancerCoreReportabilityCodes set, or a central registry's own), installed as reference data.

A FHIR condition or diagnostic conclusion, or an HL7 OBX answer whose code passed
:mod:`abstracts.epath.coding`'s check, coded with a listed code makes the report reportable even when
its text names no keyword; the screening result says which code did.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from abstracts.epath.report import PathologyReport
from registry.reference import InvalidReference, ReferenceInfo, reference_kind

CODES_KIND = "reportability-codes"
SYSTEMS = {"http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM", "http://snomed.info/sct": "SNOMED CT"}
#: Coded findings whose code says what the disease is.
CODED_KINDS = {"condition", "histology"}


def read_value_set(path: Path) -> dict[str, frozenset[str]]:
    """System → codes of a ValueSet's ``compose.include[].concept`` and ``expansion.contains``."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidReference(f"{path.name}: not a JSON FHIR ValueSet ({exc})") from None
    if not isinstance(content, dict) or content.get("resourceType") != "ValueSet":
        raise InvalidReference(f"{path.name}: resourceType is not ValueSet")
    codes: dict[str, set[str]] = {}
    for include in (content.get("compose") or {}).get("include", []):
        for concept in include.get("concept", []):
            codes.setdefault(include.get("system", ""), set()).add(concept["code"])
    for contained in (content.get("expansion") or {}).get("contains", []):
        codes.setdefault(contained.get("system", ""), set()).add(contained.get("code", ""))
    listed = {system: frozenset(found) for system, found in codes.items() if system in SYSTEMS and found}
    if not listed:
        raise InvalidReference(f"{path.name}: no ICD-10-CM or SNOMED CT code listed")
    return listed


@reference_kind(CODES_KIND, "a FHIR ValueSet (JSON) listing reportable ICD-10-CM and SNOMED CT codes, such as "
                            "the CCRR ValueSet-cancer-core-reportability-codes.json")
def check_value_set(path: Path) -> ReferenceInfo:
    codes = read_value_set(path)
    version = json.loads(path.read_text(encoding="utf-8")).get("version") or path.stem[:60]
    return ReferenceInfo(name="Reportability codes", version=str(version)[:60],
                         summary=", ".join(f"{len(found)} {SYSTEMS[system]}" for system, found in codes.items()))


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float) -> dict[str, frozenset[str]]:
    return read_value_set(Path(path))


def value_set(path: str | Path) -> dict[str, frozenset[str]]:
    return _cached(str(path), Path(path).stat().st_mtime)


def installed_value_set() -> Path | None:
    """The newest installed reportability-codes table, when an application is running."""
    from flask import has_app_context
    if not has_app_context():
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from registry.reference import current
    try:
        record = current(CODES_KIND)
    except SQLAlchemyError:
        return None
    return Path(record.stored_path) if record is not None and Path(record.stored_path).is_file() else None


def reportable_codes(report: PathologyReport, codes: dict[str, frozenset[str]]) -> list[str]:
    """The coded findings of ``report`` that the value set lists, as 'SYSTEM code (display)'."""
    hits = []
    for finding in report.coded:
        if finding.kind in CODED_KINDS and finding.system in codes and finding.code in codes[finding.system]:
            hits.append(f"{SYSTEMS[finding.system]} {finding.code} ({finding.display or ''})".replace(" ()", ""))
    return hits
