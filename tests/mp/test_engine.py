"""The engine module by module: dates, rule-set choice, questions and answers, each rule family."""
import csv

import pytest

from staging_tables.multiple_primaries import InvalidTumor, tumor
from staging_tables.multiple_primaries import dates
from staging_tables.multiple_primaries.checks import CHECKS
from staging_tables.multiple_primaries.dates import DiagnosisDate
from staging_tables.multiple_primaries.tables import RULES_FILE, rule_sets

MP, SP, Q = "MULTIPLE_PRIMARIES", "SINGLE_PRIMARY", "QUESTIONABLE"


def test_breast_right_and_left_same_year_are_two_primaries(mp_engine):
    right = tumor("C504", "8500", "3", "1", 2019, 3, 2)
    left = tumor("C504", "8500", "3", "2", 2019, 8, 20)
    verdict = mp_engine.compare(right, left)
    assert (verdict.result, verdict.step) == (MP, "Solid Tumor 2018+ Breast M7")
    assert "both sides" in verdict.reason
    older = mp_engine.compare(tumor("C504", "8500", "3", "1", 2015), tumor("C504", "8500", "3", "2", 2015))
    assert (older.result, older.step) == (MP, "MPH 2007-2017 Breast M7")


@pytest.mark.parametrize("first, second, years, answer", [
    (DiagnosisDate(2018, 5, 18), DiagnosisDate(2019, 5, 19), 1, dates.APART),
    (DiagnosisDate(2018, 5, 18), DiagnosisDate(2019, 5, 17), 1, dates.WITHIN),
    (DiagnosisDate(2018, 5), DiagnosisDate(2019, 6), 1, dates.APART),
    (DiagnosisDate(2018, 5), DiagnosisDate(2019, 5), 1, dates.UNKNOWN),
    (DiagnosisDate(2018), DiagnosisDate(2019, 5, 1), 1, dates.UNKNOWN),
    (DiagnosisDate(2018), DiagnosisDate(2021), 1, dates.APART),
    (DiagnosisDate(2018), DiagnosisDate(2019), 5, dates.WITHIN),
])
def test_years_apart_with_partial_dates(first, second, years, answer):
    assert dates.years_apart(first, second, years) == answer
    assert dates.years_apart(second, first, years) == answer


@pytest.mark.parametrize("first, second, answer", [
    (DiagnosisDate(2020, 1, 1), DiagnosisDate(2020, 3, 1), dates.WITHIN),
    (DiagnosisDate(2020, 1, 1), DiagnosisDate(2020, 3, 2), dates.APART),
    (DiagnosisDate(2020, 1), DiagnosisDate(2020, 1), dates.WITHIN),
    (DiagnosisDate(2020, 1), DiagnosisDate(2020, 3), dates.UNKNOWN),
    (DiagnosisDate(2020, 1), DiagnosisDate(2020, 6), dates.APART),
    (DiagnosisDate(2020), DiagnosisDate(2020, 6, 1), dates.UNKNOWN),
])
def test_days_apart_with_partial_dates(first, second, answer):
    assert dates.days_apart(first, second, 60) == answer


def test_out_of_range_month_and_day_are_unknown():
    assert DiagnosisDate.of(2021, 13, 5) == DiagnosisDate(2021)
    assert DiagnosisDate.of(2021, 2, 30) == DiagnosisDate(2021, 2)
    assert tumor("C504", "8500", "3", "1", "2021", "99", "99").date == DiagnosisDate(2021)
    assert tumor("C504", "8500", "3", "1", "2021", "", " ").date == DiagnosisDate(2021)


@pytest.mark.parametrize("codes, field", [
    (("C80", "8140", "3", "2020"), "site"), (("C809", "8140", "3", "2020"), "site"),
    (("C504", "814", "3", "2020"), "hist"), (("C504", "7999", "3", "2020"), "hist"),
    (("C504", "8140", "5", "2020"), "beh"), (("C504", "8140", "3", "20x0"), "year"), (("C504", "8140", "3", ""), "year"),
])
def test_unreadable_tumors_name_the_field(codes, field):
    site, histology, behavior, year = codes
    with pytest.raises(InvalidTumor) as caught:
        tumor(site, histology, behavior, "0", year)
    assert caught.value.field == field


def test_laterality_must_be_a_code():
    with pytest.raises(InvalidTumor) as caught:
        tumor("C504", "8500", "3", "7", 2020)
    assert caught.value.field == "lat"
    assert tumor("C504", "8500", "3", "", 2020).laterality == ""


