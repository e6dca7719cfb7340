"""Shared fixtures: the official NAACCR reference files, read in place (never copied into the product)."""
from pathlib import Path

import pytest

from registry.naaccr import DictionaryStore
from tests.reference import REFERENCE_DIR

NAACCR_DIR = Path(REFERENCE_DIR) / "naaccr"
DICTIONARY_DIR = NAACCR_DIR / "dictionaries"
SAMPLES_DIR = NAACCR_DIR / "samples"
READER_CASES = NAACCR_DIR / "reader-cases"
VALIDITY_DIR = NAACCR_DIR / "validity"
XSD_18 = NAACCR_DIR / "xsd" / "naaccr_data_1.8.xsd"
USER_DICTIONARY_TESTS = DICTIONARY_DIR / "user-dictionary-tests"

assert NAACCR_DIR.is_dir(), f"NAACCR reference data not found at {NAACCR_DIR}: ../shared must sit beside the clone"


@pytest.fixture(scope="session")
def store() -> DictionaryStore:
    return DictionaryStore.from_directory(DICTIONARY_DIR)


@pytest.fixture(scope="session")
def xsd():
    import xmlschema

    return xmlschema.XMLSchema(str(XSD_18))
