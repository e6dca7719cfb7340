"""The import's one-pass intake of clean records gives exactly what the full split and check give.

``CleanRecords.accept`` either declines a record (the full path then decides) or returns the same
accepted record, column values and kept items that ``ItemMap.incoming`` + ``RecordChecker.check``
+ ``_slim`` return for it. Checked on every record of the official files and on records with
values changed to the awkward ones a real file holds.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from registry.items import naaccr_items
from registry.models import FirstCourseTreatment, Patient, Tumor
from registry.naaccr import DictionaryStore, NaaccrError, NaaccrReader
from registry.naaccr.importer import _MATCH_ITEMS
from registry.naaccr.intake import CleanRecords, RecordChecker, _slim
from registry.naaccr.records import ItemMap, column_items
from staging_tables.codes import terms
from tests.naaccr_io.conftest import DICTIONARY_DIR, NAACCR_DIR, SAMPLES_DIR

OFFICIAL_FILES = sorted([*SAMPLES_DIR.glob("*.xml*"), *(NAACCR_DIR / "validity").rglob("*.xml*"),
                         *(NAACCR_DIR / "reader-cases").rglob("*.xml*")])
AWKWARD = ["", " ", "  C509", "C509 ", "\t1", "1\n", "x" * 300, "9", "99", "999", "0", "00", "A", "a", "C50", "c509",
           "8500", "20240229", "20230229", "20240230", "20240431", "20240131", "20231231", "202402", "2024",
           "1899", "1850", "18500101", "20991231", "21000101", "２０２４", "²", "١", "Muñoz", "O'Brien", "SMITH  JR"]


@pytest.fixture(scope="module")
def store() -> DictionaryStore:
    return DictionaryStore.from_directory(DICTIONARY_DIR)


def _patients(path: Path, store: DictionaryStore):
    """Every patient of a file the reader can deliver, with the reader's item map."""
    try:
        with NaaccrReader(path, store) as reader:
            reader.data  # noqa: B018 - reads the root: the dictionaries are known
            item_map = ItemMap(reader.lookup)
            yield from ((item_map, patient) for patient in reader)
    except (NaaccrError, OSError):
        return


def _full_path(item_map: ItemMap, patient, keep):
    rejections: list = []
    accepted = RecordChecker().check(item_map.incoming(patient), rejections)
    return None if accepted is None else _slim(accepted, keep)


def _agree(item_map: ItemMap, patient, keep) -> bool:
    """Assert the fast path agrees with the full one; True when it took the record."""
    fast = CleanRecords(item_map, keep).accept(patient)
    if fast is None:
        return False
    assert _full_path(item_map, patient, keep) == fast, (patient.line, patient.index)
    return True


@pytest.mark.parametrize("keep", [None, _MATCH_ITEMS], ids=["all-items", "match-items"])
def test_official_files(store, keep):
    taken = declined = 0
    for path in OFFICIAL_FILES:
        for item_map, patient in _patients(path, store):
            if _agree(item_map, patient, keep):
                taken += 1
            else:
                declined += 1
    # the samples are clean: nearly every record takes the fast path, and the invalid files' records do not
    assert taken > 1000 and declined > 10, (taken, declined)
    assert item_map.carried and item_map.is_ssdi("estrogenReceptorSummary")  # the dictionaries were known


def test_no_code_list_holds_a_padded_code():
    """The fast path takes a listed code as it is; ``clean_columns`` would strip a padded one first."""
    from staging_tables.codes import code_lists
    assert not [(name, code) for name, codes in code_lists().items() for code in codes if code != code.strip() or not code]


def _changed(patient, rng: random.Random, items: list[tuple[str, str]]):
    """A copy of ``patient`` with one to three items set to awkward or other valid values (or removed)."""
    import copy
    changed = copy.deepcopy(patient)
    for _ in range(rng.randint(1, 3)):
        naaccr_id, level = rng.choice(items)
        holders = [changed] if level == "Patient" else changed.tumors
        if not holders:
            continue
        holder = rng.choice(holders)
        choice = rng.random()
        if choice < 0.1:
            holder.items.pop(naaccr_id, None)
        elif choice < 0.4 and _codes.get(naaccr_id):
            holder.items[naaccr_id] = rng.choice(_codes[naaccr_id])
        else:
            holder.items[naaccr_id] = rng.choice(AWKWARD)
    return changed


_codes = {spec.naaccr_id: list(terms(spec.code_list)) for model in (Patient, Tumor, FirstCourseTreatment)
          for spec in naaccr_items(model).values() if spec.code_list}


def test_changed_values(store):
    """Records of the 100-tumor sample with column values changed: declined or the same as the full path."""
    rng = random.Random(20261202)
    sample = list(_patients(SAMPLES_DIR / "naaccr-xml-sample-v250-abstract-100.xml.gz", store))
    item_map = sample[0][0]
    columns = [(c.naaccr_id, item_map.level(c.naaccr_id, "Patient")) for c in column_items().values()]
    outcomes = {"taken": 0, "declined": 0, "rejected": 0}
    for round_ in range(1500):
        _, patient = sample[round_ % len(sample)]
        changed = _changed(patient, rng, columns)
        if _agree(item_map, changed, _MATCH_ITEMS):
            outcomes["taken"] += 1
        else:
            outcomes["declined"] += 1
            outcomes["rejected"] += _full_path(item_map, changed, _MATCH_ITEMS) is None
    assert min(outcomes.values()) > 100, outcomes


def test_declines_records_the_reader_found_problems_in(store):
    [(item_map, patient), *_] = list(_patients(SAMPLES_DIR / "naaccr-xml-sample-v250-abstract-10.xml.gz", store))
    assert CleanRecords(item_map, None).accept(patient) is not None
    from registry.naaccr.reader import Problem
    patient.tumors[0].problems.append(Problem("something the reader saw"))
    assert CleanRecords(item_map, None).accept(patient) is None
