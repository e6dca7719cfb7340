"""Synthetic, deterministic registry data for demonstrations, tests and benchmarks.

Every name, address and number is obviously fake (surnames end in -demo/-fake…, SSNs start
with the never-issued area 999). The shape is realistic: the site mix, histologies valid for
the site, sex- and age-appropriate sites, stage by site, treatment by stage, yearly follow-up
and deaths drawn from stage- and age-dependent hazards. Rows go in with bulk inserts.
"""
from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from registry.demo_profiles import (CITIES, FIRST_NAMES_F, FIRST_NAMES_M, NO_NODES_PROFILES, OTHER_CAUSES, PROFILES,
                                    STREETS, SURNAME_ENDS, SURNAME_STEMS)
from registry.demo_items import ItemFiller
from registry.demo_staging import StageCoder, installed_coder
from registry.edits.engine import site_group_test
from registry.models import (FirstCourseTreatment, FollowUpContact, FollowUpTumorStatus, Patient, PatientNameKey,
                             Tumor, WorkflowState)
from registry.models.abstracting import name_key_row
from staging_tables.surgery import surgery_performed

FIRST_DIAGNOSIS_YEAR = 2008
LAST_DIAGNOSIS_YEAR = 2025
FOLLOW_UP_END = dt.date(2026, 6, 30)
BATCH_PATIENTS = 2000
DAYS_PER_YEAR = 365.25


