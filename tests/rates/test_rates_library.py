"""The rates library against published figures: the Fay–Feuer worked example, CDC WONDER's US rates
(2000 US standard, Tiwari limits) and the NCHS master table of the 2000 US standard population."""
from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reports.rates import methods
from reports.rates.methods import adjusted_rates, age_adjusted_rate, annual_percent_change, crude_rate, rate_ratio
from reports.rates.standards import SEER_19_GROUPS, UnknownStandard, common_groups, standard, standards

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "rates"
if not REFERENCE.exists():
    REFERENCE = Path("/work/shared/reference/rates")
WONDER = REFERENCE / "cdc-wonder-uscs"
assert REFERENCE.is_dir(), f"rates reference data not found at {REFERENCE}: ../shared must sit beside the clone"


def _worked_example() -> tuple[dict[str, dict[str, str]], list[dict[str, str]]]:
    with (REFERENCE / "worked_examples" / "dsr_gamma_worked_examples.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    published = {row["example_id"]: row for row in rows if row["published_adj_rate"]}
    strata = [row for row in rows if row["example_id"] == "FF97_DOWNS_BO5"]
    return published, strata


def _digits(text: str) -> int:
    return len(text.split(".")[1])


@pytest.mark.parametrize("example, midp", [("FF97_DOWNS_BO5", False), ("FF97_DOWNS_BO5_MIDP", True)])
def test_fay_feuer_worked_example(example, midp):
    published, strata = _worked_example()
    row = published[example]
    result = adjusted_rates([float(s["count"]) for s in strata], [float(s["population"]) for s in strata],
                            [float(s["standard_weight_pop"]) for s in strata], per=float(row["multiplier"]),
                            method="fay-feuer", conf=float(row["conf_level"]), midp=midp)
    assert round(result.rate[0], _digits(row["published_adj_rate"])) == float(row["published_adj_rate"])
    if not midp:  # the gamma limits are closed forms: every printed digit
        assert round(result.lo[0], _digits(row["published_lci"])) == float(row["published_lci"])
        assert round(result.hi[0], _digits(row["published_uci"])) == float(row["published_uci"])
    else:  # published mid-p limits come from R's uniroot at its default tolerance; ours is the exact root
        assert result.lo[0] == pytest.approx(float(row["published_lci"]), abs=5e-5)
        assert result.hi[0] == pytest.approx(float(row["published_uci"]), abs=5e-5)


def test_tiwari_upper_limit_is_tighter_and_lower_unchanged():
    _, strata = _worked_example()
    args = ([float(s["count"]) for s in strata], [float(s["population"]) for s in strata],
            [float(s["standard_weight_pop"]) for s in strata])
    fay = adjusted_rates(*args, method="fay-feuer")
    tiwari = adjusted_rates(*args, method="tiwari")
    assert tiwari.lo[0] == fay.lo[0]
    assert tiwari.rate[0] < tiwari.hi[0] < fay.hi[0]


def _wonder_age_specific() -> pd.DataFrame:
    frame = pd.read_csv(WONDER / "US cancer incidence, all sites.txt", sep="\t", dtype=str)
    frame = frame[frame["Notes"].isna() & frame["Year"].notna()].copy()
    frame[["Count", "Population"]] = frame[["Count", "Population"]].astype(float)
    frame["age"] = frame["Age Groups Code"].map(lambda code: 0 if code == "1" else int(code.split("-")[0].rstrip("+")))
    return frame


def _wonder_published(name: str, keys: list[str]) -> pd.DataFrame:
    frame = pd.read_csv(WONDER / name, sep="\t", dtype=str)
    frame = frame[frame["Notes"].isna() & frame["Year"].notna()].set_index(keys)
    numbers = [c for c in frame.columns if c[0].isupper() and c not in ("Sex", "Year Code", "Notes")]
    return frame[numbers].astype(float)


@pytest.mark.parametrize("name, keys", [
    ("US cancer incidence, age-adjusted rates, all sites.txt", ["Year"]),
    ("US cancer incidence, age-adjusted rates, all sites, by sex.txt", ["Year", "Sex Code"]),
])
def test_cdc_wonder_age_adjusted_and_crude_rates(name, keys):
    """The age-specific counts (1999-2016 release) are brought to the published release's count and
    population of each row (1999-2015 release) by a common factor over age groups, then age-adjusted: the
    published rates and limits are reproduced within 0.3 per 100,000 (largest difference printed)."""
    ages = _wonder_age_specific()
    published = _wonder_published(name, keys)
    grouped = ages.groupby([*keys, "age"])[["Count", "Population"]].sum().unstack("age")
    grouped = grouped[grouped.index.isin(published.index)]
    target = published.loc[grouped.index]
    counts = grouped["Count"].mul(target["Count"] / grouped["Count"].sum(axis=1), axis=0)
    result = age_adjusted_rate(counts, grouped["Population"], standard("us2000"), method="tiwari")
    result.index = grouped.index
    worst = {}
    for ours, theirs in (("rate", "Age-Adjusted Rate"), ("lo", "Age-Adjusted Rate Lower 95% Confidence Interval"),
                         ("hi", "Age-Adjusted Rate Upper 95% Confidence Interval")):
        worst[ours] = float((result[ours] - target[theirs]).abs().max())
    crude = crude_rate(target["Count"], target["Population"])
    crude.index = grouped.index
    for ours, theirs in (("rate", "Crude Rate"), ("lo", "Crude Rate Lower 95% Confidence Interval"),
                         ("hi", "Crude Rate Upper 95% Confidence Interval")):
        worst["crude_" + ours] = float((crude[ours] - target[theirs]).abs().max())
    print(f"{name}: largest differences per 100,000 {worst}")
    assert len(grouped) >= 17
    assert max(worst.values()) <= 0.3, worst
    assert max(v for k, v in worst.items() if k.startswith("crude")) <= 0.05 + 1e-9  # published to 0.1


def test_cdc_wonder_unscaled_difference_is_the_release_difference():
    """Without bringing the counts to the older release, the difference per year is what the extra cases
    of the newer release make: our rate × (old count / new count) is within 0.3 of the published rate."""
    ages = _wonder_age_specific()
    published = _wonder_published("US cancer incidence, age-adjusted rates, all sites, by sex.txt",
                                  ["Year", "Sex Code"])
    grouped = ages.groupby(["Year", "Sex Code", "age"])[["Count", "Population"]].sum().unstack("age")
    grouped = grouped[grouped.index.isin(published.index)]
    ours = age_adjusted_rate(grouped["Count"], grouped["Population"], standard("us2000"))["rate"].to_numpy()
    factor = (published.loc[grouped.index, "Count"] / grouped["Count"].sum(axis=1)).to_numpy()
    assert np.abs(ours * factor - published.loc[grouped.index, "Age-Adjusted Rate"].to_numpy()).max() <= 0.3


def test_age_specific_crude_rates_match_wonder():
    ages = _wonder_age_specific()
    crude = crude_rate(ages["Count"], ages["Population"])
    assert np.array_equal(crude["rate"].round(1).to_numpy(), ages["Crude Rate"].astype(float).to_numpy())


def _nchs_master() -> dict[str, float]:
    """The NCHS master table (thousands, 24 groups) from the workbook, read without a spreadsheet library."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(REFERENCE / "nchs-standard" / "standard-population.xlsx") as book:
        strings = [''.join(t.text or '' for t in si.iter(f"{{{ns['m']}}}t"))
                   for si in ET.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", ns)]
        sheet = ET.fromstring(book.read("xl/worksheets/sheet1.xml"))
    table = {}
    for row in list(sheet.iter(f"{{{ns['m']}}}row"))[1:]:
        cells = []
        for cell in row.findall("m:c", ns):
            value = cell.find("m:v", ns).text
            cells.append(strings[int(value)] if cell.get("t") == "s" else value)
        table[cells[0]] = float(cells[1])
    return table


def test_us2000_standard_matches_the_nchs_master_table():
    master = _nchs_master()
    us = standard("us2000").weights
    assert tuple(us.index) == SEER_19_GROUPS
    for low, population in us.items():
        parts = [v for k, v in master.items() if int(k.split("-")[0].rstrip("+")) in
                 range(low, (SEER_19_GROUPS + (200,))[SEER_19_GROUPS.index(low) + 1])]
        assert round(population / 1000) == pytest.approx(sum(parts), abs=1), low
    assert us.sum() == 274_633_642
    eighteen = standard("us2000-18").weights
    assert eighteen.loc[0] == us.loc[0] + us.loc[1] and eighteen.sum() == us.sum()


def test_us2000_in_20_groups_splits_only_the_85_plus_group():
    nineteen = standard("us2000").weights
    twenty = standard("us2000-20").weights
    assert tuple(twenty.index) == (*SEER_19_GROUPS, 90)
    assert twenty.drop([85, 90]).equals(nineteen.drop(85))
    assert twenty[85] + twenty[90] == nineteen[85] == 4_259_173 and twenty.sum() == nineteen.sum()
    assert "20 age groups" in standards()["us2000-20"]


def test_the_20_group_standard_weighs_90_plus_apart_where_the_data_has_it():
    groups = [*SEER_19_GROUPS, 90]
    population = pd.Series(1000.0, index=groups)
    old_old = pd.Series(0.0, index=groups)
    old_old[90] = 10.0  # every case aged 90+
    twenty = standard("us2000-20").weights
    rate = age_adjusted_rate(old_old, population, standard("us2000-20"))["rate"].iloc[0]
    assert rate == pytest.approx(10 / 1000 * 100_000 * twenty[90] / twenty.sum())
    # the 19-group standard sees the same cases as 85+ (85-89 and 90+ joined: 10 cases in 2,000 people)
    joined = age_adjusted_rate(old_old, population, standard("us2000"))["rate"].iloc[0]
    assert joined == pytest.approx(10 / 2000 * 100_000 * twenty.loc[85:].sum() / twenty.sum())
    assert joined != pytest.approx(rate)


@pytest.mark.parametrize("key, groups, total", [("world-segi", 18, 100_000), ("esp2013", 19, 100_000)])
def test_other_standards(key, groups, total):
    weights = standard(key).weights
    assert len(weights) == groups and weights.sum() == total
    assert key in standards()


def test_unknown_standard_is_refused_by_name():
    with pytest.raises(UnknownStandard, match="us2000"):
        standard("us1970")


def test_groupings_collapse_to_what_they_share():
    assert common_groups(SEER_19_GROUPS, tuple(standard("esp2013").weights.index)) == tuple(range(0, 90, 5))
    counts = pd.Series(1.0, index=list(SEER_19_GROUPS))
    population = pd.Series(1000.0, index=list(SEER_19_GROUPS))
    # the same age-specific rate everywhere gives that rate whatever the standard
    for key in ("us2000", "world-segi", "esp2013"):
        rate = age_adjusted_rate(counts, population, standard(key))["rate"].iloc[0]
        assert rate == pytest.approx(100.0)
    rising = pd.Series(np.arange(1.0, 20.0), index=list(SEER_19_GROUPS))
    world = age_adjusted_rate(rising, population, standard("world-segi"))["rate"].iloc[0]
    weights = standard("world-segi").weights
    by_five = np.r_[(1 + 2) / 2, np.arange(3.0, 20.0)]  # <1 and 1-4 joined: 3 cases in 2,000 people
    assert world == pytest.approx((by_five / 1000 * 100_000 * weights.to_numpy()).sum() / weights.sum())


def test_crude_rate_exact_poisson_limits():
    result = crude_rate([0, 10], [1000, 1000], per=1000)
    assert result["rate"].tolist() == [0.0, 10.0]
    assert result["lo"].iloc[0] == 0.0
    assert result["hi"].iloc[0] == pytest.approx(3.688879, abs=1e-6)  # -ln(0.025): exact upper for 0 events
    assert result["lo"].iloc[1] == pytest.approx(4.795389, abs=1e-6)  # Garwood limits for 10 events
    assert result["hi"].iloc[1] == pytest.approx(18.390356, abs=1e-6)


def test_rate_ratio_of_equal_rates_is_one_and_intervals_contain_it():
    counts = np.array([[5, 40, 300], [5, 40, 300]], dtype=float)
    population = np.array([[1e4, 2e4, 3e4], [1e4, 2e4, 3e4]])
    std = np.array([1, 2, 3], dtype=float)
    a = adjusted_rates(counts[:1], population[:1], std)
    b = adjusted_rates(counts[1:], population[1:], std)
    for method in methods.METHODS:
        ratio = rate_ratio(a, b, method=method).iloc[0]
        assert ratio["ratio"] == pytest.approx(1.0)
        assert ratio["lo"] < 1 < ratio["hi"]
    tiwari, fay = rate_ratio(a, b, method="tiwari").iloc[0], rate_ratio(a, b, method="fay-feuer").iloc[0]
    assert fay["lo"] <= tiwari["lo"] and tiwari["hi"] <= fay["hi"]


def test_rate_ratio_of_one_stratum_is_the_exact_conditional_interval():
    """With one stratum the F interval is the exact (Clopper–Pearson based) interval of a Poisson ratio."""
    from scipy import stats
    a = adjusted_rates([[30]], [[1e5]], [1.0], method="fay-feuer")
    b = adjusted_rates([[20]], [[1e5]], [1.0], method="fay-feuer")
    ratio = rate_ratio(a, b, method="fay-feuer").iloc[0]
    p_lo = stats.beta.ppf(0.025, 30, 21)
    p_hi = stats.beta.ppf(0.975, 31, 20)
    assert ratio["ratio"] == pytest.approx(1.5)
    assert ratio["lo"] == pytest.approx(p_lo / (1 - p_lo), rel=1e-9)
    assert ratio["hi"] == pytest.approx(p_hi / (1 - p_hi), rel=1e-9)


def test_apc_recovers_a_constant_change_and_its_interval():
    years = np.arange(2010, 2020)
    rates = 400 * 1.02 ** (years - 2010)
    exact = annual_percent_change(years, rates, se=rates * 0.01)
    assert exact["apc"] == pytest.approx(2.0, abs=1e-9)
    assert exact["lo"] == pytest.approx(2.0, abs=1e-6) and exact["hi"] == pytest.approx(2.0, abs=1e-6)
    noisy = rates * np.array([1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01, 0.99, 1.0, 1.0])
    result = annual_percent_change(years, noisy, se=noisy * 0.01)
    assert result["lo"] < result["apc"] < result["hi"]
    unweighted = annual_percent_change(years, noisy)
    slope = np.polyfit(years, np.log(noisy), 1)[0]
    assert unweighted["apc"] == pytest.approx(100 * np.expm1(slope))
    assert np.isnan(annual_percent_change(years, np.r_[0.0, rates[1:]])["apc"])


def test_suppression_blanks_small_counts_and_rates_from_few_cases():
    table = pd.DataFrame({"group": ["a", "b", "c", "d"], "count": [0, 7, 12, 40], "crude_rate": [0.0, 1.0, 2.0, 3.0],
                          "aa_rate": [0.0, 1.0, 2.0, 3.0]})
    out = methods.suppress(table)
    assert out["count"].isna().tolist() == [False, True, False, False]
    assert out["crude_rate"].isna().tolist() == [True, True, True, False]
    assert out["suppressed"].tolist()[1].startswith("count under 11")
    assert methods.suppress(table, min_rate_cases=5, min_count=5)["crude_rate"].isna().tolist() == [True, False,
                                                                                                     False, False]
