"""A small Python client of the registry's REST API (``/api/v1``), on httpx.

    from registry.client import RegistryClient
    with RegistryClient("https://registry.example.org", token) as api:
        for patient in api.items("/patients"):
            ...
        job = api.wait(api.upload("/naaccr/imports", "abstracts.xml"))

Every answer of 400 or more is raised as :class:`ApiError`, carrying the error JSON the API sent (``code``,
``message``, ``fields`` naming each bad field). Long work answers 202 with a job: :meth:`RegistryClient.wait`
polls ``GET /jobs/{id}`` until it has finished (:class:`JobFailed` when it failed) and
:meth:`RegistryClient.download` streams a result to a file without holding it in memory. See docs/api.md.
"""
from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import httpx

API_PREFIX = "/api/v1"
#: Job states after which a job changes no more.
DONE = {"finished", "failed"}


class ClientError(Exception):
    """Anything this client raises on purpose."""


class ApiError(ClientError):
    """An answer of 400 or more: ``status``, and the API's error JSON as ``error`` (``code``, ``message``,
    ``fields``); ``retry_after`` is the seconds a 429 asks to wait."""

    def __init__(self, response: httpx.Response):
        self.status = response.status_code
        self.response = response
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        self.error: dict[str, Any] = error if isinstance(error, dict) else {
            "code": "http_error", "message": response.text[:500] or response.reason_phrase}
        self.code: str = self.error.get("code", "")
        self.message: str = self.error.get("message", "")
        self.fields: dict[str, str] = self.error.get("fields") or {}
        retry = response.headers.get("Retry-After")
        self.retry_after: int | None = int(retry) if retry and retry.isdigit() else None
        named = "; ".join(f"{name}: {why}" for name, why in self.fields.items())
        super().__init__(f"{self.status} {self.code}: {self.message}" + (f" ({named})" if named else ""))


class JobFailed(ClientError):
    """A job that ended failed; ``job`` is its JSON (``failure`` says why, ``messages`` what it reported)."""

    def __init__(self, job: dict[str, Any]):
        self.job = job
        super().__init__(f"job {job.get('id')} ({job.get('kind')}) failed: {job.get('failure')}")


class JobTimeout(ClientError):
    """:meth:`RegistryClient.wait` gave up; ``job`` is the job as last seen."""

    def __init__(self, job: dict[str, Any], seconds: float):
        self.job = job
        super().__init__(f"job {job.get('id')} still {job.get('status')} after {seconds:g} s")


def _api_path(path: str) -> str:
    """``/patients``, ``/api/v1/patients`` or a full URL the API gave (a job's ``result_url``) as a path under
    the API."""
    if "://" in path:
        path = httpx.URL(path).raw_path.decode()
    if path.startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX):]
    return path if path.startswith("/") else "/" + path