def test_unknown_laterality_asks_and_the_answer_settles(mp_engine):
    first, second = tumor("C504", "8500", "3", "1", 2021, 1, 5), tumor("C502", "8500", "3", "9", 2021, 2, 1)
    asked = mp_engine.compare(first, second)
    assert (asked.result, asked.question_id) == (Q, "tumors_in_both_breasts")
    assert "laterality" in asked.reason
    assert mp_engine.compare(first, second, {"tumors_in_both_breasts": True}).result == MP
    same_breast = mp_engine.compare(first, second, {"tumors_in_both_breasts": False})
    assert (same_breast.result, same_breast.step) == (SP, "Solid Tumor 2018+ Breast M13")


def test_year_only_dates_ask_about_the_disease_free_interval(mp_engine):
    first, second = tumor("C161", "8140", "3", "0", 2022), tumor("C163", "8140", "3", "0", 2023)
    asked = mp_engine.compare(first, second)
    assert (asked.result, asked.question_id) == (Q, "disease_free_over_1_year")
    answered = mp_engine.compare(first, second, {"disease_free_over_1_year": True})
    assert (answered.result, answered.step) == (MP, "Solid Tumor 2023+ Other Sites M12")
    assert mp_engine.compare(first, second, {"disease_free_over_1_year": False}).result == SP


def test_no_rule_set_is_questionable_and_different_sets_are_two_primaries(mp_engine):
    borderline_ovary = tumor("C569", "8472", "1", "2", 2019, 2, 11)
    verdict = mp_engine.compare(tumor("C711", "9680", "3", "9", 2019, 10, 23), borderline_ovary)
    assert verdict.result == Q and verdict.reason.startswith("Could not find rule sets for C569")
    different = mp_engine.compare(tumor("C504", "8500", "3", "1", 2020), tumor("C187", "8140", "3", "0", 2020))
    assert different.result == MP and "Breast" in different.reason and "Colon" in different.reason


@pytest.mark.parametrize("year, name", [(2023, "Solid Tumor 2023+ Other Sites"), (2019, "MPH 2007-2022 Other Sites"),
                                        (2012, "MPH 2007-2022 Other Sites"), (2005, "SEER 2004 Solid Malignant")])
def test_the_later_diagnosis_year_chooses_the_rule_set(mp_engine, year, name):
    verdict = mp_engine.compare(tumor("C619", "8140", "3", "0", 2000), tumor("C619", "8140", "3", "0", year))
    assert verdict.rule_set == name and verdict.result == SP


def test_melanoma_histology_of_the_ear_uses_the_melanoma_rules(mp_engine):
    verdict = mp_engine.compare(tumor("C442", "8743", "3", "2", 2023, 8, 27), tumor("C445", "8743", "3", "2", 2020, 7, 24))
    assert verdict.rule_set == "Solid Tumor 2021+ Cutaneous Melanoma" and verdict.result == MP


def test_lung_histology_on_no_row_is_questionable(mp_engine):
    verdict = mp_engine.compare(tumor("C341", "8010", "3", "1", 2021, 1, 1), tumor("C341", "8140", "3", "1", 2021, 1, 20))
    assert verdict.result == Q and verdict.reason.endswith("8010/3 is not in the table.")


def test_pre_2007_rules(mp_engine):
    bilateral = mp_engine.compare(tumor("C504", "8500", "3", "1", 2005, 3, 1), tumor("C504", "8500", "3", "2", 2005, 4, 1))
    assert (bilateral.result, bilateral.step) == (MP, "SEER 2004 Solid Malignant 4")
    ovaries = mp_engine.compare(tumor("C569", "8441", "3", "1", 2005, 3, 1), tumor("C569", "8441", "3", "2", 2005, 4, 1))
    assert ovaries.result == SP
    later = mp_engine.compare(tumor("C187", "8140", "3", "0", 2003, 3, 1), tumor("C187", "8140", "3", "0", 2003, 9, 1))
    assert (later.result, later.step) == (MP, "SEER 2004 Solid Malignant 5")
    brain = mp_engine.compare(tumor("C711", "9383", "1", "1", 2005), tumor("C711", "9394", "1", "9", 2006))
    assert (brain.result, brain.step) == (SP, "SEER 2004 Benign Brain 2")


