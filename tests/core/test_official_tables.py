"""The official tables shipped in staging_tables/official/: unchanged copies, installed through the
recorded reference path by bootstrap, demo-data and the fixtures, never shadowing a user's newer edition,
and a fresh installation that works without a manual install."""
from __future__ import annotations

import csv
import hashlib
import re
import zipfile

import pytest
import xmlschema
from sqlalchemy import func, select

from abstracts import operations as ops
from registry.audit import SYSTEM
from registry.db import db_session
from registry.edits import run_edits
from registry.models import AuditEntry, ReferenceInstall
from registry.naaccr.lookups import KIND as LOOKUPS_KIND, installed_lookups, read_lookups
from registry.reference import InvalidReference, current, install
from registry.reference.official import MANIFEST, OFFICIAL_DIR, install_official_tables, official_tables
from reports.survival.lifetables import load_life_table
from staging_tables.surgery import read_surgery_edition, surgery_edition
from tests.abstracting.conftest import PATIENT, TUMOR
from tests.edits.cases import BASE_PATIENT, BASE_TUMOR, TODAY
from tests.reference import REFERENCE_DIR

SHIPPED = official_tables()
KINDS = {"naaccr-dictionary", "naaccr-lookups", "staging-algorithm", "site-histology", "surgery-tables", "life-table",
         "mp-hematopoietic", "icdo3-topography", "icdo3-morphology", "icdo3-terms"}


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("table", SHIPPED, ids=lambda t: t.path.name)
def test_each_shipped_table_is_an_unchanged_copy_of_the_official_file(table):
    originals = [path for path in REFERENCE_DIR.rglob(table.path.name) if path.is_file()]
    assert originals, f"{table.path.name} is not in the official reference set"
    assert _sha(table.path) in {_sha(path) for path in originals}


def test_the_manifest_lists_every_shipped_file_and_the_provenance_names_each():
    listed = {table.path for table in SHIPPED}
    on_disk = {path for path in OFFICIAL_DIR.rglob("*") if path.is_file()}
    documentation = {MANIFEST, OFFICIAL_DIR / "PROVENANCE.md", OFFICIAL_DIR / "naaccr" / "naaccr-lookups-readme.txt"}
    assert on_disk - documentation == listed
    assert {table.kind for table in SHIPPED} == KINDS
    provenance = (OFFICIAL_DIR / "PROVENANCE.md").read_text()
    for table in SHIPPED:
        stem = re.sub(r"(19|20)[0-9]{2}\.xml\.gz$", "YYYY.xml.gz", table.path.name)
        stem = re.sub(r"_[FM]_(Hist|Alt2)_", "_{F,M}_\\1_", stem)
        assert stem in provenance, f"PROVENANCE.md does not describe {table.path.name}"
    assert provenance.count("| licence |") == 1 and "public domain" in provenance


def test_the_fixtures_installed_every_shipped_table_through_the_recorded_path(app):
    records = db_session.scalars(select(ReferenceInstall)).all()
    assert sorted((r.kind, r.checksum) for r in records) == sorted((t.kind, _sha(t.path)) for t in SHIPPED)
    assert all(r.installed_by == "system" and r.summary for r in records)
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("reference_install:%")))
    assert sorted(actions) == sorted(f"reference_install:{t.kind}:create" for t in SHIPPED)


def test_installing_again_installs_nothing_and_a_users_edition_is_not_shadowed(app, no_reference_tables,
                                                                              tmp_path):
    first = install_official_tables(actor=SYSTEM, store=tmp_path)
    assert len(first) == len(SHIPPED)
    assert install_official_tables(actor=SYSTEM, store=tmp_path) == []

    db_session.query(ReferenceInstall).delete()
    db_session.commit()
    own = tmp_path / "naaccr-lookups-270.zip"
    with zipfile.ZipFile(SHIPPED[3].path) as source, zipfile.ZipFile(own, "w") as out:
        for name in source.namelist():
            out.writestr(name, source.read(name))
        out.writestr("lookups/newItem.csv", "1,One\n")
    install(LOOKUPS_KIND, own, actor=SYSTEM, store=tmp_path)
    told: list[str] = []
    again = install_official_tables(actor=SYSTEM, store=tmp_path, echo=told.append)
    assert LOOKUPS_KIND not in {record.kind for record in again}
    assert current(LOOKUPS_KIND).version == "270" and "newItem" in installed_lookups()
    assert any("naaccr-lookups 'NAACCR lookups' is installed from another file" in line for line in told)


def test_an_interrupted_install_is_completed(app, no_reference_tables, tmp_path):
    life_tables = [t for t in SHIPPED if t.kind == "life-table"]
    install("life-table", life_tables[0].path, actor=SYSTEM, store=tmp_path)
    added = install_official_tables(actor=SYSTEM, store=tmp_path)
    assert sum(record.kind == "life-table" for record in added) == len(life_tables) - 1


