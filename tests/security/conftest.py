"""A small registry with one signed-in client and one API token per role, and real ids to fill URL rules with."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.demo import load_demo_data
from registry.models import Job, JobStatus, Patient, Submission, Tumor
from registry.models.patient import utcnow
from registry.models.research import ResearchRelease

ROLES = ("registrar", "reviewer", "researcher", "admin")
PASSWORD = "correct-horse-9"


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


class FreshClient(FlaskClient):
    """A browser whose every request gets its own application context.

    The ``app`` fixture keeps one application context open for the whole test, so ``g`` (where
    Flask-Login caches the signed-in user) would otherwise be shared by every client and request.
    """

    def open(self, *args: Any, **kwargs: Any):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def new_client(app) -> FreshClient:
    return FreshClient(app, app.response_class, use_cookies=True)


@dataclass
class Principal:
    """One role: its signed-in browser, API token and the records it owns."""

    role: str
    client: Any
    user: Any = None
    token: str = ""
    csrf: str = ""
    #: ids of records this user owns (their job, spare token, research release), for URL rules
    owned: dict[str, int] = field(default_factory=dict)

    def api(self, method: str, path: str, **kwargs: Any):
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)


@dataclass
class Registry:
    principals: dict[str, Principal]
    anonymous: Any
    ids: dict[str, Any] = field(default_factory=dict)
    identifiers: set[str] = field(default_factory=set)

    def values_for(self, role: str | None) -> dict[str, Any]:
        """URL parameters with real ids; jobs and tokens are the signed-in user's own."""
        values = dict(self.ids)
        values.update(self.principals[role or "admin"].owned)
        return values


def sign_in(app, username: str, password: str = PASSWORD):
    client = new_client(app)
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def registry(app, make_user) -> Registry:
    from abstracts import casefinding, tokens
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 12, seed=11)
    principals = {}
    for role in ROLES:
        user = make_user(role)
        client = sign_in(app, user.username)
        _, plain = tokens.create_token(user, "security tests")
        spare, _ = tokens.create_token(user, "to revoke")
        job = Job(kind="naaccr-import", params={}, user_id=user.id, status=JobStatus.FINISHED, progress=100)
        release = ResearchRelease(created_by_id=user.id, created_by=user.username, level="safe_harbor",
                                  file_format="csv", checksum="0" * 64, file_name="release.zip",
                                  file_path="/nonexistent/release.zip", expires_at=utcnow())
        db_session.add_all([job, release])
        db_session.commit()
        csrf = csrf_of(client.get("/account").get_data(as_text=True))
        principals[role] = Principal(role, client, user, plain, csrf,
                                     {"job_id": job.id, "token_id": spare.id, "release_id": release.id})
    case = casefinding.add_suspense_case({"name_last": "Suspensedemo", "source": "pathology"}, actor=SYSTEM)
    from abstracts.epath.intake import take_in
    report = take_in("MSH|^~\\&|LIS|LAB|||20250101||ORU^R01|C1|P|2.5.1\r"
                     "PID|1||M7777777^^^LAB^MR||Reportdemo^Rita||19600101|F\r"
                     "OBR|1||ACC-9|11529-5^Surgical^LN|||20250101\r"
                     "OBX|1|TX|22637-3^final diagnosis^LN||Adenocarcinoma of colon", actor=SYSTEM,
                     source="security").taken[0]
    from reports.research.agreements import add_agreement
    agreement = add_agreement(principals["researcher"].user.username, "security tests", "2099-12-31", actor=SYSTEM)
    sent = Path(app.config["JOB_FILES_DIR"]) / "submissions" / "sub.xml"  # a file its download can send
    sent.parent.mkdir(parents=True, exist_ok=True)
    sent.write_text("<NaaccrData/>")
    submission = Submission(file_name="sub.xml", stored_path=str(sent), checksum="0" * 64,
                            naaccr_version="250", record_type="A", created_by="system")
    db_session.add(submission)
    db_session.commit()
    from registry.auth.operations import create_user
    bystander = create_user("bystander.demo", "correct-horse-9", "registrar")  # the Users page acts on this one
    tumor = db_session.scalars(select(Tumor).order_by(Tumor.id)).first()
    ids = {"patient_id": tumor.patient_id, "tumor_id": tumor.id, "case_id": case.id, "submission_id": submission.id,
           "user_id": bystander.id, "action": "end_sessions",
           "report_id": report.report_id, "agreement_id": agreement.id,
           "system": "sex", "name": "in_progress", "fmt": "png", "filename": "app.css"}
    identifiers = set()
    for patient in db_session.scalars(select(Patient)):
        identifiers |= {v for v in (patient.name_last, patient.name_first, patient.social_security_number,
                                    patient.medical_record_number) if v and len(v) >= 5}
    return Registry(principals, new_client(app), ids, identifiers)
