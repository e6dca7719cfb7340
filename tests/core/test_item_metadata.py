"""Every coded column names its NAACCR item, and those names agree with the official dictionaries."""
import xml.etree.ElementTree as ET

import pytest

from registry.items import naaccr_items
from registry.models import FirstCourseTreatment, FollowUpContact, FollowUpTumorStatus, Patient, Tumor
from staging_tables.codes import code_lists
from tests.reference import REFERENCE_DIR

MODELS = [Patient, Tumor, FirstCourseTreatment, FollowUpContact, FollowUpTumorStatus]


def _dictionary(version: str) -> dict[str, dict]:
    root = ET.parse(REFERENCE_DIR / "naaccr" / "dictionaries" / f"naaccr-dictionary-{version}.xml").getroot()
    return {e.get("naaccrId"): e.attrib for e in root.iter() if e.tag.endswith("ItemDef")}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_items_match_the_official_dictionaries(model):
    v25, v26 = _dictionary("250"), _dictionary("260")
    specs = naaccr_items(model)
    assert specs, f"{model.__name__} declares no NAACCR items"
    for attribute, spec in specs.items():
        official = v25.get(spec.naaccr_id) or v26.get(spec.naaccr_id)
        assert official is not None, f"{model.__name__}.{attribute}: {spec.naaccr_id} is in neither v25 nor v26"
        assert int(official["naaccrNum"]) == spec.naaccr_num, f"{attribute}: item number"
        assert spec.length == int(official["length"]), f"{attribute}: length"


def test_sex_assigned_at_birth_is_the_v26_item():
    assert "sexAssignedAtBirth" in _dictionary("260") and "sexAssignedAtBirth" not in _dictionary("250")
    assert "sex" in _dictionary("250") and "sex" not in _dictionary("260")
    assert naaccr_items(Patient)["sex_assigned_at_birth"].naaccr_num == 225


def test_every_code_list_named_by_a_column_exists():
    lists = code_lists()
    for model in MODELS:
        for spec in naaccr_items(model).values():
            if spec.kind == "code":
                assert spec.code_list in lists, f"{spec.attribute}: {spec.code_list}"


@pytest.mark.parametrize("attribute, good, bad, message", [
    ("sex", "2", "7", "not a valid code for Sex [220]"),
    ("date_of_birth", "19500312", "19500231", "day 31 does not exist"),
    ("social_security_number", "999123456", "99912345X", "digits only"),
    ("cause_of_death", "C509", "C5.9", "was typed"),
    ("race1", "01", "1", "not a valid code"),
])
def test_item_validation(attribute, good, bad, message):
    spec = naaccr_items(Patient)[attribute]
    assert spec.problem(good) is None
    assert message in spec.problem(bad)


def test_every_pattern_says_what_it_wants_with_an_example():
    """Issue 20.12: a refused value is shown as typed, with the expected format and an example."""
    from registry.items import PATTERN_HINTS
    from registry.models import FirstCourseTreatment, Patient, Tumor
    for model in (Patient, Tumor, FirstCourseTreatment):
        for name, spec in naaccr_items(model).items():
            if spec.kind == "pattern":
                assert spec.pattern in PATTERN_HINTS, name
                assert "e.g." in PATTERN_HINTS[spec.pattern]
    sequence = naaccr_items(Tumor)["sequence_number_hospital"].problem("1")
    assert sequence.startswith("Sequence Number--Hospital [560] is two digits, e.g. 00 or 01") and "'1' was typed" in sequence
    ssn = naaccr_items(Patient)["social_security_number"].problem("12345678X")
    assert "takes digits only" in ssn and "'12345678X'" in ssn
    assert "9 characters" in naaccr_items(Patient)["social_security_number"].problem("1234567890")


@pytest.mark.parametrize("typed, read", [
    ("8500/3", ("8500", "3")), ("8500-3", ("8500", "3")), ("M-8500/3", ("8500", "3")), ("m8500/3", ("8500", "3")),
    ("85003", ("8500", "3")), ("8500", ("8500", None)), (" 8520/2 ", ("8520", "2")),
    ("C504", None), ("850/3", None), ("8500/33", None), ("duct", None), ("", None),
])
def test_morphology_notations_registrars_write(typed, read):
    """Issue 20.8: 8500/3 and its usual variants name histology and behavior."""
    from registry.items import read_morphology
    assert read_morphology(typed) == read


def test_a_notation_fills_histology_and_behavior_unless_behavior_disagrees():
    from registry.items import split_morphology
    values = {"histology": "8500/3", "behavior": None}
    assert split_morphology(values) is None and values == {"histology": "8500", "behavior": "3"}
    agreeing = {"histology": "M-8500/3", "behavior": "3"}
    assert split_morphology(agreeing) is None and agreeing == {"histology": "8500", "behavior": "3"}
    conflicting = {"histology": "8500/3", "behavior": "2"}
    message = split_morphology(conflicting)
    assert "'8500/3'" in message and "Behavior Code ICD-O-3 [523] 3" in message and "behavior 2" in message
    assert conflicting == {"histology": "8500/3", "behavior": "2"}
