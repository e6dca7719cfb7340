"""The item catalogue against the official NAACCR dictionaries and lookups (external truth)."""
from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest

from registry.catalogue import ITEMS_FILE, REQUIRED_FILE, SECTIONS, CodeList, check_items, shipped_catalogue
from registry.naaccr.dictionary import load_dictionary

SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "naaccr"
OFFICIAL = Path(__file__).resolve().parents[2] / "staging_tables" / "official" / "naaccr"


def _v26_items():
    dictionary = load_dictionary(OFFICIAL / "naaccr-dictionary-260.xml")
    return [i for i in dictionary.items.values() if i.parent in ("Patient", "Tumor") and "A" in i.record_types]


def test_every_a_record_item_of_v26_is_catalogued_with_its_dictionary_facts():
    cat = shipped_catalogue()
    items = _v26_items()
    assert len(items) == 766
    for definition in items:
        item = cat.get(definition.naaccr_id)
        assert item is not None, definition.naaccr_id
        assert (item.naaccr_num, item.level, item.length, item.data_type) == (
            definition.naaccr_num, definition.parent, definition.length, definition.data_type)
        assert item.section in dict(SECTIONS), item
        assert f"[{definition.naaccr_num}]" in item.label, item.label


def test_our_table_names_only_dictionary_items_and_real_lookups():
    cat = shipped_catalogue()
    with ITEMS_FILE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len({row["naaccr_id"] for row in rows}) == len(rows)
    with zipfile.ZipFile(OFFICIAL / "naaccr-lookups-260.zip") as archive:
        lookups = {Path(name).stem for name in archive.namelist() if name.endswith(".csv")}
    for row in rows:
        assert row["naaccr_id"] in cat.items, row
        if row["code_list"]:
            assert row["code_list"] in lookups, row
    with REQUIRED_FILE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            assert row["naaccr_id"] in cat.items, row
            assert set(row["required_by"].split(";")) <= {"CoC STORE", "NPCR"}, row


def test_twenty_text_documentation_items():
    text = [i for i in shipped_catalogue() if i.text_documentation]
    assert len(text) == 20
    assert all(i.data_type == "text" and i.length >= 60 for i in text)


@pytest.mark.parametrize("naaccr_id, value, ok", [
    ("tumorSizeSummary", "015", True), ("tumorSizeSummary", "988", True), ("tumorSizeSummary", "995", False),
    ("tumorSizeSummary", "15", False), ("regionalNodesPositive", "97", True), ("regionalNodesPositive", "91", False),
    ("maritalStatusAtDx", "2", True), ("maritalStatusAtDx", "7", False),
    ("phase1TotalDose", "005040", True), ("phase1TotalDose", "5040", False),
    ("rxDateMostDefinSurg", "20250317", True), ("rxDateMostDefinSurg", "2025", True),
    ("rxDateMostDefinSurg", "20251301", False),
    ("accessionNumberHosp", "202500012", True), ("accessionNumberHosp", "2025-0012", False),
    ("textRemarks", "x" * 4000, True), ("textRemarks", "x" * 4001, False),
    ("primaryPayerAtDx", "35", True), ("primaryPayerAtDx", "36", False),
])
def test_values_are_checked_by_length_type_and_official_code_list(naaccr_id, value, ok):
    problem = shipped_catalogue().problem(naaccr_id, value)
    assert (problem is None) is ok, problem
    if not ok:
        assert value[:20] in problem


def test_code_ranges_read_from_the_lookup():
    codes = CodeList.of("x", [("000", "none"), ("002-988", "exact"), ("999", "unknown")])
    assert "500" in codes and "002" in codes and "989" not in codes and "0500" not in codes
    assert codes.term("123") == "exact"


def test_check_items_names_the_store_and_item():
    cat = shipped_catalogue()
    errors = check_items({"tumorSizeSummary": "995", "maritalStatusAtDx": "2", "addrCurrentCity": "X", "userItem": "x"},
                         level="Tumor", cat=cat)
    assert set(errors) == {"extra_items.tumorSizeSummary", "extra_items.addrCurrentCity", "extra_items.userItem"}
    assert "not an item of the NAACCR dictionaries installed" in errors["extra_items.userItem"]
    assert check_items({"userItem": "x", "tumorSizeSummary": "015"}, level="Tumor", cat=cat,
                       existing={"userItem": "x"}) == {}
    assert "Tumor Size Summary [756]" in errors["extra_items.tumorSizeSummary"]
    assert "is a Patient item" in errors["extra_items.addrCurrentCity"]


def test_items_sit_where_queries_and_the_staging_engine_expect():
    cat = shipped_catalogue()
    assert cat.get("primarySite").store == "column" and cat.get("primarySite").field_name == "primary_site"
    assert cat.get("her2OverallSummary").store == "site_specific_items"
    assert cat.get("tumorSizeSummary").field_name == "extra_items.tumorSizeSummary"
    assert cat.get("addrCurrentCity").field_name == "patient_items.addrCurrentCity"
    assert cat.get("rxSummSurgPrimSite2023").record == "treatment"


def test_the_fast_test_never_passes_what_the_full_check_refuses():
    """``accepts`` is the import's shortcut; a value it passes must be one ``problem`` accepts."""
    cat = shipped_catalogue()
    probes = ["", " ", "1", "01", "001", "A", "a", "XX", "1 ", " 1", "-1", "1.5", "20250101", "2025", "20251399",
              "99999999", "C504", "A200", "9999", "x" * 4000, "x" * 4001, "0" * 20, "ÄÖ", "2-3"]
    checked = 0
    for item in cat:
        accepts = cat.accepts(item.naaccr_id)
        codes = cat.codes(item.naaccr_id)
        for value in probes + ([code for code, _ in codes.entries()[:5]] if codes else []):
            if accepts(value):
                checked += 1
                assert value and cat.problem(item.naaccr_id, value) is None, (item.naaccr_id, value)
    assert checked > 1000


def test_the_date_shortcut_takes_exactly_the_dates_the_full_check_takes():
    """Every year, month and day form from 1800 to 2100 and the leap-day centuries to 2400, with impossible
    months and days, agree with ``date_problem``; other digits than ASCII are left to the full check."""
    from registry.catalogue import _CALENDAR_DATE
    from registry.dates import date_problem
    years = [f"{year:04d}" for year in [*range(1800, 2101), 2400, 2500, 9996, 9999, 1]]
    values = [year + tail for year in years
              for tail in ["", *(f"{month:02d}" for month in range(14)),
                           *(f"{month:02d}{day:02d}" for month in range(14) for day in range(33))]]
    disagreements = [value for value in values if bool(_CALENDAR_DATE(value)) != (date_problem(value) is None)]
    assert not disagreements and len(values) > 100_000
    assert date_problem("２０２５") is None and not _CALENDAR_DATE("２０２５")
    assert not _CALENDAR_DATE("") and not _CALENDAR_DATE(" 2025") and not _CALENDAR_DATE("2025 ")
