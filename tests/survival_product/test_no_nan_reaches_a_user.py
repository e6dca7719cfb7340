"""Issue 20.4: no NaN reaches a user. Where survival or a 95% limit cannot be computed (relative survival
of a group with no deaths yet, follow-up too short), the Survival page, its CSV, the API and the command
line say why instead; Cox hazard ratio limits read "(lo to hi)"."""
import html
import io
import json
import re

import pandas as pd

from registry.auth.operations import create_user
from abstracts.tokens import create_token
from reports.survival.store import end_point_year
from reports.survival.views import run

QUERY = "measure=relative&site=C50&by=age"
NAN = re.compile(r"\bnan\b", re.I)


def _missing_limits(args: dict) -> pd.DataFrame:
    result = run(args, end_point_year())
    table = result.table
    return table[table["survival"].notna() & (table["lo"].isna() | table["hi"].isna())]


def test_relative_survival_by_age_says_why_a_limit_is_missing(app, client, login, demo, tmp_path):
    missing = _missing_limits({"measure": "relative", "site": ["C50"], "by": "age"})
    assert len(missing), "the demo cohort should have an age group with no deaths yet"

    login("admin")
    page = html.unescape(client.get(f"/survival/?{QUERY}").get_data(as_text=True))
    assert not NAN.search(page), NAN.search(page)
    from reports.survival.report import LIMIT_REASONS
    assert LIMIT_REASONS["no_deaths"] in page

    text = client.get(f"/survival/table.csv?{QUERY}").get_data(as_text=True)
    assert not NAN.search(text)
    table = pd.read_csv(io.StringIO(text), comment="#", keep_default_na=False)
    blank = table[(table["lower_95"] == "") & (table["survival"] != "")]
    assert len(blank) == len(missing)
    assert set(blank["limits_note"]) <= set(LIMIT_REASONS.values()) and all(blank["limits_note"])

    user = create_user("api-researcher", "correct-horse-9", "researcher")
    _, token = create_token(user, "tests")
    response = client.get(f"/api/v1/survival?{QUERY}", headers={"Authorization": f"Bearer {token}"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and not NAN.search(body)
    rows = json.loads(body)["table"]
    for row in rows:
        if row["survival"] is not None and row["lo"] is None:
            assert row["limits_note"] in LIMIT_REASONS.values()

    result = app.test_cli_runner().invoke(args=["survival", "table", "--site", "C50", "--measure", "relative",
                                                "--by", "age", "--output", str(tmp_path / "breast.csv")])
    assert result.exit_code == 0, result.output
    assert not NAN.search(result.output) and " n/a" not in result.output


def test_too_short_follow_up_is_said_not_left_blank(client, login, demo):
    login("researcher")
    page = html.unescape(client.get("/survival/?measure=observed&by=stage").get_data(as_text=True))
    figures = re.search(r'<table class="survival-figures">(.*?)</table>', page, re.S).group(1)
    annual = re.search(r'<table class="survival-table">(.*?)</table>', page, re.S).group(1)
    for cell in re.findall(r"<td>(.*?)</td>", figures + annual, re.S):
        assert cell.strip(), "an empty cell on the Survival page"
        assert not NAN.search(cell)


def test_cox_limits_read_lo_to_hi(app, client, login, demo, tmp_path):
    login("researcher")
    page = html.unescape(client.get("/survival/?measure=observed&cox=age&cox=sex").get_data(as_text=True))
    cox = re.search(r'<table class="survival-cox">(.*?)</table>', page, re.S).group(1)
    limits = re.findall(r"<td>(\([^<]*\))</td>", cox)
    assert limits and all(re.fullmatch(r"\(\d+\.\d{3} to \d+\.\d{3}\)", text) for text in limits), limits
    csv_text = client.get("/survival/table.csv?measure=observed&cox=age").get_data(as_text=True)
    assert re.search(r"# Cox hazard ratio age \(per 10 years\): [\d.]+ \([\d.]+ to [\d.]+\)", csv_text)
    result = app.test_cli_runner().invoke(args=["survival", "table", "--cox", "age",
                                                "--output", str(tmp_path / "all.csv")])
    assert re.search(r"Cox HR age \(per 10 years\): [\d.]+ \([\d.]+ to [\d.]+\)", result.output), result.output
