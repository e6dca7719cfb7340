"""GET /api/v1/survival and /api/v1/rates: the pages' own computations for the same cohort, the query documented and
checked (unknown parameter 400, refused value 422 naming it, list parameters repeatable), researchers and
administrators only."""
from __future__ import annotations

import json

import pytest
from flask import jsonify
from werkzeug.datastructures import MultiDict

from tests.api_analysis.helpers import audited

CAPABILITIES = [
    ("survival figures", "GET", "/survival"),
    ("incidence rates", "GET", "/rates"),
]


def _as_json(data) -> dict:
    return json.loads(jsonify(data).get_data())


def _survival(args: list[tuple[str, str]]) -> dict:
    from reports.survival.views import end_point_year, payload, run
    return _as_json(payload(run(MultiDict(args), end_point_year())))


@pytest.mark.parametrize("measure", ["observed", "observed-actuarial", "relative"])
def test_survival_equals_the_page_computation_for_the_same_cohort(api, demo, measure):
    researcher = api("researcher")
    response = researcher("GET", "/survival", query_string=[("measure", measure), ("site", "C50"), ("site", "C18"),
                                                            ("by", "sex")])
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    expected = _survival([("measure", measure), ("site", "C50"), ("site", "C18"), ("by", "sex")])
    assert body == expected
    assert body["measure"] == measure and body["by"] == "sex" and body["table"]
    assert {row["group"] for row in body["figures"]} == {"male", "female"}
    assert researcher("GET", "/survival", query_string=f"measure={measure}&site=C50,C18&by=sex").get_json() == body
    only_breast = _survival([("measure", measure), ("site", "C50"), ("by", "sex")])
    assert only_breast["table"] != body["table"], "the second site must change the cohort"
    entries = audited("survival_export")
    assert entries[-1].user_id == researcher.user.id and entries[-1].detail.startswith(f"api {measure}")


def test_survival_query_is_checked_by_name(api, demo):
    admin = api("admin")
    unknown = admin("GET", "/survival", query_string="measure=observed&colour=red")
    assert unknown.status_code == 400 and "colour" in unknown.get_json()["error"]["fields"]
    twice = admin("GET", "/survival", query_string="measure=observed&measure=relative")
    assert twice.status_code == 400 and "measure" in twice.get_json()["error"]["fields"]
    bad = admin("GET", "/survival", query_string="measure=best")
    assert bad.status_code == 422 and "measure" in bad.get_json()["error"]["fields"]
    refused = admin("GET", "/survival", query_string="measure=observed&analysis=conditional")
    assert refused.status_code == 422 and "condition" in refused.get_json()["error"]["fields"]
    assert admin("GET", "/survival", query_string="measure=observed&from=2015&to=2020").status_code == 200


@pytest.mark.parametrize("role", ["registrar", "reviewer"])
def test_survival_and_rates_are_refused_to_other_roles(api, role):
    call = api(role)
    for _name, method, path in CAPABILITIES:
        response = call(method, path)
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_allowed", path


def test_rates_equal_the_incidence_page_computation(api, demo_registry):
    from reports.rates.views import outputs, records
    researcher = api("researcher")
    query = [("years", "2012-2021"), ("by", "sex"), ("site", "39"), ("site", "26"), ("standard", "us2000")]
    response = researcher("GET", "/rates", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    shown = outputs(MultiDict(query))
    table = _as_json(records(shown["table"]))
    assert [row["group"] for row in body["rows"]] == [row["group"] for row in table] and body["rows"]
    for got, expected in zip(body["rows"], table):
        for column in ("count", "population", "crude_rate", "aa_rate", "aa_lo", "aa_hi", "suppressed"):
            assert got[column] == expected[column], (got["group"], column)
    assert body["standard"] == "us2000" and body["synthetic"] is True
    assert "sites 39, 26" in body["notes"][0] or any("39" in note for note in body["notes"])
    comma = researcher("GET", "/rates", query_string="years=2012-2021&by=sex&site=39,26&standard=us2000")
    assert comma.get_json()["rows"] == body["rows"]
    breast = outputs(MultiDict([("years", "2012-2021"), ("by", "sex"), ("site", "39")]))
    assert list(breast["table"]["count"]) != [row["count"] for row in body["rows"]]
    assert audited("incidence_export")[-1].detail.startswith("api: ")


def test_rates_query_is_checked_by_name(api, demo_registry):
    admin = api("admin")
    unknown = admin("GET", "/rates", query_string="years=2015-2020&sexes=1")
    assert unknown.status_code == 400 and "sexes" in unknown.get_json()["error"]["fields"]
    refused = admin("GET", "/rates", query_string="by=colour")
    assert refused.status_code == 422 and "by" in refused.get_json()["error"]["fields"]


def test_the_document_lists_the_query_parameters(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    survival = {p["name"]: p for p in spec["paths"]["/survival"]["get"]["parameters"]}
    assert {"site", "from", "to", "measure", "by", "cox", "lifetable"} <= set(survival)
    assert survival["site"]["schema"]["type"] == "array" and survival["site"]["explode"] is True
    assert "observed-actuarial" in survival["measure"]["schema"]["enum"]
    assert {p["name"] for p in spec["paths"]["/rates"]["get"]["parameters"]} == {
        "years", "by", "standard", "area", "site", "method", "population"}
    for _name, method, path in CAPABILITIES:
        assert spec["paths"][path][method.lower()]["x-roles"] == "researcher, admin"
