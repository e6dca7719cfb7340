"""Every survival method of the library on the Survival page, CLI and API: each figure the page prints is the
library's figure for the same cohort, computed here straight from the library."""
from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

from abstracts.tokens import create_token
from registry.db import db_session
from reports.survival.cohorts import Cohort, cohort_frame
from reports.survival.lifetables import load_life_table
from reports.survival import cox_model, kaplan_meier, life_table, logrank_test, relative_survival
from reports.survival.measures import MEASURES
from reports.survival.store import end_point_year

RELATIVE = {"relative-ederer1": "ederer1", "relative": "ederer2", "relative-hakulinen": "hakulinen",
            "net": "pohar_perme"}


def _frame() -> pd.DataFrame:
    return cohort_frame(db_session(), Cohort(), end_point_year=end_point_year())


def _km_at(frame: pd.DataFrame, event: str, years: float) -> float:
    km = kaplan_meier(frame.assign(_e=frame[event].astype(int)), time="time", event="_e")
    before = km[km["time"] <= years]
    return 1.0 if before.empty else float(before["surv"].iloc[-1])


def _library(measure: str, frame: pd.DataFrame, years: int, **options) -> float:
    """The library's figure at ``years`` for a measure, called directly."""
    if measure == "observed":
        return _km_at(frame, "dead", years)
    if measure == "cause-specific":
        return _km_at(frame[frame["cancer_death"].notna()], "cancer_death", years)
    if measure == "observed-actuarial":
        table = life_table(frame, time="time", event="dead", breaks=range(11))
        return float(table.set_index("end").loc[years, "cp"])
    data = frame[frame["sex"].isin(["1", "2"]) & frame["age"].notna()].assign(sex=lambda d: d["sex"].astype(int))
    data = data.assign(potfu=end_point_year() + 1 - data["year"])
    method = RELATIVE[measure]
    table = relative_survival(data, load_life_table(), time="time", event="dead", age="age", sex="sex", year="year",
                              breaks=options.get("breaks", range(11)), method=method,
                              potential_followup="potfu" if method in ("ederer1", "hakulinen") else None,
                              standard=options.get("standard"))
    return float(table.set_index("end").loc[years, "cr"])


def _page_figures(text: str) -> dict[str, list[float | None]]:
    """{group: [1, 3, 5, 10-year survival in % or None]} from the page's figures table."""
    body = text.split('class="survival-figures"', 1)[1].split("</table>", 1)[0]
    figures = {}
    for row in re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<td>(.*?)</td>", row[1], flags=re.S)
        values = []
        for cell in cells:
            found = re.match(r"\s*([0-9.]+)%", cell)
            values.append(float(found.group(1)) if found else None)
        figures[html.unescape(row[0])] = values
    return figures


