"""Incidence-rate statistics as SEER*Stat computes them: crude rates with exact Poisson limits, age-adjusted
rates with gamma limits (Fay & Feuer 1997, or the Tiwari, Clegg & Zou 2006 modification SEER*Stat uses by
default), rate ratios with F limits, annual percent change by weighted least squares of log rates, and the
suppression rules of public tables. Plain numpy/pandas; no Flask, no database.

Every function works on many groups at once (rows of 2-D arrays over age groups), so a table of site × sex ×
year costs one pass, not one call per cell.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, stats

from reports.rates.standards import Standard, collapse_index, common_groups

METHODS = ("tiwari", "fay-feuer")
#: Public outputs show no rate from fewer cases than this, and no count below ``MIN_COUNT`` (but 0).
MIN_RATE_CASES = 16
MIN_COUNT = 11


@dataclass(frozen=True)
class AdjustedRates:
    """Age-adjusted rates of one or more groups, per ``per`` persons, with the sums the limits came from."""
    rate: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    y: np.ndarray        # Σ w_i d_i: the rate per person
    v: np.ndarray        # Σ w_i² d_i: its variance
    w_mean: np.ndarray   # mean of the w_i
    w2_mean: np.ndarray  # mean of the w_i²
    w_max: np.ndarray    # largest w_i
    per: float

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"rate": self.rate, "lo": self.lo, "hi": self.hi})


def crude_rate(count: ArrayLike, population: ArrayLike, *, per: float = 100_000, conf: float = 0.95) -> pd.DataFrame:
    """Crude rate ``count / population × per`` with exact Poisson (chi-square) limits; arrays in, frame out."""
    d = np.atleast_1d(np.asarray(count, dtype=float))
    n = np.atleast_1d(np.asarray(population, dtype=float))
    alpha = 1 - conf
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, d / n * per, np.nan)
        lo = np.where(d > 0, stats.chi2.ppf(alpha / 2, 2 * d) / 2, 0.0) / n * per
        hi = stats.chi2.ppf(1 - alpha / 2, 2 * (d + 1)) / 2 / n * per
    return pd.DataFrame({"rate": rate, "lo": np.where(n > 0, lo, np.nan), "hi": np.where(n > 0, hi, np.nan)})


def _weights(population: np.ndarray, counts: np.ndarray, standard: np.ndarray) -> np.ndarray:
    """w_i = std_i / (Σ std × pop_i); a stratum with cases but no population counts its cases as population
    (SEER*Stat's rule), and one with neither has no weight (its rate is 0)."""
    pop = np.where((population <= 0) & (counts > 0), counts, population)
    share = standard / standard.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pop > 0, share / pop, 0.0)


