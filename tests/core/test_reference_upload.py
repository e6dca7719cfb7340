"""The Reference page installs an uploaded file exactly as the CLI does: checked, audited, all or nothing."""
import hashlib
import io
import re
import tempfile

import pytest
from sqlalchemy import func, select

from registry.db import db_session
from registry.models import AuditEntry, ReferenceInstall
from tests.reference import REFERENCE_DIR

V25 = REFERENCE_DIR / "naaccr" / "dictionaries" / "naaccr-dictionary-250.xml"


@pytest.fixture
def instance(app, no_reference_tables, tmp_path, monkeypatch):
    """The instance folder (the reference store) and the folder temporary uploads go to."""
    app.config["INSTANCE_DIR"] = str(tmp_path / "instance")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    return tmp_path


def _token(client, page: str = "/admin/reference/") -> str:
    page = client.get(page).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _post(client, kind: str, content: bytes | None, name: str, token: str | None = None):
    data = {"kind": kind}
    if token is not None:
        data["csrf_token"] = token
    if content is not None:
        data["file"] = (io.BytesIO(content), name)
    return client.post("/admin/reference/install", data=data, content_type="multipart/form-data")


def _installs() -> int:
    return db_session.scalar(select(func.count()).select_from(ReferenceInstall))


def _audited(action: str) -> list[AuditEntry]:
    """Entries of ``action`` made through the page (the official tables were installed by the system)."""
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                            AuditEntry.username != "system")))


def test_admin_installs_a_dictionary_from_the_page(app, instance, client, login):
    admin = login("admin")
    page = client.get("/admin/reference/").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and '<option value="naaccr-dictionary"' in page
    response = _post(client, "naaccr-dictionary", V25.read_bytes(), V25.name, _token(client))
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/reference/")
    record = db_session.scalars(select(ReferenceInstall)).one()
    assert (record.kind, record.version, record.source_file) == ("naaccr-dictionary", "250", V25.name)
    assert (record.installed_by, record.installed_by_id) == (admin.username, admin.id)
    assert record.checksum == hashlib.sha256(V25.read_bytes()).hexdigest()
    assert (instance / "instance" / "reference" / "naaccr-dictionary").is_dir()
    assert open(record.stored_path, "rb").read() == V25.read_bytes()
    [entry] = _audited("reference_install:naaccr-dictionary:create")
    assert entry.username == admin.username
    assert list((instance / "uploads").iterdir()) == []  # the temporary copy is gone
    listing = client.get("/admin/reference/").get_data(as_text=True)
    assert "Installed naaccr-dictionary" in listing and V25.name in listing and record.checksum[:16] in listing


def test_a_wrong_file_shows_why_and_installs_nothing(app, instance, client, login):
    login("admin")
    truncated = V25.read_bytes()[:5000]
    response = _post(client, "naaccr-dictionary", truncated, "naaccr-dictionary-260.xml", _token(client))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was installed: naaccr-dictionary-260.xml is not a valid naaccr-dictionary" in page
    assert "Expected a NAACCR XML base or user dictionary" in page
    assert "reference-upload-" not in page  # the temporary copy's folder means nothing to the administrator
    assert _installs() == 0 and not _audited("reference_install:naaccr-dictionary:create")
    assert not list((instance / "instance").rglob("*.xml"))
    assert list((instance / "uploads").iterdir()) == []


@pytest.mark.parametrize("kind, content, name, words", [
    ("horoscope", b"<x/>", "stars.xml", "Choose what kind of reference file this is: one of "),
    ("", b"<x/>", "stars.xml", "Choose what kind of reference file this is"),
    ("naaccr-dictionary", None, "", "Choose a file to install."),
    ("naaccr-dictionary", b"<x/>", "..", "Choose a file to install."),
])
def test_an_incomplete_form_gets_a_clear_message(app, instance, client, login, kind, content, name, words):
    login("admin")
    response = _post(client, kind, content, name, _token(client))
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert _installs() == 0


def test_others_may_not_install(app, instance, client, login):
    login("registrar")
    response = _post(client, "naaccr-dictionary", V25.read_bytes(), V25.name, _token(client, "/naaccr/import"))
    assert response.status_code == 403 and _installs() == 0


def test_install_needs_the_form_token(app, instance, client, login):
    login("admin")
    response = _post(client, "naaccr-dictionary", V25.read_bytes(), V25.name)
    assert response.status_code == 400 and _installs() == 0
