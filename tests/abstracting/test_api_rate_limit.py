"""Requests per API token (issue 24): over REGISTRY_API_RATE_LIMIT a token gets 429 with the error JSON and
Retry-After until its window ends; counted in the token's row without Redis, in Redis with it."""
from __future__ import annotations

import os
import secrets
import threading

import pytest
from sqlalchemy import select

from abstracts import ratelimit
from registry.db import db_session
from registry.models import ApiToken

#: The start of a minute, far from the test run's real clock (the windows are the clock's).
MINUTE = 1_900_000_020


@pytest.fixture
def clock(monkeypatch):
    """A settable clock for the rate limit's windows."""
    now = {"t": float(MINUTE)}
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    return now


def _three_a_minute_then_429(app, api, clock, start: int = MINUTE):
    app.config["REGISTRY_API_RATE_LIMIT"] = "3/minute"
    call, other = api("registrar", "rate-a"), api("registrar", "rate-b")
    clock["t"] = start + 15
    assert [call("GET", "/patients").status_code for _ in range(3)] == [200, 200, 200]
    refused = call("GET", "/patients")
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "rate_limited" and "3 requests a minute" in error["message"]
    assert refused.headers["Retry-After"] == "45" and error["retry_after"] == 45
    assert call("POST", "/patients", json={}).status_code == 429, "writes count against the same limit"
    assert other("GET", "/patients").status_code == 200, "another token has its own count"
    clock["t"] = start + 60
    assert call("GET", "/patients").status_code == 200, "a new window starts again at 1"
    return call


def test_a_token_over_its_limit_is_refused_until_its_window_ends(app, api, clock):
    call = _three_a_minute_then_429(app, api, clock)
    token = db_session.scalar(select(ApiToken).where(ApiToken.user_id == call.user.id))
    db_session.refresh(token)
    assert (token.rate_window, token.rate_count) == (MINUTE + 60, 1)


def test_a_refused_or_failed_request_still_counts(app, api, clock):
    app.config["REGISTRY_API_RATE_LIMIT"] = "2/hour"
    call = api("registrar", "rate-c")
    assert call("POST", "/patients", json={"sex": "Q"}).status_code == 422
    assert call("GET", "/patients/999999").status_code == 404
    refused = call("GET", "/patients")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 3600 - MINUTE % 3600


def test_off_means_no_limit_and_no_count(app, api, clock):
    app.config["REGISTRY_API_RATE_LIMIT"] = "off"
    call = api("researcher", "rate-d")
    assert {call("GET", "/codes").status_code for _ in range(5)} == {200}
    token = db_session.scalar(select(ApiToken).where(ApiToken.user_id == call.user.id))
    assert token.rate_count == 0 and token.rate_window is None


def test_concurrent_requests_are_each_counted_once(app, api, backend):
    """Six threads of eight requests against a limit of 20: the atomic UPDATE lets exactly 20 through."""
    app.config["REGISTRY_API_RATE_LIMIT"] = "20/day"
    call = api("researcher", "rate-e")
    statuses: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        with app.app_context():
            got = [call("GET", "/codes").status_code for _ in range(8)]
            db_session.remove()
        with lock:
            statuses.extend(got)
    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [200, 429] and statuses.count(200) == 20, statuses


def test_the_limit_is_counted_in_redis_when_configured(app, api, clock):
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown
    redis = Redis.from_url(url)
    try:
        redis.ping()
    except RedisDown:
        pytest.skip(f"no Redis at {url}")
    start = 60 * (secrets.randbelow(10**6) + 2 * 10**7)  # a window no other run of this test shares
    try:
        app.config["REDIS_URL"] = url
        call = _three_a_minute_then_429(app, api, clock, start)
        token = db_session.scalar(select(ApiToken).where(ApiToken.user_id == call.user.id))
        assert token.rate_count == 0, "with Redis the token's row is not written"
        key = f"registry:api-rate:{token.id}:{start}"
        assert int(redis.get(key)) == 5 and 0 < redis.ttl(key) <= 65
    finally:
        for window in (start, start + 60):
            for key in redis.scan_iter(f"registry:api-rate:*:{window}"):
                redis.delete(key)


def test_without_an_answer_from_redis_the_database_counts(app, api, clock):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    _three_a_minute_then_429(app, api, clock)


def test_a_misspelt_limit_stops_the_start(database_url):
    from registry.app import create_app
    with pytest.raises(ValueError, match="600/minute"):
        create_app({"DATABASE_URL": database_url, "TESTING": True, "REGISTRY_API_RATE_LIMIT": "600 a minute"})
    assert ratelimit.parse_rate_limit("10/seconds") == ratelimit.RateLimit(10, 1, "second")
    assert ratelimit.parse_rate_limit("off") is None and ratelimit.parse_rate_limit("0") is None


def test_the_document_names_429_and_retry_after(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    answer = spec["paths"]["/patients"]["get"]["responses"]["429"]
    assert "Retry-After" in answer["headers"] and "REGISTRY_API_RATE_LIMIT" in answer["description"]
    assert "429" not in spec["paths"]["/openapi.json"]["get"]["responses"]
