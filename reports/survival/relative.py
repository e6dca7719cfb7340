"""Actuarial life tables, relative survival (Ederer I, Ederer II, Hakulinen) and net
survival (Pohar Perme), with ICSS age-standardisation and late entry.

lifelines has no actuarial life table and no relative survival, and registries compare
their figures with those of strs (Dickman & Coviello, Stata J 2015) and SEER*Stat, so
the conventions here are strs's: intervals [start, end); a patient is at risk in an
interval when follow-up time > start; withdrawals count as half a person (n' = n − w/2);
expected survival uses the population life table at the attained age floor(age + start)
(the oldest age of the table stands for all older ages) and attained calendar year
floor(year + start); confidence limits are on the log(−log) scale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from reports.survival.icss import ICSS_AGE_GROUPS, ICSS_WEIGHTS

__all__ = ["life_table", "relative_survival", "ICSS_AGE_GROUPS", "ICSS_WEIGHTS",
           "icss_age_group", "METHODS", "ESTIMATORS"]

Z95 = 1.959963984540054
METHODS = ("ederer1", "ederer2", "hakulinen", "pohar_perme")
#: ``actuarial``: n' = n - w/2 life table; ``hazard``: the strs hazard transformation with actuarial person-time
#: (a patient surviving the interval contributes its full length, one dying, censored or entering in it half) and,
#: for Pohar Perme, weights 1/S* at the interval midpoint (S* at the start times the square root of the interval's
#: expected survival); ``hazard-exact``: the same with each patient's exact time at risk and S* at the midpoint
#: computed from the life table.
ESTIMATORS = ("actuarial", "hazard", "hazard-exact")
#: The estimator each method uses unless told: strs's conventions, which registries compare against.
DEFAULT_ESTIMATOR = {"ederer1": "actuarial", "ederer2": "actuarial", "hakulinen": "actuarial",
                     "pohar_perme": "hazard"}

def icss_age_group(age: pd.Series | np.ndarray) -> pd.Series:
    """ICSS age-group label for each age at diagnosis (NaN below 15)."""
    years = np.floor(np.asarray(age, dtype=float))
    labels = np.full(years.shape, None, dtype=object)
    for low, high, label in ICSS_AGE_GROUPS:
        labels[(years >= low) & ((years < high) if high is not None else True)] = label
    return pd.Series(labels, index=getattr(age, "index", None), name="icss_age_group")


def _breaks(breaks: Iterable[float]) -> np.ndarray:
    edges = np.asarray(list(breaks), dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("breaks must be at least two increasing interval boundaries")
    return edges


def _columns(data: pd.DataFrame, *names: str | None) -> None:
    missing = [n for n in names if n is not None and n not in data.columns]
    if missing:
        raise ValueError(f"data has no column(s) {', '.join(missing)}")


def _loglog_ci(surv: np.ndarray, var_cum_hazard: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% limits for a survival probability from the variance of −log S, on the
    log(−log) scale so they stay inside (0, 1)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_s = np.log(surv)
        se = np.sqrt(var_cum_hazard) / np.abs(log_s)
        lo = np.exp(log_s * np.exp(Z95 * se))
        hi = np.exp(log_s * np.exp(-Z95 * se))
    exact = surv >= 1.0
    lo = np.where(exact, np.nan, lo)
    hi = np.where(exact, np.nan, hi)
    return lo, hi


@dataclass
class _Interval:
    """Who is in one interval [a, b) and for how long."""
    start: float
    end: float
    at_start: np.ndarray      # at risk at the start (entered by a, time > a)
    entering: np.ndarray      # late entry inside the interval
    died: np.ndarray
    withdrawn: np.ndarray
    exposed: np.ndarray       # years at risk inside the interval

    @property
    def in_interval(self) -> np.ndarray:
        return self.at_start | self.entering

    @property
    def n(self) -> int:
        return int(self.at_start.sum())

    @property
    def effective_n(self) -> float:
        return self.n + self.entering.sum() / 2 - self.withdrawn.sum() / 2


def _intervals(time: np.ndarray, event: np.ndarray, entry: np.ndarray | None,
               edges: np.ndarray) -> Iterable[_Interval]:
    for a, b in zip(edges[:-1], edges[1:]):
        alive_at_a = time > a
        if entry is None:
            at_start, entering = alive_at_a, np.zeros_like(alive_at_a)
            lower = np.full(time.shape, a)
        else:
            at_start = alive_at_a & (entry <= a)
            entering = (entry > a) & (entry < b) & (time > entry)
            lower = np.maximum(entry, a)
        present = at_start | entering
        ends_inside = present & (time <= b)
        died = ends_inside & (event == 1)
        withdrawn = ends_inside & (event != 1)
        exposed = np.where(present, np.clip(np.minimum(time, b) - lower, 0, None), 0.0)
        yield _Interval(a, b, at_start, entering, died, withdrawn, exposed)


def life_table(data: pd.DataFrame, *, time: str, event: str, breaks: Sequence[float],
               by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Actuarial (life-table) estimate of observed survival.

    ``time`` is follow-up in the unit of ``breaks``; ``event`` is 1 for the event (death)
    and 0 for censoring. Per interval: n at risk at the start, d events, w withdrawn,
    effective n′ = n − w/2, p = 1 − d/n′, cumulative cp, Greenwood standard error
    ``se_cp`` and 95% limits ``lo``/``hi`` on the log(−log) scale. Intervals nobody
    reaches are left out. With ``by``, one table per group stacked, the group columns
    first.
    """
    groups = [by] if isinstance(by, str) else list(by or [])
    _columns(data, time, event, *groups)
    edges = _breaks(breaks)
    if groups:
        parts = []
        for key, part in data.groupby(groups, sort=True, observed=True, dropna=False):
            table = life_table(part, time=time, event=event, breaks=edges)
            for name, value in zip(groups, key if isinstance(key, tuple) else (key,)):
                table.insert(groups.index(name), name, value)
            parts.append(table)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    t = data[time].to_numpy(dtype=float)
    e = data[event].to_numpy(dtype=float)
    rows = []
    cp, var_sum = 1.0, 0.0
    for iv in _intervals(t, e, None, edges):
        if iv.n == 0:
            break
        d, w = int(iv.died.sum()), int(iv.withdrawn.sum())
        n_eff = iv.effective_n
        p = 1 - d / n_eff
        cp *= p
        if n_eff > d:
            var_sum += d / (n_eff * (n_eff - d))
        rows.append((iv.start, iv.end, iv.n, d, w, n_eff, p, cp, var_sum))
    table = pd.DataFrame(rows, columns=["start", "end", "n", "d", "w", "n_eff", "p", "cp",
                                        "_var"])
    table["se_cp"] = table["cp"] * np.sqrt(table["_var"])
    table["lo"], table["hi"] = _loglog_ci(table["cp"].to_numpy(), table.pop("_var").to_numpy())
    return table


