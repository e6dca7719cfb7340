"""Cause-specific death classification against SEER's published data and IMS's tests.

The rules are our own data; here they are compared with the SEER table and test cases
in the reference directory (read, never copied into the product)."""
import csv

import pytest

from reports.cause_specific import SITE_RULES, cause_specific_death, site_recode
from tests.reference import REFERENCE_DIR

FOLDER = REFERENCE_DIR / "algorithms" / "causespecific"


def seer_rows():
    with open(FOLDER / "data_2023.txt", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))[1:]
    return {(r[0], r[1], r[2]): r for r in rows}


def ranges(text):
    return tuple(part.strip() for part in text.split(",") if part.strip())


@pytest.mark.parametrize("recode", sorted(SITE_RULES))
def test_site_rules_match_seer_table(recode):
    table = seer_rows()
    several = table[("1", "1-59", recode)]
    rule = SITE_RULES[recode]
    assert rule.categories == ranges(several[3])
    assert rule.codes == ranges(several[4])
    only = table.get(("1", "0", recode))
    assert rule.only_tumor == (ranges(only[3]) if only else ())


def test_cases():
    with open(FOLDER / "testCauseSpecific.csv", newline="") as handle:
        cases = list(csv.DictReader(handle))
    checked = 0
    for case in cases:
        try:
            got = cause_specific_death(
                cause_of_death=case["causeOfDeath"], primary_site=case["primarySite"],
                histology=case["histology"], sequence_number=case["seqNumCentral"],
                icd_revision=case["icdRevisionNum"], vital_status=case["vitalStatus"])
        except LookupError:
            continue
        assert got == (case["cause-specific"], case["cause-other"]), case["comment"]
        checked += 1
    assert checked >= 25


def test_site_recode_of_common_sites():
    assert site_recode("C509", "8500") == "39"
    assert site_recode("C619", "8140") == "49"
    assert site_recode("C447", "8720") == "37"
    assert site_recode("C187", "8140") == "20"
    assert site_recode("C341", "9050") is None  # mesothelioma is recoded by histology


def test_unsupported_site_is_refused():
    with pytest.raises(LookupError):
        cause_specific_death(cause_of_death="I219", primary_site="C649", histology="8312",
                             sequence_number="01")


def test_table_form_marks_unsupported_sites_as_none():
    import pandas as pd

    from reports.cause_specific import cause_specific_deaths
    tumors = pd.DataFrame({
        "causeOfDeath": ["C509", "I219", "I219"], "primarySite": ["C504", "C504", "C649"],
        "histologicTypeIcdO3": ["8500", "8500", "8312"],
        "sequenceNumberCentral": ["01", "01", "01"], "icdRevisionNumber": ["1", "1", "1"],
        "vitalStatus": ["0", "0", "0"]})
    result = cause_specific_deaths(tumors)
    assert result["seerCauseSpecificCod"].tolist() == ["1", "0", None]
    assert result["seerOtherCod"].tolist() == ["0", "1", None]
