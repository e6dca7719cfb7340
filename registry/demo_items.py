"""The rest of a demo abstract: the items a registrar records beyond the key ones, consistent with them.

The generator (registry/demo.py) draws who the patient is, the tumor, its stage and the treatment given; this
fills what a hospital abstract carries besides, the way a registrar would code it from that story: tumor size,
nodes and metastases that agree with the stage, surgery codes from the official site-specific table of the
diagnosis year ([1290] before 2023, [1291] from 2023), treatment dates, sequences and radiation phase I, the
facility, accession number, physicians, payer, case dates, geocodes, current address and short text
documentation that is obviously fake. Items without a column go into ``extra_items`` keyed by naaccrId; every
value is one the item catalogue accepts. It draws from its own random stream, so the key items a seed gives do
not change with it.
"""
from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache
from typing import Any

from registry.demo_profiles import (ABSTRACTORS, FACILITY, FACILITY_NAME, METS_ITEMS, METS_SITES, NO_NODES_PROFILES,
                                    NO_SIZE_PROFILES, OCCUPATIONS, PHYSICIANS, RADIATION_DOSE, RADIATION_VOLUME,
                                    SIZE_MM_BY_STAGE)
from staging_tables.surgery import (ITEM_FROM_2023, PERFORMED, SurgeryCode, code_meaning, item_for_year,
                                    surgery_codes)

SURGERY_COLUMNS = {"rxSummSurgPrimSite": "surgery_of_primary_site",
                   "rxSummSurgPrimSite2023": "surgery_of_primary_site_2023"}
ANALYTIC = {"00", "10", "11", "12", "13", "14", "20", "21", "22"}
TREATED_HERE = {"10", "11", "12", "13", "14", "20", "21", "22"}
#: Regional Lymph Node Surgery scope [1292] codes that include a sentinel node biopsy, and that remove nodes.
SENTINEL_SCOPES = {"2", "6", "7"}
NODES_REMOVED = {"2", "3", "4", "5", "6", "7"}
SENTINEL_SITES = ("C50", "C44")
FAKE = "DEMO (FAKE)"


def _d(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def _date(text: str | None) -> dt.date | None:
    if not text or len(text) < 8:
        return None
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))


@lru_cache(maxsize=1)
def _terms() -> tuple[dict[str, str], dict[str, str]]:
    """ICD-O-3 topography and morphology terms for the text titles."""
    import csv

    from staging_tables.surgery import MEANINGS_FILE

    def read(name: str) -> dict[str, str]:
        with (MEANINGS_FILE.parent / name).open(newline="", encoding="utf-8") as handle:
            return {row["code"]: row["term"] for row in csv.DictReader(handle)}
    return read("icdo3_topography.csv"), read("icdo3_morphology.csv")


