"""Reference tables over the API (issue 24): the installed tables, and installing an uploaded file with the
CLI's own checks — administrators only, audited, all or nothing."""
from __future__ import annotations

import hashlib
import io
import tempfile

import pytest
from sqlalchemy import func, select

from registry.db import db_session
from registry.models import ReferenceInstall
from tests.api_capabilities.conftest import audited, refused
from tests.reference import REFERENCE_DIR

CAPABILITIES = [
    ("list the installed reference tables", "GET", "/reference"),
    ("install a reference table", "POST", "/reference/installs"),
]
V25 = REFERENCE_DIR / "naaccr" / "dictionaries" / "naaccr-dictionary-250.xml"


@pytest.fixture
def instance(app, no_reference_tables, tmp_path, monkeypatch):
    app.config["INSTANCE_DIR"] = str(tmp_path / "instance")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    return tmp_path


def _install(call, kind: str, content: bytes, name: str):
    return call("POST", "/reference/installs", data={"kind": kind, "file": (io.BytesIO(content), name)},
                content_type="multipart/form-data")


def _installs() -> int:
    return db_session.scalar(select(func.count()).select_from(ReferenceInstall))


def test_an_admin_installs_a_dictionary_and_sees_it_listed(api, instance):
    admin = api("admin")
    assert admin("GET", "/reference").get_json()["items"] == []
    response = _install(admin, "naaccr-dictionary", V25.read_bytes(), V25.name)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["kind"], body["version"], body["source_file"]) == ("naaccr-dictionary", "250", V25.name)
    assert body["checksum"] == hashlib.sha256(V25.read_bytes()).hexdigest()
    record = db_session.scalars(select(ReferenceInstall)).one()
    assert (record.installed_by_id, record.id) == (admin.user.id, body["id"])
    assert audited("reference_install:naaccr-dictionary:create", user_id=admin.user.id)
    [listed] = admin("GET", "/reference").get_json()["items"]
    assert listed["id"] == record.id and listed["installed_by"] == admin.user.username
    assert list((instance / "uploads").iterdir()) == []


def test_a_wrong_file_or_kind_installs_nothing_and_says_why(api, instance):
    admin = api("admin")
    before = len(audited("reference_install:naaccr-dictionary:create"))
    wrong = _install(admin, "naaccr-dictionary", b"<html>not a dictionary</html>", "page.xml")
    assert wrong.status_code == 422 and "page.xml" in wrong.get_json()["error"]["fields"]["file"]
    assert "uploads" not in wrong.get_json()["error"]["fields"]["file"]
    kind = _install(admin, "horoscope", V25.read_bytes(), V25.name)
    assert kind.status_code == 422 and "naaccr-dictionary" in kind.get_json()["error"]["fields"]["kind"]
    no_file = admin("POST", "/reference/installs", data={"kind": "naaccr-dictionary"},
                    content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in no_file.get_json()["error"]["fields"]
    assert _installs() == 0 and len(audited("reference_install:naaccr-dictionary:create")) == before


@pytest.mark.parametrize("role", ["registrar", "reviewer", "researcher"])
def test_other_roles_are_refused(api, instance, role):
    call = api(role)
    refused(call("GET", "/reference"))
    refused(_install(call, "naaccr-dictionary", V25.read_bytes(), V25.name))
    assert _installs() == 0