class RegistryClient:
    """The API of one registry, as one user (their personal token).

    ``base_url`` is the site (``https://registry.example.org``) or its API (``…/api/v1``). ``rate_limit_retries``
    is how many times a request answered 429 is sent again after the ``Retry-After`` it names (0: raise at
    once). ``transport`` is for tests (``httpx.WSGITransport(app=app)``).
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 60.0, rate_limit_retries: int = 2,
                 transport: httpx.BaseTransport | None = None, verify: bool | str = True):
        base = base_url.rstrip("/")
        if not base.endswith(API_PREFIX):
            base += API_PREFIX
        self.rate_limit_retries = rate_limit_retries
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}",
                                                         "Accept": "application/json"},
                                 timeout=timeout, transport=transport, verify=verify, follow_redirects=True)

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # --- requests ------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request (httpx's keywords: ``params``, ``json``, ``files``, ``data``); raise :class:`ApiError`
        for an answer of 400 or more, after waiting out up to ``rate_limit_retries`` 429s."""
        for attempt in range(self.rate_limit_retries + 1):
            response = self.http.request(method, _api_path(path), **kwargs)
            if response.status_code != 429 or attempt == self.rate_limit_retries:
                break
            self._rewind(kwargs)
            time.sleep(int(response.headers.get("Retry-After", "1") or 1))
        return self._checked(response)

    @staticmethod
    def _rewind(kwargs: dict[str, Any]) -> None:
        """Files already read for a refused request are read again from their start for the next."""
        for value in (kwargs.get("files") or {}).values():
            handle = value[1] if isinstance(value, tuple) else value
            if hasattr(handle, "seek"):
                handle.seek(0)

    @staticmethod
    def _checked(response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            response.read()
            raise ApiError(response)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        return response.json() if response.status_code != 204 and response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self._json(self.request("GET", path, params=params or None))

    def post(self, path: str, json: Any = None, *, params: Mapping[str, Any] | None = None) -> Any:
        return self._json(self.request("POST", path, json=json, params=params))

    def patch(self, path: str, json: Any) -> Any:
        return self._json(self.request("PATCH", path, json=json))

    def delete(self, path: str, json: Any = None) -> Any:
        return self._json(self.request("DELETE", path, json=json))

    def items(self, path: str, *, per_page: int = 200, **params: Any) -> Iterator[Any]:
        """Every item of a paged list, page after page (``items``, ``page``, ``pages`` of each answer)."""
        page = 1
        while True:
            body = self.get(path, **params, page=page, per_page=per_page)
            yield from body["items"]
            if page >= body["pages"]:
                return
            page += 1

    # --- uploads, jobs, downloads --------------------------------------------------------------

    def upload(self, path: str, file: str | os.PathLike[str] | IO[bytes], *, field: str = "file",
               filename: str | None = None, data: Mapping[str, Any] | None = None,
               params: Mapping[str, Any] | None = None) -> Any:
        """POST a file as ``multipart/form-data`` (its part named ``field``), with form fields ``data``; httpx
        reads the file in chunks as it sends it. Returns the answer's JSON (a job for an import: 202)."""
        if isinstance(file, (str, os.PathLike)):
            with open(file, "rb") as handle:
                return self.upload(path, handle, field=field, filename=filename or Path(file).name, data=data,
                                   params=params)
        name = filename or Path(getattr(file, "name", "upload")).name
        form = {key: str(value) for key, value in (data or {}).items()}
        return self._json(self.request("POST", path, files={field: (name, file)}, data=form or None,
                                       params=params))

    def job(self, job: int | str | Mapping[str, Any]) -> dict[str, Any]:
        """The job as ``GET /jobs/{id}`` gives it now; ``job`` is its id, its JSON or its URL."""
        if isinstance(job, Mapping):
            job = job.get("url") or job["id"]
        return self.get(job if isinstance(job, str) and not job.isdigit() else f"/jobs/{job}")

    def wait(self, job: int | str | Mapping[str, Any], *, timeout: float = 600.0, interval: float = 0.5,
             max_interval: float = 5.0) -> dict[str, Any]:
        """Poll ``GET /jobs/{id}`` until the job has finished and return it; :class:`JobFailed` when it failed,
        :class:`JobTimeout` after ``timeout`` seconds. The pause between polls grows to ``max_interval``."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.job(job)
            if state["status"] == "failed":
                raise JobFailed(state)
            if state["status"] in DONE:
                return state
            if time.monotonic() >= deadline:
                raise JobTimeout(state, timeout)
            time.sleep(min(interval, max(deadline - time.monotonic(), 0)))
            interval = min(interval * 1.5, max_interval)

    def download(self, source: str | Mapping[str, Any], destination: str | os.PathLike[str] | IO[bytes], *,
                 chunk_size: int = 1 << 16) -> Path | None:
        """Stream a file the API serves (a path, or a finished job's JSON: its ``result_url``) to
        ``destination``: a file object, a file name, or a folder (the server's file name is kept). Returns the
        path written, or None for a file object."""
        if isinstance(source, Mapping):
            if not source.get("result_url"):
                raise ClientError(f"job {source.get('id')} has no result to download (status "
                                  f"{source.get('status')}); wait for it first")
            source = source["result_url"]
        with self.http.stream("GET", _api_path(source)) as response:
            self._checked(response)
            if hasattr(destination, "write"):
                for chunk in response.iter_bytes(chunk_size):
                    destination.write(chunk)  # type: ignore[union-attr]
                return None
            target = Path(destination)
            if target.is_dir():
                target = target / _file_name(response, source)
            partial = target.with_name(target.name + ".part")
            with open(partial, "wb") as out:
                for chunk in response.iter_bytes(chunk_size):
                    out.write(chunk)
            partial.replace(target)
            return target


def _file_name(response: httpx.Response, source: str) -> str:
    """The file name of Content-Disposition, else the URL's last part; never a path."""
    found = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', response.headers.get("Content-Disposition", ""))
    name = Path(found.group(1) if found else source.rstrip("/").rsplit("/", 1)[-1]).name
    return name if name not in {"", ".", ".."} else "download"
