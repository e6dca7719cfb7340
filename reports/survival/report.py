"""Survival of a cohort as the page, the CLI and the annual report show it: annual tables,
1/3/5/10-year figures, curves as PNG/SVG and the table as CSV.

Four measures: observed survival (Kaplan–Meier, log(−log) 95% limits), cause-specific
survival (Kaplan–Meier with only deaths SEER attributes to the cancer as events; deaths of
unknown cause left out), relative survival (Ederer II) and net survival (Pohar-Perme), both
against the installed life table, which every result names. Everything here is an
aggregate; a group with fewer than ``MIN_TUMORS`` tumors is not shown at all.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from registry.csv_safety import safe_frame
from registry.summary_stage import SCHEMES
from registry.summary_stage import SOURCES as STAGE_SOURCES
from reports.survival.cohorts import COMPARE_BY, STAGE_ORDER
from reports.definitions import survival_definitions
from reports.survival.measures import ANALYSES, COX_COVARIATES, INTERVALS, MEASURES, Measure, SurvivalRefused

YEARS = (1, 3, 5, 10)
MAX_YEARS = 10
MIN_TUMORS = 10

#: Why a figure or its 95% limits cannot be computed, as the page, the CSV, the CLI and the API say it
#: (no NaN reaches a user).
LIMIT_REASONS = {
    "no_follow_up": "not estimable: no tumor followed this long",
    "no_deaths": "not computable: no deaths yet (observed survival 100%)",
    "at_or_above_one": "not computable: survival at 100% or more",
    "at_zero": "not computable: survival at 0%",
    "no_variance": "not computable: the variance cannot be estimated (too few tumors at risk or deaths)",
}


def limit_reason(survival: float, lo: float, hi: float, deaths_so_far: int) -> str:
    """The key of LIMIT_REASONS that explains missing limits (or survival), or "" when all are numbers."""
    if survival != survival:
        return "no_follow_up"
    if lo == lo and hi == hi:
        return ""
    if deaths_so_far == 0:
        return "no_deaths"
    if survival >= 1:
        return "at_or_above_one"
    if survival <= 0:
        return "at_zero"
    return "no_variance"


def _with_limit_notes(table: pd.DataFrame) -> pd.DataFrame:
    deaths = table.groupby("group", sort=False)["events"].cumsum()
    notes = [LIMIT_REASONS.get(limit_reason(s, lo, hi, int(n)), "")
             for s, lo, hi, n in zip(table["survival"], table["lo"], table["hi"], deaths)]
    return table.assign(limits_note=notes)


def hazard_interval(lo: float, hi: float, digits: int = 3) -> str:
    """A hazard ratio's 95% limits as "(lo to hi)" (a dash would read as a minus sign), or why not."""
    if lo != lo or hi != hi:
        return "(not computable: the model gives no limits)"
    return f"({lo:.{digits}f} to {hi:.{digits}f})"


@dataclass
class SurvivalResult:
    measure: Measure
    cohort: str
    by: str | None
    table: pd.DataFrame                  # group, start, end, at_risk, events, censored, survival, lo, hi,
    #                                      limits_note (LIMIT_REASONS text where survival or a limit is missing)
    curves: pd.DataFrame                 # group, time, survival, lo, hi (points to draw)
    notes: list[str] = field(default_factory=list)
    lifetable: str | None = None
    interval: str = "1y"
    comparison: dict | None = None       # log-rank test between the groups: chisq, df, p, strata
    cox: pd.DataFrame | None = None      # covariate, hr, hr_lo, hr_hi, p
    definitions: dict[str, str] = field(default_factory=dict)  # reports.definitions sentences it rests on

    @property
    def unit(self) -> str:
        return "years" if self.interval == "1y" else "months"

    def in_unit(self, years: float) -> str:
        """An interval bound as the table shows it (years, or whole months for shorter intervals)."""
        return f"{years:g}" if self.unit == "years" else f"{round(years * 12):d}"

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(self.table["group"]))

    def figures(self) -> pd.DataFrame:
        """Survival at 1, 3, 5 and 10 years per group (NaN where follow-up is too short), with
        ``limits_note`` saying why a figure or its limits is missing."""
        rows = []
        for group in self.groups:
            part = self.table[self.table["group"] == group].set_index("end")
            for years in YEARS:
                row = part.loc[years] if years in part.index else None
                rows.append({"group": group, "years": years,
                             "survival": np.nan if row is None else row["survival"],
                             "lo": np.nan if row is None else row["lo"],
                             "hi": np.nan if row is None else row["hi"],
                             "limits_note": LIMIT_REASONS["no_follow_up"] if row is None else row["limits_note"]})
        return pd.DataFrame(rows)

    def at_risk(self) -> pd.DataFrame:
        """Numbers at risk at the start of each year, one column per year, one row per group."""
        wide = self.table.pivot(index="group", columns="start", values="at_risk")
        wide = wide.reindex(self.groups)
        wide = wide[[c for c in wide.columns if float(c).is_integer()]]
        wide.columns = [int(c) for c in wide.columns]
        return wide.fillna(0).astype(int)


