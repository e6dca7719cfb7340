"""Build the annual report: numbers from queries.py, charts from charts.py, HTML from Jinja
templates, PDF from WeasyPrint (CSS paged media: running title, page numbers, repeated table heads).
"""
from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from registry.summary_stage import SOURCES as STAGE_SOURCES
from reports.annual_report import charts, queries
from reports.annual_report import definitions as d
from reports.definitions import survival_cutoff
from staging_tables.codes import term, terms

TEMPLATES = Path(__file__).with_name("templates")
TOP_CHART_SITES = 10
TREND_SITES = 5
MAJOR_SITES = 6
SURVIVAL_YEARS = (1, 3, 5)
#: No survival figure (table row or curve) from fewer patients: it would be unstable and could identify them.
SURVIVAL_MIN_PATIENTS = 5
Progress = Callable[[int, str], None]


class Numbers:
    """How counts and shares are written; a public report shows 1–10 as "<11" and hides shares
    that would reveal them."""

    def __init__(self, public: bool):
        self.public = public

    def small(self, n: int | None) -> bool:
        return self.public and n is not None and 0 < n < d.SUPPRESS_BELOW

    def count(self, n: int | None) -> str:
        if n is None:
            return "—"
        return f"<{d.SUPPRESS_BELOW}" if self.small(n) else f"{int(n):,}"

    def pct(self, n: int | None, total: int | None) -> str:
        if not total or n is None or self.small(n) or self.small(total):
            return "—"
        return f"{100 * n / total:.1f}"

    def rate(self, value: float | None, n: int | None = None) -> str:
        if value is None or (n is not None and self.small(n)):
            return "—"
        return f"{value:.1f}"


def _counts(frame: pd.DataFrame, by: str, order: list[str] | None = None) -> dict[str, int]:
    if frame.empty:
        return dict.fromkeys(order or [], 0)
    counts = frame.groupby(by).size().to_dict()
    return {key: int(counts.get(key, 0)) for key in order} if order else {k: int(v) for k, v in counts.items()}


def site_table(cases: pd.DataFrame) -> list[dict[str, Any]]:
    """New cases per site group: total, analytic, non-analytic, male, female, most frequent first."""
    rows = []
    if cases.empty:
        return rows
    for group, part in cases.groupby("site_group"):
        rows.append({"site": group, "total": len(part), "analytic": int(part["analytic"].sum()),
                     "non_analytic": int((~part["analytic"]).sum()), "male": int((part["sex"] == "1").sum()),
                     "female": int((part["sex"] == "2").sum()),
                     "other_sex": int((~part["sex"].isin(["1", "2"])).sum())})
    return sorted(rows, key=lambda r: (-r["total"], r["site"]))


def _ranked_sites(cases: pd.DataFrame, analytic_only: bool = True) -> list[str]:
    part = cases[cases["analytic"]] if analytic_only and not cases.empty else cases
    if part.empty:
        return []
    counts = part.groupby("site_group").size()
    return sorted(counts.index, key=lambda s: (-counts[s], s))


def class_table(cases: pd.DataFrame) -> list[dict[str, Any]]:
    counts = _counts(cases, "class_of_case")
    return [{"code": code, "term": term("class_of_case", code), "n": n,
             "analytic": code in d.ANALYTIC_CLASSES}
            for code, n in sorted(counts.items(), key=lambda kv: kv[0] or "")]


def age_table(cases: pd.DataFrame, sites: list[str]) -> list[dict[str, Any]]:
    labels = [label for label, _lo, _hi in d.AGE_GROUPS]
    rows = []
    for site in sites:
        part = cases[(cases["site_group"] == site) & cases["analytic"]]
        ages = part["age"].dropna()
        rows.append({"site": site, "n": len(part), "median": float(ages.median()) if len(ages) else None,
                     "groups": [int((part["age_group"] == label).sum()) for label in labels]})
    return rows


def stage_table(cases: pd.DataFrame, sites: list[str]) -> list[dict[str, Any]]:
    rows = []
    for site in sites:
        part = cases[(cases["site_group"] == site) & cases["analytic"]]
        counts = _counts(part, "stage", d.STAGE_ORDER)
        rows.append({"site": site, "n": len(part), "stages": [counts[s] for s in d.STAGE_ORDER]})
    return rows


def stage_sources(cases: pd.DataFrame) -> list[dict[str, Any]]:
    """The year's analytic cases by the item their stage came from (registry.summary_stage), so the report
    can say how much of it is coded and how much derived; the last row counts cases without a stage."""
    analytic = cases[cases["analytic"]] if not cases.empty else cases
    counts = Counter(analytic["summary_stage_scheme"]) if not analytic.empty else Counter()
    rows = [{"label": source.label, "scheme": source.scheme, "n": int(counts.get(source.scheme, 0))}
            for source in STAGE_SOURCES]
    missing = int(sum(n for scheme, n in counts.items() if scheme is None or pd.isna(scheme)))
    return rows + [{"label": "no Summary Stage coded or derived", "scheme": None, "n": missing}]


