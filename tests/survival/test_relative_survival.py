"""Life tables and relative/net survival against the published strs melanoma table."""
import numpy as np
import pandas as pd
import pytest

from reports.survival import (ICSS_WEIGHTS, icss_age_group, life_table, relative_survival)
from tests.reference import REFERENCE_DIR

FOLDER = REFERENCE_DIR / "survival"
TABLE_COLUMNS = {"n": "n", "d": "d", "w": "w", "p": "p", "p_star": "p_star", "r": "r",
                 "cp": "cp", "cp_star": "cp_e2", "cr": "cr_e2", "lo": "lo_cr_e2",
                 "hi": "hi_cr_e2", "end": "end"}


@pytest.fixture(scope="module")
def popmort():
    table = pd.read_csv(FOLDER / "dickman_popmort.csv").rename(
        columns={"_age": "age", "_year": "year"})
    table.attrs["name"] = "strs popmort (Finland 1951-2000)"
    return table


@pytest.fixture(scope="module")
def melanoma():
    data = pd.read_csv(FOLDER / "dickman_melanoma.csv")
    data["t"] = data["surv_mm"] / 12
    data["dead"] = data["status"].isin([1, 2]).astype(int)
    # potential follow-up to the closing date, 31 December 1995
    data["potfu"] = (pd.Timestamp("1995-12-31") - pd.to_datetime(data["dx"])).dt.days / 365.25
    return data


@pytest.fixture(scope="module")
def localized(melanoma):
    return melanoma[melanoma["stage"] == 1]


def relsurv(data, popmort, **options):
    return relative_survival(data, popmort, time="t", event="dead", age="age", sex="sex",
                             year="yydx", breaks=range(0, 26), **options)


def test_ederer2_reproduces_strs_table_to_4_decimals(localized, popmort):
    expected = pd.read_csv(FOLDER / "expected_dickman_melanoma_loc_e2_annual.csv")
    result = relsurv(localized, popmort)
    assert len(result) == len(expected)
    assert list(result["start"]) == list(expected["start"])
    for ours, theirs in TABLE_COLUMNS.items():
        np.testing.assert_allclose(result[ours].round(4), expected[theirs], atol=1e-9,
                                   err_msg=ours)
    assert result.attrs["lifetable"] == "strs popmort (Finland 1951-2000)"


def test_life_table_matches_observed_columns(localized):
    expected = pd.read_csv(FOLDER / "expected_dickman_melanoma_loc_e2_annual.csv")
    table = life_table(localized, time="t", event="dead", breaks=range(0, 26))
    for column in ("n", "d", "w", "p", "cp"):
        np.testing.assert_allclose(table[column].round(4), expected[column], atol=1e-9)
    assert (table["lo"] < table["cp"]).all() and (table["cp"] < table["hi"]).all()
    np.testing.assert_allclose(table["n_eff"], table["n"] - table["w"] / 2)


def test_life_table_by_group(localized):
    table = life_table(localized, time="t", event="dead", breaks=[0, 1, 5], by="sex")
    assert list(table.columns[:3]) == ["sex", "start", "end"]
    for sex, part in table.groupby("sex"):
        alone = life_table(localized[localized["sex"] == sex], time="t", event="dead",
                           breaks=[0, 1, 5])
        np.testing.assert_allclose(part["cp"], alone["cp"])
    assert table.groupby("sex")["n"].first().sum() == len(localized)


def test_hazard_estimator_is_close_to_actuarial(localized, popmort):
    actuarial = relsurv(localized, popmort)
    hazard = relsurv(localized, popmort, estimator="hazard")
    np.testing.assert_allclose(hazard["cr"].iloc[:10], actuarial["cr"].iloc[:10], atol=0.01)
    assert not np.allclose(hazard["cr"], actuarial["cr"], atol=1e-6)


@pytest.mark.parametrize("method", ["ederer1", "hakulinen"])
def test_cohort_methods_need_potential_followup(localized, popmort, method):
    with pytest.raises(ValueError, match="potential_followup"):
        relsurv(localized, popmort, method=method)


