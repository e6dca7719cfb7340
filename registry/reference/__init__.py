"""Installing official reference tables (NAACCR dictionaries, SEER staging bundles, life tables …).

Publishers change their tables every year, so the product installs them from the files they
distribute instead of shipping copies. Each kind registers a checker that reads the file and
says what it is (name, version, summary) or refuses it with a message saying what was expected.
An accepted file is copied under ``instance/reference/<kind>/`` and recorded — kind, name,
version, source file name, SHA-256, who and when — in one audited transaction; a refused file
changes nothing.
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import has_request_context, request
from sqlalchemy import Select, select
from sqlalchemy.orm.attributes import instance_state

from registry.audit import Actor, operation
from registry.db import db_session
from registry.errors import RegistryError
from registry.files import sha256_of
from registry.models import ReferenceInstall, User


class InvalidReference(RegistryError):
    """The file is not what its kind expects; the message says what was expected."""


@dataclass(frozen=True)
class ReferenceInfo:
    name: str
    version: str
    summary: str


@dataclass(frozen=True)
class ReferenceKind:
    name: str
    expected: str
    check: Callable[[Path], ReferenceInfo]


KINDS: dict[str, ReferenceKind] = {}


def reference_kind(name: str, expected: str) -> Callable[[Callable[[Path], ReferenceInfo]], Callable]:
    """Register ``check(path) -> ReferenceInfo`` for a kind; ``expected`` describes a valid file."""
    def register(check: Callable[[Path], ReferenceInfo]) -> Callable[[Path], ReferenceInfo]:
        KINDS[name] = ReferenceKind(name, expected, check)
        return check
    return register


def version_in_file_name(path: Path, pattern: str) -> str:
    """The version a publisher put in a file's name (``pattern``'s first group), else the file's stem."""
    found = re.search(pattern, path.name)
    return found.group(1) if found else path.name.split(".")[0][:60]


def install(kind: str, path: str | Path, *, actor: Actor | User, store: Path) -> ReferenceInstall:
    """Check ``path`` as ``kind``, copy it into ``store`` and record the install."""
    from registry.reference import kinds  # noqa: F401 - registers the built-in kinds
    if kind not in KINDS:
        raise InvalidReference(f"unknown kind '{kind}' (known: {', '.join(sorted(KINDS))})")
    source = Path(path)
    if not source.is_file():
        raise InvalidReference(f"{source}: no such file")
    spec = KINDS[kind]
    try:
        info = spec.check(source)
    except InvalidReference as exc:
        raise InvalidReference(f"{source.name} is not a valid {kind}: {exc}. Expected {spec.expected}") from None
    except Exception as exc:  # a corrupt file can fail in any parser; the user gets what was expected
        raise InvalidReference(f"{source.name} is not a valid {kind} ({type(exc).__name__}: {exc}). "
                               f"Expected {spec.expected}") from None
    checksum = sha256_of(source)
    target_dir = store / kind
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{checksum[:12]}-{source.name}"
    copied = not target.exists()
    if copied:
        shutil.copyfile(source, target.with_suffix(target.suffix + ".part"))
        target.with_suffix(target.suffix + ".part").rename(target)
    try:
        with operation(actor, f"reference_install:{kind}") as session:
            who = actor if isinstance(actor, Actor) else Actor.of(actor)
            record = ReferenceInstall(kind=kind, name=info.name, version=info.version, source_file=source.name,
                                      checksum=checksum, stored_path=str(target), summary=info.summary,
                                      installed_by_id=who.user_id, installed_by=who.username)
            session.add(record)
            session.flush()
    except BaseException:
        if copied:
            target.unlink(missing_ok=True)
        raise
    finally:
        if has_request_context():
            request.environ.pop(_REQUEST_KEY, None)
    return record


#: Where a request keeps the install list it read (see :func:`installed`).
_REQUEST_KEY = "registry.reference_installs"


def installed(kind: str | None = None) -> list[ReferenceInstall]:
    """Installs, newest first, of one kind or of all.

    Read once per request: the abstract page asks for half a dozen kinds (dictionaries, lookups, staging, surgery,
    site/histology, hematopoietic rules) and each used to cost a query. Read again after an install in the same
    request and after a rollback (which expires the records read)."""
    if not has_request_context():
        return list(db_session.scalars(_newest_first(kind)))
    records = request.environ.get(_REQUEST_KEY)
    if records is None or any(instance_state(r).expired or instance_state(r).detached for r in records):
        records = request.environ[_REQUEST_KEY] = list(db_session.scalars(_newest_first()))
    return [record for record in records if record.kind == kind] if kind else list(records)


def _newest_first(kind: str | None = None) -> Select:
    stmt = select(ReferenceInstall).order_by(ReferenceInstall.installed_at.desc(), ReferenceInstall.id.desc())
    return stmt.where(ReferenceInstall.kind == kind) if kind else stmt


def current(kind: str, name: str | None = None, version: str | None = None) -> ReferenceInstall | None:
    """The newest install of ``kind`` (and ``name``/``version`` when given), or None."""
    for record in installed(kind):
        if (name is None or record.name == name) and (version is None or record.version == version):
            return record
    return None