def ajcc_table(cases: pd.DataFrame, sites: list[str]) -> list[dict[str, Any]]:
    rows = []
    for site in sites:
        part = cases[(cases["site_group"] == site) & cases["analytic"]]
        coded = part[part["ajcc"].notna()]
        if len(coded):
            counts = _counts(coded, "ajcc", d.AJCC_ORDER)
            rows.append({"site": site, "n": len(part), "coded": len(coded),
                         "groups": [counts[g] for g in d.AJCC_ORDER]})
    return rows


def treatment_tables(cases: pd.DataFrame, sites: list[str]) -> list[dict[str, Any]]:
    """Per major site, rows by stage: how many received each first-course modality."""
    modalities = list(d.TREATMENT_GIVEN)
    tables = []
    for site in sites:
        part = cases[(cases["site_group"] == site) & cases["analytic"]]
        rows = []
        for stage in [*d.STAGE_ORDER, "All stages"]:
            group = part if stage == "All stages" else part[part["stage"] == stage]
            if group.empty:
                continue
            given = group[modalities]
            rows.append({"stage": stage, "n": len(group), "given": [int(given[m].sum()) for m in modalities],
                         "none": int((~given.any(axis=1)).sum())})
        tables.append({"site": site, "rows": rows})
    return tables


def county_table(cases: pd.DataFrame) -> list[dict[str, Any]]:
    if cases.empty:
        return []
    keys = [(s or "", c or "") for s, c in zip(cases["addr_at_dx_state"], cases["county_at_dx"])]
    counts = pd.Series(keys).value_counts()
    return [{"state": state or "unknown", "county": county or "unknown", "name": d.county_name(state, county),
             "n": int(n)}
            for (state, county), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _surv_at(curve: pd.DataFrame, years: float) -> float | None:
    """S(t) from a Kaplan–Meier table; None when everyone left follow-up alive before t."""
    if curve.empty:
        return None
    if curve["time"].max() < years:
        last = float(curve["surv"].iloc[-1])
        return 0.0 if last == 0 else None
    before = curve[curve["time"] <= years]
    return float(before["surv"].iloc[-1]) if len(before) else 1.0


def survival_minimum(numbers: Numbers) -> int:
    """Fewest patients a survival figure (table cell or curve) is shown for: 5, or the public edition's 11."""
    return max(SURVIVAL_MIN_PATIENTS, d.SUPPRESS_BELOW if numbers.public else 0)


def survival_section(scope: queries.Scope, sites: list[str], numbers: Numbers) -> dict[str, Any]:
    """1-, 3- and 5-year observed survival (and relative where a life table is installed) by stage."""
    from reports.survival import kaplan_meier
    first, last = scope.year - 9, scope.year - 5
    data = queries.survival_cases(scope, first, last)
    life_table, life_table_note = installed_life_table()
    minimum = survival_minimum(numbers)
    rows, panels = [], []
    for site in sites:
        part = data[data["site_group"] == site]
        curves = {}
        for stage in [*d.STAGE_ORDER, "All stages"]:
            group = part if stage == "All stages" else part[part["stage"] == stage]
            if group.empty:
                continue
            curve = kaplan_meier(group, time="time", event="dead")
            shown = len(group) >= minimum
            observed = [_surv_at(curve, y) if shown else None for y in SURVIVAL_YEARS]
            relative = relative_at(group, life_table) if shown and life_table is not None else [None] * 3
            rows.append({"site": site, "stage": stage, "n": len(group), "shown": shown, "observed": observed,
                         "relative": relative})
            if stage != "All stages" and shown and stage not in ("Not applicable",):
                curves[stage] = (curve["time"].tolist(), curve["surv"].tolist())
        if curves:
            panels.append((site, curves))
    return {"first": first, "last": last, "rows": rows, "cases": len(data), "minimum": minimum,
            "cutoff": survival_cutoff(scope.as_of),
            "chart": charts.survival_grid(panels[:MAJOR_SITES]) if panels else None,
            "life_table": getattr(life_table, "attrs", {}).get("name") if life_table is not None else None,
            "life_table_note": life_table_note}


def installed_life_table() -> tuple[pd.DataFrame | None, str]:
    """The newest installed ``life-table`` reference (reports.survival.lifetables), or None and why not."""
    try:
        from reports.survival.lifetables import NoLifeTable, load_life_table
    except ImportError:
        return None, "life-table support (reports.survival.lifetables) is not part of this installation"
    try:
        return load_life_table(), ""
    except NoLifeTable:
        return None, ("no life table is installed (install one with "
                      "'flask --app wsgi reference install life-table FILE')")


def relative_at(group: pd.DataFrame, life_table: pd.DataFrame) -> list[float | None]:
    from reports.survival import relative_survival
    data = group.dropna(subset=["age"]).copy()
    data["sex"] = pd.to_numeric(data["sex"], errors="coerce")
    data = data[data["sex"].isin([1, 2])]
    if data.empty:
        return [None] * len(SURVIVAL_YEARS)
    try:
        table = relative_survival(data, life_table, time="time", event="dead", age="age", sex="sex", year="year",
                                  breaks=list(range(0, max(SURVIVAL_YEARS) + 1)))
    except ValueError:
        return [None] * len(SURVIVAL_YEARS)
    values = dict(zip(table["end"], table["cr"]))
    return [float(values[y]) if y in values and pd.notna(values[y]) else None for y in SURVIVAL_YEARS]


def incidence_section(scope: queries.Scope, public: bool) -> dict[str, Any] | None:
    """Crude and age-adjusted rates of the year by site and sex, and the all-sites trend with its APC, over
    the installed population (None when none is installed). Rates from fewer than 16 cases are never shown;
    a public report also hides counts under 11."""
    from registry.db import db_session
    from reports.survival.cohorts import site_names
    from reports.rates.incidence import RatesRefused, RatesRequest, incidence_cases, rates_table, trends
    from reports.rates.methods import MIN_COUNT, MIN_RATE_CASES, suppress
    from reports.rates.populations import has_population, load_population
    if not has_population():
        return None
    population = load_population()
    covered = sorted(int(y) for y in population["year"].unique())
    section: dict[str, Any] = {"population": population.attrs["name"], "synthetic": population.attrs["synthetic"],
                               "facility_note": bool(scope.facility)}
    if scope.year not in covered:
        section["note"] = f"the population covers {covered[0]}-{covered[-1]}, not {scope.year}"
        return section
    first = max(scope.year - 9, covered[0])
    cases = incidence_cases(db_session(), first_year=first, last_year=scope.year)
    names = site_names()
    limits = {"min_rate_cases": MIN_RATE_CASES, "min_count": MIN_COUNT if public else 1}
    try:
        year = RatesRequest(first_year=scope.year, last_year=scope.year)
        by_site = rates_table(cases, population, RatesRequest(**{**year.__dict__, "by": ["site"]}), site_names=names)
        by_sex = rates_table(cases, population, RatesRequest(**{**year.__dict__, "by": ["sex"]}), site_names=names)
        total = rates_table(cases, population, year, site_names=names)
        yearly, apc = trends(cases, population, RatesRequest(first_year=first, last_year=scope.year),
                             site_names=names)
    except RatesRefused as exc:
        section["note"] = str(exc)
        return section
    sites = suppress(by_site.table, **limits).assign(_n=by_site.table["count"]).sort_values("_n", ascending=False)
    section.update(
        sites=[row for row in sites.to_dict(orient="records") if row["_n"] > 0],
        sexes=suppress(by_sex.table, **limits).to_dict(orient="records"),
        total=suppress(total.table, **limits).to_dict(orient="records")[0],
        trend=suppress(yearly, **limits).to_dict(orient="records"),
        apc=apc.to_dict(orient="records")[0] if len(apc) else None, notes=total.notes)
    return section


def collect(scope: queries.Scope, public: bool, progress: Progress) -> dict[str, Any]:
    """Every number and chart of the report, as a template context."""
    numbers = Numbers(public)
    progress(5, "reading the year's cases")
    cases = queries.year_cases(scope)
    analytic = cases[cases["analytic"]] if not cases.empty else cases
    sites = site_table(cases)
    ranked = _ranked_sites(cases)
    major = ranked[:MAJOR_SITES]
    chart_sites = [r for r in sites if not numbers.small(r["total"])][:TOP_CHART_SITES]

    progress(20, "ten-year trend")
    years = list(range(scope.year - 9, scope.year + 1))
    yearly = queries.yearly_counts(scope, years[0], years[-1])
    trend_sites = ranked[:TREND_SITES]
    trend_rows = [{"site": s, "counts": [int(yearly[(yearly["year"] == y) & (yearly["site_group"] == s)]["n"].sum())
                                         for y in years]} for s in trend_sites]
    trend_total = [int(yearly[yearly["year"] == y]["n"].sum()) for y in years]

    incidence = incidence_section(scope, public)

    progress(35, "age, stage and treatment")
    age_sites = ranked[:TOP_CHART_SITES]
    ages = age_table(cases, ranked)
    stages = stage_table(cases, ranked[:10])
    stage_rows = [r for r in stages if r["n"] and not numbers.small(r["n"])]
    progress(50, "survival")
    survival = survival_section(scope, major, numbers)
    progress(65, "follow-up and data quality")
    follow = queries.follow_up(scope)
    timely = queries.timeliness(cases)
    states = queries.workflow(cases)
    edits = queries.edit_results(scope)
    early = int(analytic["stage"].isin(["In situ", "Localized"]).sum()) if len(analytic) else 0
    known = int(analytic["stage"].isin(["In situ", "Localized", "Regional", "Distant"]).sum()) if len(analytic) else 0

    progress(75, "charts")
    context = {
        "scope": scope, "public": public, "n": numbers, "generated": dt.date.today(),
        "title": f"Cancer Registry Annual Report {scope.year}",
        "facility": scope.facility, "years": years,
        "totals": {"cases": len(cases), "analytic": len(analytic), "non_analytic": len(cases) - len(analytic),
                   "patients": int(cases["patient_id"].nunique()) if len(cases) else 0,
                   "male": int((cases["sex"] == "1").sum()) if len(cases) else 0,
                   "female": int((cases["sex"] == "2").sum()) if len(cases) else 0,
                   "early": early, "known_stage": known,
                   "median_age": float(analytic["age"].dropna().median()) if analytic["age"].notna().any() else None},
        "sites": sites, "ranked": ranked, "major": major, "classes": class_table(cases),
        "top_chart": charts.top_sites([r["site"] for r in chart_sites], [r["total"] for r in chart_sites])
        if chart_sites else None,
        "trend": {"rows": trend_rows, "total": trend_total,
                  "chart": charts.trend(years, {r["site"]: r["counts"] for r in trend_rows}) if trend_rows else None},
        "age_groups": [label for label, _lo, _hi in d.AGE_GROUPS], "ages": ages,
        "age_chart": _age_chart(cases, age_sites, numbers),
        "stage_order": d.STAGE_ORDER, "stages": stages, "stage_sources": stage_sources(cases),
        "stage_chart": charts.stacked_shares([r["site"] for r in stage_rows], d.STAGE_ORDER,
                                             [[100 * c / r["n"] for c in r["stages"]] for r in stage_rows],
                                             charts.STAGE_COLOURS) if stage_rows else None,
        "ajcc_order": d.AJCC_ORDER, "ajcc": ajcc_table(cases, ranked[:10]),
        "modalities": list(d.TREATMENT_GIVEN), "treatment": treatment_tables(cases, major),
        "survival": survival, "survival_years": SURVIVAL_YEARS, "incidence": incidence,
        "counties": county_table(cases),
        "follow_up": follow, "timeliness": timely, "workflow": states, "edits": edits,
        "definitions": d, "analytic_classes": sorted(d.ANALYTIC_CLASSES),
        "treatment_codes": {label: d.treatment_rule(label) for label in d.TREATMENT_GIVEN},
        "site_groups": d.site_groups(), "class_terms": terms("class_of_case"),
    }
    return context


def _age_chart(cases: pd.DataFrame, sites: list[str], numbers: Numbers) -> str | None:
    shown = []
    for site in sites:
        ages = cases[(cases["site_group"] == site) & cases["analytic"]]["age"].dropna()
        if len(ages) >= max(5, d.SUPPRESS_BELOW if numbers.public else 0):
            shown.append((site, ages.astype(float).tolist()))
    return charts.age_boxes([s for s, _a in shown], [a for _s, a in shown]) if shown else None


SECTIONS = [("summary", "The year at a glance"), ("sites", "New cases by primary site"),
            ("trend", "Ten-year trend"), ("incidence", "Incidence rates"), ("age", "Age at diagnosis"), ("stage", "Stage at diagnosis"),
            ("treatment", "First-course treatment"), ("survival", "Survival"),
            ("county", "County of residence"), ("quality", "Data quality"), ("methods", "Methods and definitions")]


def render_html(context: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["percent"] = lambda text: text if text == "—" else f"{text}%"
    sections = [(key, heading) for key, heading in SECTIONS if key != "incidence" or context.get("incidence")]
    return env.get_template("report.html").render(sections=sections, **context)


def build_report(year: int, output: str | Path, *, facility: str | None = None, public: bool = False,
                 as_of: dt.date | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Write the annual report for diagnosis ``year`` to ``output`` (PDF); returns headline figures."""
    from weasyprint import HTML
    report = progress or (lambda _percent, _message: None)
    started = time.perf_counter()
    scope = queries.Scope(year, facility or None, as_of or dt.date.today())
    context = collect(scope, public, report)
    report(85, "laying out the PDF")
    html = render_html(context)
    document = HTML(string=html, base_url=str(TEMPLATES)).render()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    document.write_pdf(output)
    report(100, f"{len(document.pages)} pages written to {output.name}")
    return {"year": year, "cases": context["totals"]["cases"], "analytic": context["totals"]["analytic"],
            "pages": len(document.pages), "seconds": time.perf_counter() - started, "path": str(output)}
