"""The audit trail over the API (issue 24): the Audit page's search with its checks, paged, administrators
only; each search is itself on the trail."""
from __future__ import annotations

import datetime as dt

from registry.audit import SYSTEM, log_event
from tests.api_capabilities.conftest import audited, refused

CAPABILITIES = [("search the audit trail", "GET", "/audit")]


def test_an_admin_searches_the_trail_by_its_filters_and_pages(api):
    admin = api("admin")
    for number in range(3):
        log_event(SYSTEM, "probe_event", entity="patient", entity_id=number, patient_id=100 + number,
                  detail=f"probe {number}")
    found = admin("GET", "/audit", query_string={"action": "probe_", "per_page": 2}).get_json()
    assert (found["total"], found["pages"], len(found["items"])) == (3, 2, 2)
    assert [e["detail"] for e in found["items"]] == ["probe 2", "probe 1"]
    second = admin("GET", "/audit", query_string={"action": "probe_", "per_page": 2, "page": 2}).get_json()
    assert [e["detail"] for e in second["items"]] == ["probe 0"]
    one = admin("GET", "/audit", query_string={"patient": "101", "user": "system"}).get_json()
    assert [(e["action"], e["patient_id"], e["username"]) for e in one["items"]] == [("probe_event", 101, "system")]
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert admin("GET", "/audit", query_string={"action": "probe_", "date_from": "2000-01-01",
                                                "date_to": "2000-12-31"}).get_json()["total"] == 0
    assert admin("GET", "/audit", query_string={"action": "probe_", "date_from": today,
                                                "date_to": today}).get_json()["total"] == 3
    searches = audited("api_audit_search", user_id=admin.user.id)
    assert len(searches) == 5 and "action=probe_" in searches[0].detail


def test_bad_filters_are_named(api):
    admin = api("admin")
    bad = admin("GET", "/audit", query_string={"patient": "Smith", "date_from": "2025-13-01", "date_to": "x"})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"patient", "date_from", "date_to"}
    backwards = admin("GET", "/audit", query_string={"date_from": "2025-03-02", "date_to": "2025-03-01"})
    assert backwards.status_code == 422 and "date_to" in backwards.get_json()["error"]["fields"]
    unknown = admin("GET", "/audit", query_string={"username": "system"})
    assert unknown.status_code == 400 and "username" in unknown.get_json()["error"]["fields"]
    assert not audited("api_audit_search")


def test_other_roles_are_refused(api):
    for role in ("registrar", "reviewer", "researcher"):
        refused(api(role)("GET", "/audit"))
    assert not audited("api_audit_search")
