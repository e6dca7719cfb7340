"""Our ICD-O-3 tables against the official lists, and the code look-up the pickers use."""
import csv

from abstracts.codes import icdo3, lookup, system_for, systems
from registry.items import naaccr_items
from registry.models import Patient, Tumor
from tests.reference import REFERENCE_DIR

ICDO3 = REFERENCE_DIR / "icdo3"


def _official(name: str) -> dict[str, str]:
    with (ICDO3 / name).open(newline="", encoding="utf-8") as handle:
        return {row[0]: row[1] for row in csv.reader(handle)}


def test_topography_table_is_every_official_code_with_its_term():
    official = _official("primarySite.csv")
    ours = icdo3("topography")
    assert ours == official
    assert all("C000" <= code <= "C809" and len(code) == 4 for code in ours)
    assert {"C000", "C509", "C619", "C809"} <= set(ours)


def test_morphology_codes_and_terms_match_the_official_preferred_terms():
    preferred = _official("histologicTypeIcdO3_preferredTermsOnly.csv")
    ours = icdo3("morphology")
    wrong = {code: term for code, term in ours.items() if preferred.get(code) != term}
    assert wrong == {}
    assert len(ours) >= 150


def test_morphology_table_holds_every_code_the_demo_data_generates():
    from registry.demo_profiles import PROFILES
    generated = {code for profile in PROFILES for code in profile["histology"]} | {"8000/3"}
    assert generated - set(icdo3("morphology")) == set()


def test_lookup_by_code_with_or_without_the_dot_and_by_words_of_the_term():
    assert lookup("topography", "C50.9")[0] == {"code": "C509", "term": "Breast, NOS"}
    assert [r["code"] for r in lookup("topography", "c50")][:3] == ["C500", "C501", "C502"]
    assert any(r["code"] == "C619" for r in lookup("topography", "prostate"))
    assert lookup("morphology", "8500/3")[0]["code"] == "8500/3"
    assert lookup("morphology", "85003")[0]["code"] == "8500/3"
    lobular = [r["code"] for r in lookup("morphology", "lobular carcinoma")]
    assert "8520/3" in lobular and "8520/2" in lobular
    assert lookup("sex", "2") == [{"code": "2", "term": "Female"}]
    assert lookup("laterality", "")[:1] and lookup("topography", "zzzz") == []


def test_every_coded_item_has_a_picker_system():
    coded = {**naaccr_items(Patient), **naaccr_items(Tumor)}
    for spec in coded.values():
        if spec.kind == "code":
            assert system_for(spec) in systems(), spec.attribute
    assert system_for(naaccr_items(Tumor)["primary_site"]) == "topography"
    assert system_for(naaccr_items(Tumor)["histology"]) == "morphology"
