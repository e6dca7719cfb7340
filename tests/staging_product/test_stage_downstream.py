"""A stage that is only derived reaches everything downstream: a breast abstract saved through the product's
operation with EOD inputs that derive Summary Stage 2018 = 1 (localized) and no coded stage shows as localized
on the patient page and the work queue, in the annual report's stage table, in a research export and in the
survival cohort's stage grouping; a second abstract whose registrar coded SS2018 keeps the coded stage."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from abstracts.operations import create_patient, create_tumor
from registry.audit import SYSTEM
from registry.db import db_session
from reports.annual_report import builder, queries
from reports.survival.cohorts import Cohort, cohort_frame
from reports.research import cohort as research
from reports.survival.report import stage_sources_note
from reports.survival.store import end_point_year
from tests.research.conftest import csv_rows, read_zip

YEAR = 2022
PATIENT = {"name_last": "Stagedemo", "name_first": "Dora", "date_of_birth": "19600312", "sex": "2",
           "sex_assigned_at_birth": "2", "vital_status": "1", "date_of_last_contact": "20250301"}
# extension_bak 100 = L, nodes_daj 000 = NONE, mets_hau 00 = NONE -> summary_stage_rpa 1 (tests/staging_product/
# test_derive.py checks this case against the engine and the bundle's tables)
BREAST = {"primary_site": "C504", "laterality": "1", "histology": "8500", "behavior": "3",
          "date_of_diagnosis": f"{YEAR}0405", "sequence_number_hospital": "00", "class_of_case": "14",
          "type_of_reporting_source": "1", "diagnostic_confirmation": "1", "eod_primary_tumor": "100",
          "eod_regional_nodes": "000", "eod_mets": "00", "grade_clinical": "1", "grade_pathological": "2",
          "site_specific_items": {"estrogenReceptorSummary": "1", "her2OverallSummary": "0"}}


@pytest.fixture
def derived_only(eod_installed):
    """The derived-only abstract, and one whose coded SS2018 3 (regional nodes) differs from the derived 1."""
    patient = create_patient(PATIENT, actor=SYSTEM)
    tumor = create_tumor(patient.id, BREAST, actor=SYSTEM)
    assert (tumor.summary_stage_2018, tumor.derived_summary_stage_2018) == (None, "1")
    other = create_patient(PATIENT | {"name_first": "Coded"}, actor=SYSTEM)
    coded = create_tumor(other.id, BREAST | {"summary_stage_2018": "3"}, actor=SYSTEM)
    assert (coded.summary_stage_2018, coded.derived_summary_stage_2018) == ("3", "1")
    return patient, tumor, coded


def test_patient_page_and_work_queue_show_the_derived_stage(client, login, derived_only):
    patient, tumor, coded = derived_only
    login("registrar")
    page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    assert "<td>Localized only (SS2018 derived)</td>" in page
    page = client.get(f"/patients/{coded.patient_id}").get_data(as_text=True)
    assert "<td>Regional lymph nodes involved only (SS2018)</td>" in page
    queue = client.get("/queue/in_progress").get_data(as_text=True)
    row = re.search(rf'/tumors/{tumor.id}">.*?</tr>', queue, re.S)
    assert row and "Localized only (SS2018 derived)" in row.group(0)


def test_annual_report_counts_the_derived_stage(derived_only):
    scope = queries.Scope(YEAR, as_of=dt.date(2025, 6, 30))
    cases = queries.year_cases(scope)
    (breast,) = builder.stage_table(cases, ["Breast"])
    assert dict(zip(builder.d.STAGE_ORDER, breast["stages"])) == {
        "In situ": 0, "Localized": 1, "Regional": 1, "Distant": 0, "Not applicable": 0, "Unknown": 0}
    html = builder.render_html(builder.collect(scope, public=False, progress=lambda _p, _m: None))
    cells = re.search(r"<tr><td>Breast</td>((?:<td>[^<]*</td>)+)</tr>", html.split('id="stage"')[1]).group(1)
    assert re.findall(r"<td>([^<]*)</td>", cells) == ["2", "0", "1", "1", "0", "0", "0"]
    assert "Derived Summary Stage 2018 [762] 1;" in html
    assert sorted(zip(cases["summary_stage"], cases["summary_stage_scheme"])) == [("1", "SS2018 derived"),
                                                                                  ("3", "SS2018")]
    sources = {r["scheme"]: r["n"] for r in builder.stage_sources(cases)}
    assert sources == {"SS2018": 1, "SS2018 derived": 1, "SS2000": 0, None: 0}


def test_research_export_carries_the_derived_stage(app, derived_only, tmp_path):
    _patient, tumor, coded = derived_only

    def export(*args: str) -> dict[str, bytes]:
        output = tmp_path / f"release-{len(args)}.zip"
        result = app.test_cli_runner().invoke(args=["export", "research", "--output", str(output), *args])
        assert result.exit_code == 0, result.output
        return read_zip(output)

    localized = export("--stage", "localized", "--variables", "primary_site,summary_stage")
    assert [r["summary_stage"] for r in csv_rows(localized["data.csv"])] == ["1"]
    dictionary = {r["variable"]: r for r in csv_rows(localized["dictionary.csv"])}
    assert "Derived Summary Stage 2018 [762]" in dictionary["summary_stage"]["description"]
    both = export("--variables", "summary_stage,summary_stage_scheme")
    assert sorted((r["summary_stage"], r["summary_stage_scheme"]) for r in csv_rows(both["data.csv"])) == [
        ("1", "SS2018 derived"), ("3", "SS2018")]
    rows = research.rows(db_session(), research.Filters(), ["summary_stage", "summary_stage_scheme"], 2025)
    assert {r["_tumor_id"]: (r["summary_stage"], r["summary_stage_scheme"]) for r in rows} == {
        tumor.id: ("1", "SS2018 derived"), coded.id: ("3", "SS2018")}


def test_survival_cohort_groups_by_the_derived_stage(app, derived_only):
    frame = cohort_frame(db_session(), Cohort(sites=["C50"]), end_point_year=end_point_year())
    assert sorted(frame["stage"]) == ["localized", "regional"]
    localized = cohort_frame(db_session(), Cohort(sites=["C50"], stages=["localized"]),
                             end_point_year=end_point_year())
    assert len(localized) == 1
    assert sorted(zip(frame["stage"], frame["stage_scheme"])) == [("localized", "SS2018 derived"),
                                                                   ("regional", "SS2018")]
    assert list(localized["stage_scheme"]) == ["SS2018 derived"]
    assert stage_sources_note(frame) == ("stage from Summary Stage 2018 [764] 1, Derived Summary Stage 2018 [762] "
                                         "1, SEER Summary Stage 2000 [759] 0, none coded 0")
