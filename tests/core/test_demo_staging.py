"""Demo data codes stage the way a registrar does: EOD items, staging SSDIs and grades that derive each 2018+
tumor's intended Summary Stage 2018 in the installed SEER algorithm, consistent with its treatment."""
from __future__ import annotations

import collections
import logging

import pytest
from sqlalchemy import func, select, update

from abstracts.operations import clean
from registry import reference
from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.demo import DemoGenerator, load_demo_data
from registry.demo_staging import StageCoder, resected, view
from registry.edits import run_edits
from registry.models import Tumor
from staging_tables.staging import STAGED, load_algorithm
from staging_tables.staging.derive import SAVE_RULES, rederive, stage_tumor
from tests.edits.cases import TODAY
from tests.reference import REFERENCE_DIR

EOD = REFERENCE_DIR / "staging" / "algorithms" / "eod_public-3.3.zip"
RULE = SAVE_RULES[0]
FIRST_IDS = {"patient": 0, "tumor": 0, "follow_up_contact": 0, "patient_number": 0}
#: Columns the registry derives: never entered, so left out when checking the entered items.
DERIVED = {*RULE.columns, "staging_algorithm", "staged_at"} - {"schema_id"}


@pytest.fixture(scope="module")
def eod():
    return load_algorithm(EOD)


@pytest.fixture(scope="module")
def records(eod) -> list[dict]:
    generator = DemoGenerator(11, FIRST_IDS, StageCoder(eod, RULE))
    return [generator.patient() for _ in range(3000)]


@pytest.fixture(scope="module")
def staged(eod, records) -> list[tuple[dict, dict, object]]:
    """Every 2018+ demo tumor with its treatment and the product's own staging of it (as on a save)."""
    out = []
    for record in records:
        patient = record["patient"][0]
        for tumor, treatment in zip(record["tumor"], record["first_course_treatment"]):
            if tumor["date_of_diagnosis"][:4] >= "2018":
                out.append((tumor, treatment, stage_tumor(view(tumor, patient, treatment), eod, RULE)))
    return out


def test_every_code_is_one_the_schema_accepts_and_stages_without_error(staged):
    assert len(staged) > 1000
    problems = [(t["primary_site"], t["histology"], s.result.status if s.result else None, s.messages())
                for t, _, s in staged if s.result is None or s.result.status != STAGED or s.result.errors]
    assert not problems, problems[:10]
    assert not [s.invalid_codes() for _, _, s in staged if s.invalid_codes()]


def test_coded_stage_is_the_derived_stage_and_the_derived_items_go_in_with_the_row(staged):
    for tumor, _, staging in staged:
        assert tumor["summary_stage_2018"] == staging.values["derived_summary_stage_2018"], tumor
        assert {c: tumor.get(c) for c in RULE.columns} == staging.values
        assert tumor["staging_algorithm"] == "eod_public 3.3"
        assert tumor["eod_primary_tumor"] and tumor["eod_regional_nodes"] and tumor["eod_mets"]


def test_known_stage_share_and_meaningful_grade(staged):
    stages = collections.Counter(t["derived_summary_stage_2018"] for t, _, _ in staged)
    known = sum(n for stage, n in stages.items() if stage != "9") / len(staged)
    print(f"derived SS2018 known for {known:.2%} of {len(staged)} 2018+ demo tumors: {sorted(stages.items())}")
    assert known >= 0.95
    assert set(stages) == {"0", "1", "2", "3", "4", "7", "8", "9"}
    grades = collections.Counter(t["derived_summary_grade_2018"] for t, _, _ in staged)
    assert None not in grades and sum(n for g, n in grades.items() if g != "9") / len(staged) > 0.5, grades


def test_same_seed_gives_the_same_registry_with_the_intended_stage_kept(records):
    plain = DemoGenerator(11, FIRST_IDS)
    kept = changed = 0
    for record in records:
        other = plain.patient()
        assert other["patient"] == record["patient"] and other["follow_up_contact"] == record["follow_up_contact"]
        for before, after in zip(other["tumor"], record["tumor"]):
            assert (before["id"], before["primary_site"], before["histology"], before["date_of_diagnosis"]) == \
                (after["id"], after["primary_site"], after["histology"], after["date_of_diagnosis"])
            if after.get("staging_algorithm"):
                kept += before["summary_stage_2018"] == after["summary_stage_2018"]
                changed += before["summary_stage_2018"] != after["summary_stage_2018"]
    print(f"intended stage kept for {kept} of {kept + changed} staged tumors")
    assert kept / (kept + changed) > 0.97