def adjusted_rates(counts: ArrayLike, population: ArrayLike, standard: ArrayLike, *, per: float = 100_000,
                   method: str = "tiwari", conf: float = 0.95, midp: bool = False) -> AdjustedRates:
    """Age-adjusted rates of the rows of ``counts`` and ``population`` (groups × age groups, aligned with
    ``standard``) with gamma limits: ``fay-feuer`` adds the largest weight to the upper limit's gamma,
    ``tiwari`` the mean weight (and mean squared weight to its variance), which SEER*Stat calls the Tiwari
    modification. ``midp`` gives the mid-p gamma interval of Fay & Kim (2017), defined for ``fay-feuer``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if midp and method != "fay-feuer":
        raise ValueError("the mid-p interval is defined for the Fay-Feuer method only")
    d = np.atleast_2d(np.asarray(counts, dtype=float))
    n = np.atleast_2d(np.asarray(population, dtype=float))
    std = np.asarray(standard, dtype=float)
    if d.shape != n.shape or d.shape[1] != std.shape[0]:
        raise ValueError(f"counts {d.shape}, population {n.shape} and standard ({std.shape[0]} age groups) "
                         "must have the same age groups")
    w = _weights(n, d, std)
    y = (w * d).sum(axis=1)
    v = (w * w * d).sum(axis=1)
    w_mean, w2_mean, w_max = w.mean(axis=1), (w * w).mean(axis=1), w.max(axis=1)
    if method == "tiwari":
        y_up, v_up = y + w_mean, v + w2_mean
    else:
        y_up, v_up = y + w_max, v + w_max ** 2
    alpha = (1 - conf) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        if midp:
            lo, hi = _midp(y, v, y_up, v_up, alpha)
        else:
            lo = np.where(y > 0, stats.gamma.ppf(alpha, y * y / v, scale=v / y), 0.0)
            hi = stats.gamma.ppf(1 - alpha, y_up * y_up / v_up, scale=v_up / y_up)
    empty = ~(n > 0).any(axis=1) & ~(d > 0).any(axis=1)
    nan = np.where(empty, np.nan, 1.0)
    return AdjustedRates(y * per * nan, lo * per * nan, hi * per * nan, y, v, w_mean, w2_mean, w_max, per)


def _midp(y: np.ndarray, v: np.ndarray, y_up: np.ndarray, v_up: np.ndarray, alpha: float
          ) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of the half-and-half mixture of the lower and upper gammas (Fay & Kim 2017)."""
    lows, highs = [], []
    for yi, vi, yu, vu in zip(y, v, y_up, v_up):
        upper = stats.gamma(yu * yu / vu, scale=vu / yu)
        lower = stats.gamma(yi * yi / vi, scale=vi / yi) if yi > 0 else None

        def mixture(x: float) -> float:
            return 0.5 * (lower.cdf(x) if lower is not None else 1.0) + 0.5 * upper.cdf(x)

        top = upper.ppf(1 - alpha / 4)
        lows.append(optimize.brentq(lambda x: mixture(x) - alpha, 0, top, xtol=1e-15)
                    if mixture(0) < alpha else 0.0)
        highs.append(optimize.brentq(lambda x: mixture(x) - (1 - alpha), 0, top, xtol=1e-15))
    return np.array(lows), np.array(highs)


def align(counts: pd.Series | pd.DataFrame, population: pd.Series | pd.DataFrame,
          standard: Standard) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Counts and population (columns: lowest age of each group) and the standard, collapsed to the coarsest
    grouping they share."""
    counts = counts.to_frame().T if isinstance(counts, pd.Series) else counts
    population = population.to_frame().T if isinstance(population, pd.Series) else population
    groups = common_groups(tuple(counts.columns), tuple(population.columns), tuple(standard.weights.index))

    def collapse(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.T.groupby(collapse_index(frame.columns, groups)).sum().T.reindex(columns=list(groups),
                                                                                       fill_value=0)
    weights = standard.weights.groupby(collapse_index(standard.weights.index, groups)).sum()
    return collapse(counts), collapse(population), weights


def age_adjusted_rate(counts: ArrayLike | pd.Series | pd.DataFrame, population: ArrayLike | pd.Series | pd.DataFrame,
                      standard: Standard, *, per: float = 100_000, method: str = "tiwari",
                      conf: float = 0.95, midp: bool = False) -> pd.DataFrame:
    """Age-adjusted rate with lower and upper limits (columns ``rate``, ``lo``, ``hi``, one row per group).

    ``counts`` and ``population`` are arrays over the standard's age groups (1-D for one group, 2-D for
    several), or pandas objects whose index (Series) or columns (DataFrame) are the lowest ages of their
    groups, which are then collapsed with the standard's to the groups they share."""
    if isinstance(counts, (pd.Series, pd.DataFrame)):
        d, n, weights = align(counts, population, standard)
        return adjusted_rates(d.to_numpy(), n.to_numpy(), weights.to_numpy(), per=per, method=method,
                              conf=conf, midp=midp).frame()
    return adjusted_rates(counts, population, standard.weights.to_numpy(), per=per, method=method, conf=conf,
                          midp=midp).frame()


