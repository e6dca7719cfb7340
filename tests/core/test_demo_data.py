"""Demo data: deterministic per seed, valid for every item, and shaped like a real registry."""
import collections

import pytest

from abstracts.operations import clean
from registry.dates import PartialDate
from registry.demo import DemoGenerator
from registry.demo_profiles import PROFILES
from registry.catalogue import shipped_catalogue
from registry.items import naaccr_items
from registry.models import FirstCourseTreatment, FollowUpContact, FollowUpTumorStatus, Patient, Tumor
from staging_tables.surgery import item_for_year, surgery_codes, surgery_performed, valid_surgery_code

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
                done = surgery_performed(rx.get("surgery_of_primary_site"), rx.get("surgery_of_primary_site_2023"))
                surgery[stage in {"0", "1"}].append(done)
                assert bool(rx.get("date_of_surgery")) == done
    assert sum(surgery[True]) / len(surgery[True]) > 0.8


def _tumors(sample):
    for record in sample:
        for tumor, rx in zip(record["tumor"], record["first_course_treatment"]):
            yield record["patient"][0], tumor, rx


def test_every_value_passes_the_item_catalogue_at_its_level(sample):
    cat = shipped_catalogue()
    columns = {model: {a: s.naaccr_id for a, s in naaccr_items(model).items()}
               for model in (Patient, Tumor, FirstCourseTreatment)}
    checked = 0
    for record in sample:
        parts = [(record["patient"][0], Patient, "Patient")]
        parts += [(t, Tumor, "Tumor") for t in record["tumor"]]
        parts += [(rx, FirstCourseTreatment, None) for rx in record["first_course_treatment"]]
        for row, model, level in parts:
            for attribute, naaccr_id in columns[model].items():
                if cat.get(naaccr_id) is not None and row.get(attribute):
                    assert cat.problem(naaccr_id, row[attribute]) is None, (attribute, row[attribute])
            for naaccr_id, value in (row.get("extra_items") or {}).items():
                assert cat.get(naaccr_id).level == level, naaccr_id
                assert cat.problem(naaccr_id, value) is None, (naaccr_id, value)
                checked += 1
    assert checked > 100 * len(sample)


def test_surgery_codes_are_from_the_site_table_of_the_diagnosis_year(sample):
    for _patient, tumor, rx in _tumors(sample):
        year = int(tumor["date_of_diagnosis"][:4])
        item = item_for_year(year)
        code = rx["surgery_of_primary_site_2023"] if year >= 2023 else rx["surgery_of_primary_site"]
        other = rx["surgery_of_primary_site"] if year >= 2023 else rx["surgery_of_primary_site_2023"]
        assert code and not other, (year, rx)
        histology = tumor["histology"] if surgery_codes(tumor["primary_site"], tumor["histology"], year) else None
        assert valid_surgery_code(tumor["primary_site"], histology, year, item, code), (tumor, code)


def _size(items: dict, name: str) -> int | None:
    value = items.get(name)
    return int(value) if value and value not in ("999", "998", "990", "989", "000") else None


def test_size_nodes_and_mets_agree_with_the_stage(sample):
    sizes: dict[str, list[int]] = collections.defaultdict(list)
    distant_with_mets = distant = 0
    for _patient, tumor, rx in _tumors(sample):
        items, year = tumor["extra_items"], int(tumor["date_of_diagnosis"][:4])
        stage = tumor["summary_stage_2018"] or tumor["summary_stage_2000"]
        if tumor["type_of_reporting_source"] == "7" or year < 2018:
            continue
        summary, clinical, pathologic = (_size(items, f"tumorSize{kind}") for kind in ("Summary", "Clinical",
                                                                                        "Pathologic"))
        assert summary == (pathologic if rx.get("date_of_surgery") and pathologic else clinical)
        if summary is not None:
            sizes[stage].append(summary)
        positive, examined = items["regionalNodesPositive"], items["regionalNodesExamined"]
        if rx.get("scope_regional_lymph_node_surgery") in ("0", None):
            assert (positive, examined) in {("98", "00"), ("99", "99")}
        elif examined != "99":
            assert int(positive) <= int(examined) and int(examined) > 0
            assert (int(positive) > 0) == (stage in {"3", "4"}) or stage == "7"
        if tumor["primary_site"].startswith(("C50", "C44")) and items["sentinelLymphNodesExamined"] != "00":
            assert int(items["sentinelLymphNodesExamined"]) <= int(examined)
            assert int(items["sentinelLymphNodesPositive"]) <= int(positive)
        mets = [items[name] for name in items if name.startswith("metsAtDx")]
        assert len(mets) == 6
        if set(mets) == {"8"}:  # not applicable: hematopoietic and lymphoid neoplasms only
            assert tumor["histology"] >= "9590"
        elif stage in {"0", "1", "2", "3", "4"}:
            assert set(mets) == {"0"}
        if stage == "7" and set(mets) != {"8"}:
            distant += 1
            distant_with_mets += "1" in mets
    assert distant_with_mets == distant > 20
    medians = {stage: sorted(values)[len(values) // 2] for stage, values in sizes.items() if len(values) > 20}
    assert medians["0"] < medians["1"] < medians["2"] < medians["7"], medians


def test_one_facility_accession_numbers_by_year_and_treatment_dates(sample):
    accessions = set()
    for patient, tumor, rx in _tumors(sample):
        items = tumor["extra_items"]
        assert items["reportingFacility"] == sample[0]["tumor"][0]["extra_items"]["reportingFacility"]
        assert items["accessionNumberHosp"][:4] == tumor["date_of_first_contact"][:4]
        accessions.add(items["accessionNumberHosp"])
        assert items.get("rxDateMostDefinSurg") == rx.get("date_of_surgery")
        systemic = [rx[name] for name in ("date_of_chemotherapy", "date_of_hormone_therapy", "date_of_immunotherapy")
                    if rx.get(name)]
        assert items.get("rxDateSystemic") == (min(systemic) if systemic else None)
        if rx.get("date_of_radiation") and int(tumor["date_of_diagnosis"][:4]) >= 2018:
            assert int(items["phase1TotalDose"]) == int(items["phase1DosePerFraction"]) * int(
                items["phase1NumberOfFractions"])
        if tumor["type_of_reporting_source"] != "7":
            assert items["textDxProcPath"].startswith("DEMO (FAKE)") and items["physicianManaging"]
    assert len(accessions) == sum(len(r["tumor"]) for r in sample)
