"""Coded answers of HL7 v2 OBX segments (CWE/CE ``code^text^system``, and the alternate code in
components 4-6), checked against the code list their coding system claims before anything uses them.

A laboratory's code may be mistyped, from another edition or sent under the wrong system name; taken on
trust it would become a suggested site or histology, or make a report reportable. Each code of a system
listed in ``data/coding_systems.csv`` is checked: ICD-O-3 against the installed official topography and
morphology files (else the product's embedded tables), SNOMED CT by the form of a concept identifier
(partition and Verhoeff check digit), ICD-10-CM by its form. The reportability value set lists only the
reportable codes, so a well-formed code it does not list is a real code that makes nothing reportable,
not an unknown one. A code that passes becomes a coded finding (screened against the value set, read for
suggestions); one that fails is named in the report's warnings (message, segment, field and code) and its
answer is left out of the suggestions. Codes of other systems (CAP's CAPECC/CAPECP, local codes) are
read as answer text only.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from abstracts.epath.report import CodedFinding, PathologyReport

SYSTEMS_FILE = Path(__file__).resolve().parent / "data" / "coding_systems.csv"
STAGING_DIR = Path(__file__).resolve().parents[2] / "staging_tables"
#: The installed reference kinds an ICD-O-3 code is checked against (else the embedded tables).
ICDO3_KINDS = {"topography": "icdo3-topography", "morphology": "icdo3-morphology"}
ICD10CM = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?")
SNOMED_ID = re.compile(r"[1-9][0-9]{5,17}")
#: SNOMED CT partition identifiers of a concept (short and long form); descriptions and relationships
#: have others and are never an answer.
CONCEPT_PARTITIONS = {"00", "10"}
TOPOGRAPHY = re.compile(r"C[0-9]{2}\.?[0-9]")
MORPHOLOGY = re.compile(r"([89][0-9]{3})[/-]?([0-9])")
# Verhoeff's dihedral-group tables, as SNOMED CT specifies its check digit.
_D = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
      [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
      [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_P = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
      [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
      [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]


@dataclass(frozen=True)
class CodingSystem:
    hl7: str
    code_list: str  # icd10cm, snomed, icdo3
    uri: str
    label: str


@lru_cache(maxsize=2)
def coding_systems(path: str = str(SYSTEMS_FILE)) -> dict[str, CodingSystem]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["hl7_system"].upper(): CodingSystem(row["hl7_system"], row["code_list"], row["fhir_system"],
                                                        row["label"]) for row in csv.DictReader(handle)}


def verhoeff_valid(digits: str) -> bool:
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


def installed_icdo3_paths() -> dict[str, str | None]:
    """The newest installed official ICD-O-3 files, found in this process (helper processes get the paths)."""
    from flask import has_app_context
    paths: dict[str, str | None] = dict.fromkeys(ICDO3_KINDS)
    if not has_app_context():
        return paths
    from sqlalchemy.exc import SQLAlchemyError

    from registry.reference import current
    for name, kind in ICDO3_KINDS.items():
        try:
            record = current(kind)
        except SQLAlchemyError:
            continue
        if record is not None and Path(record.stored_path).is_file():
            paths[name] = record.stored_path
    return paths


@lru_cache(maxsize=8)
def icdo3_codes(name: str, path: str | None) -> frozenset[str]:
    """The ``topography`` (C509) or ``morphology`` (8500/3) codes of the official file at ``path``, else of
    the embedded table."""
    if path:
        from staging_tables.icdo3 import read_morphology, read_topography
        return frozenset((read_topography if name == "topography" else read_morphology)(Path(path)))
    with (STAGING_DIR / f"icdo3_{name}.csv").open(newline="", encoding="utf-8") as handle:
        return frozenset(row["code"] for row in csv.DictReader(handle))


def check_code(system: CodingSystem, code: str,
               icdo3_paths: dict[str, str | None]) -> tuple[str, str, str | None]:
    """(finding kind, code as the code list writes it, the problem or None) of ``code`` sent as ``system``."""
    code = code.strip().upper()
    if system.code_list == "snomed":
        if not SNOMED_ID.fullmatch(code):
            return "condition", code, "is not a SNOMED CT identifier (6 to 18 digits)"
        if code[-3:-1] not in CONCEPT_PARTITIONS:
            return "condition", code, "is not a SNOMED CT concept identifier (its partition is not 00 or 10)"
        if not verhoeff_valid(code):
            return "condition", code, "is not a SNOMED CT identifier (its check digit is wrong)"
        return "condition", code, None
    if system.code_list == "icd10cm":
        dotted = code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"
        if not ICD10CM.fullmatch(dotted):
            return "condition", code, "is not an ICD-10-CM code (letter, two characters, up to four after the dot)"
        return "condition", dotted, None
    if system.code_list == "icdo3":
        if TOPOGRAPHY.fullmatch(code):
            bare = code.replace(".", "")
            return "body_site", bare, _listed("topography", bare, icdo3_paths)
        morphology = MORPHOLOGY.fullmatch(code)
        if morphology:
            coded = f"{morphology.group(1)}/{morphology.group(2)}"
            return "histology", coded, _listed("morphology", coded, icdo3_paths)
        return "condition", code, "is neither an ICD-O-3 topography (C50.9) nor a morphology code (8500/3)"
    return "condition", code, f"names code list '{system.code_list}', which casefinding does not know"


def _listed(name: str, code: str, icdo3_paths: dict[str, str | None]) -> str | None:
    if code in icdo3_codes(name, icdo3_paths.get(name)):
        return None
    table = "the installed official" if icdo3_paths.get(name) else "the embedded"
    return f"is not in {table} ICD-O-3 {name} list"


def check_codings(report: PathologyReport, label: str, icdo3_paths: dict[str, str | None]) -> None:
    """Check every coded answer of ``report`` (read from ``label``): known codes become coded findings, an
    unknown one a warning, its answer left out of the suggestions."""
    systems = coding_systems()
    for answer in report.synoptic:
        for coding in answer.codings:
            system = systems.get(coding["system"].strip().upper())
            if system is None or not coding["code"].strip():
                continue
            kind, code, problem = check_code(system, coding["code"], icdo3_paths)
            display = coding.get("display") or answer.answer
            if problem is None:
                report.coded.append(CodedFinding(kind, code, system.uri, display, coding["where"]))
                continue
            shown = f" ({display})" if display else ""
            answer.left_out = f"{system.label} code '{coding['code']}'{shown} {problem}"
            report.warnings.append(f"{label}, {coding['where']}: {answer.left_out}; left out of the suggestions")