@pytest.mark.parametrize("method", ["ederer1", "hakulinen", "pohar_perme"])
def test_other_methods_agree_with_ederer2_early_on(localized, popmort, method):
    """All estimators target the same quantity; in the first years, when few patients
    have left the cohort, they must be within a percentage point of Ederer II."""
    ederer2 = relsurv(localized, popmort)
    other = relsurv(localized, popmort, method=method, potential_followup="potfu")
    np.testing.assert_allclose(other["cr"].iloc[:5], ederer2["cr"].iloc[:5], atol=0.01)
    same_observed = relsurv(localized, popmort, estimator=other.attrs["estimator"])  # Pohar Perme: hazard
    np.testing.assert_allclose(other["cp"], same_observed["cp"])
    assert ((other["lo"] <= other["cr"]) & (other["cr"] <= other["hi"])).iloc[:15].all()


def test_ederer1_with_complete_potential_followup_uses_whole_cohort(popmort):
    """Everyone followed ten years: Ederer I's expected survival is the cohort mean of
    each patient's expected survival, whoever died."""
    data = pd.DataFrame({"t": [0.5, 2.5, 10.0, 10.0], "dead": [1, 1, 0, 0],
                         "age": [60, 70, 50, 80], "sex": [1, 2, 1, 2],
                         "yydx": [1980] * 4, "potfu": [10.0] * 4})
    result = relative_survival(data, popmort, time="t", event="dead", age="age", sex="sex",
                               year="yydx", breaks=range(0, 4), method="ederer1",
                               potential_followup="potfu")
    lookup = popmort.set_index(["sex", "age", "year"])["prob"]
    surv = [np.prod([lookup[(s, a + k, 1980 + k)] for k in range(3)])
            for s, a in zip(data["sex"], data["age"])]
    assert result["cp_star"].iloc[2] == pytest.approx(np.mean(surv))


def test_pohar_perme_without_excess_mortality_is_near_one(popmort):
    """Patients who die at exactly the population rate have net survival ≈ 1."""
    rng = np.random.default_rng(7)
    n = 20000
    age = rng.integers(40, 90, n)
    sex = rng.integers(1, 3, n)
    lookup = popmort[popmort["year"] == 1990].set_index(["sex", "age"])["prob"]
    rate = -np.log(lookup.reindex(list(zip(sex, np.minimum(age, 105)))).to_numpy())
    death = rng.exponential(1 / rate)
    data = pd.DataFrame({"t": np.minimum(death, 5.0), "dead": (death < 5).astype(int),
                         "age": age, "sex": sex, "yydx": 1990.0})
    flat = popmort.drop(columns="prob").merge(
        popmort.loc[popmort["year"] == 1990, ["sex", "age", "prob"]], on=["sex", "age"])
    result = relative_survival(data, flat, time="t", event="dead", age="age", sex="sex",
                               year="yydx", breaks=range(0, 6), method="pohar_perme")
    assert abs(result["cr"].iloc[-1] - 1) < 0.03
    assert 0 < result["se_cr"].iloc[-1] < 0.02


def test_refuses_when_life_table_misses_years(localized, popmort):
    short = popmort[popmort["year"] <= 1990]
    with pytest.raises(ValueError, match=r"year 199[0-9]"):
        relsurv(localized, short)


def test_refuses_when_life_table_misses_ages(localized, popmort):
    adults = popmort[popmort["age"] >= 30]
    young = localized[localized["age"] < 30]
    with pytest.raises(ValueError, match=r"age \d+"):
        relsurv(young, adults)


def test_refuses_unknown_sex(localized, popmort):
    with pytest.raises(ValueError, match="sex"):
        relsurv(localized.assign(sex=9), popmort)


def test_icss_weights_are_the_published_ones():
    five = pd.read_csv(FOLDER / "icss_weights_5groups.csv").set_index("agegroup")
    by_year = pd.read_csv(FOLDER / "icss_weights_5yr.csv")
    by_year["group"] = icss_age_group(by_year["age"]).to_numpy()
    for standard, weights in ICSS_WEIGHTS.items():
        column = standard.upper()
        np.testing.assert_allclose(weights, five.loc[list(five.index[1:]), column])
        sums = by_year.groupby("group")[column].sum() / by_year[column].sum()
        np.testing.assert_allclose(weights, sums.loc[["15-44", "45-54", "55-64", "65-74",
                                                      "75+"]], atol=1e-9)


def test_age_standardised_is_weighted_sum_of_age_groups(localized, popmort):
    result = relsurv(localized, popmort, standard="icss1")
    groups = icss_age_group(localized["age"]).to_numpy()
    expected = 0.0
    for (label, weight) in zip(["15-44", "45-54", "55-64", "65-74", "75+"],
                               ICSS_WEIGHTS["icss1"]):
        part = relsurv(localized[groups == label], popmort).set_index("start")["cr"]
        expected = expected + weight * part.loc[[0, 1, 2, 3, 4]]
    np.testing.assert_allclose(result.set_index("start")["cr"].loc[[0, 1, 2, 3, 4]], expected)
    assert result.attrs["standard"] == "icss1"
    assert ((result["lo"] < result["cr"]) & (result["cr"] < result["hi"])).all()