class _Choice:
    """Weighted choice over a mapping, fast enough for a million draws."""

    def __init__(self, weights: dict[Any, float]):
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))

    def __call__(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


class _Profile:
    def __init__(self, spec: dict):
        self.spec = spec
        self.name: str = spec["name"]
        self.site = _Choice(spec["sites"])
        self.histology = _Choice(spec["histology"])
        self.stage = _Choice(spec["stages"])
        self.heme = spec["stages"] == {"7": 100}


PROFILE_OBJECTS = [_Profile(spec) for spec in PROFILES]
PAIRED_SITE = site_group_test("paired_sites")
#: A death certificate names only the disease: a NOS morphology the site allows (8000/3 is not valid in
#: bone marrow or skin on the SEER site/histology list).
DCO_HISTOLOGY = {"C42": "9800", "C44": "8720"}
PICK_PROFILE = _Choice({i: spec["weight"] for i, spec in enumerate(PROFILES)})
PICK_OTHER_CAUSE = _Choice(OTHER_CAUSES)
PICK_RACE = _Choice({"01": 75, "02": 13, "04": 1.5, "05": 0.6, "06": 1.2, "08": 0.6, "10": 0.8, "15": 1.3,
                     "96": 0.6, "03": 1, "07": 0.2, "98": 1.2, "99": 3})
PICK_HISPANIC = _Choice({"0": 84, "1": 7, "2": 1.5, "3": 0.7, "4": 1, "5": 0.5, "6": 2, "7": 0.3, "9": 3})
PICK_CLASS = _Choice({"14": 40, "12": 8, "13": 10, "10": 12, "22": 12, "21": 5, "00": 6, "32": 3, "30": 2, "38": 0.2})


def _d(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def _add_days(value: dt.date, days: float) -> dt.date:
    return value + dt.timedelta(days=int(days))


@lru_cache(maxsize=1)
def background_mortality() -> dict[tuple[int, int], tuple[float, ...]]:
    """Death probabilities by age for each (sex, calendar year), from the SSA period life tables
    shipped with the official tables: the demo population dies of other causes as the US
    population does, so relative survival over demo data, computed with the same tables,
    measures the simulated cancer deaths alone."""
    from registry.reference.official import official_tables
    from reports.survival.lifetables import parse_life_table
    rows: dict[tuple[int, int], dict[int, float]] = {}
    for official in official_tables():
        if official.kind == "life-table":
            table, _meta = parse_life_table(official.path)
            for sex, age, year, prob in table[["sex", "age", "year", "prob"]].itertuples(index=False):
                rows.setdefault((int(sex), int(year)), {})[int(age)] = 1.0 - float(prob)
    return {key: tuple(by_age[age] for age in sorted(by_age)) for key, by_age in rows.items()}


@lru_cache(maxsize=2)
def _last_year(sex: int) -> int:
    return max(year for table_sex, year in background_mortality() if table_sex == sex)


def _other_cause_years(rng: random.Random, age: float, sex: int, year: int) -> float:
    """Years to death from other causes: a year at a time through the life table, from the
    patient's age and calendar year on (past the table's last year, its last year's rates)."""
    table = background_mortality()
    last_year = _last_year(sex)
    whole, years = int(age), 0
    while years < 200:
        by_age = table[(sex, min(year + years, last_year))]
        if rng.random() < by_age[min(whole + years, len(by_age) - 1)]:
            return years + rng.random()
        years += 1
    return math.inf


class DemoGenerator:
    """Draws patients, tumors, treatment and follow-up as plain row dicts."""

    def __init__(self, seed: int, first_ids: dict[str, int], coder: StageCoder | None = None):
        self.rng = random.Random(seed)
        self.ids = dict(first_ids)
        self.coder = coder
        # its own stream, so the same seed gives the same registry with or without a staging algorithm
        self.stage_rng = random.Random(f"{seed}-stage")
        self.items = ItemFiller(seed, first_ids["patient"])

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _diagnosis_date(self) -> dt.date:
        year = self.rng.randint(FIRST_DIAGNOSIS_YEAR, LAST_DIAGNOSIS_YEAR)
        return dt.date(year, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def patient(self) -> dict[str, list[dict]]:
        rng = self.rng
        profile = PROFILE_OBJECTS[PICK_PROFILE(rng)]
        male = rng.random() < profile.spec["male_share"]
        mean, sd = profile.spec["age"]
        age = min(max(rng.gauss(mean, sd), 15 if profile.name == "testis" else 20), 98)
        dx = self._diagnosis_date()
        birth = _add_days(dx, -age * DAYS_PER_YEAR - rng.randrange(365) + 182)
        patient_id = self._next("patient")
        self.items.start(patient_id)
        city, county, zip3 = CITIES[rng.randrange(len(CITIES))]
        first = rng.choice(FIRST_NAMES_M if male else FIRST_NAMES_F)
        patient = {
            "id": patient_id, "patient_id_number": f"{self.ids['patient_number'] + patient_id:08d}",
            "medical_record_number": f"M{patient_id:07d}",
            "name_last": rng.choice(SURNAME_STEMS) + rng.choice(SURNAME_ENDS), "name_first": first,
            "name_middle": rng.choice("ABCDEFGHJKLMNPRSTW") if rng.random() < 0.6 else None,
            "name_birth_surname": None, "date_of_birth": _d(birth), "sex": "1" if male else "2",
            "sex_assigned_at_birth": "1" if male else "2", "race1": PICK_RACE(rng), "race2": "88",
            "race3": "88", "race4": "88", "race5": "88", "spanish_hispanic_origin": PICK_HISPANIC(rng),
            "social_security_number": f"999{rng.randrange(100):02d}{rng.randrange(10000):04d}",
            "addr_at_dx_street": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}", "addr_at_dx_city": city,
            "addr_at_dx_state": "IL", "addr_at_dx_postal_code": f"{zip3}{rng.randrange(100):02d}",
            "county_at_dx": county, "extra_items": {}, "version": 1,
        }
        if patient["race1"] == "99":
            patient.update(race2="99", race3="99", race4="99", race5="99")
        if not male and rng.random() < 0.4:
            patient["name_birth_surname"] = rng.choice(SURNAME_STEMS) + rng.choice(SURNAME_ENDS)

        diagnoses = [(dx, profile)]
        extra = 2 if rng.random() < 0.015 else 1 if rng.random() < 0.12 else 0
        for _ in range(extra):
            other = PROFILE_OBJECTS[PICK_PROFILE(rng)]
            share = other.spec["male_share"]
            if (male and share == 0) or (not male and share == 1) or other is profile:
                continue
            later = _add_days(diagnoses[-1][0], rng.uniform(60, 2500))
            if later.year <= LAST_DIAGNOSIS_YEAR:
                diagnoses.append((later, other))

        death_years, cancer_death, tumors_rows = math.inf, False, []
        stages = []
        for when, prof in diagnoses:
            stage = prof.stage(rng)
            hist = prof.histology(rng)
            if hist.endswith("/2"):
                stage = "0"
            stages.append((when, prof, stage, hist))
            age_then = (when - birth).days / DAYS_PER_YEAR
            hazard = prof.spec["hazard"].get(stage, 0.05) * (1 + max(age_then - 60, 0) / 40)
            if hazard > 0:
                t = (when - dx).days / DAYS_PER_YEAR + rng.expovariate(hazard)
                if t < death_years:
                    death_years, cancer_death = t, prof
        other_years = _other_cause_years(rng, age, 1 if male else 2, dx.year)
        if other_years < death_years:
            death_years, cancer_death = other_years, None
        death = _add_days(dx, death_years * DAYS_PER_YEAR) if death_years < 200 else None
        lost = _add_days(dx, rng.uniform(0.5, 12) * DAYS_PER_YEAR) if rng.random() < 0.05 else None
        end = min(d for d in (FOLLOW_UP_END, lost) if d is not None)
        dco = rng.random() < 0.003 and death is not None and death <= end
        if death is not None and death <= end:
            last_contact, alive = death, False
        else:
            last_contact, alive = _add_days(end, -rng.randrange(0, 200)), True
            last_contact = max(last_contact, _add_days(stages[-1][0], 1))
            death = None
        patient["vital_status"] = "1" if alive else "0"
        patient["date_of_last_contact"] = _d(last_contact)
        if alive:
            patient["cause_of_death"] = "0000"
        else:
            patient["cause_of_death"] = cancer_death.spec["death_code"] if cancer_death else PICK_OTHER_CAUSE(rng)

        stages = [s for s in stages if s[0] <= last_contact]
        if dco and len(stages) == 1:
            stages = [(death, stages[0][1], "9", "8000/3")]
        malignant = [s for s in stages if s[3][-1] in "23"]
        seq_malignant, seq_benign = itertools.count(1), itertools.count(61)
        treatments, statuses_by_tumor, profiles = [], [], []
        for when, prof, stage, hist in stages:
            tumor_id = self._next("tumor")
            histology, behavior = hist.split("/")
            if behavior in "23":
                sequence = "00" if len(malignant) == 1 else f"{next(seq_malignant):02d}"
            else:
                sequence = "60" if len(stages) - len(malignant) == 1 else f"{next(seq_benign):02d}"
            tumor_dco = dco and len(stages) == 1
            row = self._tumor(tumor_id, patient_id, when, prof, stage, histology, behavior, sequence, tumor_dco,
                              last_contact)
            treatment = self._treatment(tumor_id, when, prof, row, tumor_dco, last_contact)
            if self.coder is not None:
                self.coder.code(self.stage_rng, row, patient, treatment, prof.spec["grades"])
            tumors_rows.append(row)
            treatments.append(treatment)
            profiles.append(prof.name)
            statuses_by_tumor.append((tumor_id, row["summary_stage_2018"] or stage, when))
        contacts, statuses = self._follow_up(patient_id, dx, last_contact, alive, statuses_by_tumor)
        latest = {status["tumor_id"]: status["cancer_status"] for status in statuses}
        patient["extra_items"] = self.items.patient_items(patient, tumors_rows)
        for index, (row, treatment, name) in enumerate(zip(tumors_rows, treatments, profiles)):
            row["extra_items"] = {**row["extra_items"], **self.items.tumor_items(
                patient, row, treatment, name, index, latest.get(row["id"]))}
        return {"patient": [patient], "tumor": tumors_rows, "first_course_treatment": treatments,
                "follow_up_contact": contacts, "follow_up_tumor_status": statuses}

    def _tumor(self, tumor_id: int, patient_id: int, dx: dt.date, prof: _Profile, stage: str, histology: str,
               behavior: str, sequence: str, dco: bool, last_contact: dt.date) -> dict[str, Any]:
        rng = self.rng
        date_text = _d(dx)
        roll = rng.random()
        if roll < 0.02 and not dco:
            date_text = date_text[:6]
        elif roll < 0.025 and not dco:
            date_text = date_text[:4]
        site = prof.site(rng)
        confirmation = "1"
        if dco:
            confirmation, histology, behavior = "9", DCO_HISTOLOGY.get(site[:3], "8000"), "3"
        elif prof.heme and rng.random() < 0.3:
            confirmation = "3"
        elif prof.name in {"lung", "pancreas", "liver", "brain"} and rng.random() < 0.04:
            confirmation, histology = "7", "8000"
        elif rng.random() < 0.03 and prof.name in {"lung", "pancreas", "bladder", "thyroid"}:
            confirmation = "2"
        if dco:
            stage = "9"
        first_contact = min(_add_days(dx, rng.randint(0, 30)), last_contact)
        class_of_case = "49" if dco else PICK_CLASS(rng)
        modern = dx.year >= 2018
        grade = prof.spec["grades"]
        recent = (FOLLOW_UP_END - first_contact).days < 240
        state = (WorkflowState.IN_PROGRESS if recent and rng.random() < 0.6 else
                 WorkflowState.COMPLETE if recent or rng.random() < 0.05 else WorkflowState.REVIEWED)
        return {
            "id": tumor_id, "patient_id": patient_id, "primary_site": site,
            "laterality": rng.choice("12") if PAIRED_SITE(site) else "0",
            "histology": histology, "behavior": behavior,
            "grade_clinical": ("9" if dco else rng.choice(grade + "9")) if modern else None,
            "grade_pathological": ("9" if dco else rng.choice(grade)) if modern else None,
            "grade_post_therapy": None,
            "grade_pre_2018": None if modern else ("9" if dco or prof.heme and prof.name != "lymphoma" else
                                                   "6" if prof.name == "lymphoma" else rng.choice("12349")),
            "diagnostic_confirmation": confirmation, "date_of_diagnosis": date_text,
            "sequence_number_hospital": sequence, "class_of_case": class_of_case,
            "type_of_reporting_source": "7" if dco else "1",
            "date_of_first_contact": _d(first_contact),
            "summary_stage_2018": stage if modern else None,
            "summary_stage_2000": None if modern else stage,
            "site_specific_items": {}, "extra_items": {}, "workflow_state": state,
            "abstracted_at": dt.datetime.combine(_add_days(first_contact, rng.gauss(110, 45)), dt.time(12),
                                                 tzinfo=dt.timezone.utc),
            "version": 1,
        }

    def _treatment(self, tumor_id: int, dx: dt.date, prof: _Profile, tumor: dict, dco: bool,
                   last_contact: dt.date) -> dict[str, Any]:
        rng = self.rng
        therapy = prof.spec["therapy"]
        stage = tumor["summary_stage_2018"] or tumor["summary_stage_2000"]
        row: dict[str, Any] = {"tumor_id": tumor_id}
        if dco or tumor["class_of_case"] in {"32", "30", "38"}:
            return row | self.items.surgery(tumor, dx.year, None, "unknown") | {
                "reason_for_no_surgery": "9", "chemotherapy": "99", "hormone_therapy": "99", "immunotherapy": "99",
                "radiation_modality": "99", "transplant_endocrine": "99", "other_therapy": "9",
                "scope_regional_lymph_node_surgery": "9", "surgery_other_sites": "9"}
        distant = stage == "7" and not prof.heme
        dates = []

        def given(kind: str, factor: float = 1.0) -> dt.date | None:
            if rng.random() < min(therapy[kind] * factor, 0.98):
                when = min(_add_days(dx, rng.randint(7, 90)), last_contact)
                dates.append(when)
                return when
            return None

        surgery = given("surgery", 0.3 if distant else 1.0)
        code = rng.choice(prof.spec["surgery_codes"]) if surgery else None
        row.update(self.items.surgery(tumor, dx.year, code, "performed" if surgery else "none"))
        if surgery and not surgery_performed(row["surgery_of_primary_site"], row["surgery_of_primary_site_2023"]):
            surgery = None  # the site's table has no surgery of the primary site (hematopoietic)
            dates.pop()
        row["date_of_surgery"] = _d(surgery) if surgery else None
        row["reason_for_no_surgery"] = "0" if surgery else "1"
        row["scope_regional_lymph_node_surgery"] = (rng.choice("2345") if surgery and stage in {"1", "2", "3", "4"}
                                                    and not prof.heme else "0")
        if prof.name in NO_NODES_PROFILES:
            row["scope_regional_lymph_node_surgery"] = "0"
        row["surgery_other_sites"] = "0"
        radiation = given("radiation")
        row["radiation_modality"] = ("07" if prof.name in {"prostate", "cervix"} and rng.random() < 0.3 else "02") \
            if radiation else "00"
        row["date_of_radiation"] = _d(radiation) if radiation else None
        chemo = given("chemo", 1.6 if stage in {"3", "4", "7"} else 0.5 if stage in {"0", "1"} else 1.0)
        row["chemotherapy"] = rng.choice(["02", "03", "03"]) if chemo else "00"
        row["date_of_chemotherapy"] = _d(chemo) if chemo else None
        hormone = given("hormone")
        row["hormone_therapy"] = "01" if hormone else "00"
        row["date_of_hormone_therapy"] = _d(hormone) if hormone else None
        immuno = given("immuno", 2.0 if distant else 1.0)
        row["immunotherapy"] = "01" if immuno else "00"
        row["date_of_immunotherapy"] = _d(immuno) if immuno else None
        row["transplant_endocrine"] = "11" if prof.name == "myeloma" and rng.random() < 0.3 else "00"
        row["other_therapy"] = "0"
        row["date_of_initial_treatment"] = _d(min(dates)) if dates else None
        return row

    def _follow_up(self, patient_id: int, dx: dt.date, last: dt.date, alive: bool,
                   tumors: list[tuple[int, str, dt.date]]) -> tuple[list[dict], list[dict]]:
        """Yearly contacts from diagnosis to last contact, each with every known tumor's status."""
        contacts, statuses = [], []
        when = _add_days(dx, 365 + self.rng.randint(-30, 30))
        dates = []
        while when < last and len(dates) < 12:
            dates.append(when)
            when = _add_days(when, 365 + self.rng.randint(-30, 30))
        dates.append(last)
        for index, when in enumerate(dates):
            final = index == len(dates) - 1
            contact_id = self._next("follow_up_contact")
            vital = "1" if (alive or not final) else "0"
            contacts.append({
                "id": contact_id, "patient_id": patient_id, "date_of_contact": _d(when), "vital_status": vital,
                "follow_up_source": "7" if vital == "0" else self.rng.choice("0223"),
                "next_follow_up_due": _d(_add_days(when, 365)) if vital == "1" else None,
            })
            for tumor_id, stage, tumor_dx in tumors:
                if tumor_dx > when:
                    continue
                evidence = stage == "7" or (vital == "0" and self.rng.random() < 0.5)
                statuses.append({"contact_id": contact_id, "tumor_id": tumor_id,
                                 "cancer_status": "2" if evidence else "1"})
        return contacts, statuses


TABLES = ["patient", "tumor", "first_course_treatment", "follow_up_contact", "follow_up_tumor_status"]
MODELS = {"patient": Patient, "tumor": Tumor, "first_course_treatment": FirstCourseTreatment,
          "follow_up_contact": FollowUpContact, "follow_up_tumor_status": FollowUpTumorStatus}


def _first_ids(session: Session) -> dict[str, int]:
    ids = {name: int(session.scalar(select(func.coalesce(func.max(MODELS[name].id), 0))) or 0)
           for name in ("patient", "tumor", "follow_up_contact")}
    highest = session.scalar(select(func.max(Patient.patient_id_number)))
    ids["patient_number"] = max(int(highest or 0) - ids["patient"], 0)
    return ids


def load_demo_data(session: Session, patients: int, seed: int = 1,
                   progress: Callable[[int, str], None] | None = None) -> dict[str, int]:
    """Insert ``patients`` synthetic patients with their tumors, treatment and follow-up.

    Runs in the caller's transaction; returns the number of rows per table. With an EOD algorithm installed
    (the one that derives on save), 2018+ tumors get EOD items, staging SSDIs and grades for their stage and the
    values the product derives from them; without one they get Summary Stage 2018 [764] only, and a warning.
    """
    if patients < 1:
        raise ValueError("patients: must be at least 1")
    generator = DemoGenerator(seed, _first_ids(session), installed_coder())
    first_patient = generator.ids["patient"] + 1
    counts = dict.fromkeys(TABLES, 0)
    done = 0
    while done < patients:
        batch = {name: [] for name in TABLES}
        for _ in range(min(BATCH_PATIENTS, patients - done)):
            for name, rows in generator.patient().items():
                batch[name].extend(rows)
        for name in TABLES:
            if batch[name]:
                keys = set().union(*batch[name])
                rows = [dict.fromkeys(keys) | row for row in batch[name]]
                session.execute(insert(MODELS[name].__table__), rows)
                if name == "patient":
                    session.execute(insert(PatientNameKey), [name_key_row(r["id"], r["name_last"], r["name_first"],
                                                                          r["name_birth_surname"]) for r in rows])
                counts[name] += len(batch[name])
        done += min(BATCH_PATIENTS, patients - done)
        if progress:
            progress(int(done * 100 / patients), f"{done} of {patients} patients")
    if session.get_bind().dialect.name == "postgresql":
        for name in ("patient", "tumor", "follow_up_contact"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                 f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"))
    from reports.survival.store import recompute_survival  # survival months are derived, never generated
    recompute_survival(session, patient_ids=(first_patient, generator.ids["patient"]))
    return counts


def _demo_data_job(progress: Callable[[int, str], None], patients: int, seed: int = 1) -> None:
    """Job kind ``demo-data``: the same load as the CLI, run in the background."""
    from registry.audit import SYSTEM, log_event, operation
    with operation(SYSTEM, "demo_data") as session:
        counts = load_demo_data(session, patients, seed, progress)
        log_event(SYSTEM, "demo_data", detail=f"seed {seed}: {counts}", commit=False)
    from registry.reference.cli import reference_store
    from reports.rates.demo_population import install_demo_population
    install_demo_population(actor=SYSTEM, store=reference_store())
    progress(100, ", ".join(f"{n} {table}" for table, n in counts.items()))
    return None


def register_jobs() -> None:
    from registry.jobs import job_kind
    job_kind("demo-data")(_demo_data_job)