@pytest.mark.parametrize("measure", list(MEASURES))
def test_page_offers_each_method_with_the_library_figures(client, login, demo, measure):
    login("researcher")
    page = client.get(f"/survival/?measure={measure}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f'value="{measure}"' in text
    assert MEASURES[measure].label in html.unescape(text)
    shown = _page_figures(text)["all"]
    frame = _frame()
    checked = 0
    for years, value in zip((1, 3, 5), shown):
        assert value is not None, (measure, years)
        assert value == round(100 * _library(measure, frame, years), 1), (measure, years)
        checked += 1
    assert checked == 3


def test_icss_standardised_relative_survival_is_the_library_figure(client, login, demo):
    login("admin")
    text = client.get("/survival/?measure=relative&standard=icss2").get_data(as_text=True)
    assert "International Cancer Survival Standard 2" in text
    shown = _page_figures(text)["all"]
    assert shown[0] == round(100 * _library("relative", _frame(), 1, standard="icss2"), 1)


def test_conditional_survival_follows_those_alive_after_the_condition(client, login, demo):
    login("researcher")
    text = client.get("/survival/?measure=observed&analysis=conditional&condition=1").get_data(as_text=True)
    frame = _frame()
    alive = frame[frame["time"] > 1].assign(time=lambda d: d["time"] - 1)
    assert f"the {len(alive)} tumors alive 1 years after diagnosis" in text
    assert _page_figures(text)["all"][0] == round(100 * _km_at(alive, "dead", 1), 1)


def test_period_analysis_uses_late_entry_in_the_window(client, login, demo):
    login("researcher")
    text = client.get("/survival/?measure=relative&analysis=period&window=2019-2023").get_data(as_text=True)
    frame = _frame()
    data = frame[frame["sex"].isin(["1", "2"]) & frame["age"].notna()].assign(sex=lambda d: d["sex"].astype(int))
    entry = (2019 - data["year"]).clip(lower=0)
    exit_ = 2024 - data["year"]
    data = data.assign(entry=entry, dead=data["dead"].where(data["time"] <= exit_, 0),
                       time=np.minimum(data["time"], exit_))
    data = data[(exit_ > entry) & (data["time"] > data["entry"])]
    table = relative_survival(data, load_life_table(), time="time", event="dead", age="age", sex="sex",
                              year="year", breaks=range(11), method="ederer2")
    assert "period analysis: follow-up lived in 2019-2023" in text
    assert _page_figures(text)["all"][0] == round(100 * float(table.set_index("end").loc[1, "cr"]), 1)


def test_monthly_intervals_keep_the_yearly_figures(client, login, demo):
    login("researcher")
    yearly = _page_figures(client.get("/survival/?measure=observed").get_data(as_text=True))
    text = client.get("/survival/?measure=observed&interval=3m").get_data(as_text=True)
    assert yearly == _page_figures(text) and "Interval (months)" in text and "<td>3–6</td>" in text


def test_log_rank_and_cox_tables_are_the_library_results(client, login, demo):
    login("researcher")
    text = html.unescape(client.get("/survival/?measure=observed&by=sex&strata=stage&cox=age&cox=sex")
                         .get_data(as_text=True))
    frame = _frame()
    shown = frame[frame["sex_label"].isin(["male", "female"])]
    test = logrank_test(shown, time="time", event="dead", group="sex_label", strata="stage")
    assert re.search(r'class="logrank-p">(.*?)<', text).group(1) == f"{test.attrs['p']:.4g}"
    design = pd.DataFrame({"time": frame["time"], "dead": frame["dead"], "age10": frame["age"] / 10,
                           "female": (frame["sex"] == "2").astype(float).where(frame["sex"].isin(["1", "2"]))})
    model = cox_model(design, time="time", event="dead", covariates=["age10", "female"]).set_index("covariate")
    hazards = dict(re.findall(r"<tr><td>(.*?)</td><td class=\"hr\">(.*?)</td>", text))
    assert hazards["age (per 10 years)"] == f"{model.loc['age10', 'hr']:.3f}"
    assert hazards["female vs male"] == f"{model.loc['female', 'hr']:.3f}"


def test_cli_and_api_give_the_page_figures(app, client, login, demo, tmp_path):
    from registry.auth.operations import create_user
    output = tmp_path / "hakulinen.csv"
    result = app.test_cli_runner().invoke(args=["survival", "table", "--measure", "relative-hakulinen",
                                                "--by", "sex", "--cox", "age", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "log-rank chi-square" in result.output and "Cox HR age (per 10 years)" in result.output
    cli = pd.read_csv(output, comment="#")
    user = create_user("api-researcher", "correct-horse-9", "researcher")
    _, token = create_token(user, "tests")
    api = client.get("/api/v1/survival?measure=relative-hakulinen&by=sex&cox=age",
                     headers={"Authorization": f"Bearer {token}"}).get_json()
    assert api["measure"] == "relative-hakulinen" and api["logrank"]["df"] == 1 and api["cox"][0]["hr"] > 0
    login("admin")
    page = _page_figures(client.get("/survival/?measure=relative-hakulinen&by=sex&cox=age").get_data(as_text=True))
    figures = pd.DataFrame(api["figures"])
    for group, values in page.items():
        one = figures[(figures["group"] == group) & (figures["years"] == 1)]["survival"].item()
        row = cli[(cli["group"] == group) & (cli["to_year"] == 1)]["survival"].item()
        assert values[0] == round(100 * one, 1) and row == pytest.approx(one, abs=5e-5)


def test_bad_method_options_are_refused_by_name(client, login, demo):
    login("researcher")
    for query, message in (("measure=observed&analysis=period&window=2019-2023", "analysis: period analysis"),
                           ("measure=relative&analysis=period", "window: period analysis needs"),
                           ("measure=observed&analysis=conditional", "condition: conditional survival needs"),
                           ("measure=observed&standard=icss1", "standard: ICSS"),
                           ("measure=observed&cox=shoe", "cox: shoe not among"),
                           ("measure=observed&interval=2w", "interval must be one of")):
        text = html.unescape(client.get(f"/survival/?{query}").get_data(as_text=True))
        assert message in text, query