def test_items_from_the_resected_specimen_follow_the_treatment(eod, staged):
    prostate = collections.Counter()
    for tumor, treatment, staging in staged:
        schema = eod.schemas[staging.result.schema_id]
        if not resected(treatment):
            assert tumor["grade_pathological"] == schema.input_map["grade_path"].default, tumor
        extension = tumor["extra_items"].get("prostatePathologicalExtension")
        if schema.id == "prostate":
            prostate[(resected(treatment), extension == "900")] += 1
    assert set(prostate) == {(True, False), (False, True)}, prostate


def test_in_situ_tumors_are_stage_0_and_benign_ones_8(staged):
    for tumor, _, _ in staged:
        if tumor["type_of_reporting_source"] == "7":
            assert tumor["summary_stage_2018"] == "9"
        elif tumor["behavior"] == "2":
            assert tumor["summary_stage_2018"] == "0", tumor
        elif tumor["behavior"] in "01":
            assert tumor["summary_stage_2018"] == "8", tumor


def test_invasive_tumors_are_not_coded_with_an_in_situ_extent(eod, staged):
    in_situ_extents = collections.Counter()
    for tumor, _, staging in staged:
        if tumor["behavior"] != "3" or tumor["summary_stage_2018"] in ("0", "9"):
            continue
        schema = staging.result.schema_id
        alone = {key: eod.valid_codes(schema, key)[0][0] for key in ("eod_regional_nodes", "eod_mets")}
        as_in_situ = eod.stage_with_schema(schema, staging.inputs | alone | {"behavior": "2"})
        in_situ_extents[as_in_situ.outputs.get("ss2018_derived") == "0"] += 1
    assert in_situ_extents[False] > 1000 and not in_situ_extents[True], in_situ_extents


def test_coded_demo_data_passes_the_item_validators_and_every_error_edit(records):
    skip = {"id", "patient_id", "version", "workflow_state", "abstracted_at", *DERIVED}
    failures = collections.Counter()
    for record in records[:1000]:
        for tumor in record["tumor"]:
            clean(Tumor, {k: v for k, v in tumor.items() if k not in skip}, record="tumor")
    for record in records:
        tumors = [t | rx for t, rx in zip(record["tumor"], record["first_course_treatment"])]
        for failure in run_edits(record["patient"][0], tumors, today=TODAY):
            failures[(failure.edit_id, failure.severity)] += 1
    assert not [key for key in failures if key[1] == "error"], failures


def _share_known(first_year: int) -> tuple[int, int, int]:
    recent = Tumor.date_of_diagnosis >= str(first_year)
    total = db_session.scalar(select(func.count(Tumor.id)).where(recent))
    known = db_session.scalar(select(func.count(Tumor.id)).where(
        recent, Tumor.derived_summary_stage_2018.is_not(None), Tumor.derived_summary_stage_2018 != "9"))
    agree = db_session.scalar(select(func.count(Tumor.id)).where(
        recent, Tumor.derived_summary_stage_2018 == Tumor.summary_stage_2018))
    return total, known, agree


def test_demo_data_rederived_with_eod_public_has_a_known_stage(app, tmp_path):
    reference.install("staging-algorithm", EOD, actor=SYSTEM, store=tmp_path / "reference")
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 3000, seed=1)
    first = rederive("eod_public", tmp_path / "jobs")
    assert first.examined > 1000 and first.changed == 0 and first.statuses == {STAGED: first.examined}
    with operation(SYSTEM, "forget_derived") as session:
        session.execute(update(Tumor).values(dict.fromkeys((*RULE.columns, "staging_algorithm"))))
    again = rederive("eod_public", tmp_path / "jobs")
    assert again.changed == again.examined == first.examined
    total, known, agree = _share_known(RULE.first_year)
    print(f"after rederive: derived SS2018 known for {known} of {total} 2018+ demo tumors ({known / total:.2%})")
    assert total == first.examined and known / total >= 0.95 and agree == total


def test_without_an_algorithm_demo_data_codes_stage_only_and_says_so(app, no_reference_tables, caplog):
    with caplog.at_level(logging.WARNING, logger="registry.demo_staging"):
        with operation(SYSTEM, "demo_data") as session:
            counts = load_demo_data(session, 300, seed=1)
    assert counts["tumor"] >= 300
    assert "no EOD staging algorithm is installed" in caplog.text
    recent = Tumor.date_of_diagnosis >= "2018"
    assert db_session.scalar(select(func.count(Tumor.id)).where(recent, Tumor.summary_stage_2018.is_not(None))) > 50
    assert db_session.scalar(select(func.count(Tumor.id)).where(
        Tumor.eod_primary_tumor.is_not(None) | Tumor.derived_summary_stage_2018.is_not(None))) == 0