def test_late_entry_counts_only_those_under_observation(localized, popmort):
    """Conditional survival given 5 years: late entry at 5 years equals the table
    restarted at 5 years."""
    survivors = localized[localized["t"] > 5].copy()
    survivors["entry"] = 5.0
    conditional = relsurv(survivors, popmort)
    full = relsurv(localized, popmort).set_index("start")
    assert conditional["start"].iloc[0] == 5
    late = conditional.set_index("start")
    np.testing.assert_allclose(late["p"], full.loc[late.index, "p"])
    np.testing.assert_allclose(late["p_star"], full.loc[late.index, "p_star"])
    np.testing.assert_allclose(late["cr"].iloc[-1],
                               full["cr"].iloc[-1] / full.loc[4, "cr"], rtol=1e-9)


def test_period_window_entries_inside_intervals(localized, popmort):
    """Period analysis: follow-up only from 1 January 1990 (entry at the time since
    diagnosis on that date); entries inside an interval count as half, like withdrawals."""
    data = localized.copy()
    data["entry"] = (1990 + 0.5 - (data["yydx"] + (data["mmdx"] - 0.5) / 12)).clip(lower=0)
    data = data[data["t"] > data["entry"]]
    result = relsurv(data, popmort)
    assert (result["n_eff"] != result["n"] - result["w"] / 2).any()
    assert result["cr"].between(0.5, 1.05).all()


def test_pohar_perme_follows_the_strs_hazard_conventions(popmort):
    """Issue 20.5: actuarial person-time, weights 1/S* at the interval midpoint (S* at the start times the
    square root of the interval's expected survival), weighted expected hazard over the same person-time;
    computed here by hand from the life table, patient by patient."""
    data = pd.DataFrame({"t": [0.4, 1.5, 2.0 + 1e-9, 0.7, 1.2, 2.5, 2.5, 1.9],
                         "dead": [1, 1, 0, 0, 1, 0, 1, 0],
                         "age": [60, 72, 55, 80, 66, 49, 77, 70], "sex": [1, 2, 1, 2, 1, 2, 1, 2],
                         "yydx": [1985] * 8})
    result = relative_survival(data, popmort, time="t", event="dead", age="age", sex="sex", year="yydx",
                               breaks=[0, 1, 2], method="pohar_perme")
    assert result.attrs["estimator"] == "hazard"
    prob = popmort.set_index(["sex", "age", "year"])["prob"]
    cumulative = np.zeros(len(data))
    net_hazard, variance, expected = 0.0, 0.0, []
    for k, (a, b) in enumerate([(0, 1), (1, 2)]):
        whole = np.array([-np.log(prob[(s, g + k, 1985 + k)]) for s, g in zip(data["sex"], data["age"])])
        present = data["t"].to_numpy() > a
        leaves = present & (data["t"].to_numpy() <= b)
        died = leaves & (data["dead"].to_numpy() == 1)
        weight = np.exp(cumulative + whole / 2)
        years = np.where(present, np.where(leaves, 0.5, 1.0), 0.0)
        y_w = (weight * years).sum()
        excess = (weight[died].sum() - (weight * whole * years).sum()) / y_w
        net_hazard += excess
        variance += (weight[died] ** 2).sum() / y_w ** 2
        expected.append((np.exp(-net_hazard), np.exp(-net_hazard) * np.sqrt(variance)))
        cumulative += whole
    np.testing.assert_allclose(result["cr"], [e[0] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(result["se_cr"], [e[1] for e in expected], rtol=1e-12)

    exact = relative_survival(data, popmort, time="t", event="dead", age="age", sex="sex", year="yydx",
                              breaks=[0, 1, 2], method="pohar_perme", estimator="hazard-exact")
    assert exact.attrs["estimator"] == "hazard-exact"
    assert not np.allclose(exact["cr"], result["cr"], rtol=1e-6)
    assert relative_survival(data, popmort, time="t", event="dead", age="age", sex="sex", year="yydx",
                             breaks=[0, 1, 2]).attrs["estimator"] == "actuarial"
