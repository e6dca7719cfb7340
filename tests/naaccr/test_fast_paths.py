"""The reader's fast paths decide exactly as the general checks do (verdict, message, position)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.naaccr import check_value, validate
from registry.naaccr.dictionary import ItemDef
from registry.naaccr.reader import value_checker

TRICKY = ["", "0", "12", "123", "1234", "12345", "007\n", "١٢", "²", "1.5", "1.", ".5", "-1", "A", "AB", "ab", "Ab",
          "A1", "1A", "a1", "É", "AB ", " AB", "1800", "1799", "2099", "2100", "180001", "180013", "180000",
          "20240229", "20230229", "20240230", "20240431", "20240131", "20240132", "20240100", "2024010",
          "20240101\n", "2024-01-01T10:00:00", "2024-01-01T24:00:00Z", "x" * 9, "1" * 9]


@pytest.mark.parametrize("data_type", ["text", "digits", "alpha", "mixed", "numeric", "date", "dateTime"])
@pytest.mark.parametrize("unlimited", [False, True])
def test_value_checker_agrees_with_check_value(data_type, unlimited):
    item = ItemDef("anItem", 9999, "Tumor", 8, data_type=data_type, allow_unlimited_text=unlimited)
    check = value_checker(item)
    assert [check(value) for value in TRICKY] == [check_value(item, value) for value in TRICKY]


@given(st.text(max_size=10) | st.text(alphabet="0123456789١٢٣٤٥٠０９²³¹ A\n.", max_size=10))
def test_plain_tests_pass_only_what_check_value_passes(value):
    from registry.naaccr.reader import _PLAIN_MATCHES
    for data_type, plain in _PLAIN_MATCHES.items():
        if plain(value):
            assert check_value(ItemDef("anItem", 9999, "Tumor", 99, data_type=data_type), value) is None, data_type


HEAD = ('<?xml version="1.0"?>\n<NaaccrData xmlns="http://naaccr.org/naaccrxml" xmlns:x="urn:x" '
        'baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml" recordType="A" '
        'specificationVersion="1.8">\n')


def test_items_off_the_fast_path_are_still_checked(store, tmp_path):
    """Known items that are out of order, at the wrong level, repeated, numbered or holding elements."""
    path = tmp_path / "odd.xml"
    path.write_text(HEAD + '<Patient>\n<Tumor><Item naaccrId="primarySite">C50<x:e/></Item>'
                    '<Item naaccrId="primarySite">C51</Item><Item naaccrId="dateOfDiagnosis">20230229</Item>'
                    '</Tumor>\n<Item naaccrId="nameLast" naaccrNum="2230">Smith</Item>'
                    '<Item naaccrId="sex" naaccrNum="221">1</Item>\nstray<x:f/>'
                    '<Item naaccrId="primarySite">C50</Item></Patient>\n</NaaccrData>\n')
    found = [(p.line, p.patient, p.tumor, p.naaccr_id, p.code) for p in validate(path, store).problems]
    # patient problems first, then the tumor's (as validate lists them); the same as before the fast path
    assert found == [(5, 1, None, None, "structure"), (5, 1, None, None, "structure"), (5, 1, None, "sex", "number"),
                     (6, 1, None, None, "structure"), (6, 1, None, None, "structure"),
                     (6, 1, None, "primarySite", "level"), (5, 1, None, None, "structure"),
                     (4, 1, 1, "primarySite", "structure"), (4, 1, 1, "primarySite", "duplicate"),
                     (4, 1, 1, "dateOfDiagnosis", "data-type")]


def test_syntax_error_names_the_open_patient_and_tumor(store, tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text(HEAD + '<Patient/><Patient><Tumor/><Tumor><Item naaccrId="primarySite">C1</Itm></Tumor>'
                    '</Patient></NaaccrData>')
    [problem] = validate(path, store).problems
    assert (problem.code, problem.patient, problem.tumor) == ("syntax", 2, 2)


def test_wrong_root_is_reported_even_without_patients(store, tmp_path):
    path = tmp_path / "root.xml"
    path.write_text('<Cases><x/></Cases>')
    report = validate(path, store)
    assert report.status == "invalid" and "must be NaaccrData, not Cases" in report.problems[0].message


def _all_date_forms(first_year: int, last_year: int) -> list[str]:
    values = []
    for year in range(first_year, last_year + 1):
        values.append(f"{year}")
        for month in range(0, 14):
            values.append(f"{year}{month:02d}")
            values += [f"{year}{month:02d}{day:02d}" for day in range(0, 33)]
    return values


def test_plain_date_match_takes_every_calendar_date_but_february_29():
    """Exhaustive over 1790-2110: the full match accepts only valid dates, and all of them except Feb 29."""
    from registry.naaccr.reader import _PLAIN_MATCHES
    item = ItemDef("aDate", 9999, "Tumor", 8, data_type="date")
    plain = _PLAIN_MATCHES["date"]
    left_to_calendar = []
    for value in _all_date_forms(1790, 2110):
        valid = check_value(item, value) is None
        if plain(value):
            assert valid, value
        elif valid:
            left_to_calendar.append(value)
    assert left_to_calendar and all(value.endswith("0229") for value in left_to_calendar)
