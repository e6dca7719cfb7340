"""Kaplan–Meier, log-rank and Cox against R survival 3.8-11's recorded example output."""
import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import multivariate_logrank_test

from reports.survival import cox_model, kaplan_meier, logrank_test, median_survival
from tests.reference import REFERENCE_DIR

FOLDER = REFERENCE_DIR / "survival"


@pytest.fixture(scope="module")
def ovarian():
    return pd.read_csv(FOLDER / "rsurvival_ovarian.csv")


@pytest.fixture(scope="module")
def lung():
    data = pd.read_csv(FOLDER / "rsurvival_lung.csv")
    data["dead"] = (data["status"] == 2).astype(int)
    return data


def at(curve, t):
    return curve.loc[curve["time"] <= t].iloc[-1]


def test_km_ovarian_matches_r_log_scale(ovarian):
    curve = kaplan_meier(ovarian, time="futime", event="fustat", ci="log")
    assert at(curve, 59)["surv"] == pytest.approx(0.962, abs=5e-4)
    row = at(curve, 268)
    assert row["surv"] == pytest.approx(0.846, abs=5e-4)
    assert row["se"] == pytest.approx(0.0708, abs=5e-5)
    assert row["lo"] == pytest.approx(0.718, abs=5e-4)
    assert row["hi"] == pytest.approx(0.997, abs=5e-4)
    assert at(curve, 638)["surv"] == pytest.approx(0.497, abs=5e-4)
    assert curve.attrs["ci"].startswith("log ")


def test_km_log_log_is_default_and_inside_unit_interval(ovarian):
    curve = kaplan_meier(ovarian, time="futime", event="fustat")
    assert curve.attrs["ci"].startswith("log-log")
    row = at(curve, 268)
    log_scale = at(kaplan_meier(ovarian, time="futime", event="fustat", ci="log"), 268)
    assert row["surv"] == log_scale["surv"]
    assert row["lo"] != pytest.approx(log_scale["lo"], abs=1e-3)
    assert ((curve["lo"] > 0) & (curve["hi"] < 1)).all()


def test_km_rejects_unknown_transform(ovarian):
    with pytest.raises(ValueError, match="ci"):
        kaplan_meier(ovarian, time="futime", event="fustat", ci="arcsine")


def test_logrank_ovarian_matches_r(ovarian):
    table = logrank_test(ovarian, time="futime", event="fustat", group="rx")
    assert list(table["observed"]) == [7, 5]
    np.testing.assert_allclose(table["expected"], [5.23, 6.77], atol=5e-3)
    assert table.attrs["chisq"] == pytest.approx(1.06, abs=5e-3)
    assert table.attrs["df"] == 1
    assert table.attrs["p"] == pytest.approx(0.303, abs=5e-4)


def test_logrank_several_groups_agrees_with_lifelines(lung):
    data = lung.dropna(subset=["ph.ecog"])
    table = logrank_test(data, time="time", event="dead", group="ph.ecog")
    theirs = multivariate_logrank_test(data["time"], data["ph.ecog"], data["dead"])
    assert table.attrs["df"] == 3
    assert table.attrs["chisq"] == pytest.approx(theirs.test_statistic, rel=1e-9)


def test_stratified_logrank_sums_over_strata(ovarian):
    one_stratum = logrank_test(ovarian.assign(s=1), time="futime", event="fustat",
                               group="rx", strata="s")
    plain = logrank_test(ovarian, time="futime", event="fustat", group="rx")
    assert one_stratum.attrs["chisq"] == pytest.approx(plain.attrs["chisq"])
    by_ecog = logrank_test(ovarian, time="futime", event="fustat", group="rx",
                           strata="ecog.ps")
    assert by_ecog["observed"].sum() == plain["observed"].sum()
    assert by_ecog.attrs["chisq"] != pytest.approx(plain.attrs["chisq"])
    assert by_ecog.attrs["stratified_by"] == ["ecog.ps"]


def test_cox_lung_matches_r(lung):
    table = cox_model(lung, time="time", event="dead", covariates=["age", "sex"])
    row = table.set_index("covariate")
    assert row.loc["age", "coef"] == pytest.approx(0.017045, abs=5e-6)
    assert row.loc["age", "se"] == pytest.approx(0.009223, abs=5e-6)
    assert row.loc["sex", "coef"] == pytest.approx(-0.513219, abs=5e-6)
    assert row.loc["sex", "se"] == pytest.approx(0.167458, abs=5e-6)
    assert row.loc["sex", "hr"] == pytest.approx(0.5986, abs=5e-5)
    assert row.loc["sex", "hr_lo"] == pytest.approx(0.4311, abs=5e-5)
    assert row.loc["sex", "hr_hi"] == pytest.approx(0.8311, abs=5e-5)
    assert table.attrs["concordance"] == pytest.approx(0.603, abs=5e-4)
    assert table.attrs["lr_chisq"] == pytest.approx(14.12, abs=5e-3)
    assert table.attrs["lr_df"] == 2


def test_medians_lung_by_ecog_match_r(lung):
    medians = median_survival(lung, time="time", event="dead", by="ph.ecog").set_index("ph.ecog")
    assert medians.loc[[0.0, 1.0, 2.0], "median"].tolist() == [394, 306, 199]
    assert (medians.loc[[0.0, 1.0, 2.0], "lo"] <= medians.loc[[0.0, 1.0, 2.0], "median"]).all()
    assert medians["n"].sum() == lung["ph.ecog"].notna().sum()


def test_km_by_group_stacks_groups(lung):
    curves = kaplan_meier(lung, time="time", event="dead", by="sex")
    assert list(curves.columns[:2]) == ["sex", "time"]
    first = curves.groupby("sex")["n_risk"].first()
    assert first.to_dict() == lung["sex"].value_counts().to_dict()
