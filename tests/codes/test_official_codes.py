"""Every code and term we ship, proved against the official lists in ``../shared/reference``.

Our ICD-O-3 tables must agree with SEER's files term for term (read with the same readers the
``icdo3-*`` reference kinds use); every code of ``code_lists.csv`` must exist in the official
NAACCR v26 lookup of an item that uses the list. The lookups' labels are SEER's abbreviations
("Chemo NOS", "Rad TX or Med Oncology Center"), not the standard's wording, so code-list terms
are not compared.
"""
import csv
import io
import zipfile

import pytest

from abstracts.codes import icdo3
from registry.items import naaccr_items
from registry.models import FirstCourseTreatment, FollowUpContact, FollowUpTumorStatus, Patient, Tumor
from staging_tables.codes import code_lists
from staging_tables.icdo3 import read_morphology, read_topography
from tests.reference import REFERENCE_DIR

ICDO3 = REFERENCE_DIR / "icdo3"
LOOKUPS = REFERENCE_DIR / "naaccr" / "lookups" / "naaccr-lookups-260.zip"
MODELS = (Patient, Tumor, FirstCourseTreatment, FollowUpContact, FollowUpTumorStatus)


def test_topography_table_is_every_official_code_with_its_term():
    official = read_topography(ICDO3 / "primarySite.csv")
    assert icdo3("topography") == official
    assert len(official) == 330 and {"C000", "C509", "C619", "C809"} <= set(official)


def test_every_morphology_code_exists_with_its_official_preferred_term():
    preferred = read_morphology(ICDO3 / "histologicTypeIcdO3_preferredTermsOnly.csv")
    assert read_morphology(ICDO3 / "histologicTypeIcdO3_allTerms.csv") == preferred
    ours = icdo3("morphology")
    wrong = {code: term for code, term in ours.items() if preferred.get(code) != term}
    assert wrong == {}
    assert len(ours) >= 300


def test_morphology_table_holds_every_code_the_demo_data_generates_for_every_site():
    from registry.demo_profiles import PROFILES
    ours = set(icdo3("morphology"))
    for profile in PROFILES:
        assert set(profile["histology"]) - ours == set(), profile["name"]
    assert "8000/3" in ours


def _lookups() -> dict[str, dict[str, str]]:
    """``{naaccrId: {code: label}}`` of the v26 lookups (cause of death, 7 MB of ICD-10, left out)."""
    tables = {}
    with zipfile.ZipFile(LOOKUPS) as archive:
        for name in archive.namelist():
            naaccr_id = name.rsplit("/", 1)[-1].removesuffix(".csv")
            if name.endswith(".csv") and naaccr_id != "causeOfDeath":
                with io.TextIOWrapper(archive.open(name), encoding="utf-8") as handle:
                    tables[naaccr_id] = {row[0]: row[1] for row in csv.reader(handle) if row}
    return tables


def _items_by_list() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for model in MODELS:
        for spec in naaccr_items(model).values():
            if spec.kind == "code":
                found.setdefault(spec.code_list, set()).add(spec.naaccr_id)
    return found


LOOKUP_TABLES = _lookups()
BY_LIST = _items_by_list()
#: Code lists of items SEER publishes no simple lookup for (2018 grade and Summary Stage 2018
#: depend on the staging schema; the staging tests check them against the EOD bundle).
NO_OFFICIAL_LOOKUP = {name for name, ids in BY_LIST.items() if not ids & set(LOOKUP_TABLES)}


@pytest.mark.parametrize("list_name", sorted(set(code_lists()) - NO_OFFICIAL_LOOKUP))
def test_every_code_of_a_code_list_exists_in_the_official_lookup(list_name):
    for naaccr_id in sorted(BY_LIST[list_name] & set(LOOKUP_TABLES)):
        official = LOOKUP_TABLES[naaccr_id]
        missing = sorted(set(code_lists()[list_name]) - set(official))
        assert missing == [], f"{list_name}: not codes of {naaccr_id}: {missing}"


def test_only_schema_dependent_lists_lack_an_official_lookup():
    assert NO_OFFICIAL_LOOKUP == {"grade_2018", "summary_stage_2018"}
    assert set(code_lists()) <= set(BY_LIST), "a code list no item uses"


def test_icdo3_item_lookups_agree_with_the_lists_in_icdo3():
    for name in ("laterality", "behaviorCodeIcdO3", "diagnosticConfirmation", "vitalStatus", "sexAssignedAtBirth"):
        with (ICDO3 / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            assert {row[0]: row[1] for row in csv.reader(handle) if row} == LOOKUP_TABLES[name], name
