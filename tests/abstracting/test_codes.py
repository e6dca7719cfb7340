"""The code look-up the pickers use (our tables against the official lists: tests/codes)."""
from abstracts.codes import lookup, system_for, systems
from registry.items import naaccr_items
from registry.models import Patient, Tumor


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
