"""A served instance for the API client's tests: the test's app on a real port (werkzeug in a thread, same
database), and personal tokens made the way a user makes them."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server


@pytest.fixture
def served(app) -> Iterator[str]:
    """The base URL of ``app`` served over HTTP on 127.0.0.1 (a thread per request)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="served-registry", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.fixture
def token(make_user):
    """``token(role[, username])``: (user, plain token) of a new user of that role."""
    from abstracts.tokens import create_token

    def make(role: str, username: str | None = None):
        user = make_user(role, username or f"client-{role}")
        return user, create_token(user, "client tests")[1]
    return make
