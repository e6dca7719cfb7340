"""The site/histology edit: the installed SEER list when there is one, the embedded rules otherwise."""
from __future__ import annotations

import csv

import pytest

from registry.audit import SYSTEM
from registry.edits import edit_by_id, run_edits
from registry.reference import install
from registry.reference.cli import reference_store
from staging_tables.icdo3 import read_site_histology
from tests.edits.cases import BASE_PATIENT, BASE_TUMOR, TODAY
from tests.reference import REFERENCE_DIR

SEER_LIST = REFERENCE_DIR / "icdo3" / "seer_site_histology_validation_list_20220429.csv"
EMBEDDED = {"E160", "E161", "E162", "E163", "E164", "E165"}
#: Combinations no SEER row allows (checked against the file below, not assumed).
INVALID = [("C619", "8720/3"),  # melanoma of the prostate
           ("C509", "9510/3"),  # retinoblastoma of the breast
           ("C220", "9510/3"),  # retinoblastoma of the liver
           ("C509", "8960/3"),  # nephroblastoma of the breast
           ("C509", "8970/3"),  # hepatoblastoma of the breast
           ("C421", "8140/3"),  # adenocarcinoma of the bone marrow
           ("C569", "9061/3"),  # seminoma of the ovary
           ("C779", "9861/3"),  # acute myeloid leukemia in a lymph node
           ("C710", "8000/2"),  # in situ neoplasm of the brain
           ("C180", "8720/2")]  # melanoma in situ of the colon


@pytest.fixture(scope="module")
def official_pairs() -> tuple[int, list[tuple[int, str, str]], set[tuple[str, str]]]:
    """Rows, (row, site, morphology) for every site of every row, and the pair set, read independently of the
    product's reader: ranges are expanded over the official topography codes."""
    with (REFERENCE_DIR / "icdo3" / "primarySite.csv").open(newline="", encoding="utf-8") as handle:
        topography = [row[0] for row in csv.reader(handle) if row]
    pairs = []
    with SEER_LIST.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for number, row in enumerate(rows, start=2):
        for part in row["Site recode"].split(","):
            low, _, high = part.strip().partition("-")
            pairs += [(number, site, row["Histology/Behavior"]) for site in topography if low <= site <= (high or low)]
    return len(rows), pairs, {(site, morphology) for _, site, morphology in pairs}


@pytest.fixture(scope="module")
def seer():
    return read_site_histology(SEER_LIST)


def _run(site: str, morphology: str, listed, **tumor) -> set[str]:
    histology, behavior = morphology.split("/")
    record = BASE_TUMOR | {"primary_site": site, "histology": histology, "behavior": behavior} | tumor
    return {f.edit_id for f in run_edits(BASE_PATIENT, [record], today=TODAY, site_histology=listed)}


def test_every_row_of_the_official_list_passes_the_edit(official_pairs, seer):
    rows, pairs, _ = official_pairs
    assert rows == 12496
    check = edit_by_id("P006").check
    failing = [(n, site, m) for n, site, m in pairs
               if check({"primary_site": site, "histology": m[:4], "behavior": m[5], "__site_histology__": seer})]
    assert failing == []
    assert {n for n, _, _ in pairs} == set(range(2, rows + 2)), "every row contributes a pair"


def test_a_full_run_over_the_first_site_of_every_row_raises_no_site_histology_edit(official_pairs, seer):
    _, pairs, _ = official_pairs
    first = {}
    for number, site, morphology in pairs:
        first.setdefault(number, (site, morphology))
    failing = {}
    for number, (site, morphology) in first.items():
        found = _run(site, morphology, seer) & (EMBEDDED | {"P006"})
        if found:
            failing[number] = found
    assert failing == {}


@pytest.mark.parametrize("site, morphology", INVALID)
def test_constructed_invalid_combinations_fail(official_pairs, seer, site, morphology):
    assert (site, morphology) not in official_pairs[2]
    failures = [f for f in run_edits(BASE_PATIENT, [BASE_TUMOR | {"primary_site": site, "histology": morphology[:4],
                                                                  "behavior": morphology[5]}],
                                     today=TODAY, site_histology=seer) if f.edit_id == "P006"]
    assert len(failures) == 1 and failures[0].severity == "error"
    assert f"Primary Site [400] {site} with Histologic Type [522] {morphology[:4]}" in failures[0].message


def test_without_a_list_the_embedded_rules_run_and_with_one_they_do_not(seer):
    assert _run("C509", "9510/3", None) & (EMBEDDED | {"P006"}) == {"E163"}
    assert _run("C509", "9510/3", seer) & (EMBEDDED | {"P006"}) == {"P006"}
    # valid SEER pairs the embedded warning rules query: AML coded to blood, myeloma of the stomach
    assert _run("C420", "9861/3", None, laterality="0") & EMBEDDED == {"E160"}
    assert _run("C420", "9861/3", seer, laterality="0") & (EMBEDDED | {"P006"}) == set()
    assert _run("C169", "9732/3", None, laterality="0") & EMBEDDED == {"E161"}
    assert _run("C169", "9732/3", seer, laterality="0") & (EMBEDDED | {"P006"}) == set()


def test_the_installed_list_is_used_by_default(app, no_reference_tables):
    breast_retinoblastoma = BASE_TUMOR | {"histology": "9510"}
    before = {f.edit_id for f in run_edits(BASE_PATIENT, [breast_retinoblastoma], today=TODAY)}
    assert "E163" in before and "P006" not in before
    install("site-histology", SEER_LIST, actor=SYSTEM, store=reference_store())
    after = {f.edit_id for f in run_edits(BASE_PATIENT, [breast_retinoblastoma], today=TODAY)}
    assert "P006" in after and "E163" not in after
    assert run_edits(BASE_PATIENT, [BASE_TUMOR], today=TODAY) == []


def test_demo_data_passes_the_seer_list(seer):
    """Including death-certificate-only cases, which get a NOS morphology their site allows."""
    from registry.demo import DemoGenerator
    generator = DemoGenerator(5, {"patient": 0, "tumor": 0, "follow_up_contact": 0, "patient_number": 0})
    failing, dco = [], 0
    for _ in range(3000):
        record = generator.patient()
        tumors = [t | rx for t, rx in zip(record["tumor"], record["first_course_treatment"])]
        dco += sum(t["type_of_reporting_source"] == "7" for t in tumors)
        failing += [f.message for f in run_edits(record["patient"][0], tumors, today=TODAY, site_histology=seer)
                    if f.severity == "error"]
    assert failing == [] and dco > 0
