"""Requests per API token in a fixed window (REGISTRY_API_RATE_LIMIT, e.g. ``600/minute``).

The count is kept in Redis when REDIS_URL is set (INCR of a key per token and window, which every web worker and
machine share), else in the token's own row by one atomic UPDATE … RETURNING, so two workers never both read the
old count. A window is the clock's second, minute, hour or day; the first request of a new window starts at 1.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from sqlalchemy import case, update

from registry.db import db_session
from registry.models import ApiToken

#: On unless configured otherwise: ten requests a second on average is more than a script that polls jobs and
#: pages through lists needs, and stops a runaway loop from tying up the web workers.
DEFAULT_LIMIT = "600/minute"
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_redis_clients: dict[str, object] = {}


@dataclass(frozen=True)
class RateLimit:
    requests: int
    seconds: int
    unit: str

    def __str__(self) -> str:
        return f"{self.requests} requests a {self.unit}"


@lru_cache(maxsize=8)
def parse_rate_limit(text: str | None) -> RateLimit | None:
    """``600/minute`` (second, minute, hour or day, plural allowed) as a limit; ``off``, ``0`` or empty: none."""
    text = (text or "").strip().lower()
    if text in {"", "0", "off", "none"}:
        return None
    match = re.fullmatch(r"(\d+)\s*/\s*(second|minute|hour|day)s?", text)
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"REGISTRY_API_RATE_LIMIT: '{text}' is not a limit such as 600/minute "
                         "(per second, minute, hour or day; off for none)")
    return RateLimit(int(match.group(1)), _UNITS[match.group(2)], match.group(2))


def _now() -> float:
    return time.time()


def _redis(url: str):
    if url not in _redis_clients:
        from redis import Redis
        _redis_clients[url] = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _redis_clients[url]


def _count_in_redis(url: str, token_id: int, window: int, limit: RateLimit) -> int:
    key = f"registry:api-rate:{token_id}:{window}"
    pipe = _redis(url).pipeline()
    pipe.incr(key)
    pipe.expire(key, limit.seconds + 5)
    return int(pipe.execute()[0])


def _count_in_database(token_id: int, window: int) -> int:
    """One UPDATE … RETURNING, committed at once: the row lock orders concurrent requests, and the count is kept
    whatever the request itself does after (a refused or rolled-back request still counted)."""
    same = ApiToken.rate_window == window
    count = db_session.execute(
        update(ApiToken).where(ApiToken.id == token_id)
        .values(rate_count=case((same, ApiToken.rate_count + 1), else_=1), rate_window=window)
        .returning(ApiToken.rate_count)).scalar_one()
    db_session.commit()
    return int(count)


def seconds_to_wait(token_id: int) -> tuple[RateLimit, int] | None:
    """Count this request against its token; the limit and the seconds until its window ends when over it."""
    limit = parse_rate_limit(current_app.config.get("REGISTRY_API_RATE_LIMIT", DEFAULT_LIMIT))
    if limit is None:
        return None
    now = _now()
    window = int(now // limit.seconds) * limit.seconds
    url = current_app.config.get("REDIS_URL")
    count = None
    if url:
        from redis.exceptions import RedisError
        try:
            count = _count_in_redis(url, token_id, window, limit)
        except RedisError:
            current_app.logger.warning("API rate limit: Redis at REDIS_URL did not answer; counting in the database")
    if count is None:
        count = _count_in_database(token_id, window)
    if count <= limit.requests:
        return None
    return limit, max(1, math.ceil(window + limit.seconds - now))