class ItemFiller:
    """Draws the extra items of demo patients and tumors from its own random stream."""

    def __init__(self, seed: int, first_patient: int = 0):
        self.seed = seed
        self.rng = random.Random(f"{seed}-items")
        self.serials: dict[int, int] = {}
        self.first_patient = first_patient
        #: (site, histology, year) -> the table's codes and the codes by meaning, looked up once per load
        self.tables: dict[tuple[str, str, int], tuple[list[SurgeryCode], dict[str, list[str]]]] = {}

    def start(self, patient_id: int) -> None:
        """A stream per patient: what the staging algorithm changes in one patient leaves the next one alone."""
        self.rng = random.Random(f"{self.seed}-items-{patient_id}")

    # ----- surgery of the primary site ----------------------------------------------------------------------------
    def surgery(self, tumor: dict[str, Any], year: int, wanted: str | None, kind: str) -> dict[str, str | None]:
        """[1290]/[1291] for the diagnosis year from the tumor's site table: ``kind`` is ``performed`` (``wanted``
        a profile's pre-2023 code; the table's own code of that class when the table lacks it), ``none`` or
        ``unknown``. Returns the two columns (the item the year does not use blank)."""
        item = item_for_year(year)
        key = (tumor["primary_site"], tumor["histology"], year)
        table = self.tables.get(key)
        if table is None:
            codes = (surgery_codes(tumor["primary_site"], tumor["histology"], year, item)
                     or surgery_codes(tumor["primary_site"], None, year, item))  # a histology newer than the edition
            by_meaning: dict[str, list[str]] = {}
            for entry in codes:
                by_meaning.setdefault(code_meaning(item, entry.code) or "", []).append(entry.code)
            table = self.tables[key] = (codes, by_meaning)
        chosen = self._surgery_code(table[0], table[1], item, wanted, kind) if table[0] else None
        return {column: (chosen if naaccr_id == item else None) for naaccr_id, column in SURGERY_COLUMNS.items()}

    def _surgery_code(self, codes: list[SurgeryCode], by_meaning: dict[str, list[str]], item: str,
                      wanted: str | None, kind: str) -> str | None:
        if kind == PERFORMED and by_meaning.get(PERFORMED):
            performed = by_meaning[PERFORMED]
            if wanted:
                exact = [wanted] if item != ITEM_FROM_2023 else [f"A{wanted}0", f"B{wanted}0"]
                found = [code for code in exact if code in performed]
                if found:
                    return found[0]
                digit = wanted[0]
                same_class = [c for c in performed if (c[0] if item != ITEM_FROM_2023 else c[1]) == digit]
                if same_class:
                    return self.rng.choice(same_class)
            return self.rng.choice(performed)
        if kind == "unknown":
            return (by_meaning.get("unknown") or ["99" if item != ITEM_FROM_2023 else codes[0].code[0] + "990"])[0]
        return (by_meaning.get("none") or by_meaning.get("not applicable") or [codes[0].code])[0]

    # ----- patient --------------------------------------------------------------------------------------------------
    def patient_items(self, patient: dict[str, Any], tumors: list[dict[str, Any]]) -> dict[str, str]:
        """Patient-level items: current address, birthplace, telephone, death details, COVID-19 test."""
        rng = self.rng
        moved = rng.random() < 0.12 and patient["vital_status"] == "1"
        items = {
            "addrCurrentNoStreet": (f"{rng.randint(1, 9999)} Fake Court" if moved else patient["addr_at_dx_street"]),
            "addrCurrentCity": patient["addr_at_dx_city"], "addrCurrentState": patient["addr_at_dx_state"],
            "addrCurrentPostalCode": patient["addr_at_dx_postal_code"], "addrCurrentCountry": "USA",
            "countyCurrent": patient["county_at_dx"],
            "birthplaceState": rng.choice(["IL", "IL", "IL", "IN", "WI", "MO", "IA", "OH"]),
            "birthplaceCountry": "USA", "telephone": f"217555{rng.randrange(100, 200):04d}",
            "noPatientContactFlag": "0",
        }
        if patient["vital_status"] == "0":
            items.update(icdRevisionNumber="1", autopsy="2", placeOfDeathState="IL", placeOfDeathCountry="USA")
        else:
            items.update(icdRevisionNumber="0", autopsy="0")
        if any((t["date_of_diagnosis"] or "0")[:4] >= "2020" for t in tumors):
            tested = rng.random() < 0.4
            items.update(ncdbSarsCov2Test="1" if tested else "0", ncdbSarsCov2Pos="1" if tested and
                         rng.random() < 0.1 else "0")
        return items

    # ----- tumor ----------------------------------------------------------------------------------------------------
    def tumor_items(self, patient: dict[str, Any], tumor: dict[str, Any], treatment: dict[str, Any], profile: str,
                    index: int, cancer_status: str | None) -> dict[str, str]:
        """Every other Tumor-level item of one abstract, from its key items, stage and treatment."""
        year = int(tumor["date_of_diagnosis"][:4])
        dco = tumor["type_of_reporting_source"] == "7"
        items: dict[str, str] = {}
        items.update(self._administrative(patient, tumor, treatment, year, index, dco))
        items.update(self._demographics(patient, tumor, profile, year))
        if not dco:
            items.update(self._stage(tumor, treatment, profile, year))
        items.update(self._treatment(tumor, treatment, profile, year, dco))
        items.update(self._follow_up(patient, tumor, cancer_status))
        items.update(self._text(patient, tumor, treatment, items, profile, dco))
        return {key: value for key, value in items.items() if value}

    def _administrative(self, patient: dict, tumor: dict, treatment: dict, year: int, index: int,
                        dco: bool) -> dict[str, str]:
        rng = self.rng
        first_contact = tumor["date_of_first_contact"]
        contact_year = int(first_contact[:4])
        serial = self.serials.get(contact_year, self.first_patient) + 1
        self.serials[contact_year] = serial
        completed = tumor["workflow_state"] != "in_progress" and tumor.get("abstracted_at") is not None
        done = _d(tumor["abstracted_at"].date()) if completed else None
        analytic = tumor["class_of_case"] in ANALYTIC
        age = year - int(patient["date_of_birth"][:4])
        managing = rng.choice(PHYSICIANS["managing"])
        follow = rng.choice(PHYSICIANS["follow_up"])
        items = dict(FACILITY) | {
            "accessionNumberHosp": f"{contact_year:04d}{serial % 100000:05d}",
            "abstractedBy": rng.choice(ABSTRACTORS), "tumorRecordNumber": f"{index + 1:02d}",
            "patientSystemIdHosp": patient["patient_id_number"],
            "dateCaseInitiated": _d(min(_date(first_contact) + dt.timedelta(days=rng.randint(1, 20)),
                                        tumor["abstracted_at"].date())) if tumor.get("abstracted_at") else None,
            "dateCaseCompleted": done, "dateCaseCompletedCoc": done, "dateCaseLastChanged": done,
            "casefindingSource": "80" if dco else "20" if tumor["diagnostic_confirmation"] == "1" else "26",
            "primaryPayerAtDx": ("99" if dco else rng.choice(["60", "61", "63", "64"]) if age >= 65 else
                                 rng.choice(["20", "21", "21", "31", "02", "01"])),
            "physicianManaging": managing[0], "npiPhysicianManaging": managing[1],
            "physicianFollowUp": follow[0], "npiPhysicianFollowUp": follow[1],
            "siteCodingSysCurrent": "5", "siteCodingSysOriginal": "5",
            "morphCodingSysCurrent": "7" if year < 2018 else "A" if year < 2021 else "B",
            "icdO3ConversionFlag": "0", "cocCodingSysCurrent": "09",
            "cocCodingSysOriginal": "08" if year < 2018 else "09",
            "cocAccreditedFlag": None if dco else "1" if analytic else "2", "vendorName": "DEMOFAKE",
        }
        items["morphCodingSysOriginl"] = items["morphCodingSysCurrent"]
        if treatment.get("date_of_surgery"):
            surgeon = rng.choice(PHYSICIANS["surgeon"])
            items.update(physicianPrimarySurg=surgeon[0], npiPhysicianPrimarySurg=surgeon[1])
        if treatment.get("date_of_radiation"):
            items.update(physician3=PHYSICIANS["radiation"][0][0], npiPhysician3=PHYSICIANS["radiation"][0][1])
        if treatment.get("date_of_chemotherapy") or treatment.get("date_of_immunotherapy"):
            medical = rng.choice(PHYSICIANS["medical"])
            items.update(physician4=medical[0], npiPhysician4=medical[1])
        if tumor.get("staging_algorithm"):
            version = tumor["staging_algorithm"].rsplit(" ", 1)[-1]
            items.update(schemaIdVersionCurrent=version, schemaIdVersionOriginal=version)
        return items

    def _demographics(self, patient: dict, tumor: dict, profile: str, year: int) -> dict[str, str]:
        rng = self.rng
        birthday_later = tumor["date_of_diagnosis"][4:8] < patient["date_of_birth"][4:8]
        age = year - int(patient["date_of_birth"][:4]) - birthday_later
        marital = ("1" if age < 30 and rng.random() < 0.7 else
                   rng.choice("2222245569") if age < 75 else rng.choice("2255559"))
        smoker = 0.45 if profile in {"lung", "bladder", "oral cavity and pharynx", "esophagus"} else 0.15
        occupation, industry, job, trade = rng.choice(OCCUPATIONS)
        return {
            "ageAtDiagnosis": f"{max(age, 0):03d}", "maritalStatusAtDx": marital,
            "tobaccoUseSmokingStatus": "1" if rng.random() < smoker else rng.choice("0002029"),
            "addrAtDxCountry": "USA", "stateAtDxGeocode2020": "17", "countyAtDxGeocode2020": patient["county_at_dx"],
            "censusTract2020": f"{rng.randrange(1, 9000):04d}{rng.choice(['00', '01', '02'])}",
            "censusTractCertainty2020": "1", "censusBlockGroup2020": str(rng.randint(1, 6)),
            "geocodingQualityCode": "M",
            "censusOccCode2010": occupation, "censusIndCode2010": industry, "occupationSource": "1",
            "industrySource": "1", "textUsualOccupation": job, "textUsualIndustry": trade,
            "ambiguousTerminologyDx": "0", "multTumRptAsOnePrim": "00", "multiplicityCounter": "01",
        }

    def _stage(self, tumor: dict, treatment: dict, profile: str, year: int) -> dict[str, str]:
        """Size, nodes, sentinel nodes, mets and LVI that agree with the tumor's stage and surgery."""
        rng = self.rng
        stage = tumor["summary_stage_2018"] or tumor["summary_stage_2000"] or "9"
        resected = bool(treatment.get("date_of_surgery"))
        heme = profile in NO_SIZE_PROFILES
        items: dict[str, str] = {}
        if year >= 2016:
            if heme or stage not in SIZE_MM_BY_STAGE or profile == "prostate":
                clinical = pathologic = "999"
            else:
                low, high = SIZE_MM_BY_STAGE[stage]
                size = rng.randint(low, high)
                clinical = f"{size:03d}"
                pathologic = f"{min(max(size + rng.randint(-3, 3), low), high):03d}" if resected else "999"
            items.update(tumorSizeClinical=clinical, tumorSizePathologic=pathologic,
                         tumorSizeSummary=pathologic if pathologic != "999" else clinical)
            mets = "8" if heme else "9" if stage == "9" else "0"
            items.update(dict.fromkeys(METS_ITEMS, mets))
            if stage == "7" and not heme and self._distant_mets(tumor):
                sites = METS_SITES.get(profile, ["metsAtDxLiver", "metsAtDxLung", "metsAtDxBone"])
                for name in rng.sample(sites, k=min(len(sites), rng.choice([1, 1, 2]))):
                    items[name] = "1"
        scope = treatment.get("scope_regional_lymph_node_surgery") or "0"
        involved = stage in {"3", "4"} or (stage == "7" and self._nodes_involved(tumor))
        if heme or profile in NO_NODES_PROFILES or scope == "9":
            positive, examined = "99", "99"
        elif scope in NODES_REMOVED:
            count = rng.randint(1, 4) if scope == "2" else rng.randint(1, 3) if scope == "4" else rng.randint(4, 24)
            examined, positive = f"{count:02d}", f"{rng.randint(1, min(count, 8)) if involved else 0:02d}"
        else:
            positive, examined = "98", "00"
        items.update(regionalNodesPositive=positive, regionalNodesExamined=examined)
        if tumor["primary_site"].startswith(SENTINEL_SITES) and year >= 2018:
            if scope in SENTINEL_SCOPES:
                sentinel = min(int(examined), rng.randint(1, 4))
                hit = min(int(positive), sentinel, rng.randint(1, 3)) if involved else 0
                items.update(sentinelLymphNodesExamined=f"{sentinel:02d}", sentinelLymphNodesPositive=f"{hit:02d}",
                             dateSentinelLymphNodeBiopsy=treatment.get("date_of_surgery"))
            else:
                items.update(sentinelLymphNodesExamined="00", sentinelLymphNodesPositive="98")
        if year >= 2010:
            items["lymphVascularInvasion"] = ("8" if heme else "0" if tumor["behavior"] == "2" else
                                              ("1" if rng.random() < (0.35 if involved else 0.1) else "0")
                                              if resected else "9")
        return items

    @staticmethod
    def _nodes_involved(tumor: dict) -> bool:
        nodes = tumor.get("eod_regional_nodes")
        return bool(nodes) and nodes != "000" and nodes[0] not in "89"

    @staticmethod
    def _distant_mets(tumor: dict) -> bool:
        """Distant stage from metastases (EOD Mets [776] 10-70), not from direct extension; without EOD, yes."""
        mets = tumor.get("eod_mets")
        return mets is None or mets[0] in "1234567"

    def _treatment(self, tumor: dict, treatment: dict, profile: str, year: int, dco: bool) -> dict[str, str]:
        rng = self.rng
        unknown = dco or treatment.get("radiation_modality") == "99"
        surgery = _date(treatment.get("date_of_surgery"))
        radiation = _date(treatment.get("date_of_radiation"))
        systemic = [d for d in (_date(treatment.get(name)) for name in
                                ("date_of_chemotherapy", "date_of_hormone_therapy", "date_of_immunotherapy")) if d]
        given = bool(surgery or radiation or systemic or treatment.get("transplant_endocrine") not in (None, "00"))
        items: dict[str, str | None] = {
            "rxSummTreatmentStatus": "9" if unknown else "1" if given else "0",
            "reasonForNoRadiation": "9" if unknown else "0" if radiation else "1",
            "rxSummSurgRadSeq": "0" if not (surgery and radiation) else "3" if radiation >= surgery else "2",
            "rxSummPalliativeProc": "9" if unknown else "0",
            "rxCodingSystemCurrent": "08" if year >= 2018 else "06",
            "rxSummDxStgProc": "09" if unknown else "02" if tumor["diagnostic_confirmation"] == "1" else "00",
        }
        if systemic:
            items["rxDateSystemic"] = _d(min(systemic))
        if surgery and systemic:
            items["rxSummSystemicSurSeq"] = "2" if min(systemic) < surgery else "3"
        elif not unknown:
            items["rxSummSystemicSurSeq"] = "0"
        if items["rxSummDxStgProc"] == "02":
            items["rxDateDxStgProc"] = tumor["date_of_diagnosis"] if len(tumor["date_of_diagnosis"]) == 8 else None
        if year >= 2021 and not unknown:
            neoadjuvant = items.get("rxSummSystemicSurSeq") == "2"
            items.update(neoadjuvantTherapy="1" if neoadjuvant else "0",
                         neoadjuvTherapyClinicalResponse="2" if neoadjuvant else "0")
        if surgery:
            items.update(rxDateMostDefinSurg=_d(surgery),
                         rxDateSurgicalDisch=_d(surgery + dt.timedelta(days=rng.randint(0, 5))),
                         readmSameHosp30Days="1" if rng.random() < 0.03 else "0", rxSummSurgicalMargins=(
                             "0" if rng.random() < 0.85 else rng.choice("1237")))
            if tumor["primary_site"].startswith("C50") and year >= 2023:
                items["rxSummReconBreast"] = rng.choice(["A000", "A000", "A000", "A100", "A600"])
        elif not unknown:
            items.update(readmSameHosp30Days="0", rxSummSurgicalMargins="9" if profile in NO_SIZE_PROFILES else "8")
        if year >= 2018:
            items.update(self._radiation(treatment, profile, radiation, unknown))
        if tumor["class_of_case"] in ANALYTIC and not unknown:
            items.update(self._at_this_hospital(tumor, treatment, year))
        if year >= 2020 and not unknown:
            items["ncdbCovid19TxImpact"] = "1"
        return {key: value for key, value in items.items() if value}

    def _radiation(self, treatment: dict, profile: str, start: dt.date | None, unknown: bool) -> dict[str, str]:
        if unknown:
            return {}
        if start is None:
            return {"phase1RadiationPrimaryTxVolume": "00", "phase1RadiationToDrainingLN": "00",
                    "phase1RadiationExternalBeamTech": "00", "phase1DosePerFraction": "00000",
                    "phase1NumberOfFractions": "000", "phase1TotalDose": "000000",
                    "numberPhasesOfRadTxToVolume": "00", "radiationTxDiscontinuedEarly": "00", "totalDose": "000000"}
        volume, nodes = RADIATION_VOLUME.get(profile, ("98", "88"))
        per_fraction, fractions = RADIATION_DOSE.get(profile, (200, 25))
        brachytherapy = treatment.get("radiation_modality") == "07"
        if brachytherapy:
            per_fraction, fractions = 700, 2
        completed = self.rng.random() < 0.95
        given = fractions if completed else max(fractions - self.rng.randint(3, 10), 1)
        total = f"{per_fraction * given:06d}"
        return {"phase1RadiationPrimaryTxVolume": volume, "phase1RadiationToDrainingLN": nodes,
                "phase1RadiationExternalBeamTech": "88" if brachytherapy else self.rng.choice(["04", "05", "05"]),
                "phase1DosePerFraction": f"{per_fraction:05d}", "phase1NumberOfFractions": f"{given:03d}",
                "phase1TotalDose": total, "numberPhasesOfRadTxToVolume": "01",
                "radiationTxDiscontinuedEarly": "01" if completed else "02", "totalDose": total,
                "rxDateRadiationEnded": _d(start + dt.timedelta(days=given * 7 // 5))}

    @staticmethod
    def _at_this_hospital(tumor: dict, treatment: dict, year: int) -> dict[str, str]:
        """What this facility gave: all of the first course for the classes treated here, none for class 00."""
        here = tumor["class_of_case"] in TREATED_HERE

        def mirror(code: str | None, none: str) -> str:
            return (code or none) if here and code not in ("99", "9") else none

        surgery_code = treatment.get("surgery_of_primary_site_2023" if year >= 2023 else "surgery_of_primary_site")
        return {
            "rxHospSurgPrimSite2023" if year >= 2023 else "rxHospSurgPrimSite": (
                surgery_code if here and surgery_code else ("A000" if year >= 2023 else "00")),
            "rxHospSurgApp2010": "5" if here and treatment.get("date_of_surgery") else "0",
            "rxHospScopeRegLnSur": mirror(treatment.get("scope_regional_lymph_node_surgery"), "0"),
            "rxHospSurgOthRegDis": "0",
            "rxHospRadiation": ("2" if treatment.get("radiation_modality") == "07" else "1")
            if here and treatment.get("date_of_radiation") else "0",
            "rxHospChemo": mirror(treatment.get("chemotherapy"), "00"),
            "rxHospHormone": mirror(treatment.get("hormone_therapy"), "00"),
            "rxHospBrm": mirror(treatment.get("immunotherapy"), "00"),
            "rxHospOther": "0", "rxHospPalliativeProc": "0",
            "rxHospDxStgProc": "02" if tumor["diagnostic_confirmation"] == "1" else "00",
        }

    @staticmethod
    def _follow_up(patient: dict, tumor: dict, cancer_status: str | None) -> dict[str, str]:
        dead = patient["vital_status"] == "0"
        status = cancer_status or "9"
        distant = (tumor["summary_stage_2018"] or tumor["summary_stage_2000"]) == "7"
        return {"cancerStatus": status, "dateOfLastCancerStatus": patient["date_of_last_contact"],
                "followUpSource": "7" if dead else "2", "nextFollowUpSource": "0" if dead else "1",
                "recurrenceType1st": "70" if distant or status == "2" else "00" if status == "1" else "99"}

    def _text(self, patient: dict, tumor: dict, treatment: dict, items: dict, profile: str, dco: bool
              ) -> dict[str, str]:
        """Short text documentation, each line plainly marked as fake."""
        topography, morphology = _terms()
        site_term = topography.get(tumor["primary_site"], tumor["primary_site"])
        morphology_term = morphology.get(f"{tumor['histology']}/{tumor['behavior']}", tumor["histology"])
        dx = tumor["date_of_diagnosis"]
        texts = {"textPrimarySiteTitle": site_term.upper()[:100], "textHistologyTitle": morphology_term.upper()[:100],
                 "textPlaceOfDiagnosis": FACILITY_NAME}
        if dco:
            texts["textRemarks"] = f"{FAKE}: CASE FROM DEATH CERTIFICATE ONLY. NO MEDICAL RECORD FOUND."
            return texts
        size = items.get("tumorSizeSummary")
        size_text = f"{int(size)} MM" if size and size not in ("999", "998", "990", "989") else "SIZE NOT STATED"
        stage = tumor["summary_stage_2018"] or tumor["summary_stage_2000"] or "9"
        texts.update({
            "textDxProcPe": f"{FAKE} {dx}: PT SEEN FOR {site_term.upper()} MASS, {size_text}. NO OTHER FINDINGS.",
            "textDxProcXRayScan": f"{FAKE} {dx}: CT CHEST/ABD/PELVIS. "
                                  + ("MULTIPLE DISTANT LESIONS." if stage == "7" else "NO DISTANT DISEASE."),
            "textDxProcLabTests": f"{FAKE}: CBC AND CMP WITHIN NORMAL LIMITS.",
            "textDxProcPath": f"{FAKE} {dx}: {morphology_term.upper()}, {site_term.upper()}. "
                              f"NODES {items.get('regionalNodesPositive', '99')}/"
                              f"{items.get('regionalNodesExamined', '99')}.",
            "textStaging": f"{FAKE}: SUMMARY STAGE {stage}; SIZE {size_text}; NODES POS "
                           f"{items.get('regionalNodesPositive', '99')}; EOD {tumor.get('eod_primary_tumor') or '-'}/"
                           f"{tumor.get('eod_regional_nodes') or '-'}/{tumor.get('eod_mets') or '-'}.",
            "rxTextOther": f"{FAKE}: NONE.",
            "textRemarks": f"{FAKE}: DEMONSTRATION ABSTRACT, NOT A REAL PATIENT.",
        })
        if treatment.get("date_of_surgery"):
            code = treatment.get("surgery_of_primary_site_2023") or treatment.get("surgery_of_primary_site")
            texts["textDxProcOp"] = f"{FAKE} {treatment['date_of_surgery']}: RESECTION OF {site_term.upper()}."
            texts["rxTextSurgery"] = f"{FAKE} {treatment['date_of_surgery']}: SURGERY CODE {code} AT {FACILITY_NAME}."
        else:
            texts["rxTextSurgery"] = f"{FAKE}: NO SURGERY OF THE PRIMARY SITE."
        if treatment.get("date_of_radiation"):
            texts["rxTextRadiation"] = (f"{FAKE} {treatment['date_of_radiation']}: "
                                        f"{items.get('phase1TotalDose', '').lstrip('0') or '?'} CGY IN "
                                        f"{items.get('phase1NumberOfFractions', '').lstrip('0') or '?'} FX.")
        for column, item, what in (("date_of_chemotherapy", "rxTextChemo", "CHEMOTHERAPY"),
                                   ("date_of_hormone_therapy", "rxTextHormone", "HORMONE THERAPY"),
                                   ("date_of_immunotherapy", "rxTextBrm", "IMMUNOTHERAPY")):
            texts[item] = f"{FAKE} {treatment[column]}: {what} STARTED." if treatment.get(column) else f"{FAKE}: NONE."
        return texts
