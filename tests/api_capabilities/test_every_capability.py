"""Every capability issue 24 names is reachable over /api/v1: a route of the API blueprint, documented, with a
module of tests that exercises its real effect (the module's ``CAPABILITIES``), and a role rule the access test
(tests/security/test_access.py) exercises with every role's token — the allowed ones and the refused ones."""
import importlib
import pkgutil
import re

import pytest

import tests.api_analysis
import tests.api_capabilities
from abstracts.api import openapi_spec
from tests.security.access_rules import ALL, RULES

#: capability -> (method, path under /api/v1, the test module that exercises it)
ISSUE_CAPABILITIES = {
    "NAACCR validate": ("POST", "/naaccr/validate", "tests.api_capabilities.test_naaccr"),
    "NAACCR import": ("POST", "/naaccr/imports", "tests.api_capabilities.test_naaccr"),
    "NAACCR export": ("POST", "/naaccr/exports", "tests.api_capabilities.test_naaccr"),
    "submissions: list": ("GET", "/submissions", "tests.api_capabilities.test_submissions"),
    "submissions: write": ("POST", "/submissions", "tests.api_capabilities.test_submissions"),
    "submissions: download": ("GET", "/submissions/{submission_id}/file", "tests.api_capabilities.test_submissions"),
    "staging: run a file": ("POST", "/staging/runs", "tests.api_capabilities.test_staging"),
    "staging: derive one tumor": ("POST", "/tumors/{tumor_id}/staging", "tests.api_capabilities.test_staging"),
    "staging: re-derive": ("POST", "/staging/rederive", "tests.api_capabilities.test_staging"),
    "survival analyses": ("GET", "/survival", "tests.api_analysis.test_survival_rates"),
    "incidence rates": ("GET", "/rates", "tests.api_analysis.test_survival_rates"),
    "research exports": ("POST", "/research/exports", "tests.api_analysis.test_research"),
    "data use agreements: list": ("GET", "/research/agreements", "tests.api_analysis.test_research"),
    "data use agreements: record": ("POST", "/research/agreements", "tests.api_analysis.test_research"),
    "data use agreements: revoke": ("POST", "/research/agreements/{agreement_id}/revoke",
                                    "tests.api_analysis.test_research"),
    "annual report": ("POST", "/annual-report", "tests.api_analysis.test_annual_report"),
    "casefinding suspense: list": ("GET", "/casefinding/suspense", "tests.api_analysis.test_casefinding"),
    "casefinding suspense: take in": ("POST", "/casefinding/suspense", "tests.api_analysis.test_casefinding"),
    "casefinding suspense: abstract": ("POST", "/casefinding/suspense/{case_id}/abstract",
                                       "tests.api_analysis.test_casefinding"),
    "casefinding suspense: not reportable": ("POST", "/casefinding/suspense/{case_id}/not-reportable",
                                             "tests.api_analysis.test_casefinding"),
    "follow-up worklist": ("GET", "/follow-up/worklist", "tests.api_analysis.test_followup"),
    "follow-up letters": ("POST", "/follow-up/letters", "tests.api_analysis.test_followup"),
    "CoC follow-up rates": ("GET", "/follow-up/rates", "tests.api_analysis.test_followup"),
    "patient search": ("GET", "/patients", "tests.abstracting.test_api_query"),
    "duplicate check": ("POST", "/patients", "tests.abstracting.test_api_duplicates"),
    "audit log": ("GET", "/audit", "tests.api_capabilities.test_audit"),
    "jobs": ("GET", "/jobs/{job_id}", "tests.abstracting.test_api_jobs"),
    "reference installs": ("POST", "/reference/installs", "tests.api_capabilities.test_reference"),
    "users: list": ("GET", "/users", "tests.api_capabilities.test_users"),
    "users: create": ("POST", "/users", "tests.api_capabilities.test_users"),
    "users: role and state": ("PATCH", "/users/{user_id}", "tests.api_capabilities.test_users"),
    "users: password reset": ("POST", "/users/{user_id}/password-reset", "tests.api_capabilities.test_users"),
    "users: end sessions": ("POST", "/users/{user_id}/sessions/end", "tests.api_capabilities.test_users"),
    "jobs: list": ("GET", "/jobs", "tests.api_capabilities.test_more"),
    "jobs: rerun": ("POST", "/jobs/{job_id}/rerun", "tests.api_capabilities.test_more"),
    "facility settings: read": ("GET", "/facility", "tests.api_capabilities.test_more"),
    "facility settings: change": ("PATCH", "/facility", "tests.api_capabilities.test_more"),
    "research releases: list": ("GET", "/research/releases", "tests.api_capabilities.test_more"),
    "research releases: download": ("GET", "/research/releases/{release_id}/file",
                                    "tests.api_capabilities.test_more"),
}

#: Capabilities every role may call, refused by whom asks rather than by role (their test module checks the 403).
REFUSED_BY_OWNER_OR_VIEW = {
    "jobs": "another user's job is 403 to everyone but admins",
    "jobs: list": "another user's jobs are not listed, except to admins (and their rerun is 403)",
    "patient search": "a researcher gets the de-identified view, and a search by identifiers is 403",
}


def _endpoint(app, method: str, path: str) -> str | None:
    """The API blueprint's endpoint serving ``method path`` (path in the document's {name} form)."""
    for rule in app.url_map.iter_rules():
        template = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        if template == f"/api/v1{path}" and method in (rule.methods or ()) and rule.endpoint.startswith("api."):
            return rule.endpoint
    return None


def _module_capabilities() -> set[tuple[str, str, str]]:
    """(module, method, path) of every test module's ``CAPABILITIES`` list."""
    found = set()
    for package in (tests.api_capabilities, tests.api_analysis):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for _name, method, path in getattr(module, "CAPABILITIES", []):
                found.add((module.__name__, method, path))
    return found


@pytest.mark.parametrize("capability", sorted(ISSUE_CAPABILITIES))
def test_the_capability_is_an_api_route_documented_tested_and_refused_to_some_role(app, capability):
    method, path, module = ISSUE_CAPABILITIES[capability]
    endpoint = _endpoint(app, method, path)
    assert endpoint is not None, f"{capability}: no {method} /api/v1{path} on the API blueprint"
    with app.test_request_context():
        documented = openapi_spec()["paths"].get(path, {})
    assert method.lower() in documented, f"{capability}: {method} {path} is not in the OpenAPI document"
    access = RULES[endpoint]
    assert access.token, f"{capability}: {endpoint} is not a token endpoint in the access rules"
    tested = importlib.import_module(module)
    if capability in REFUSED_BY_OWNER_OR_VIEW:
        assert "== 403" in open(tested.__file__).read(), f"{capability}: {module} checks no refusal"
    else:
        assert access.roles and access.roles != ALL, (f"{capability}: every role may use {endpoint}, so no refused "
                                                      "role is exercised")
    listed = getattr(tested, "CAPABILITIES", None)
    if listed is not None:
        assert (module, method, path) in _module_capabilities(), f"{capability}: not in {module}.CAPABILITIES"
    else:
        source = open(tested.__file__).read()
        called = re.sub(r"\\\{[^}]+\\\}", '[^"]*', re.escape(path))
        assert re.search(f'"{method}", f?"{called}[?"]', source), f"{capability}: {module} never calls {method} {path}"
