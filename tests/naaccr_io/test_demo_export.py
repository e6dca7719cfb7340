"""A NAACCR export of demo data carries the full abstract, and record type C leaves out exactly what the
dictionary's recordTypes say (the text documentation and other A-only items), everything else equal."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from registry.audit import SYSTEM, operation
from registry.demo import load_demo_data
from registry.naaccr.dictionary import NAACCR_NS
from registry.naaccr.records import installed_dictionaries
from reports.submissions import export_file

ANALYTIC = {"00", "10", "11", "12", "13", "14", "20", "21", "22"}
#: What issue 17 asks of a demo A record: items per 2023+ analytic tumor (patient and tumor items together).
MIN_ITEMS_PER_TUMOR = 150


def _read(path: Path) -> list[tuple[dict[str, str], list[dict[str, str]]]]:
    def items(element) -> dict[str, str]:
        return {item.get("naaccrId"): item.text or "" for item in element.findall(f"{{{NAACCR_NS}}}Item")}
    root = etree.parse(str(path)).getroot()
    return [(items(patient), [items(tumor) for tumor in patient.findall(f"{{{NAACCR_NS}}}Tumor")])
            for patient in root.findall(f"{{{NAACCR_NS}}}Patient")]


@pytest.fixture
def exports(app, tmp_path: Path) -> tuple[object, list, list]:
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 500, seed=3)
    dictionary = installed_dictionaries()[0].get("260")
    export_file(tmp_path / "a.xml", dictionary, "A")
    export_file(tmp_path / "c.xml", dictionary, "C")
    return dictionary, _read(tmp_path / "a.xml"), _read(tmp_path / "c.xml")


def test_a_demo_a_record_carries_at_least_150_items_per_recent_analytic_tumor(exports):
    _dictionary, a_records, _c = exports
    counts = [len(set(patient) | set(tumor)) for patient, tumors in a_records for tumor in tumors
              if tumor.get("dateOfDiagnosis", "")[:4] >= "2023" and tumor.get("classOfCase") in ANALYTIC]
    assert len(counts) > 30
    average = sum(counts) / len(counts)
    print(f"demo A record: {average:.1f} distinct items per 2023+ analytic tumor on average "
          f"({len(counts)} tumors, {min(counts)}-{max(counts)})")
    assert average >= MIN_ITEMS_PER_TUMOR


def test_the_c_record_is_the_a_record_less_the_items_whose_record_types_lack_c(exports):
    dictionary, a_records, c_records = exports
    in_c = {naaccr_id for naaccr_id, item in dictionary.items.items() if "C" in item.record_types}
    assert len(c_records) == len(a_records)
    left_out: set[str] = set()
    for (a_patient, a_tumors), (c_patient, c_tumors) in zip(a_records, c_records):
        assert c_patient == {k: v for k, v in a_patient.items() if k in in_c}
        assert len(c_tumors) == len(a_tumors)
        for a_tumor, c_tumor in zip(a_tumors, c_tumors):
            assert c_tumor == {k: v for k, v in a_tumor.items() if k in in_c}
            left_out |= set(a_tumor) - set(c_tumor)
    assert {"textDxProcPe", "textDxProcPath", "textStaging", "rxTextSurgery"} <= left_out
    assert all("C" not in dictionary.items[naaccr_id].record_types for naaccr_id in left_out)
