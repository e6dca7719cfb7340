"""Observed survival: Kaplan–Meier, medians, log-rank tests and Cox models as plain tables.

lifelines does the fitting; these wrappers return pandas tables with fixed column names
for the report and the web, and make the confidence-interval choice explicit: R's
``survfit`` uses the log scale by default, lifelines the log(−log) scale. Both are
offered; the default is log(−log) (``ci="log-log"``), which keeps limits inside [0, 1]
and behaves better in the tails. Pass ``ci="log"`` to reproduce R's default output.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from scipy import stats

__all__ = ["kaplan_meier", "median_survival", "logrank_test", "cox_model", "CI_TRANSFORMS"]

Z95 = 1.959963984540054
CI_TRANSFORMS = ("log-log", "log")


def _groups(by: str | Sequence[str] | None) -> list[str]:
    return [by] if isinstance(by, str) else list(by or [])


def _check(data: pd.DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"data has no column(s) {', '.join(missing)}")


def _km_one(time: np.ndarray, event: np.ndarray, ci: str) -> pd.DataFrame:
    fitter = KaplanMeierFitter().fit(time, event_observed=event)
    table = fitter.event_table
    table = table[table["removed"] > 0]
    at_risk = table["at_risk"].to_numpy(dtype=float)
    deaths = table["observed"].to_numpy(dtype=float)
    surv = fitter.survival_function_.loc[table.index].iloc[:, 0].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(at_risk > deaths, deaths / (at_risk * (at_risk - deaths)), np.inf)
        greenwood = np.cumsum(np.where(deaths > 0, step, 0.0))
        se_log = np.sqrt(greenwood)
        if ci == "log":
            lo = np.exp(np.log(surv) - Z95 * se_log)
            hi = np.minimum(np.exp(np.log(surv) + Z95 * se_log), 1.0)
        else:
            log_s = np.log(surv)
            se_ll = se_log / np.abs(log_s)
            lo = np.exp(log_s * np.exp(Z95 * se_ll))
            hi = np.exp(log_s * np.exp(-Z95 * se_ll))
    undefined = (surv <= 0) | (greenwood == 0)
    lo = np.where(undefined & (surv >= 1), np.nan, lo)
    hi = np.where(undefined & (surv >= 1), np.nan, hi)
    return pd.DataFrame({
        "time": table.index.to_numpy(dtype=float),
        "n_risk": at_risk.astype(int),
        "n_event": deaths.astype(int),
        "n_censor": table["censored"].to_numpy(dtype=int),
        "surv": surv,
        "se": surv * se_log,
        "lo": lo,
        "hi": hi,
    })


def kaplan_meier(data: pd.DataFrame, *, time: str, event: str,
                 by: str | Sequence[str] | None = None, ci: str = "log-log") -> pd.DataFrame:
    """Kaplan–Meier estimate at every distinct follow-up time.

    Columns: the ``by`` columns, ``time``, ``n_risk``, ``n_event``, ``n_censor``,
    ``surv``, ``se`` (Greenwood, of S), ``lo``/``hi`` (95%; ``ci`` "log-log" or "log",
    recorded in ``attrs["ci"]``).
    """
    if ci not in CI_TRANSFORMS:
        raise ValueError(f"ci must be one of {', '.join(CI_TRANSFORMS)}, not {ci!r}")
    groups = _groups(by)
    _check(data, time, event, *groups)
    parts = []
    data = data.dropna(subset=[time, event, *groups])
    iterator = data.groupby(groups, sort=True, observed=True) if groups else [((), data)]
    for key, part in iterator:
        table = _km_one(part[time].to_numpy(dtype=float), part[event].to_numpy(dtype=int), ci)
        for i, name in enumerate(groups):
            table.insert(i, name, key[i] if isinstance(key, tuple) else key)
        parts.append(table)
    result = pd.concat(parts, ignore_index=True)
    result.attrs["ci"] = f"{ci} 95% (Greenwood)"
    return result


def median_survival(data: pd.DataFrame, *, time: str, event: str,
                    by: str | Sequence[str] | None = None, ci: str = "log-log") -> pd.DataFrame:
    """Median survival per group: the first time the Kaplan–Meier curve reaches 0.5 or
    below (as R's survfit), with limits where the confidence band crosses 0.5 (NaN when
    it never does)."""
    groups = _groups(by)
    data = data.dropna(subset=[time, event, *groups])
    curves = kaplan_meier(data, time=time, event=event, by=by, ci=ci)

    def first_time(frame: pd.DataFrame, column: str) -> float:
        hit = frame.loc[frame[column] <= 0.5, "time"]
        return float(hit.iloc[0]) if len(hit) else float("nan")

    rows = []
    iterator = curves.groupby(groups, sort=True, observed=True) if groups else [((), curves)]
    for key, frame in iterator:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(groups, key))
        n = data
        for name, value in row.items():
            n = n[n[name] == value]
        row.update(n=len(n), events=int(n[event].sum()), median=first_time(frame, "surv"),
                   lo=first_time(frame, "lo"), hi=first_time(frame, "hi"))
        rows.append(row)
    result = pd.DataFrame(rows)
    result.attrs["ci"] = curves.attrs["ci"]
    return result


def logrank_test(data: pd.DataFrame, *, time: str, event: str, group: str,
                 strata: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Log-rank test of equal survival across two or more groups, optionally stratified.

    Observed and expected events are summed over strata, as are the variance matrices;
    the statistic is chi-square on (groups − 1) degrees of freedom. Returns one row per
    group (``group``, ``n``, ``observed``, ``expected``, ``o_over_e``) with the test in
    ``attrs`` (``chisq``, ``df``, ``p``).
    """
    strata_cols = _groups(strata)
    _check(data, time, event, group, *strata_cols)
    data = data.dropna(subset=[time, event, group, *strata_cols])
    levels = np.sort(data[group].unique())
    k = len(levels)
    if k < 2:
        raise ValueError("the log-rank test needs at least two groups")
    observed = np.zeros(k)
    expected = np.zeros(k)
    variance = np.zeros((k, k))
    iterator = data.groupby(strata_cols, observed=True) if strata_cols else [((), data)]
    for _, part in iterator:
        t = part[time].to_numpy(dtype=float)
        e = part[event].to_numpy(dtype=int)
        g = np.searchsorted(levels, part[group].to_numpy())
        times, inverse = np.unique(t, return_inverse=True)
        deaths = np.zeros((len(times), k))
        leaving = np.zeros((len(times), k))
        np.add.at(deaths, (inverse, g), e)
        np.add.at(leaving, (inverse, g), 1)
        at_risk = leaving[::-1].cumsum(axis=0)[::-1]
        n = at_risk.sum(axis=1)
        d = deaths.sum(axis=1)
        use = d > 0
        n, d, at_risk = n[use], d[use], at_risk[use]
        share = at_risk / n[:, None]
        observed += deaths[use].sum(axis=0)
        expected += (d[:, None] * share).sum(axis=0)
        factor = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
        variance += np.einsum("t,ti,tj->ij", factor, share, share) * -1
        variance[np.diag_indices(k)] += (factor[:, None] * share).sum(axis=0)
    diff = (observed - expected)[:-1]
    statistic = float(diff @ np.linalg.solve(variance[:-1, :-1], diff))
    result = pd.DataFrame({"group": levels, "n": data[group].value_counts().reindex(levels)
                           .to_numpy(), "observed": observed, "expected": expected,
                           "o_over_e": observed / expected})
    result.attrs.update(chisq=statistic, df=k - 1, p=float(stats.chi2.sf(statistic, k - 1)),
                        stratified_by=strata_cols)
    return result


