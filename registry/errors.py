"""Errors every operation raises, each naming the field or record it is about."""
from __future__ import annotations


class RegistryError(Exception):
    """Base of the errors a user can act on; the message is shown as it is."""


class InvalidInput(RegistryError):
    """One or more fields are wrong; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str], record: str | None = None):
        self.errors = errors
        self.record = record
        where = f"{record}: " if record else ""
        super().__init__(where + "; ".join(f"{field}: {message}" for field, message in errors.items()))


class NotFound(RegistryError):
    pass


class Conflict(RegistryError):
    """Someone else saved the record first; nothing of this save was written."""

    def __init__(self, message: str, *, current_version: int | None = None,
                 changed: dict[str, list] | None = None):
        self.current_version = current_version
        self.changed = changed or {}
        super().__init__(message)


class NotAllowed(RegistryError):
    pass