def _group_order(values: pd.Series) -> list[str]:
    present = list(dict.fromkeys(values.dropna()))
    known = [v for v in STAGE_ORDER if v in present]
    return known + sorted(v for v in present if v not in known)


def compute(frame: pd.DataFrame, measure: str, *, by: str | None = None,
            lifetable: pd.DataFrame | None = None, standard: str | None = None, analysis: str = "cohort",
            window: tuple[int, int] | None = None, condition: float = 0.0, interval: str = "1y",
            strata: str | None = None, cox: list[str] | None = None) -> SurvivalResult:
    """Survival of ``frame`` (from :func:`reports.survival.cohorts.cohort_frame`) by ``by`` (one of ``COMPARE_BY``), in
    intervals of ``interval`` (``INTERVALS``). Relative and net survival need ``lifetable``; they refuse,
    naming the table, when it does not cover the ages and years needed; ``standard`` (icss1-3) age-standardises
    them. ``analysis`` is cohort, period (follow-up within the calendar years ``window``, by late entry) or
    conditional (those alive ``condition`` years after diagnosis). With ``by``, a log-rank test of the groups
    (stratified by ``strata``); ``cox`` fits a Cox model of all-cause (or cancer) death on those covariates."""
    if measure not in MEASURES:
        raise SurvivalRefused(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    spec = MEASURES[measure]
    if by is not None and by not in COMPARE_BY:
        raise SurvivalRefused(f"compare by must be one of {', '.join(COMPARE_BY)}, not {by!r}")
    if analysis not in ANALYSES:
        raise SurvivalRefused(f"analysis must be one of {', '.join(ANALYSES)}, not {analysis!r}")
    if interval not in INTERVALS:
        raise SurvivalRefused(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
    if standard and not spec.method:
        raise SurvivalRefused("standard: ICSS age-standardisation is offered for relative and net survival")
    if analysis == "period" and not spec.method:
        raise SurvivalRefused("analysis: period analysis is offered for relative and net survival (late entry)")
    if analysis == "period" and not window:
        raise SurvivalRefused("window: period analysis needs the calendar years of follow-up, e.g. 2020-2024")
    if strata is not None and strata not in COMPARE_BY:
        raise SurvivalRefused(f"strata must be one of {', '.join(COMPARE_BY)}, not {strata!r}")
    bad = [c for c in cox or [] if c not in COX_COVARIATES]
    if bad:
        raise SurvivalRefused(f"cox: {', '.join(bad)} not among {', '.join(COX_COVARIATES)}")
    notes = [f"{frame.attrs.get('cohort', 'cohort')}; follow-up to 31 December "
             f"{frame.attrs.get('end_point_year', '')} (active follow-up)"]
    definitions = survival_definitions(frame.attrs["end_point_year"]) if frame.attrs.get("end_point_year") else {}
    excluded = frame.attrs.get("excluded") or {}
    if excluded:
        notes.append("not analysed: " + ", ".join(f"{n} {why}" for why, n in excluded.items()))
    data = frame
    if spec.event == "cancer_death":
        unknown = int(data["cancer_death"].isna().sum())
        data = data[data["cancer_death"].notna()]
        if unknown:
            notes.append(f"{unknown} deaths of unknown cause left out (SEER cause-specific classification)")
    if spec.method:
        if lifetable is None:
            raise SurvivalRefused("relative and net survival need a life table; none is installed "
                                  "(flask --app wsgi reference install life-table FILE.csv)")
        usable = data["sex"].isin(["1", "2"]) & data["age"].notna()
        if (~usable).any():
            notes.append(f"{int((~usable).sum())} tumors without sex 1/2 or age left out (no expected survival)")
        data = data[usable].assign(sex=lambda d: d["sex"].astype(int))
    end_point = frame.attrs.get("end_point_year") or int(np.floor(data["year"].max() if len(data) else 0))
    data = data.assign(potfu=end_point + 1 - data["year"])
    if analysis == "conditional":
        data = data[data["time"] > condition].assign(time=lambda d: d["time"] - condition,
                                                   year=lambda d: d["year"] + condition,
                                                   age=lambda d: d["age"] + condition,
                                                   potfu=lambda d: d["potfu"] - condition)
        notes.append(f"conditional survival: the {len(data)} tumors alive {condition:g} years after diagnosis, "
                     f"followed from then on")
    elif analysis == "period":
        first, last = window
        data = data.assign(entry=(first - data["year"]).clip(lower=0), exit=last + 1 - data["year"])
        data = data[data["exit"] > data["entry"]]
        data = data.assign(dead=data["dead"].where(data["time"] <= data["exit"], 0),
                           time=data[["time", "exit"]].min(axis=1), potfu=data["exit"])
        data = data[data["time"] > data["entry"]]
        notes.append(f"period analysis: follow-up lived in {first}-{last} (late entry), {len(data)} tumors")
    else:
        notes.append("cohort analysis: every tumor followed from diagnosis")
    if by == "stage" or frame.attrs.get("stage_chosen"):
        notes.append(stage_sources_note(data))
    column = COMPARE_BY.get(by) if by else None
    groups = _group_order(data[column]) if column else ["all"]
    edges = np.round(np.arange(0, MAX_YEARS + 1e-9, INTERVALS[interval]), 10)
    tables, curves = [], []
    for group in groups:
        part = data[data[column] == group] if column else data
        if len(part) < MIN_TUMORS:
            notes.append(f"{group}: fewer than {MIN_TUMORS} tumors, not shown")
            continue
        if spec.method:
            table, curve = _relative(part, lifetable, spec.method, edges, standard)
        elif spec.actuarial:
            table, curve = _actuarial(part, spec.event, edges)
        else:
            table, curve = _kaplan_meier(part, spec.event, edges)
        tables.append(table.assign(group=str(group)))
        curves.append(curve.assign(group=str(group)))
    if not tables:
        raise SurvivalRefused(f"the cohort has no group with at least {MIN_TUMORS} tumors to analyse")
    table = pd.concat(tables, ignore_index=True)
    table = table[["group", "start", "end", "at_risk", "events", "censored", "survival", "lo", "hi"]]
    if interval == "1y":
        table = table.astype({"start": int, "end": int})
    table = _with_limit_notes(table)
    name = lifetable.attrs.get("name", "unnamed life table") if spec.method else None
    if name:
        notes.append(f"expected survival from the life table: {name}")
    if standard:
        notes.append(f"age-standardised with the International Cancer Survival Standard {standard[-1]} weights")
    notes.append("95% confidence limits on the log(−log) scale"
                 + ("" if spec.method else " (Greenwood)"))
    shown = data[data[column].astype(str).isin(set(table["group"]))] if column else data
    comparison = _logrank(shown, spec, column, strata, analysis, notes) if column else None
    hazards = _cox(data, spec, cox, notes) if cox else None
    return SurvivalResult(spec, frame.attrs.get("cohort", ""), by, table,
                          pd.concat(curves, ignore_index=True), notes, name, interval, comparison, hazards,
                          definitions)


def _logrank(data: pd.DataFrame, spec: Measure, column: str, strata: str | None, analysis: str,
             notes: list[str]) -> dict | None:
    """Log-rank test of equal observed (or cause-specific) survival across the groups shown."""
    from reports.survival import logrank_test
    if analysis == "period" or data[column].nunique() < 2:
        return None
    strata_column = COMPARE_BY[strata] if strata else None
    test = logrank_test(data.assign(_event=data[spec.event].astype(int)), time="time", event="_event",
                        group=column, strata=strata_column)
    event = "cancer deaths" if spec.event == "cancer_death" else "deaths from any cause"
    notes.append(f"log-rank test of {event}" + (f", stratified by {strata}" if strata else ""))
    return {"chisq": float(test.attrs["chisq"]), "df": int(test.attrs["df"]), "p": float(test.attrs["p"]),
            "strata": strata, "groups": test}


def _cox(data: pd.DataFrame, spec: Measure, covariates: list[str], notes: list[str]) -> pd.DataFrame:
    """Hazard ratios of a Cox model (Efron ties): age per 10 years, female vs male, each stage vs localized,
    each site vs the commonest."""
    from reports.survival import cox_model
    design = pd.DataFrame({"time": data["time"], "_event": data[spec.event].astype(int)})
    names: list[str] = []
    if "age" in covariates:
        design["age (per 10 years)"] = data["age"] / 10
        names.append("age (per 10 years)")
    if "sex" in covariates:
        known = data["sex"].astype(str).isin(["1", "2"])
        design["female vs male"] = (data["sex"].astype(str) == "2").astype(float).where(known)
        names.append("female vs male")
    for covariate, column, reference in (("stage", "stage", "localized"), ("site", "site_name", None)):
        if covariate not in covariates:
            continue
        counts = data[column].value_counts()
        reference = reference if reference in counts.index else counts.index[0]
        for level in counts.index:
            if level != reference and counts[level] >= MIN_TUMORS:
                name = f"{covariate} {level} vs {reference}"
                design[name] = (data[column] == level).astype(float)
                names.append(name)
    if not names:
        raise SurvivalRefused("cox: no covariate with enough tumors to fit")
    try:
        model = cox_model(design, time="time", event="_event", covariates=names)
    except Exception as exc:  # lifelines raises several kinds for a model it cannot fit
        raise SurvivalRefused(f"cox: the model cannot be fitted ({type(exc).__name__}: {exc})") from None
    notes.append(f"Cox model of {'cancer deaths' if spec.event == 'cancer_death' else 'deaths from any cause'} "
                 f"(Efron ties): {model.attrs['n']} tumors, {model.attrs['events']} events")
    return model[["covariate", "hr", "hr_lo", "hr_hi", "p"]]


def _kaplan_meier(part: pd.DataFrame, event: str, edges: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    from reports.survival import kaplan_meier  # lifelines loads slowly; only when a figure is asked for
    km = kaplan_meier(part.assign(_event=part[event].astype(int)), time="time", event="_event")
    times = km["time"].to_numpy()
    rows = []
    time = part["time"].to_numpy()
    events = part[event].to_numpy().astype(int)
    for start, end in zip(edges[:-1], edges[1:]):
        start, end = float(start), float(end)
        at_risk = int((time > start).sum()) if start else len(time)
        if at_risk == 0:
            break
        inside = (time > start) & (time <= end) if start else (time <= end)
        i = np.searchsorted(times, end, side="right") - 1
        surv, lo, hi = (1.0, np.nan, np.nan) if i < 0 else km.iloc[i][["surv", "lo", "hi"]]
        complete = bool((time >= end).any())
        rows.append({"start": start, "end": end, "at_risk": at_risk, "events": int(events[inside].sum()),
                     "censored": int((inside & (events == 0)).sum()),
                     "survival": surv if complete else np.nan, "lo": lo if complete else np.nan,
                     "hi": hi if complete else np.nan})
    shown = km[km["time"] <= MAX_YEARS]
    curve = pd.concat([pd.DataFrame({"time": [0.0], "survival": [1.0], "lo": [1.0], "hi": [1.0]}),
                       shown.rename(columns={"surv": "survival"})[["time", "survival", "lo", "hi"]]],
                      ignore_index=True)
    return pd.DataFrame(rows), curve


def _actuarial(part: pd.DataFrame, event: str, edges: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    from reports.survival import life_table
    result = life_table(part.assign(_event=part[event].astype(int)), time="time", event="_event", breaks=edges)
    table = pd.DataFrame({"start": result["start"].astype(float), "end": result["end"].astype(float),
                          "at_risk": result["n"].astype(int), "events": result["d"].astype(int),
                          "censored": result["w"].astype(int), "survival": result["cp"],
                          "lo": result["lo"], "hi": result["hi"]})
    curve = pd.concat([pd.DataFrame({"time": [0.0], "survival": [1.0], "lo": [1.0], "hi": [1.0]}),
                       table.rename(columns={"end": "time"})[["time", "survival", "lo", "hi"]]],
                      ignore_index=True)
    return table, curve


def _relative(part: pd.DataFrame, lifetable: pd.DataFrame, method: str, edges: np.ndarray,
              standard: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    from reports.survival.relative import relative_survival
    try:
        result = relative_survival(part, lifetable, time="time", event="dead", age="age", sex="sex",
                                   year="year", breaks=edges, method=method, standard=standard,
                                   potential_followup="potfu" if method in ("ederer1", "hakulinen") else None)
    except ValueError as exc:
        raise SurvivalRefused(f"{'Net' if method == 'pohar_perme' else 'Relative'} survival cannot be "
                              f"computed: {exc}") from None
    table = pd.DataFrame({"start": result["start"].astype(float), "end": result["end"].astype(float),
                          "at_risk": result["n"].astype(int), "events": result["d"].astype(int),
                          "censored": result["w"].astype(int), "survival": result["cr"],
                          "lo": result["lo"], "hi": result["hi"]})
    curve = pd.concat([pd.DataFrame({"time": [0.0], "survival": [1.0], "lo": [1.0], "hi": [1.0]}),
                       table.rename(columns={"end": "time"})[["time", "survival", "lo", "hi"]]],
                      ignore_index=True)
    return table, curve


def stage_sources_note(frame: pd.DataFrame) -> str:
    """Which item the analysed tumors' stage came from (registry.summary_stage), so a reader knows how much
    of a stage comparison rests on derived stage."""
    counts = frame["stage_scheme"].value_counts(dropna=False).to_dict() if len(frame) else {}
    parts = [f"{source.label} {int(counts.get(source.scheme, 0))}" for source in STAGE_SOURCES]
    missing = sum(int(n) for scheme, n in counts.items() if scheme not in SCHEMES)
    return "stage from " + ", ".join(parts) + f", none coded {missing}"


def to_csv(result: SurvivalResult) -> str:
    """The annual table as CSV; leading ``#`` lines say what it is (pandas: ``comment="#"``)."""
    out = io.StringIO()
    out.write(f"# {result.measure.label}\n")
    for sentence in result.definitions.values():
        out.write(f"# {sentence}\n")
    for note in result.notes:
        out.write(f"# {note}\n")
    if result.comparison:
        out.write(f"# log-rank: chi-square {result.comparison['chisq']:.4f}, df {result.comparison['df']}, "
                  f"p {result.comparison['p']:.6g}\n")
    if result.cox is not None:
        for row in result.cox.itertuples():
            out.write(f"# Cox hazard ratio {row.covariate}: {row.hr:.4f} "
                      f"{hazard_interval(row.hr_lo, row.hr_hi, 4)}, p {row.p:.6g}\n")
    table = result.table.rename(columns={"start": "from_year", "end": "to_year", "lo": "lower_95",
                                         "hi": "upper_95"})
    table.insert(0, "measure", result.measure.key)
    safe_frame(table).to_csv(out, index=False, float_format="%.4f", na_rep="", lineterminator="\n")
    return out.getvalue()


def chart(result: SurvivalResult, fmt: str = "png") -> bytes:
    """The curves with 95% bands; relative and net survival are drawn through the yearly values."""
    if fmt not in ("png", "svg"):
        raise SurvivalRefused(f"chart format must be png or svg, not {fmt!r}")
    from matplotlib.figure import Figure  # no pyplot: no global state, safe in web threads
    figure = Figure(figsize=(8, 5), dpi=100)
    axes = figure.subplots()
    for group in result.groups:
        curve = result.curves[result.curves["group"] == group]
        label = group if result.by else result.measure.key
        if result.measure.method:
            lines = axes.plot(curve["time"], curve["survival"], marker="o", label=label)
            axes.fill_between(curve["time"], curve["lo"], curve["hi"], alpha=0.15, color=lines[0].get_color())
        else:
            lines = axes.step(curve["time"], curve["survival"], where="post", label=label)
            axes.fill_between(curve["time"], curve["lo"], curve["hi"], step="post", alpha=0.15,
                              color=lines[0].get_color())
    axes.set(xlim=(0, MAX_YEARS), ylim=(0, 1.02), xlabel="years since diagnosis",
             ylabel=result.measure.label.split(" (")[0].lower(), xticks=range(MAX_YEARS + 1))
    axes.grid(alpha=0.3)
    axes.set_title(result.measure.label, fontsize=11)
    figure.text(0.01, 0.01, result.cohort + (f" · life table: {result.lifetable}" if result.lifetable else ""),
                fontsize=7, color="#555")
    axes.legend(title=result.by, fontsize=8, loc="lower left")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
