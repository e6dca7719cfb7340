"""Configuration from the environment, with safe defaults for a local install."""
from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _instance_dir() -> Path:
    path = Path(os.environ.get("REGISTRY_INSTANCE_DIR", PROJECT_DIR / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/ (never hard-coded)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _byte_limit(name: str, default: int) -> int | None:
    """A size in bytes from the environment; 0 means no limit (None)."""
    value = int(os.environ.get(name, str(default)))
    return value if value > 0 else None


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping; ``overrides`` (tests) wins over the environment."""
    instance = _instance_dir()
    config = {
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'registry.db'}"),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Requests per API token: N/second, N/minute, N/hour or N/day; "off" for none (docs/api.md).
        "REGISTRY_API_RATE_LIMIT": os.environ.get("REGISTRY_API_RATE_LIMIT", "600/minute"),
        "SECRET_KEY": _secret_key(instance),
        "TIMEZONE": os.environ.get("REGISTRY_TIMEZONE") or None,
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": float(os.environ.get("SESSION_MAX_HOURS", "12")),
        "TRUSTED_PROXY_HOPS": int(os.environ.get("TRUSTED_PROXY_HOPS", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        "PATIENTS_PER_PAGE": 50,
        "JOB_FILES_DIR": str(instance / "job-files"),
        # Largest request body in bytes (uploads included), refused with 413 before it is read; 0: no limit.
        "MAX_CONTENT_LENGTH": _byte_limit("MAX_CONTENT_LENGTH", 100 * 2**20),
        "JOB_FILE_RETENTION_DAYS": float(os.environ.get("JOB_FILE_RETENTION_DAYS", "30")),
        "JOB_MEMORY_LIMIT_MB": int(os.environ.get("JOB_MEMORY_LIMIT_MB", "0")),
        "IMPORT_REPORT_MAX_ROWS": int(os.environ.get("IMPORT_REPORT_MAX_ROWS", "10000")),
        "JOB_HEARTBEAT_SECONDS": float(os.environ.get("JOB_HEARTBEAT_SECONDS", "30")),
        "JOB_STALE_SECONDS": float(os.environ.get("JOB_STALE_SECONDS", "300")),
        "RESEARCH_FILE_DAYS": int(os.environ.get("RESEARCH_FILE_DAYS", "30")),
        "RATE_MIN_CASES": int(os.environ.get("RATE_MIN_CASES", "16")),
        "RATE_MIN_COUNT": int(os.environ.get("RATE_MIN_COUNT", "11")),
        "SURVIVAL_END_POINT_YEAR": int(os.environ.get("SURVIVAL_END_POINT_YEAR") or dt.date.today().year - 1),
    }
    config.update(overrides or {})
    return config
