"""The Survival page, its downloads and the CLI: aggregates only, for researchers and
administrators, with the numbers of the library and refusals that say why."""
import io
import xml.etree.ElementTree as ElementTree

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import AuditEntry, Patient
from registry.reference import install
from registry.reference.cli import reference_store
from reports.survival.cohorts import Cohort, cohort_frame
from reports.survival.lifetables import KIND
from reports.survival.store import end_point_year

QUERY = "measure=observed&site=39&by=stage"


def km_at(frame: pd.DataFrame, t: float, event: str = "dead") -> float:
    """Kaplan–Meier at t written out, independent of lifelines."""
    surv = 1.0
    for time in np.sort(frame.loc[(frame[event] == 1) & (frame["time"] <= t), "time"].unique()):
        at_risk = (frame["time"] >= time).sum()
        deaths = ((frame["time"] == time) & (frame[event] == 1)).sum()
        surv *= 1 - deaths / at_risk
    return surv


@pytest.mark.parametrize("path", ["/survival/", f"/survival/chart.png?{QUERY}", f"/survival/table.csv?{QUERY}"])
def test_anonymous_users_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_registrars_are_not_allowed(client, login):
    login("registrar")
    assert client.get("/survival/").status_code == 403
    assert client.get(f"/survival/table.csv?{QUERY}").status_code == 403


def test_researcher_sees_aggregates_with_the_right_numbers(client, login, demo):
    login("researcher")
    page = client.get(f"/survival/?{QUERY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Observed survival (Kaplan–Meier)" in html and "Numbers at risk" in html
    assert 'href="/survival/"' in html                                   # nav link
    for patient in db_session.scalars(select(Patient)):                 # nothing identifying
        assert patient.name_last not in html and patient.medical_record_number not in html

    csv = client.get(f"/survival/table.csv?{QUERY}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    table = pd.read_csv(io.StringIO(csv.get_data(as_text=True)), comment="#")
    frame = cohort_frame(db_session(), Cohort(sites=["39"]), end_point_year=end_point_year())
    localized = frame[frame["stage"] == "localized"]
    row = table[(table["group"] == "localized") & (table["to_year"] == 1)].iloc[0]
    assert row["at_risk"] == len(localized)
    assert row["survival"] == pytest.approx(km_at(localized, 1.0), abs=5e-5)
    row5 = table[(table["group"] == "localized") & (table["to_year"] == 5)].iloc[0]
    assert row5["survival"] == pytest.approx(km_at(localized, 5.0), abs=5e-5)
    assert row5["at_risk"] == (localized["time"] > 4).sum()
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.action == "survival_export")) is not None

    png = client.get(f"/survival/chart.png?{QUERY}")
    assert png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n" and len(png.data) > 10000
    svg = client.get(f"/survival/chart.svg?{QUERY}&download=1")
    assert svg.mimetype == "image/svg+xml" and "attachment" in svg.headers["Content-Disposition"]
    assert ElementTree.fromstring(svg.data).tag.endswith("svg")


def test_admin_gets_relative_and_net_survival_naming_the_life_table(client, login, demo):
    login("admin")
    for measure in ("relative", "net", "cause-specific"):
        html = client.get(f"/survival/?measure={measure}&site=C50").get_data(as_text=True)
        assert "1, 3, 5 and 10 years" in html, html
    html = client.get("/survival/?measure=net&site=C50").get_data(as_text=True)
    assert "expected survival from the life table: US Social Security period life table, version 1900-2017, 2018-2095" in html


def test_relative_survival_refuses_a_table_that_does_not_cover(client, login, demo, tmp_path):
    short = tmp_path / "short.csv"
    rows = "".join(f"{s},{a},{y},0.99\n" for s in (1, 2) for a in range(111) for y in range(2000, 2011))
    short.write_text("# name: Short table\nsex,age,year,prob\n" + rows)
    install(KIND, short, actor=SYSTEM, store=reference_store())
    login("researcher")
    html = client.get("/survival/?measure=relative&site=39&lifetable=Short+table").get_data(as_text=True)
    assert "Relative survival cannot be computed: the life table (Short table, version 2000-2010) " \
           "does not cover age" in html
    assert "it has ages 0-110 and years 2000-2010" in html
    response = client.get("/survival/table.csv?measure=relative&site=39&lifetable=Short+table")
    assert response.status_code == 400 and b"does not cover" in response.data


def test_bad_choices_are_refused_naming_them(client, login, demo):
    login("researcher")
    html = client.get("/survival/?measure=observed&site=XX&stage=tiny").get_data(as_text=True)
    assert "XX: not a SEER site recode" in html and "tiny: stage must be one of" in html
    assert client.get("/survival/table.csv?measure=best").status_code == 400
    assert client.get("/survival/chart.gif?measure=observed").status_code == 404


def test_cli_writes_the_same_table_and_charts(app, demo, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "breast.csv"
    result = runner.invoke(args=["survival", "table", "--site", "39", "--measure", "relative", "--by", "stage",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "localized: 1y" in result.output and "US Social Security period life table" in result.output
    table = pd.read_csv(out, comment="#")
    assert set(table["measure"]) == {"relative"} and {"localized", "regional"} <= set(table["group"])
    for suffix, magic in (("png", b"\x89PNG"), ("svg", b"<?xml")):
        chart = tmp_path / f"all.{suffix}"
        result = runner.invoke(args=["survival", "chart", "--measure", "observed", "--by", "sex",
                                     "--output", str(chart)])
        assert result.exit_code == 0, result.output
        assert chart.read_bytes()[:5].startswith(magic)
    refused = runner.invoke(args=["survival", "chart", "--output", str(tmp_path / "x.gif")])
    assert refused.exit_code != 0 and "must end in .png or .svg" in refused.output
