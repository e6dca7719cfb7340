"""Fixtures of the multiple-primary engine tests: the official tables and test files of the reference folder."""
import pytest

from staging_tables.multiple_primaries import engine
from tests.reference import REFERENCE_DIR

MPH_DIR = REFERENCE_DIR / "algorithms" / "mph"


def pytest_configure(config):
    config.addinivalue_line("markers", "conformance: full conformance files of the reference folder")


@pytest.fixture(scope="session")
def mph_dir():
    assert MPH_DIR.is_dir(), f"reference folder {MPH_DIR} is missing: ../shared/reference must sit beside the clone"
    return MPH_DIR


@pytest.fixture(scope="session")
def mp_engine(mph_dir):
    return engine(mph_dir)