class _ExpectedRates:
    """Population mortality rates indexed by sex, single year of age and calendar year.

    Built once as a dense array so that looking up a million patients is one gather.
    """

    def __init__(self, lifetable: pd.DataFrame):
        _columns(lifetable, "sex", "age", "year", "prob")
        table = lifetable[["sex", "age", "year", "prob"]].dropna()
        if table.empty:
            raise ValueError("the life table is empty")
        self.name = lifetable.attrs.get("name", "unnamed life table")
        self.sexes = np.sort(table["sex"].unique())
        ages = table["age"].astype(int).to_numpy()
        years = table["year"].astype(int).to_numpy()
        self.age0, self.age1 = int(ages.min()), int(ages.max())
        self.year0, self.year1 = int(years.min()), int(years.max())
        self.rates = np.full((len(self.sexes), self.age1 - self.age0 + 1,
                              self.year1 - self.year0 + 1), np.nan)
        sex_idx = np.searchsorted(self.sexes, table["sex"].to_numpy())
        prob = table["prob"].to_numpy(dtype=float)
        if np.any((prob <= 0) | (prob > 1)):
            raise ValueError("life table probabilities must be in (0, 1]")
        self.rates[sex_idx, ages - self.age0, years - self.year0] = -np.log(prob)

    def sex_index(self, sex: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.sexes, sex).clip(0, len(self.sexes) - 1)
        unknown = self.sexes[index] != sex
        if unknown.any():
            raise ValueError(f"the life table ({self.name}) has no sex {sex[unknown][0]!r}; "
                             f"it has {', '.join(map(str, self.sexes))}")
        return index

    def rate(self, sex_index: np.ndarray, age: np.ndarray, year: np.ndarray) -> np.ndarray:
        """Annual mortality rate at attained (whole) age and calendar year."""
        age = np.minimum(np.floor(age).astype(int), self.age1)
        year = np.floor(year).astype(int)
        outside = (age < self.age0) | (year < self.year0) | (year > self.year1)
        if outside.any():
            i = int(np.argmax(outside))
            raise ValueError(
                f"the life table ({self.name}) does not cover age {age[i]} in year {year[i]}: "
                f"it has ages {self.age0}-{self.age1} and years {self.year0}-{self.year1}")
        found = self.rates[sex_index, age - self.age0, year - self.year0]
        if np.isnan(found).any():
            i = int(np.argmax(np.isnan(found)))
            raise ValueError(
                f"the life table ({self.name}) has no probability for sex "
                f"{self.sexes[sex_index[i]]!r}, age {age[i]}, year {year[i]}")
        return found

    def hazard(self, rows: np.ndarray, sex_index: np.ndarray, age: np.ndarray,
               year: np.ndarray, lower: np.ndarray | float, upper: np.ndarray | float,
               a: float, b: float) -> np.ndarray:
        """Expected cumulative hazard over [lower, upper] ⊂ [a, b) for ``rows``.

        Age and year are attained at the start of each whole year of follow-up from a,
        as strs does, so an annual interval uses one life-table row per patient.
        """
        lower = np.broadcast_to(lower, rows.shape)
        upper = np.broadcast_to(upper, rows.shape)
        total = np.zeros(rows.shape)
        s = a
        while s < b:
            piece_end = min(s + 1.0, b)
            overlap = np.clip(np.minimum(upper, piece_end) - np.maximum(lower, s), 0, None)
            if overlap.any():
                used = overlap > 0
                r = self.rate(sex_index[rows[used]], age[rows[used]] + s, year[rows[used]] + s)
                total[used] += r * overlap[used]
            s = piece_end
        return total


