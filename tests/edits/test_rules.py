"""Every edit has one passing and one failing case; the base case passes all of them."""
from __future__ import annotations

import pytest

from registry.edits import all_edits, edit_by_id, run_edits
from registry.edits.catalog import item_specs
from registry.edits.engine import EditDefinitionError, compile_rule
from staging_tables.codes import terms
from tests.edits.cases import BASE_PATIENT, BASE_TUMOR, CASES, TODAY

PATIENT_FIELDS = set(item_specs()["patient"])
VALIDITY = [e for e in all_edits() if e.source == "item"]
BAD_VALUE = {"code": "~", "date": "20231340", "digits": "1a", "pattern": "!"}
GOOD_VALUE = {"primary_site": "C509", "histology": "8500", "sequence_number_hospital": "00",
              "sequence_number_central": "00",
              "cause_of_death": "0000", "addr_at_dx_state": "IL", "addr_at_dx_postal_code": "62701",
              "eod_primary_tumor": "300", "eod_regional_nodes": "000", "eod_mets": "00",
              "surgery_of_primary_site_2023": "A220", "date_of_birth": "19600115"}


def build(overrides: dict) -> tuple[dict, list[dict]]:
    patient, tumor = dict(BASE_PATIENT), dict(BASE_TUMOR)
    second = overrides.get("second")
    for name, value in overrides.items():
        if name not in ("second", "site_histology"):
            (patient if name in PATIENT_FIELDS else tumor)[name] = value
    tumors = [tumor] if second is None else [tumor, tumor | second]
    return patient, tumors


def failing_ids(overrides: dict) -> set[str]:
    patient, tumors = build(overrides)
    listed = overrides.get("site_histology")
    return {f.edit_id for f in run_edits(patient, tumors, today=TODAY, site_histology=listed)}


def test_there_are_at_least_100_edits_with_unique_ids():
    ids = [e.id for e in all_edits()]
    assert len(ids) >= 100
    assert len(ids) == len(set(ids))


def test_the_base_case_passes_every_edit():
    patient, tumors = build({})
    assert run_edits(patient, tumors, today=TODAY) == []


def test_every_rule_and_predicate_has_a_case():
    assert {e.id for e in all_edits() if e.source != "item"} == set(CASES)


@pytest.mark.parametrize("edit_id", sorted(CASES))
def test_rule_passes_its_passing_case_and_fails_its_failing_case(edit_id):
    passing, failing = CASES[edit_id]
    assert edit_id not in failing_ids(passing)
    assert edit_id in failing_ids(failing)


@pytest.mark.parametrize("edit", VALIDITY, ids=lambda e: e.id)
def test_item_validity(edit):
    name = edit.fields[0]
    spec = (item_specs()["patient"] | item_specs()["tumor"])[name]
    good = GOOD_VALUE.get(name) or {"code": lambda: next(iter(terms(spec.code_list))), "date": lambda: "2020",
                                     "digits": lambda: "1", "pattern": lambda: "cT1"}[spec.kind]()
    assert spec.problem(good) is None
    assert edit.id not in failing_ids({name: good})
    patient, tumors = build({name: BAD_VALUE[spec.kind]})
    failures = [f for f in run_edits(patient, tumors, today=TODAY) if f.edit_id == edit.id]
    assert len(failures) == 1
    assert failures[0].message == f"{spec.label}: {spec.problem(BAD_VALUE[spec.kind])}"


def test_messages_name_fields_and_values():
    patient, tumors = build({"sex": "1", "primary_site": "C539", "laterality": "0"})
    failure = next(f for f in run_edits(patient, tumors, today=TODAY) if f.edit_id == "E050")
    assert failure.message == ("Sex [220] 1 (male) is not possible with Primary Site [400] C539 "
                               "(female genital organ)")
    assert failure.fields == ("sex", "primary_site") and failure.severity == "error"
    assert failure.patient_id == "00000001" and failure.tumor_sequence == "00" and failure.tumor_index == 0


def test_patient_edits_report_once_without_a_tumor():
    patient, tumors = build({"vital_status": "0", "cause_of_death": "0000",
                             "second": {"sequence_number_hospital": "02"}})
    failures = [f for f in run_edits(patient, tumors, today=TODAY) if f.edit_id == "E101"]
    assert len(failures) == 1 and failures[0].tumor_index is None and failures[0].tumor_sequence is None


def test_partial_dates_that_cannot_decide_never_fail():
    ids = failing_ids({"date_of_diagnosis": "2020", "date_of_first_contact": "20200101",
                       "date_of_birth": "2020", "date_of_initial_treatment": "2020"})
    assert not ids & {"E001", "E004", "E006", "E007", "E021"}


def test_age_from_partial_dates_uses_the_age_every_reading_allows():
    assert "E080" not in failing_ids({"histology": "9510", "primary_site": "C692", "date_of_birth": "2005",
                                      "date_of_diagnosis": "2020", "date_of_first_contact": "2020"})
    assert "E080" in failing_ids({"histology": "9510", "primary_site": "C692", "date_of_birth": "2004",
                                  "date_of_diagnosis": "2020", "date_of_first_contact": "2020"})


def test_every_edit_reads_known_fields_and_is_documented():
    known = PATIENT_FIELDS | set(item_specs()["tumor"])
    for edit in all_edits():
        assert edit.severity in ("error", "warning") and edit.name and edit.message
        assert set(edit.fields) <= known, edit.id
    assert edit_by_id("E001").fields == ("date_of_birth", "date_of_diagnosis")


@pytest.mark.parametrize("rule, problem", [
    ("sex within 1", "unknown operator"), ("gender in 1", "unknown field"), ("sex in @nogroup", "unknown group"),
    ("histology in 9999-100", "bad range"), ("age_at_diagnosis ge old", "whole number"), ("sex", "cannot read"),
    ("date_of_birth after nowhere", "unknown field"), ("sex in", "needs values"),
])
def test_malformed_rules_are_refused_with_the_edit_named(rule, problem):
    with pytest.raises(EditDefinitionError, match=f"X001: .*{problem}"):
        compile_rule(rule, "X001", PATIENT_FIELDS | set(item_specs()["tumor"]))