def cox_model(data: pd.DataFrame, *, time: str, event: str, covariates: Sequence[str],
              strata: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Cox proportional-hazards model (Efron ties) with hazard ratios.

    Returns one row per covariate: ``covariate``, ``coef``, ``se``, ``hr``, ``hr_lo``,
    ``hr_hi`` (95%), ``z``, ``p``; ``attrs`` hold ``concordance``, the likelihood-ratio
    test (``lr_chisq``, ``lr_df``, ``lr_p``), ``n`` and ``events``.
    """
    strata_cols = _groups(strata)
    _check(data, time, event, *covariates, *strata_cols)
    frame = data[[time, event, *covariates, *strata_cols]].dropna()
    fitter = CoxPHFitter()
    fitter.fit(frame, duration_col=time, event_col=event, strata=strata_cols or None)
    summary = fitter.summary
    result = pd.DataFrame({
        "covariate": summary.index.astype(str),
        "coef": summary["coef"].to_numpy(),
        "se": summary["se(coef)"].to_numpy(),
        "hr": summary["exp(coef)"].to_numpy(),
        "hr_lo": summary["exp(coef) lower 95%"].to_numpy(),
        "hr_hi": summary["exp(coef) upper 95%"].to_numpy(),
        "z": summary["z"].to_numpy(),
        "p": summary["p"].to_numpy(),
    })
    lr = fitter.log_likelihood_ratio_test()
    result.attrs.update(concordance=float(fitter.concordance_index_),
                        lr_chisq=float(lr.test_statistic), lr_df=int(lr.degrees_freedom),
                        lr_p=float(lr.p_value), n=len(frame), events=int(frame[event].sum()),
                        ties="efron")
    return result
