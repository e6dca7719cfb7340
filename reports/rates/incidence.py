"""Incidence tables: the registry's cases over an installed population, as the Incidence page, the
``rates`` command, the API and the annual report show them.

One request (:class:`RatesRequest`, read from query arguments or options of the same names) gives one
:class:`RatesResult` everywhere, so page, CLI and API cannot disagree. Cases are the malignant tumors
(behavior 3) plus in situ bladder, as SEER counts incidence, of residents of the population's areas, by
year of diagnosis and age at diagnosis in the 19 SEER age groups.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.csv_safety import safe_frame
from registry.models import Patient, Tumor
from reports.rates.methods import METHODS, AdjustedRates, adjusted_rates, align, annual_percent_change, crude_rate
from reports.rates.methods import rate_ratio as _rate_ratio
from reports.rates.methods import suppress
from reports.rates.standards import AGE_GROUPS, UnknownStandard, age_label, standard, standards

#: What a table can be broken down by → the column holding it.
BY = ("site", "sex", "race", "county", "year")
SEX_LABELS = {"1": "male", "2": "female"}
#: SEER's race recode of NAACCR Race 1 [160]: white, black, American Indian/Alaska Native, Asian or Pacific
#: Islander; other and unknown codes are not in the population files.
RACE_RECODE = {"01": "1", "02": "2", "03": "3", **{code: "4" for code in (
    "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "20", "21", "22", "25", "26",
    "27", "28", "30", "31", "32", "96", "97")}}
RACE_LABELS = {"1": "White", "2": "Black", "3": "American Indian/Alaska Native", "4": "Asian or Pacific Islander"}
TABLE_COLUMNS = ["group", "count", "population", "crude_rate", "crude_lo", "crude_hi", "aa_rate", "aa_lo", "aa_hi"]


class RatesRefused(ValueError):
    """The rates cannot be computed as asked; the message names the field (``field``) and says why."""

    def __init__(self, message: str, field: str = "request"):
        super().__init__(message)
        self.field = field


def _refuse(problems: dict[str, str]) -> RatesRefused:
    return RatesRefused("; ".join(f"{name}: {text}" for name, text in problems.items()), field=next(iter(problems)))


@dataclass
class RatesRequest:
    """Which rates: diagnosis years, breakdown, standard population, area (county), sites, interval method."""
    first_year: int | None = None
    last_year: int | None = None
    by: list[str] = field(default_factory=list)
    standard: str = "us2000"
    area: str | None = None
    sites: list[str] = field(default_factory=list)
    method: str = "tiwari"
    population: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> RatesRequest:
        """From query arguments or CLI options: years (``2015-2024``), by (``site,sex``), standard, area,
        site (repeatable or comma-separated SEER site recodes), method, population."""
        def one(name: str) -> str:
            value = args.get(name)
            value = value[0] if isinstance(value, list) and value else value
            return str(value or "").strip()

        def many(name: str) -> list[str]:
            values = args.getlist(name) if hasattr(args, "getlist") else args.get(name) or []
            values = [values] if isinstance(values, str) else values
            return [part.strip() for value in values for part in str(value).split(",") if part.strip()]

        years = one("years")
        first = last = None
        if years:
            low, _, high = years.partition("-")
            if not (low.strip().isdigit() and len(low.strip()) == 4 and (not high or (high.strip().isdigit()
                                                                                      and len(high.strip()) == 4))):
                raise RatesRefused(f"years: {years!r} is not a year or a range like 2015-2024", "years")
            first, last = int(low), int(high or low)
        return cls(first_year=first, last_year=last, by=many("by"), standard=one("standard") or "us2000",
                   area=one("area") or None, sites=many("site"), method=one("method") or "tiwari",
                   population=one("population") or None)

    def problems(self) -> dict[str, str]:
        errors = {}
        if self.first_year and self.last_year and self.first_year > self.last_year:
            errors["years"] = f"first year {self.first_year} is after last year {self.last_year}"
        bad = [b for b in self.by if b not in BY]
        if bad:
            errors["by"] = f"{', '.join(bad)} is not among {', '.join(BY)}"
        if len(set(self.by)) != len(self.by):
            errors["by"] = "each breakdown may be named once"
        if self.standard not in standards():
            errors["standard"] = f"standard must be one of {', '.join(standards())}, not {self.standard!r}"
        if self.method not in METHODS:
            errors["method"] = f"method must be one of {', '.join(METHODS)}, not {self.method!r}"
        bad = [s for s in self.sites if not (s.isdigit() and len(s) <= 2)]
        if bad:
            errors["site"] = f"{', '.join(bad)}: a site is a SEER site recode, e.g. 39 (Breast)"
        return errors

    def describe(self) -> str:
        years = (f"{self.first_year}-{self.last_year}" if self.first_year != self.last_year else str(self.first_year)
                 ) if self.first_year else "all years"
        parts = [f"diagnosed {years}", "by " + ", ".join(self.by) if self.by else "all cases"]
        if self.area:
            parts.append(f"area {self.area}")
        if self.sites:
            parts.append("sites " + ", ".join(self.sites))
        return "; ".join(parts)


@dataclass
class RatesResult:
    request: RatesRequest
    table: pd.DataFrame           # by columns, TABLE_COLUMNS, aa_se
    adjusted: AdjustedRates       # row-aligned with table, for rate ratios
    notes: list[str]
    population_name: str
    synthetic: bool

    def public(self, *, min_rate_cases: int, min_count: int) -> pd.DataFrame:
        """The table as every output shows it: small counts and rates from few cases suppressed."""
        return suppress(self.table, min_rate_cases=min_rate_cases, min_count=min_count)

    def rate_ratios(self, reference: int = 0) -> pd.DataFrame:
        """Each group's age-adjusted rate over the reference row's, with limits by the request's method."""
        ref = _row(self.adjusted, np.full(len(self.table), reference))
        ratios = _rate_ratio(self.adjusted, ref, method=self.request.method)
        ratios.insert(0, "group", self.table["group"].to_numpy())
        ratios.insert(1, "reference", self.table["group"].iloc[reference])
        return ratios


