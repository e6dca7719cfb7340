"""SEER staging bundles as installed reference data, and the loaded algorithm for each install.

``flask --app wsgi reference install staging-algorithm eod_public-3.3.zip`` checks that the whole bundle
loads; its name and version come from the bundle's schemas, so several algorithms and versions sit side
by side. Loading a bundle takes up to 2 s, so every loaded :class:`Algorithm` is kept per stored file
content (its SHA-256) for the life of the process; the check at install time seeds that cache.
"""
from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from registry.errors import NotFound
from registry.files import sha256_of
from registry.models import ReferenceInstall
from registry.reference import InvalidReference, ReferenceInfo, current, installed, reference_kind

from .bundle import BundleError
from .engine import Algorithm, load_algorithm

KIND = "staging-algorithm"
INSTALL_HINT = f"flask --app wsgi reference install {KIND} BUNDLE.zip"

_cache: dict[tuple[str, int], Algorithm] = {}
_lock = threading.Lock()
#: Enough for every published algorithm plus an old and a new version of one; older entries are dropped.
CACHE_SIZE = 6


class UnknownAlgorithm(NotFound):
    """No installed staging algorithm answers to the name (and version) asked for."""


def _remember(checksum: str, algorithm: Algorithm) -> None:
    with _lock:
        _cache[(checksum, int(algorithm.year_current))] = algorithm
        while len(_cache) > CACHE_SIZE:
            _cache.pop(next(iter(_cache)))


@reference_kind(KIND, "a SEER staging algorithm bundle (zip with schemas/*.json and tables/*.json, e.g. "
                      "eod_public-3.3.zip) whose schemas all name the same algorithm and version")
def check_bundle(path: Path) -> ReferenceInfo:
    checksum = sha256_of(path)
    algorithm = _cache.get((checksum, dt.date.today().year))
    if algorithm is None:
        try:
            algorithm = load_algorithm(path)
        except BundleError as exc:
            raise InvalidReference(str(exc)) from None
        _remember(checksum, algorithm)
    return ReferenceInfo(name=algorithm.name, version=algorithm.version,
                         summary=f"{len(algorithm.schemas)} schemas, {len(algorithm.tables)} tables")


def algorithm_for(record: ReferenceInstall) -> Algorithm:
    """The loaded algorithm of one install (loaded once per file content and calendar year)."""
    key = (record.checksum, dt.date.today().year)
    hit = _cache.get(key)
    if hit is None:  # two threads may both load once; the result is the same
        try:
            hit = load_algorithm(record.stored_path)
        except BundleError as exc:
            raise UnknownAlgorithm(f"installed {record.name} {record.version} cannot be read from "
                                   f"{record.stored_path}: {exc}") from None
        _remember(record.checksum, hit)
    return hit


def split_spec(spec: str) -> tuple[str, str | None]:
    """``eod_public-3.3`` -> (``eod_public``, ``3.3``); a bare name -> (name, None).

    A name that is itself installed wins, so an algorithm whose name holds a hyphen still resolves.
    """
    spec = spec.strip()
    names = {r.name for r in installed(KIND)}
    if spec in names or "-" not in spec:
        return spec, None
    name, _, version = spec.rpartition("-")
    return name, version


def find_install(spec: str) -> ReferenceInstall:
    """The install named ``NAME`` (newest install) or ``NAME-VERSION``; UnknownAlgorithm names what exists."""
    name, version = split_spec(spec)
    record = current(KIND, name=name, version=version)
    if record is None:
        available = sorted({f"{r.name}-{r.version}" for r in installed(KIND)})
        have = (f"installed: {', '.join(available)}" if available
                else f"none is installed; install one with {INSTALL_HINT}")
        raise UnknownAlgorithm(f"no staging algorithm '{spec}' is installed ({have})")
    return record


def installed_algorithm(spec: str) -> Algorithm:
    """The loaded algorithm for ``NAME`` (the newest install of that name) or ``NAME-VERSION``."""
    return algorithm_for(find_install(spec))


def installed_algorithms() -> list[ReferenceInstall]:
    """Staging installs, newest first."""
    return installed(KIND)