def test_bootstrap_on_an_empty_database_installs_them_and_says_so(app, no_reference_tables, tmp_path):
    app.config["INSTANCE_DIR"] = str(tmp_path)
    result = app.test_cli_runner().invoke(args=["bootstrap", "--demo-patients", "0"])
    assert result.exit_code == 0, result.output
    assert "installed staging-algorithm eod_public version 3.3 from the official tables" in result.output
    assert db_session.scalar(select(func.count(ReferenceInstall.id))) == len(SHIPPED)
    assert all(str(tmp_path / "reference") in r.stored_path for r in db_session.scalars(select(ReferenceInstall)))
    again = app.test_cli_runner().invoke(args=["reference", "install-official"])
    assert again.exit_code == 0 and "the official tables are installed" in again.output


def test_a_fresh_installation_works_without_a_manual_install(app, client, login, no_reference_tables, tmp_path):
    """What the set-up issue names: validate the v250 sample, an XSD-valid v260 A export, the breast
    schema in the Stage section, and the site/histology edit from the SEER list."""
    app.config["INSTANCE_DIR"] = str(tmp_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["bootstrap", "--demo-patients", "0"]).exit_code == 0
    sample = REFERENCE_DIR / "naaccr" / "samples" / "naaccr-xml-sample-v250-abstract-100.xml.gz"
    validated = runner.invoke(args=["naaccr", "validate", str(sample)])
    assert validated.exit_code == 0, validated.output

    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    tumor = ops.create_tumor(patient.id, dict(TUMOR, primary_site="C504", histology="8500",
                                              date_of_diagnosis="20250105"), actor=SYSTEM)
    out = tmp_path / "a.xml"
    exported = runner.invoke(args=["naaccr", "export", "--output", str(out), "--version", "260",
                                   "--record-type", "A"])
    assert exported.exit_code == 0, exported.output
    xmlschema.XMLSchema(REFERENCE_DIR / "naaccr" / "xsd" / "naaccr_data_1.8.xsd").validate(str(out))
    assert 'baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-260.xml"' in out.read_text()

    login("registrar")
    page = client.get(f"/patients/{patient.id}/tumors/{tumor.id}").get_data(as_text=True)
    assert re.search(r'id="stage-schema-name">Breast</strong>', page)

    record = BASE_TUMOR | {"primary_site": "C509", "histology": "9510", "behavior": "3"}
    assert "P006" in {failure.edit_id for failure in run_edits(BASE_PATIENT, [record], today=TODAY)}


def test_the_lookups_kind_reads_every_item_and_refuses_what_is_not_a_lookups_zip(tmp_path):
    lookups = read_lookups(SHIPPED[3].path)
    with zipfile.ZipFile(SHIPPED[3].path) as archive:
        files = [name for name in archive.namelist() if name.endswith(".csv")]
    assert len(lookups) == len(files) == 280
    with zipfile.ZipFile(SHIPPED[3].path) as archive:
        name = next(n for n in files if n.endswith("/laterality.csv") or n == "laterality.csv")
        expected = [tuple(row[:2]) for row in csv.reader(archive.read(name).decode().splitlines()) if row]
    assert lookups["laterality"] == expected
    not_zip = tmp_path / "lookups.zip"
    not_zip.write_text("code,label\n")
    with pytest.raises(InvalidReference, match="not a zip file"):
        read_lookups(not_zip)


def test_surgery_codes_come_from_the_edition_of_the_diagnosis_year(app):
    breast_2025 = surgery_edition(2025).table_for("C504", "8500")
    assert breast_2025.title == "Breast"
    labels = {code.code: code.label for code in breast_2025.codes}
    assert labels["B200"].startswith("Partial mastectomy")
    breast_2019 = surgery_edition(2019).table_for("C504", "8500")
    assert surgery_edition(2019).year == 2018 and "20" in {code.code for code in breast_2019.codes}
    assert surgery_edition(1990).year == 2003
    leukemia = surgery_edition(2024).table_for("C421", "9861")
    assert leukemia is not None and leukemia.title != "Breast"
    broken = SHIPPED[0].path  # a NAACCR dictionary is XML, but not surgery tables
    with pytest.raises(InvalidReference, match="not <surgery-tables>"):
        read_surgery_edition(broken)


def test_the_ssa_life_tables_are_joined_over_both_periods_and_sexes(app):
    table = load_life_table()
    assert set(table["sex"]) == {1, 2}
    for sex in (1, 2):
        years = set(table.loc[table["sex"] == sex, "year"])
        assert min(years) == 1900 and max(years) == 2095 and len(years) == 196
    assert not table.duplicated(["sex", "age", "year"]).any()
    assert "US Social Security period life table" in table.attrs["name"]
