"""Dictionaries: the official base dictionaries load with the item counts NAACCR publishes."""
import pytest

from registry.naaccr import (DictionaryError, DictionaryStore, ItemLookup, base_uri, base_version_from_uri,
                             convert_sex_items, load_dictionary)

from .conftest import DICTIONARY_DIR, NAACCR_DIR, SAMPLES_DIR, USER_DICTIONARY_TESTS

ITEM_COUNTS = {"140": 527, "150": 534, "160": 564, "180": 772, "210": 798, "220": 810, "230": 782,
               "240": 783, "250": 780, "260": 771}


@pytest.mark.parametrize("version", sorted(ITEM_COUNTS))
def test_base_dictionaries_load(store, version):
    dictionary = store.get(version)
    assert dictionary is not None
    assert dictionary.uri == base_uri(version)
    assert dictionary.naaccr_version == version
    assert dictionary.is_base
    assert len(dictionary) == ITEM_COUNTS[version]
    assert {item.parent for item in dictionary} == {"NaaccrData", "Patient", "Tumor"}


def test_v26_levels_and_attributes(store):
    v26 = store.get(base_uri("260"))
    counts = {level: len(v26.level_items(level)) for level in ("NaaccrData", "Patient", "Tumor")}
    assert counts == {"NaaccrData": 5, "Patient": 49, "Tumor": 717}
    sab = v26.get("sexAssignedAtBirth")
    assert (sab.naaccr_num, sab.parent, sab.length, sab.data_type) == (225, "Patient", 1, "digits")
    assert "sex" not in v26
    assert v26.by_num[400].naaccr_id == "primarySite"
    assert v26.get("accessionNumberHosp").record_types == frozenset("AMCI")


def test_items_agree_with_the_published_csv(store):
    import csv

    for version in ("180", "250", "260"):
        dictionary = store.get(version)
        with open(NAACCR_DIR / "items" / f"naaccr-xml-items-{version}.csv", newline="") as handle:
            rows = {row["NAACCR XML ID"]: row for row in csv.DictReader(handle)}
        for item in dictionary:
            row = rows[item.naaccr_id]
            assert int(row["NAACCR Number"]) == item.naaccr_num
            assert int(row["Length"]) == item.length
            assert row["Parent XML Element"] == item.parent
            assert (int(row["Start Column"]) if row["Start Column"] else None) == item.start_column


def test_start_columns_only_up_to_v18(store):
    assert all(item.start_column for item in store.get("180"))
    assert not any(item.start_column for item in store.get("210"))
    assert store.get("250").get("textRemarks").allow_unlimited_text is False
    assert store.get("180").get("textRemarks").allow_unlimited_text is True


def test_store_from_mapping_and_unknown(store):
    mapping = DictionaryStore({"250": DICTIONARY_DIR / "naaccr-dictionary-250.xml"})
    assert mapping.get(base_uri("250")).naaccr_version == "250"
    assert mapping.get(base_uri("260")) is None
    assert base_version_from_uri("https://my.organization.org/my-dictionary.xml") is None


@pytest.mark.parametrize("name", ["testing-user-dictionary.xml", "testing-user-dictionary-140.xml",
                                  "testing-user-dictionary-220.xml"])
def test_good_user_dictionaries(name):
    dictionary = load_dictionary(USER_DICTIONARY_TESTS / name)
    assert not dictionary.is_base
    assert len(dictionary) >= 3


@pytest.mark.parametrize("name", ["testing-user-dictionary-140-bad3.xml", "testing-user-dictionary-140-bad4.xml",
                                  "testing-user-dictionary-220-bad1.xml", "testing-user-dictionary-220-bad2.xml"])
def test_bad_user_dictionaries_are_refused(name):
    with pytest.raises(DictionaryError):
        load_dictionary(USER_DICTIONARY_TESTS / name)


USER_TEMPLATE = """<?xml version="1.0"?>
<NaaccrDictionary dictionaryUri="http://example.org/state.xml" specificationVersion="1.8"
                  xmlns="http://naaccr.org/naaccrxml"><ItemDefs>{}</ItemDefs></NaaccrDictionary>"""


@pytest.mark.parametrize("item, clash", [
    ('<ItemDef naaccrId="patientIdNumber" naaccrNum="10000" length="8" parentXmlElement="Patient"/>',
     "patientIdNumber"),
    ('<ItemDef naaccrId="myItem" naaccrNum="20" length="8" parentXmlElement="Patient"/>', "naaccrNum 20"),
])
def test_user_item_may_not_redefine_base_items(store, tmp_path, item, clash):
    path = tmp_path / "state.xml"
    path.write_text(USER_TEMPLATE.format(item))
    with pytest.raises(DictionaryError, match=clash):
        ItemLookup(store.get("250"), [load_dictionary(path)])


def test_user_dictionary_extends_base(store):
    lookup = ItemLookup(store.get("210"), [load_dictionary(SAMPLES_DIR / "flat-and-xml" / "my-dictionary.xml")])
    assert lookup.get("myVariable").naaccr_num == 10000
    assert lookup.ordered("Tumor")[-1].naaccr_id == "myVariable"


def test_sex_mapping_both_ways():
    assert convert_sex_items({"sex": "2", "nameLast": "X"}, 260) == {"sexAssignedAtBirth": "2", "nameLast": "X"}
    assert convert_sex_items({"sex": "5"}, "260") == {"sexAssignedAtBirth": "1"}
    assert convert_sex_items({"sex": "3"}, 260) == {"sexAssignedAtBirth": "9"}
    assert convert_sex_items({"sexAssignedAtBirth": "1"}, 250) == {"sex": "1"}
    assert convert_sex_items({"sex": "1"}, 250) == {"sex": "1"}
    items = {"sex": "2"}
    convert_sex_items(items, 260)
    assert items == {"sex": "2"}
