"""Demo data: deterministic per seed, valid for every item, and shaped like a real registry."""
import collections

import pytest

from abstracts.operations import clean
from registry.dates import PartialDate
from registry.demo import DemoGenerator
from registry.demo_profiles import PROFILES
from registry.models import FirstCourseTreatment, FollowUpContact, FollowUpTumorStatus, Patient, Tumor

FEMALE_ONLY = ("C5", "C53", "C54", "C56")
MALE_ONLY = ("C61", "C62")


def _draw(n: int, seed: int) -> list[dict]:
    generator = DemoGenerator(seed, {"patient": 0, "tumor": 0, "follow_up_contact": 0, "patient_number": 0})
    return [generator.patient() for _ in range(n)]


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    return _draw(3000, seed=11)


def test_same_seed_same_data_other_seed_other_data():
    assert _draw(50, 3) == _draw(50, 3)
    assert _draw(50, 3) != _draw(50, 4)


def test_every_value_passes_the_item_validators(sample):
    models = {"patient": Patient, "tumor": Tumor, "first_course_treatment": FirstCourseTreatment,
              "follow_up_contact": FollowUpContact, "follow_up_tumor_status": FollowUpTumorStatus}
    skip = {"id", "patient_id", "tumor_id", "contact_id", "version", "workflow_state", "abstracted_at",
            "created_at", "patient_id_number"}
    for record in sample[:800]:
        for table, rows in record.items():
            for row in rows:
                clean(models[table], {k: v for k, v in row.items() if k not in skip}, record=table)


def test_sites_fit_sex_and_dates_are_in_order(sample):
    for record in sample:
        patient = record["patient"][0]
        birth = PartialDate.parse(patient["date_of_birth"])
        last = PartialDate.parse(patient["date_of_last_contact"])
        for tumor in record["tumor"]:
            site = tumor["primary_site"]
            if patient["sex"] == "1":
                assert not site.startswith(("C50", "C51", "C52", "C53", "C54", "C55", "C56", "C57", "C58")) \
                    or site.startswith("C50"), site
                assert not site.startswith(("C53", "C54", "C56"))
            else:
                assert not site.startswith(MALE_ONLY), site
            dx = PartialDate.parse(tumor["date_of_diagnosis"])
            assert birth.possibly_before(dx) and dx.compare(last) in (-1, 0, None)
        if patient["vital_status"] == "0":
            assert patient["cause_of_death"] not in ("0000", None)
        else:
            assert patient["cause_of_death"] == "0000"


def test_sequence_numbers_follow_the_malignant_and_non_malignant_series(sample):
    for record in sample:
        tumors = record["tumor"]
        malignant = [t["sequence_number_hospital"] for t in tumors if t["behavior"] in "23"]
        benign = [t["sequence_number_hospital"] for t in tumors if t["behavior"] in "01"]
        if len(malignant) == 1:
            assert malignant == ["00"]
        elif malignant:
            assert malignant == [f"{i:02d}" for i in range(1, len(malignant) + 1)]
        assert benign == [f"{60 + i:02d}" for i in range(len(benign))]


def test_registry_shape_site_mix_years_deaths_and_multiple_primaries(sample):
    tumors = [t for record in sample for t in record["tumor"]]
    by_profile = collections.Counter()
    sites = {spec["name"]: set(spec["sites"]) for spec in PROFILES}
    for t in tumors:
        by_profile[next(name for name, s in sites.items() if t["primary_site"] in s)] += 1
    top = [name for name, _ in by_profile.most_common(4)]
    assert set(top) <= {"breast", "prostate", "lung", "colorectal", "leukemia", "myeloma"}, top
    assert {"breast", "prostate", "lung", "colorectal", "melanoma", "bladder", "lymphoma", "kidney", "uterus",
            "pancreas", "thyroid"} <= set(by_profile)
    years = {int(t["date_of_diagnosis"][:4]) for t in tumors}
    assert max(years) - min(years) >= 15
    dead = sum(r["patient"][0]["vital_status"] == "0" for r in sample) / len(sample)
    assert 0.2 < dead < 0.6
    several = sum(len(r["tumor"]) > 1 for r in sample) / len(sample)
    assert 0.04 < several < 0.2


def test_distant_stage_dies_sooner_than_localized(sample):
    outcome = collections.defaultdict(list)
    for record in sample:
        if len(record["tumor"]) != 1:
            continue
        tumor, patient = record["tumor"][0], record["patient"][0]
        stage = tumor["summary_stage_2018"] or tumor["summary_stage_2000"]
        outcome[stage].append(patient["vital_status"] == "0" and patient["cause_of_death"].startswith("C"))
    share = {stage: sum(v) / len(v) for stage, v in outcome.items() if len(v) > 50}
    assert share["7"] > 2 * share["1"]


def test_treatment_follows_stage(sample):
    surgery = collections.defaultdict(list)
    for record in sample:
        for tumor, rx in zip(record["tumor"], record["first_course_treatment"]):
            if tumor["primary_site"].startswith("C50"):
                stage = tumor["summary_stage_2018"] or tumor["summary_stage_2000"]
                surgery[stage in {"0", "1"}].append(rx.get("surgery_of_primary_site") not in ("00", "99"))
                if rx.get("date_of_surgery"):
                    assert rx["surgery_of_primary_site"] not in ("00", "99")
    assert sum(surgery[True]) / len(surgery[True]) > 0.8
