"""Installing SEER bundles as reference data: name and version from the bundle, side by side, bad files refused."""
import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from registry.db import db_session
from registry.models import ReferenceInstall
from staging_tables.staging.reference import UnknownAlgorithm, installed_algorithm

from .conftest import EOD, PEDIATRIC


def test_bundles_install_side_by_side_and_load_by_name_or_version(app, no_reference_tables, install, store, eod_next):
    first = install(EOD)
    assert "installed staging-algorithm eod_public version 3.3 (141 schemas" in first.output
    install(PEDIATRIC)
    install(eod_next)
    rows = db_session.execute(select(ReferenceInstall.name, ReferenceInstall.version)
                              .order_by(ReferenceInstall.id)).all()
    assert rows == [("eod_public", "3.3"), ("pediatric", "1.3"), ("eod_public", "3.4")]
    assert len(list((store / "staging-algorithm").iterdir())) == 3
    assert (installed_algorithm("eod_public").name, installed_algorithm("eod_public").version) == ("eod_public", "3.4")
    assert installed_algorithm("eod_public-3.3").version == "3.3"
    assert installed_algorithm("pediatric").name == "pediatric"
    assert installed_algorithm("eod_public-3.3") is installed_algorithm("eod_public-3.3")  # loaded once
    listing = app.test_cli_runner().invoke(args=["staging", "list"])
    assert listing.exit_code == 0
    assert [line.split()[0] for line in listing.output.splitlines()] == ["eod_public-3.4", "pediatric-1.3",
                                                                         "eod_public-3.3"]
    with pytest.raises(UnknownAlgorithm, match=r"no staging algorithm 'cs' is installed \(installed: eod_public-3.3, "
                                               r"eod_public-3.4, pediatric-1.3\)"):
        installed_algorithm("cs")


def _zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, data in files.items():
            out.writestr(name, data)
    return buffer.getvalue()


def test_corrupt_or_foreign_files_are_refused_and_change_nothing(app, no_reference_tables, install, store, tmp_path):
    install(EOD)
    schema = json.dumps({"id": "x", "algorithm": "a", "version": "1", "schema_selection_table": "t"})
    other = json.dumps({"id": "y", "algorithm": "b", "version": "2", "schema_selection_table": "t"})
    bad_files = {
        "truncated.zip": EOD.read_bytes()[:100_000],
        "empty.zip": _zip({"readme.txt": "nothing here"}),
        "mixed.zip": _zip({"b/schemas/x.json": schema, "b/schemas/y.json": other}),
        "broken-json.zip": _zip({"b/schemas/x.json": "{not json"}),
    }
    messages = {}
    for name, data in bad_files.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = install(path, expect_ok=False)
        assert result.exit_code == 1
        messages[name] = result.output
    assert all(f"{name} is not a valid staging-algorithm" in text for name, text in messages.items())
    assert all("Expected a SEER staging algorithm bundle" in text for text in messages.values())
    assert "not a zip file or folder" in messages["truncated.zip"]
    assert "no schemas/*.json found" in messages["empty.zip"]
    assert "schemas disagree on algorithm/version" in messages["mixed.zip"]
    assert "schemas/x.json" in messages["broken-json.zip"]
    assert db_session.scalar(select(func.count(ReferenceInstall.id))) == 1
    assert len(list((store / "staging-algorithm").iterdir())) == 1
