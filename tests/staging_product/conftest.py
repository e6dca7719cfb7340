"""Fixtures for the staging product tests: bundle files, a modified 'next version', and installing them.

Installs go through the real reference mechanism (file copied, row recorded); the loaded algorithm is
cached per file content, so each bundle is parsed once per test session whatever the number of installs.
"""
import json
import zipfile

import pytest

from tests.reference import REFERENCE_DIR

ALGORITHMS = REFERENCE_DIR / "staging" / "algorithms"
EOD = ALGORITHMS / "eod_public-3.3.zip"
PEDIATRIC = ALGORITHMS / "pediatric-1.3.zip"


@pytest.fixture(scope="session")
def eod_next(tmp_path_factory):
    """eod_public '3.4': the 3.3 bundle with one change — breast EOD Primary Tumor 100 becomes regional (RE)."""
    target = tmp_path_factory.mktemp("bundles") / "eod_public-3.4.zip"
    with zipfile.ZipFile(EOD) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name in source.namelist():
            data = source.read(name)
            if "/schemas/" in f"/{name}" and name.endswith(".json"):
                raw = json.loads(data)
                raw["version"] = "3.4"
                data = json.dumps(raw).encode()
            elif name.endswith("tables/extension_bak.json"):
                raw = json.loads(data)
                row = next(r for r in raw["rows"] if r[0] == "100")
                assert row[2] == "VALUE:L"
                row[2] = "VALUE:RE"
                data = json.dumps(raw).encode()
            out.writestr(name, data)
    return target


@pytest.fixture
def store(app, tmp_path):
    app.config["INSTANCE_DIR"] = str(tmp_path)
    return tmp_path / "reference"


@pytest.fixture
def install(app, store):
    """Install a bundle file through the CLI; returns the command's result."""
    runner = app.test_cli_runner()

    def run(path, expect_ok=True):
        result = runner.invoke(args=["reference", "install", "staging-algorithm", str(path)])
        if expect_ok:
            assert result.exit_code == 0, result.output
        return result
    return run


@pytest.fixture
def eod_installed(install):
    install(EOD)