def test_hematopoietic_2010_rules(mp_engine):
    same = mp_engine.compare(tumor("C421", "9732", "3", "0", 2015), tumor("C421", "9732", "3", "0", 2020))
    assert (same.result, same.step) == (SP, "Hematopoietic and Lymphoid 2010+ M2")
    malt = mp_engine.compare(tumor("C774", "9699", "3", "0", 2015), tumor("C699", "9699", "3", "0", 2020))
    assert (malt.result, malt.step) == (Q, "Hematopoietic and Lymphoid 2010+ M2")
    hodgkin_apart = mp_engine.compare(tumor("C770", "9663", "3", "0", 2023), tumor("C778", "9591", "3", "0", 2021))
    assert (hodgkin_apart.result, hodgkin_apart.step) == (MP, "Hematopoietic and Lymphoid 2010+ M6")


def test_hematopoietic_calculator_reads_the_later_diagnosis_in_the_same_primary_table(mp_engine):
    """9695/3 lists 9675/3 as the same primary for any year; 9675/3 lists 9695/3 only while it was valid."""
    later_lists = mp_engine.compare(tumor("C778", "9675", "3", "0", 2020, 9, 14), tumor("C772", "9695", "3", "0", 2022, 6, 5))
    assert (later_lists.result, later_lists.step) == (SP, "Hematopoietic and Lymphoid 2010+ M15")
    later_does_not = mp_engine.compare(tumor("C772", "9695", "3", "0", 2020, 12, 4), tumor("C770", "9675", "3", "0", 2022, 10, 21))
    assert (later_does_not.result, later_does_not.step) == (MP, "Hematopoietic and Lymphoid 2010+ M15")


def test_chronic_then_acute_more_than_21_days_is_two_primaries(mp_engine, mph_dir):
    from staging_tables.multiple_primaries.tables import read_pair_table
    to = read_pair_table(mph_dir / "Hematopoietic2010TransformToPairs.csv")
    frm = read_pair_table(mph_dir / "Hematopoietic2010TransformFromPairs.csv")
    chronic, acute = next((code, pair.other) for code, pairs in sorted(to.items()) for pair in pairs
                          if pair.first_year <= 2015 and pair.last_year >= 2016 and code not in ("9731/3", "9734/3")
                          and any(p.other == code and p.first_year <= 2016 <= p.last_year for p in frm.get(pair.other, ())))
    verdict = mp_engine.compare(tumor("C421", *chronic.split("/"), "0", 2015, 1, 1),
                                tumor("C421", *acute.split("/"), "0", 2016, 6, 1))
    assert (verdict.result, verdict.step) == (MP, "Hematopoietic and Lymphoid 2010+ M10")
    within = mp_engine.compare(tumor("C421", *chronic.split("/"), "0", 2015, 1, 1),
                               tumor("C421", *acute.split("/"), "0", 2015, 1, 10))
    assert (within.result, within.step) == (Q, "Hematopoietic and Lymphoid 2010+ M8")


def test_hematopoietic_2001_and_1998_tables(mp_engine):
    assert mp_engine.compare(tumor("C421", "9863", "3", "0", 2003), tumor("C421", "9861", "3", "0", 2005)).rule_set \
        == "Hematopoietic 2001-2009"
    hodgkin = mp_engine.compare(tumor("C770", "9650", "3", "0", 1995), tumor("C771", "9652", "3", "0", 1999))
    assert (hodgkin.result, hodgkin.rule_set) == (SP, "Hematopoietic before 2001")
    apart = mp_engine.compare(tumor("C770", "9650", "3", "0", 1995), tumor("C421", "9732", "3", "0", 1999))
    assert apart.result == MP


def test_every_step_names_a_known_check_and_every_rule_set_ends_with_a_verdict():
    with RULES_FILE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["check"] for row in rows} <= set(CHECKS)
    assert {row["verdict"] for row in rows} <= {SP, MP}
    for rule_set in rule_sets():
        assert rule_set.rules, rule_set.key
        assert rule_set.rules[-1].check in ("no_other_rule", "heme_calculator", "heme_2001_groups", "heme_1998_pairs")


def test_without_the_official_tables_a_hematopoietic_pair_is_questionable(tmp_path):
    from staging_tables.multiple_primaries import engine
    verdict = engine(tmp_path).compare(tumor("C421", "9863", "3", "0", 2015), tumor("C421", "9861", "3", "0", 2016))
    assert verdict.result == Q and "not installed" in verdict.reason
    solid = engine(tmp_path).compare(tumor("C504", "8500", "3", "1", 2019), tumor("C504", "8500", "3", "2", 2019))
    assert solid.result == MP