def rate_ratio(numerator: AdjustedRates, denominator: AdjustedRates, *, method: str = "tiwari",
               conf: float = 0.95) -> pd.DataFrame:
    """Ratios of age-adjusted rates (row by row) with F limits (Fay 1999; with ``tiwari`` the mean weights
    of Tiwari et al. 2006 replace the largest ones). Columns ``ratio``, ``lo``, ``hi``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    a, b = numerator, denominator
    if method == "tiwari":
        a_up, a_vup = a.y + a.w_mean, a.v + a.w2_mean
        b_up, b_vup = b.y + b.w_mean, b.v + b.w2_mean
    else:
        a_up, a_vup = a.y + a.w_max, a.v + a.w_max ** 2
        b_up, b_vup = b.y + b.w_max, b.v + b.w_max ** 2
    alpha = (1 - conf) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = a.y / b.y
        lo = a.y / b_up * stats.f.ppf(alpha, 2 * a.y ** 2 / a.v, 2 * b_up ** 2 / b_vup)
        hi = a_up / b.y * stats.f.ppf(1 - alpha, 2 * a_up ** 2 / a_vup, 2 * b.y ** 2 / b.v)
    lo = np.where(a.y > 0, lo, 0.0)
    return pd.DataFrame({"ratio": ratio, "lo": lo, "hi": np.where(b.y > 0, hi, np.nan)})


def annual_percent_change(years: ArrayLike, rates: ArrayLike, se: ArrayLike | None = None, *,
                          conf: float = 0.95) -> dict[str, float]:
    """APC from the least-squares line through ln(rate) against calendar year, weighted by the inverse of
    each log rate's variance (se² / rate²) when standard errors ``se`` are given, as SEER*Stat does:
    APC = 100 (e^b − 1), limits from b ± t(n−2) SE(b). NaN where a rate is 0 or fewer than 3 years."""
    x = np.asarray(years, dtype=float)
    r = np.asarray(rates, dtype=float)
    nan = {"apc": np.nan, "lo": np.nan, "hi": np.nan, "p": np.nan, "years": len(x)}
    if len(x) < 3 or not np.all(r > 0) or not np.all(np.isfinite(r)):
        return nan
    weight = np.ones_like(r) if se is None else (r / np.asarray(se, dtype=float)) ** 2
    if not np.all(np.isfinite(weight)) or not np.all(weight > 0):
        return nan
    design = np.column_stack([np.ones_like(x), x])
    log_r = np.log(r)
    xtwx = design.T @ (design * weight[:, None])
    beta = np.linalg.solve(xtwx, design.T @ (weight * log_r))
    residual = log_r - design @ beta
    s2 = float((weight * residual ** 2).sum() / (len(x) - 2))
    se_b = float(np.sqrt(s2 * np.linalg.inv(xtwx)[1, 1]))
    t = stats.t.ppf(1 - (1 - conf) / 2, len(x) - 2)
    slope = float(beta[1])
    p = float(2 * stats.t.sf(abs(slope / se_b), len(x) - 2)) if se_b > 0 else 0.0
    return {"apc": 100 * np.expm1(slope), "lo": 100 * np.expm1(slope - t * se_b),
            "hi": 100 * np.expm1(slope + t * se_b), "p": p, "years": len(x)}


def suppress(table: pd.DataFrame, *, min_rate_cases: int = MIN_RATE_CASES, min_count: int = MIN_COUNT,
             rate_columns: tuple[str, ...] = ("crude_rate", "crude_lo", "crude_hi", "aa_rate", "aa_lo", "aa_hi"),
             ) -> pd.DataFrame:
    """A copy for public outputs: rates from fewer than ``min_rate_cases`` cases blanked, counts from 1 to
    ``min_count − 1`` blanked; column ``suppressed`` says which rule applied."""
    out = table.copy()
    count = out["count"].astype(float)
    few = count < min_rate_cases
    small = (count > 0) & (count < min_count)
    out[list(c for c in rate_columns if c in out)] = out[list(c for c in rate_columns if c in out)].mask(few)
    out["count"] = count.mask(small).round().astype("Int64")
    out["suppressed"] = np.where(small, f"count under {min_count}",
                                 np.where(few, f"rate from fewer than {min_rate_cases} cases", ""))
    return out
