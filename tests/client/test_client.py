"""The Python API client (registry/client) against a served instance: token auth, the error JSON as an exception,
paging, the rate limit's Retry-After, jobs waited for and their results streamed, multipart uploads."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import httpx
import pytest
from flask import Flask, jsonify, request

from abstracts import ratelimit
from registry.client import ApiError, ClientError, JobFailed, RegistryClient
from registry.jobs import enqueue, job_kind
from tests.abstracting.conftest import PATIENT


@job_kind("test-client-result")
def _writes_a_result(progress, folder: str, size: int) -> str:
    progress(50, "writing the result")
    result = Path(folder) / "client-result.txt"
    result.write_bytes(b"".join(b"%08d\n" % n for n in range(size // 9)))
    return str(result)


@job_kind("test-client-fails")
def _fails(progress) -> None:
    progress(20, "about to fail")
    raise ValueError("no such file: x.xml")


NAMES = [("Okonkwo", "Ada"), ("Lindqvist", "Bo"), ("Tanaka", "Chie"), ("Moreau", "Denis"), ("Petrov", "Eva")]


def _patient(n: int) -> dict:
    return PATIENT | {"name_last": NAMES[n][0], "name_first": NAMES[n][1], "medical_record_number": f"M70000{n:02d}",
                      "social_security_number": f"99{n}{n}0{n}{n}{n}{n}", "date_of_birth": f"19{50 + 7 * n}0{n + 1}1{n}"}


def test_a_token_pages_through_patients_over_http(served, token):
    _, registrar_token = token("registrar")
    _, researcher_token = token("researcher")
    with RegistryClient(served, registrar_token) as api:
        created = [api.post("/patients", _patient(n))["id"] for n in range(5)]
        found = list(api.items("/patients", per_page=2))
        assert [p["id"] for p in found] == created and found[0]["name_last"] == "Okonkwo"
        assert api.get(f"/api/v1/patients/{created[2]}")["name_first"] == "Chie", "the API's own paths work too"
    with RegistryClient(served + "/api/v1/", researcher_token) as research:
        seen = research.get("/patients", per_page=5)
        assert seen["total"] == 5 and "name_last" not in seen["items"][0]
    with RegistryClient(served, "crt_not-a-token") as stranger, pytest.raises(ApiError) as refused:
        stranger.get("/patients")
    assert refused.value.status == 401 and refused.value.code == "unauthorized"
    assert "Bearer" in refused.value.message


def test_errors_are_raised_with_the_error_json(served, token):
    _, plain = token("registrar")
    with RegistryClient(served, plain) as api:
        with pytest.raises(ApiError) as invalid:
            api.post("/patients", _patient(0) | {"sex": "Q"})
        assert invalid.value.status == 422 and invalid.value.code == "invalid" and "sex" in invalid.value.fields
        assert "sex:" in str(invalid.value), "the message names the field"
        patient = api.post("/patients", _patient(1))
        api.patch(f"/patients/{patient['id']}", {"version": patient["version"], "name_first": "Bea"})
        with pytest.raises(ApiError) as stale:
            api.patch(f"/patients/{patient['id']}", {"version": patient["version"], "name_first": "Cleo"})
        assert stale.value.status == 409 and stale.value.error["current_version"] == patient["version"] + 1
        with pytest.raises(ApiError) as missing:
            api.get("/patients/99999")
        assert missing.value.status == 404 and missing.value.error["code"] == "not_found"
        with pytest.raises(ApiError) as unknown:
            api.get("/patients", colour="blue")
        assert unknown.value.status == 400 and "colour" in unknown.value.fields


def test_a_rate_limited_request_waits_for_retry_after_then_goes_again(app, served, token, monkeypatch):
    app.config["REGISTRY_API_RATE_LIMIT"] = "2/minute"
    now = {"t": 1_900_000_070.0}  # 50 seconds into a minute
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now["t"] += seconds
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    monkeypatch.setattr("registry.client.time.sleep", sleep)
    _, plain = token("researcher")
    with RegistryClient(served, plain) as api:
        assert [api.get("/codes")["total"] > 0 for _ in range(3)] == [True] * 3
    assert slept == [10], "the third request waited the 10 seconds left of its minute, once"
    with RegistryClient(served, plain, rate_limit_retries=0) as impatient:
        impatient.get("/codes")
        with pytest.raises(ApiError) as refused:
            impatient.get("/codes")
    assert refused.value.status == 429 and refused.value.retry_after == 60 and refused.value.code == "rate_limited"


def test_wait_polls_a_job_and_download_streams_its_result(app, served, token, tmp_path):
    owner, plain = token("registrar", "client-owner")
    folder = Path(app.config["JOB_FILES_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    started = enqueue("test-client-result", {"folder": str(folder), "size": 300_000}, user=owner)
    failing = enqueue("test-client-fails", {}, user=owner)
    expected = (folder / "client-result.txt")
    with RegistryClient(served, plain) as api:
        job = api.wait(started.id, timeout=120, interval=0.05)
        assert job["status"] == "finished" and job["progress"] == 100 and "writing the result" in job["messages"]
        written = api.download(job, tmp_path)
        assert written == tmp_path / "client-result.txt"
        assert written.read_bytes() == expected.read_bytes() and written.stat().st_size > 290_000
        into = io.BytesIO()
        assert api.download(job["result_url"], into, chunk_size=4096) is None
        assert into.getvalue() == expected.read_bytes()
        assert api.wait(job) == api.job(job["url"]), "a job's JSON or URL will do"
        with pytest.raises(JobFailed) as failed:
            api.wait({"id": failing.id}, timeout=120, interval=0.05)
        assert "no such file" in failed.value.job["failure"] or "ValueError" in failed.value.job["failure"]
        assert "about to fail" in failed.value.job["messages"]
        with pytest.raises(ClientError, match="no result"):
            api.download(failed.value.job, tmp_path)
        with pytest.raises(ApiError) as gone:
            api.download(f"/jobs/{failing.id}/result", tmp_path / "x")
        assert gone.value.status == 404 and not (tmp_path / "x").exists() and not (tmp_path / "x.part").exists()
    _, other = token("registrar", "client-other")
    with RegistryClient(served, other) as stranger, pytest.raises(ApiError) as refused:
        stranger.wait(started.id)
    assert refused.value.status == 403 and "job_id" in refused.value.fields


def _echo_app() -> Flask:
    """A stand-in server that says what multipart request it was sent."""
    echo = Flask("echo")

    @echo.post("/api/v1/echo")
    def what_came():
        return jsonify(auth=request.headers.get("Authorization"), form=request.form.to_dict(),
                       type=request.mimetype, files={name: {"filename": f.filename, "sha256": hashlib.sha256(
                           f.read()).hexdigest()} for name, f in request.files.items()}), 202
    return echo


def test_upload_sends_the_file_as_multipart_form_data(tmp_path):
    content = bytes(range(256)) * 12_000
    path = tmp_path / "abstracts.xml"
    path.write_bytes(content)
    transport = httpx.WSGITransport(app=_echo_app())
    with RegistryClient("http://registry.test", "crt_abc", transport=transport) as api:
        sent = api.upload("/echo", path, data={"dry_run": "true"})
        again = api.upload("/echo", io.BytesIO(b"<NaaccrData/>"), field="upload", filename="small.xml")
    assert sent["type"] == "multipart/form-data" and sent["auth"] == "Bearer crt_abc"
    assert sent["files"] == {"file": {"filename": "abstracts.xml", "sha256": hashlib.sha256(content).hexdigest()}}
    assert sent["form"] == {"dry_run": "true"}
    assert again["files"]["upload"]["filename"] == "small.xml"
