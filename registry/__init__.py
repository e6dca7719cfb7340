"""Cancer registry core. The app factory is imported lazily so that ``registry.naaccr`` and the
other pure libraries can be used without loading Flask."""
from __future__ import annotations

from typing import Any


def create_app(overrides: dict[str, Any] | None = None):  # noqa: ANN201 - Flask is imported on demand
    from registry.app import create_app as factory
    return factory(overrides)


__all__ = ["create_app"]