def relative_survival(data: pd.DataFrame, lifetable: pd.DataFrame, *, time: str, event: str,
                      age: str, sex: str, year: str, breaks: Sequence[float],
                      method: str = "ederer2", estimator: str | None = None,
                      potential_followup: str | None = None,
                      standard: str | None = None) -> pd.DataFrame:
    """Relative survival (Ederer I, Ederer II, Hakulinen) or net survival (Pohar Perme).

    ``data`` has one row per tumor: follow-up ``time`` in years, ``event`` 1 for death
    from any cause, ``age`` at diagnosis in years, ``sex`` coded as in the life table,
    ``year`` of diagnosis as a decimal, optionally ``entry`` (years since diagnosis at
    which follow-up starts: late entry, for period analysis and conditional survival).
    ``lifetable`` has ``sex``, ``age``, ``year``, ``prob`` (probability of surviving one
    year); its ``attrs["name"]`` is reported back in the result's ``attrs``.

    Methods differ in the expected survival they divide by: Ederer II averages the
    population survival of those still at risk in each interval; Ederer I that of the
    whole cohort as if nobody left it, and Hakulinen removes patients from the expected
    cohort when their potential follow-up (column ``potential_followup``, years from
    diagnosis to the closing date; both need it) ends. Pohar Perme weights each patient
    by the inverse of their expected survival (at the middle of the interval) and
    subtracts the expected deaths, estimating net survival without Ederer II's bias
    when excess mortality depends on age. ``estimator`` (see ``ESTIMATORS``; by default
    ``DEFAULT_ESTIMATOR[method]``: ``hazard`` for Pohar Perme, as strs computes it) chooses
    between the life-table n′ = n − w/2 and person-time with p = exp(−h·rate).

    Returns one row per interval: ``start``, ``end``, ``n``, ``d``, ``w``, ``n_eff``,
    ``p``, ``p_star``, ``r``, ``cp``, ``cp_star``, ``cr`` (cumulative relative, or net
    survival), ``se_cr``, ``lo``, ``hi`` (95%, log(−log) scale). ``standard`` (icss1,
    icss2 or icss3) age-standardises with the ICSS weights over its five age groups.
    Raises ValueError when the life table misses an age, sex or year that is needed.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    estimator = estimator or DEFAULT_ESTIMATOR[method]
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
    if method in ("ederer1", "hakulinen") and potential_followup is None:
        raise ValueError(f"{method} needs potential_followup: the column of each patient's "
                         "potential follow-up in years (diagnosis to the closing date)")
    _columns(data, time, event, age, sex, year, potential_followup)
    rates = lifetable if isinstance(lifetable, _ExpectedRates) else _ExpectedRates(lifetable)
    edges = _breaks(breaks)
    if standard is not None:
        return _standardised(data, rates, edges, standard, time=time, event=event, age=age,
                             sex=sex, year=year, method=method, estimator=estimator,
                             potential_followup=potential_followup)
    result = _estimate(data, rates, edges, time=time, event=event, age=age, sex=sex,
                       year=year, method=method, estimator=estimator,
                       potential_followup=potential_followup)
    result.attrs.update(lifetable=rates.name, method=method, estimator=estimator,
                        ci="log(-log) 95%")
    return result


def _estimate(data: pd.DataFrame, rates: _ExpectedRates, edges: np.ndarray, *, time: str,
              event: str, age: str, sex: str, year: str, method: str, estimator: str,
              potential_followup: str | None) -> pd.DataFrame:
    t = data[time].to_numpy(dtype=float)
    e = data[event].to_numpy(dtype=float)
    ages = data[age].to_numpy(dtype=float)
    years = data[year].to_numpy(dtype=float)
    sex_index = rates.sex_index(data[sex].to_numpy())
    entry = data["entry"].to_numpy(dtype=float) if "entry" in data.columns else None
    potfu = data[potential_followup].to_numpy(dtype=float) if potential_followup else None
    all_rows = np.arange(len(t))
    cum_hazard = np.zeros(len(t))      # expected hazard from diagnosis to the interval start
    cp = cp_star = cr = 1.0
    var_obs = var_net = 0.0
    rows = []
    for iv in _intervals(t, e, entry, edges):
        a, b, h = iv.start, iv.end, iv.end - iv.start
        # Expected hazard over the whole interval for everyone still followed at a
        # (or, for the cohort methods, still within potential follow-up).
        track = (t > a) if potfu is None else (t > a) | (potfu > a)
        if not track.any():
            break
        tracked = all_rows[track]
        whole = np.zeros(len(t))
        whole[tracked] = rates.hazard(tracked, sex_index, ages, years, a, b, a, b)
        if not iv.in_interval.any():
            cum_hazard[tracked] += whole[tracked]
            continue
        d, w = int(iv.died.sum()), int(iv.withdrawn.sum())
        n_eff = iv.effective_n
        if estimator == "actuarial":
            p = 1 - d / n_eff
            var_step = d / (n_eff * (n_eff - d)) if n_eff > d else 0.0
        else:
            person_years = _exposure(iv, estimator).sum()
            p = math.exp(-d / person_years * h) if person_years > 0 else 1.0
            var_step = d * h ** 2 / person_years ** 2 if person_years > 0 else 0.0
        cp *= p
        var_obs += var_step

        if method == "pohar_perme":
            p_net, p_star, var_step_net = _pohar_perme_step(
                iv, rates, all_rows, sex_index, ages, years, cum_hazard, whole, estimator)
            cr *= p_net
            var_net += var_step_net
            cp_star *= p_star
        else:
            p_star = _expected_step(method, estimator, iv, whole, cum_hazard, potfu, t)
            cp_star *= p_star
            cr = cp / cp_star
        rows.append((a, b, iv.n, d, w, n_eff, p, p_star, cp, cp_star, cr,
                     var_net if method == "pohar_perme" else var_obs))
        cum_hazard[tracked] += whole[tracked]
    table = pd.DataFrame(rows, columns=["start", "end", "n", "d", "w", "n_eff", "p", "p_star",
                                        "cp", "cp_star", "cr", "_var"])
    var = table.pop("_var").to_numpy()
    table.insert(table.columns.get_loc("p_star") + 1, "r", table["p"] / table["p_star"])
    if method == "pohar_perme":
        table["se_cr"] = table["cr"] * np.sqrt(var)
        table["lo"], table["hi"] = _loglog_ci(table["cr"].to_numpy(), var)
    else:
        table["se_cr"] = table["cr"] * np.sqrt(var)
        lo, hi = _loglog_ci(table["cp"].to_numpy(), var)
        table["lo"], table["hi"] = lo / table["cp_star"], hi / table["cp_star"]
    return table


def _expected_step(method: str, estimator: str, iv: _Interval, whole: np.ndarray,
                   cum_hazard: np.ndarray, potfu: np.ndarray | None, t: np.ndarray) -> float:
    """Interval expected survival p* for the Ederer and Hakulinen methods."""
    a, b = iv.start, iv.end
    if method == "ederer2":
        present = iv.in_interval
        if estimator != "actuarial":
            exposed = _exposure(iv, estimator)
            person_years = exposed[present].sum()
            if person_years <= 0:
                return 1.0
            expected_rate = (whole[present] / (b - a) * exposed[present]).sum() / person_years
            return math.exp(-expected_rate * (b - a))
        return float(np.exp(-whole[present]).mean())
    alive = potfu > a
    start_surv = np.exp(-cum_hazard[alive])
    end_surv = start_surv * np.exp(-whole[alive])
    if method == "ederer1":
        return float(end_surv.sum() / start_surv.sum())
    # Hakulinen: patients whose potential follow-up ends inside the interval leave the
    # expected cohort there, counted as half as in the observed life table.
    leaves = potfu[alive] < b
    expected_deaths = np.where(leaves, (start_surv - end_surv) / 2, start_surv - end_surv).sum()
    expected_n = start_surv.sum() - start_surv[leaves].sum() / 2
    return float(1 - expected_deaths / expected_n)


def _pohar_perme_step(iv: _Interval, rates: _ExpectedRates, all_rows: np.ndarray,
                      sex_index: np.ndarray, ages: np.ndarray, years: np.ndarray,
                      cum_hazard: np.ndarray, whole: np.ndarray, estimator: str
                      ) -> tuple[float, float, float]:
    """Interval net survival, weighted expected survival and variance increment."""
    a, b, h = iv.start, iv.end, iv.end - iv.start
    present = all_rows[iv.in_interval]
    if estimator == "hazard-exact":
        half = rates.hazard(present, sex_index, ages, years, a, a + h / 2, a, b)
    else:  # strs: S*(midpoint) = S*(start) · sqrt(p*) of the interval
        half = whole[present] / 2
    weight = np.exp(cum_hazard[present] + half)
    died = iv.died[present]
    withdrawn = iv.withdrawn[present]
    at_start = iv.at_start[present]
    entering = iv.entering[present]
    d_w = weight[died].sum()
    if estimator != "actuarial":
        exposed = _exposure(iv, estimator)[present]
        y_w = (weight * exposed).sum()
        if y_w <= 0:
            return 1.0, 1.0, 0.0
        expected_w = (weight * whole[present] / h * exposed).sum()
        excess = (d_w - expected_w) * h / y_w
        return (math.exp(-excess), math.exp(-expected_w * h / y_w),
                (weight[died] ** 2).sum() * h ** 2 / y_w ** 2)
    n_w = weight[at_start].sum() + (weight[entering].sum() - weight[withdrawn].sum()) / 2
    q_star = 1 - np.exp(-whole[present])
    expected_w = (weight * q_star).sum() - (weight * q_star)[withdrawn | entering].sum() / 2
    return (1 - (d_w - expected_w) / n_w, 1 - expected_w / n_w,
            (weight[died] ** 2).sum() / n_w ** 2)


def _exposure(iv: _Interval, estimator: str) -> np.ndarray:
    """Person-time in the interval per patient: exact (``hazard-exact``) or strs's actuarial approximation,
    the full interval for a patient followed through it and half of it for one who dies, is censored or enters."""
    if estimator == "hazard-exact":
        return iv.exposed
    h = iv.end - iv.start
    partial = iv.died | iv.withdrawn | iv.entering
    return np.where(iv.in_interval, np.where(partial, h / 2, h), 0.0)


def _standardised(data: pd.DataFrame, rates: _ExpectedRates, edges: np.ndarray,
                  standard: str, **options) -> pd.DataFrame:
    """Weighted sum of the age-group estimates with the ICSS weights."""
    key = standard.lower()
    if key not in ICSS_WEIGHTS:
        raise ValueError(f"standard must be one of {', '.join(ICSS_WEIGHTS)}, not {standard!r}")
    groups = icss_age_group(data[options["age"]]).to_numpy()
    index = pd.MultiIndex.from_arrays([edges[:-1], edges[1:]], names=["start", "end"])
    total = None
    var = None
    cumulative = {}
    for (low, high, label), weight in zip(ICSS_AGE_GROUPS, ICSS_WEIGHTS[key]):
        part = data[groups == label]
        if part.empty:
            raise ValueError(f"ICSS standardisation needs patients in every age group; "
                             f"there are none aged {label}")
        table = _estimate(part, rates, edges, **options).set_index(["start", "end"])
        table = table.reindex(index)
        for column in ("n", "d", "w"):
            table[column] = table[column].fillna(0)
        for column in ("cp", "cp_star", "cr"):
            cumulative[column] = cumulative.get(column, 0) + weight * table[column]
        counts = table[["n", "d", "w", "n_eff"]].fillna(0)
        total = counts if total is None else total + counts
        var = (0 if var is None else var) + (weight * table["se_cr"]) ** 2
    result = total.copy()
    for column in ("cp", "cp_star", "cr"):
        result[column] = cumulative[column]
    result["p"] = result["cp"] / result["cp"].shift(fill_value=1.0)
    result["p_star"] = result["cp_star"] / result["cp_star"].shift(fill_value=1.0)
    result["r"] = result["p"] / result["p_star"]
    result["se_cr"] = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_log = (result["se_cr"] / result["cr"]) ** 2
    result["lo"], result["hi"] = _loglog_ci(result["cr"].to_numpy(), var_log.to_numpy())
    result = result.reset_index()
    result = result[["start", "end", "n", "d", "w", "n_eff", "p", "p_star", "r", "cp",
                     "cp_star", "cr", "se_cr", "lo", "hi"]]
    result = result[result["cr"].notna()].reset_index(drop=True)
    result.attrs.update(lifetable=rates.name, method=options["method"],
                        estimator=options["estimator"], standard=key,
                        ci="log(-log) 95%")
    return result
