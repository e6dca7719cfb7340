"""Shared fixtures for the staging engine tests; the full CS conformance run is opt-in (STAGING_CONFORMANCE=1)."""
import os

import pytest

from staging_tables.staging import load_algorithm
from tests.reference import REFERENCE_DIR

STAGING_DIR = REFERENCE_DIR / "staging"
ALGORITHMS = STAGING_DIR / "algorithms"
CS_TESTS = STAGING_DIR / "cs-tests"
YEAR_CURRENT = 2026  # fixed so ``{{ctx_year_current}}`` ranges give the same answer every year


def pytest_configure(config):
    config.addinivalue_line("markers", "conformance: full CS 02.05.50 conformance files (set STAGING_CONFORMANCE=1)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("STAGING_CONFORMANCE") == "1":
        return
    skip = pytest.mark.skip(reason="full conformance run: set STAGING_CONFORMANCE=1")
    for item in items:
        if "conformance" in item.keywords:
            item.add_marker(skip)


def _bundle(name):
    path = ALGORITHMS / name
    if not path.exists():
        pytest.skip(f"reference bundle {path} not available")
    return load_algorithm(path, year_current=YEAR_CURRENT)


@pytest.fixture(scope="session")
def cs_alg():
    return _bundle("cs-02.05.50.zip")


@pytest.fixture(scope="session")
def eod_alg():
    return _bundle("eod_public-3.3.zip")
