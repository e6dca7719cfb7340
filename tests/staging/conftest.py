"""Shared fixtures for the staging engine tests; the full CS conformance files run in every `make test`
(about 30 s); `-m "not conformance"` leaves them out while iterating."""

import pytest

from staging_tables.staging import load_algorithm
from tests.reference import REFERENCE_DIR

STAGING_DIR = REFERENCE_DIR / "staging"
ALGORITHMS = STAGING_DIR / "algorithms"
CS_TESTS = STAGING_DIR / "cs-tests"
YEAR_CURRENT = 2026  # fixed so ``{{ctx_year_current}}`` ranges give the same answer every year


def pytest_configure(config):
    config.addinivalue_line("markers", "conformance: full CS 02.05.50 conformance files")


def _bundle(name):
    path = ALGORITHMS / name
    assert path.exists(), f"reference bundle {path} is missing: ../shared/reference must sit beside the clone"
    return load_algorithm(path, year_current=YEAR_CURRENT)


@pytest.fixture(scope="session")
def cs_alg():
    return _bundle("cs-02.05.50.zip")


@pytest.fixture(scope="session")
def eod_alg():
    return _bundle("eod_public-3.3.zip")
