"""Research over the API: the data dictionary, de-identified releases as jobs (the builder's checks: a limited data
set needs the caller's own valid data use agreement), and agreements recorded and revoked by administrators."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from registry.db import db_session
from registry.models import DataUseAgreement, Job, JobStatus, ResearchRelease
from reports.research import cohort
from reports.research.variables import dictionary
from tests.api_analysis.helpers import audited, wait
from tests.research.conftest import csv_rows, patient_of_tumor, read_zip, tumor_of

CAPABILITIES = [
    ("research data dictionary", "GET", "/research/variables"),
    ("de-identified release (job)", "POST", "/research/exports"),
    ("data use agreements", "GET", "/research/agreements"),
    ("record a data use agreement", "POST", "/research/agreements"),
    ("revoke a data use agreement", "POST", "/research/agreements/{agreement_id}/revoke"),
]
FILTERS = {"years": "2010-2025", "sites": ["C50", "C18-C20"]}
VARIABLES = ["primary_site", "summary_stage", "age_at_diagnosis", "date_of_diagnosis"]


def _jobs() -> int:
    return db_session.scalar(select(func.count(Job.id)))


def test_the_dictionary_is_the_builders(api, registry_data):
    researcher = api("researcher")
    body = researcher("GET", "/research/variables", query_string={"per_page": 200}).get_json()
    known = dictionary()
    assert body["total"] == len(known) and [v["name"] for v in body["items"]] == list(known)[:200]
    name_last = known["name_last"]
    searched = researcher("GET", "/research/variables", query_string={"q": "age at diagnosis"}).get_json()
    assert "age_at_diagnosis" in [v["name"] for v in searched["items"]] and searched["total"] < len(known)
    found = researcher("GET", "/research/variables", query_string={"q": "name_last"}).get_json()["items"]
    entry = next(v for v in found if v["name"] == "name_last")
    assert entry["safe_harbor"] == name_last.safe_harbor == "drop" and entry["phi_class"] == "direct identifier"


def test_researcher_release_is_the_builders_cohort_without_identifiers(app, api, registry_data):
    researcher = api("researcher")
    response = researcher("POST", "/research/exports", json={"filters": FILTERS, "variables": VARIABLES,
                                                             "purpose": "api study"})
    assert response.status_code == 202, response.get_data(as_text=True)
    job = response.get_json()
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}" and job["kind"] == "research-export"
    finished = wait(job["id"])
    assert finished.status is JobStatus.FINISHED, finished.messages
    result = researcher("GET", f"/jobs/{job['id']}/result")
    assert result.status_code == 200 and result.data[:2] == b"PK"
    release = db_session.scalars(select(ResearchRelease)).one()
    assert release.created_by_id == researcher.user.id and release.level == "safe_harbor"
    assert release.purpose == "api study" and release.filters["sites"] == ["C50", "C18-C20"]
    rows = csv_rows(read_zip(release.file_path)["data.csv"])
    kept = list(cohort.rows(db_session(), cohort.Filters.parse(**FILTERS), ["primary_site"],
                            int(app.config["SURVIVAL_END_POINT_YEAR"])))
    assert len(rows) == release.row_count == len(kept) > 0
    assert sorted(r["primary_site"] for r in rows) == sorted(k["primary_site"] for k in kept)
    assert all(r["primary_site"][:3] in {"C50", "C18", "C19", "C20"} for r in rows)
    assert set(rows[0]) == {"study_patient_id", "study_tumor_id", *VARIABLES}
    assert all(len(row["date_of_diagnosis"]) == 4 for row in rows), "Safe Harbor keeps the year only"
    keys = tumor_of(release.id)
    assert len(keys) == len(rows) and all(patient_of_tumor(t) for t in keys.values())
    entry = audited("research_release")[-1]
    assert entry.user_id == researcher.user.id and "api study" in entry.detail


def test_bad_requests_are_refused_by_name_and_start_nothing(api, registry_data):
    researcher = api("researcher")
    before = _jobs()
    cases = [({"variables": ["name_last"]}, "variables"), ({"filters": {"colour": "red"}}, "filters.colour"),
             ({"filters": {"sites": ["X99"]}}, "filters.site"), ({"level": "open"}, "level"),
             ({"file_format": "xls"}, "file_format")]
    for body, field in cases:
        response = researcher("POST", "/research/exports", json=body)
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"], (body, response.json)
    no_agreement = researcher("POST", "/research/exports", json={"level": "limited"})
    assert no_agreement.status_code == 403 and "data use agreement" in no_agreement.get_json()["error"]["message"]
    assert _jobs() == before


def test_agreements_recorded_by_admin_open_and_close_limited_sets(api, registry_data):
    admin, researcher, other = api("admin"), api("researcher", "rita"), api("researcher", "rolf")
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert researcher("POST", "/research/agreements",
                      json={"username": "rita", "project": "x", "expires": expires}).status_code == 403
    bad = admin("POST", "/research/agreements", json={"username": "nobody", "project": "", "expires": "2001-01-01"})
    assert bad.status_code == 422 and {"username", "project", "expires"} <= set(bad.get_json()["error"]["fields"])
    response = admin("POST", "/research/agreements", json={"username": "rita", "project": "Colon study",
                                                           "expires": expires})
    assert response.status_code == 201, response.get_data(as_text=True)
    agreement = response.get_json()
    stored = db_session.get(DataUseAgreement, agreement["id"])
    assert stored.user_id == researcher.user.id and stored.project == "Colon study" and agreement["valid"] is True
    assert audited("data_use_agreement_add")[-1].entity_id == str(stored.id)
    own = researcher("GET", "/research/agreements").get_json()
    assert [a["id"] for a in own["items"]] == [stored.id]
    assert other("GET", "/research/agreements").get_json()["total"] == 0
    assert admin("GET", "/research/agreements").get_json()["total"] == 1

    someone_elses = other("POST", "/research/exports", json={"level": "limited", "agreement_id": stored.id})
    assert someone_elses.status_code == 403 and "not rolf's" in someone_elses.get_json()["error"]["message"]
    limited = researcher("POST", "/research/exports", json={"level": "limited", "agreement_id": stored.id,
                                                           "variables": ["date_of_diagnosis"]})
    assert limited.status_code == 202, limited.get_data(as_text=True)
    job = wait(limited.get_json()["id"])
    assert job.status is JobStatus.FINISHED, job.messages
    release = db_session.scalars(select(ResearchRelease)).one()
    assert release.level == "limited" and release.agreement_id == stored.id
    assert any(len(row["date_of_diagnosis"]) == 8 for row in csv_rows(read_zip(release.file_path)["data.csv"]))

    assert researcher("POST", f"/research/agreements/{stored.id}/revoke").status_code == 403
    revoked = admin("POST", f"/research/agreements/{stored.id}/revoke")
    assert revoked.status_code == 200 and revoked.get_json()["valid"] is False
    db_session.expire_all()
    assert db_session.get(DataUseAgreement, stored.id).revoked_at is not None
    assert audited("data_use_agreement_revoke")[-1].entity_id == str(stored.id)
    after = researcher("POST", "/research/exports", json={"level": "limited", "agreement_id": stored.id})
    assert after.status_code == 403 and "revoked" in after.get_json()["error"]["message"]
    assert admin("POST", "/research/agreements/99999/revoke").status_code == 404


@pytest.mark.parametrize("role", ["registrar", "reviewer"])
def test_research_is_refused_to_other_roles(api, registry_data, role):
    call = api(role)
    before = _jobs()
    for _name, method, path in CAPABILITIES:
        response = call(method, path.replace("{agreement_id}", "1"), **({"json": {}} if method == "POST" else {}))
        assert response.status_code == 403, (path, response.status_code)
    assert _jobs() == before