def _row(rates: AdjustedRates, index: np.ndarray) -> AdjustedRates:
    return AdjustedRates(*(getattr(rates, name)[index] for name in
                           ("rate", "lo", "hi", "y", "v", "w_mean", "w2_mean", "w_max")), per=rates.per)


def _upper(values: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(values.fillna(""))
    return pd.Series(pd.Series(uniques, dtype=object).str.upper().to_numpy()[codes], index=values.index)


def race_recode(race1: pd.Series) -> pd.Series:
    return race1.map(RACE_RECODE).fillna("9")


def _ages(dx: pd.Series, birth: pd.Series) -> pd.Series:
    """Whole years between two NAACCR dates; an unknown month or day is taken as the middle of its range.
    Each distinct date is parsed once (registries repeat dates a lot)."""
    def parts(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        codes, uniques = pd.factorize(text.fillna(""))
        unique = pd.Series(uniques, dtype=object).astype(str).str.strip()
        year = pd.to_numeric(unique.str[:4], errors="coerce")
        month = pd.to_numeric(unique.str[4:6], errors="coerce")
        day = pd.to_numeric(unique.str[6:8], errors="coerce")
        day = day.where(day.notna(), np.where(month.notna(), 15, 1))
        month = month.fillna(7)
        return year.to_numpy()[codes], (month * 100 + day).to_numpy()[codes]
    dx_year, dx_md = parts(dx)
    birth_year, birth_md = parts(birth)
    return pd.Series(dx_year - birth_year - (dx_md < birth_md).astype(int), index=dx.index)


def incidence_cases(session: Session, *, first_year: int | None = None, last_year: int | None = None) -> pd.DataFrame:
    """One row per incident tumor: ``year``, ``site_recode``, ``sex``, ``race`` (SEER race recode, 9 other or
    unknown), ``state``, ``county``, ``age`` (lowest age of its SEER 19 group; NaN unknown)."""
    from reports.survival.cause_specific import site_recode
    t, p = Tumor, Patient
    stmt = (select(t.date_of_diagnosis, t.primary_site, t.histology, t.behavior, p.sex, p.race1, p.addr_at_dx_state,
                   p.county_at_dx, p.date_of_birth).join(p, p.id == t.patient_id)
            .where((t.behavior == "3") | ((t.behavior == "2") & t.primary_site.startswith("C67"))))
    if first_year:
        stmt = stmt.where(t.date_of_diagnosis >= f"{first_year:04d}")
    if last_year:
        stmt = stmt.where(t.date_of_diagnosis < f"{last_year + 1:04d}")
    rows = session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["dx", "primary_site", "histology", "behavior", "sex", "race1", "state",
                                        "county", "birth"])
    return cases_frame(frame, site_recode)


def cases_frame(raw: pd.DataFrame, recode: Callable[[str, str, str, int | None], str | None]) -> pd.DataFrame:
    """The tumor rows (``dx``, ``primary_site``, ``histology``, ``behavior``, ``sex``, ``race1``, ``state``,
    ``county``, ``birth``) as incidence cases; the site recode is looked up once per distinct combination."""
    if raw.empty:
        return pd.DataFrame({"year": pd.Series(dtype=float), "site_recode": pd.Series(dtype=object),
                             "sex": pd.Series(dtype=object), "race": pd.Series(dtype=object),
                             "state": pd.Series(dtype=object), "county": pd.Series(dtype=object),
                             "age": pd.Series(dtype=float)})
    dx_codes, dx_uniques = pd.factorize(raw["dx"].fillna("").astype(str))
    year = pd.Series(pd.to_numeric(pd.Series(dx_uniques, dtype=object).str[:4], errors="coerce").to_numpy()[dx_codes],
                     index=raw.index)
    keys = pd.DataFrame({"site": raw["primary_site"].fillna(""), "hist": raw["histology"].fillna(""),
                         "beh": raw["behavior"].fillna(""), "year": year.fillna(0).astype(int)})
    codes = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    uniques = keys.drop_duplicates().itertuples(index=False)
    recodes = np.array([recode(s, h, b, y or None) or "" for s, h, b, y in uniques], dtype=object)
    age = _ages(raw["dx"], raw["birth"])
    edges = np.asarray(AGE_GROUPS)
    age_group = pd.Series(np.where(age.notna() & (age >= 0),
                                   edges[np.searchsorted(edges, age.fillna(0).clip(lower=0), side="right") - 1],
                                   np.nan), index=raw.index)
    return pd.DataFrame({"year": year, "site_recode": recodes[codes],
                         "sex": raw["sex"].fillna(""), "race": race_recode(raw["race1"]),
                         "state": _upper(raw["state"]), "county": raw["county"].fillna(""),
                         "age": age_group})


def _labels(column: str, values: pd.Series, site_names: Mapping[str, str]) -> pd.Series:
    if column == "site":
        return values.map(lambda code: site_names.get(code, f"site recode {code}"))
    if column == "sex":
        return values.map(lambda code: SEX_LABELS.get(code, code))
    if column == "race":
        return values.map(lambda code: RACE_LABELS.get(code, code))
    return values.astype(str)


def rates_table(cases: pd.DataFrame, population: pd.DataFrame, request: RatesRequest, *,
                site_names: Mapping[str, str] | None = None) -> RatesResult:
    """Counts, crude and age-adjusted rates per group of ``request.by`` (pure pandas: cases from
    :func:`cases_frame`, population from :func:`reports.rates.populations.parse_population`)."""
    problems = request.problems()
    if problems:
        raise _refuse(problems)
    try:
        std = standard(request.standard)
    except UnknownStandard as exc:
        raise RatesRefused(f"standard: {exc}", "standard") from None
    site_names = site_names or {}
    notes: list[str] = []
    pop = population
    years = sorted(pop["year"].unique())
    first = request.first_year or int(years[0])
    last = request.last_year or int(years[-1])
    missing = [y for y in range(first, last + 1) if y not in set(years)]
    if missing:
        raise RatesRefused(f"years: the population '{population.attrs.get('name', '')}' has no figures for "
                           f"{', '.join(map(str, missing))} (it covers {years[0]}-{years[-1]})", "years")
    pop = pop[(pop["year"] >= first) & (pop["year"] <= last)]
    one_state = pop["state"].nunique() <= 1
    pop = pop.assign(area=pop["county"] if one_state else pop["state"] + pop["county"])
    data = cases[(cases["year"] >= first) & (cases["year"] <= last)]
    data = data.assign(year=data["year"].astype(int),
                       area=data["county"] if one_state else data["state"] + data["county"])
    state = pop["state"].iloc[0] if one_state and len(pop) else ""
    if state:  # a county code means something only within its state
        data = data[data["state"].isin([state, ""])]
    if request.area:
        area = request.area.upper()
        pop = pop[(pop["area"] == area) | (pop["state"] + pop["county"] == area)]
        if pop.empty:
            raise RatesRefused(f"area: {request.area!r} is not an area of the population (e.g. "
                               f"{', '.join(sorted(population['county'].unique())[:5])})", "area")
        data = data[data["area"].isin(pop["area"].unique())]
    outside = ~data["area"].isin(pop["area"].unique())
    if outside.any():
        notes.append(f"{int(outside.sum())} cases of residents outside the population's areas left out")
        data = data[~outside]
    if request.sites:
        data = data[data["site_recode"].isin(request.sites)]
    unknown_sex = ~data["sex"].isin(["1", "2"])
    if unknown_sex.any():
        notes.append(f"{int(unknown_sex.sum())} cases with sex other than male or female left out "
                     "(the population has no denominator for them)")
        data = data[~unknown_sex]
    if "race" in request.by:
        if (pop["race"] == "").all():
            raise RatesRefused("by: the population has no race groups; choose another breakdown", "by")
        other = data["race"] == "9"
        if other.any():
            notes.append(f"{int(other.sum())} cases of other or unknown race left out of the race breakdown")
            data = data[~other]
    no_age = data["age"].isna()
    if no_age.any():
        notes.append(f"{int(no_age.sum())} cases with unknown age at diagnosis left out of the rates")
        data = data[~no_age]
    column_of = {"site": "site_recode", "sex": "sex", "race": "race", "county": "area", "year": "year"}
    by = list(request.by)
    case_keys = [column_of[b] for b in by]
    pop_keys = [column_of[b] for b in by if b != "site"]
    pop_ages = sorted(int(a) for a in pop["age"].unique())
    if pop_keys:
        pop_wide = pop.groupby(pop_keys + ["age"])["population"].sum().unstack("age", fill_value=0)
    else:
        pop_wide = pop.groupby("age")["population"].sum().to_frame().T
    pop_wide = pop_wide.reindex(columns=pop_ages, fill_value=0)
    if pop_keys:
        keys = pop_wide.index.to_frame(index=False)
    else:
        keys = pd.DataFrame(index=[0])
    if "site" in by:
        sites = [s for s in (request.sites or sorted(data["site_recode"].unique())) if s]
        keys = pd.DataFrame({"site_recode": sites}).merge(keys, how="cross")
    keys = keys[case_keys] if by else keys
    if by:
        count_wide = data.groupby(case_keys + ["age"]).size().unstack("age", fill_value=0)
        count_wide = keys.merge(count_wide.reset_index(), on=case_keys, how="left")
        pop_rows = keys.merge(pop_wide.reset_index(), on=pop_keys, how="left") if pop_keys else \
            pd.DataFrame(np.repeat(pop_wide.to_numpy(), len(keys), axis=0), columns=pop_ages)
    else:
        count_wide = data.groupby("age").size().to_frame().T
        pop_rows = pop_wide.reset_index(drop=True)
    count_wide = count_wide.reindex(columns=list(AGE_GROUPS)).fillna(0)
    pop_rows = pop_rows.reindex(columns=pop_ages).fillna(0)
    index = keys
    count_wide.columns = [int(c) for c in count_wide.columns]
    pop_rows.columns = [int(c) for c in pop_rows.columns]
    d, n, weights = align(count_wide, pop_rows, std)
    if len(weights) < len(std.weights):
        shared = tuple(int(a) for a in weights.index)
        notes.append(f"the standard's {len(std.weights)} age groups joined to the {len(shared)} that the population "
                     f"and the counts share (the last is {age_label(shared[-1], shared)})")
    adjusted = adjusted_rates(d.to_numpy(dtype=float), n.to_numpy(dtype=float), weights.to_numpy(),
                              method=request.method)
    total_count = d.sum(axis=1).to_numpy(dtype=float)
    total_pop = n.sum(axis=1).to_numpy(dtype=float)
    crude = crude_rate(total_count, total_pop)
    table = pd.DataFrame(index=range(len(total_count)))
    labels = []
    for b in by:
        values = keys[column_of[b]].astype(str)
        table[b] = values.to_numpy()
        labels.append(_labels(b, values, site_names).to_numpy())
    table["group"] = [", ".join(parts) for parts in zip(*labels)] if labels else ["all"]
    table["count"] = total_count.astype(int)
    table["population"] = total_pop.round().astype(np.int64)
    table["crude_rate"], table["crude_lo"], table["crude_hi"] = (crude["rate"].to_numpy(), crude["lo"].to_numpy(),
                                                                 crude["hi"].to_numpy())
    table["aa_rate"], table["aa_lo"], table["aa_hi"] = adjusted.rate, adjusted.lo, adjusted.hi
    table["aa_se"] = np.sqrt(adjusted.v) * adjusted.per
    name = population.attrs.get("name", "population")
    synthetic = bool(population.attrs.get("synthetic"))
    described = RatesRequest(**{**request.__dict__, "first_year": first, "last_year": last}).describe()
    notes.insert(0, f"{described}; malignant tumors and in situ bladder of residents; rates per 100,000; "
                    f"age-adjusted to the {std.description}; "
                    f"{'Tiwari et al. 2006' if request.method == 'tiwari' else 'Fay-Feuer 1997'} gamma 95% limits, "
                    f"exact Poisson limits for crude rates")
    notes.append(f"population: {name}" + (" — SYNTHETIC, not real people" if synthetic else ""))
    return RatesResult(request, table, adjusted, notes, name, synthetic)


def trends(cases: pd.DataFrame, population: pd.DataFrame, request: RatesRequest, *,
           site_names: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Age-adjusted rates by year for each group of ``request.by`` (year left out of it), and each group's
    annual percent change with its limits (weighted by the rates' standard errors)."""
    by = [b for b in request.by if b != "year"]
    yearly = rates_table(cases, population, RatesRequest(**{**request.__dict__, "by": by + ["year"]}),
                         site_names=site_names).table
    yearly["series"] = yearly["group"].str.rsplit(", ", n=1).str[0] if by else "all"
    rows = []
    for series, part in yearly.groupby("series", sort=False):
        fit = annual_percent_change(part["year"].astype(int), part["aa_rate"], part["aa_se"])
        rows.append({"group": series, "first_year": int(part["year"].astype(int).min()),
                     "last_year": int(part["year"].astype(int).max()), "apc": fit["apc"], "apc_lo": fit["lo"],
                     "apc_hi": fit["hi"], "p": fit["p"]})
    return yearly, pd.DataFrame(rows)


def to_csv(result: RatesResult, public: pd.DataFrame) -> str:
    """The table as CSV, with ``#`` lines saying what it is (pandas: ``comment="#"``)."""
    out = io.StringIO()
    for note in result.notes:
        out.write(f"# {note}\n")
    columns = TABLE_COLUMNS + ["suppressed"]
    safe_frame(public[columns]).to_csv(out, index=False, float_format="%.4f", lineterminator="\n")
    return out.getvalue()


def run(args: Mapping[str, Any], session: Session) -> tuple[RatesResult, pd.DataFrame, pd.DataFrame]:
    """The table, the yearly age-adjusted rates and the trends for query arguments or CLI options (page, CLI,
    API and report alike). Raises RatesRefused with a message naming the field."""
    from reports.survival.cohorts import site_names
    from reports.rates.populations import NoPopulation, load_population
    request = RatesRequest.from_args(args)
    problems = request.problems()
    if problems:
        raise _refuse(problems)
    try:
        population = load_population(request.population)
    except NoPopulation as exc:
        raise RatesRefused(f"population: {exc}", "population") from None
    cases = incidence_cases(session, first_year=request.first_year, last_year=request.last_year)
    names = site_names()
    result = rates_table(cases, population, request, site_names=names)
    yearly, apc = trends(cases, population, request, site_names=names)
    return result, yearly, apc


def chart(yearly: pd.DataFrame, apc: pd.DataFrame, title: str, fmt: str = "png") -> bytes:
    """Age-adjusted rates by year, one line per group, with the APC in the legend."""
    if fmt not in ("png", "svg"):
        raise RatesRefused(f"chart format must be png or svg, not {fmt!r}", "format")
    from matplotlib.figure import Figure  # no pyplot: no global state, safe in web threads
    figure = Figure(figsize=(8, 5), dpi=100)
    axes = figure.subplots()
    fits = apc.set_index("group")["apc"].to_dict() if len(apc) else {}
    for series, part in list(yearly.groupby("series", sort=False))[:12]:
        fit = fits.get(series)
        label = series + (f" (APC {fit:+.1f}%)" if fit is not None and fit == fit else "")
        axes.plot(part["year"].astype(int), part["aa_rate"], marker="o", label=label)
    axes.set(xlabel="year of diagnosis", ylabel="age-adjusted rate per 100,000")
    axes.grid(alpha=0.3)
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=7, loc="best")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else {})
    return buffer.getvalue()
