"""Fixtures: official NAACCR dictionaries installed through the product's own reference install."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.reference import REFERENCE_DIR

NAACCR_DIR = Path(REFERENCE_DIR) / "naaccr"
DICTIONARY_DIR = NAACCR_DIR / "dictionaries"
SAMPLES_DIR = NAACCR_DIR / "samples"
FLAT_DIR = SAMPLES_DIR / "flat-and-xml"
XSD_18 = NAACCR_DIR / "xsd" / "naaccr_data_1.8.xsd"

assert NAACCR_DIR.is_dir(), f"NAACCR reference data not found at {NAACCR_DIR}: ../shared must sit beside the clone"


@pytest.fixture(scope="session")
def reference_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for installed copies across tests (an install copies a file only once)."""
    return tmp_path_factory.mktemp("reference-store")


@pytest.fixture
def install_dictionaries(app, reference_store):
    """Install base dictionaries by version (``"250"``) or any dictionary file, as an administrator would."""
    from registry.audit import SYSTEM
    from registry.reference import install

    def installing(*entries: str | Path):
        for entry in entries:
            path = Path(entry) if isinstance(entry, Path) else DICTIONARY_DIR / f"naaccr-dictionary-{entry}.xml"
            install("naaccr-dictionary", path, actor=SYSTEM, store=reference_store)
    return installing


@pytest.fixture
def dictionaries(install_dictionaries):
    """The versions the product writes, installed."""
    install_dictionaries("240", "250", "260")
