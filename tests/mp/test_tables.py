"""The official hematopoietic tables: every row of the loader test files (imsweb/mph) is read and used
with its years; our rule tables are well formed."""
import csv
from pathlib import Path

import pytest
from flask import g

from staging_tables.multiple_primaries.tables import (
    HEMATOPOIETIC_FILES, OFFICIAL_DIR, HematoTables, group_of, hematopoietic_dir, histology_groups, histology_rows,
    histology_subtypes, read_hematopoietic, read_histology_groups, read_pair_table, rule_sets, site_tables)
from tests.reference import REFERENCE_DIR


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_row_of_the_pairs_test_file_pairs_in_its_years(mph_dir):
    path = mph_dir / "hematopoietic-pairs-test.csv"
    table = read_pair_table(path)
    rows = _rows(path)
    assert rows
    for row in rows:
        code, other = row["morphology"], row["same primary"]
        first = int(row["start year"] or row["valid start year"])
        last = int(row["end year"] or row["valid end year"] or 9999)
        assert HematoTables.pairs_match(table, code, other, first), row
        assert HematoTables.pairs_match(table, code, other, last), row
        assert not HematoTables.pairs_match(table, code, other, first - 1), row
        if last < 9999:
            assert not HematoTables.pairs_match(table, code, other, last + 1), row
    assert sum(len(pairs) for pairs in table.values()) == len(rows)


def test_every_row_of_the_groups_test_file_is_a_group(mph_dir):
    path = mph_dir / "hematopoietic-groups-test.csv"
    groups = read_histology_groups(path)
    rows = _rows(path)
    assert rows and len(groups) == len(rows)
    for row in rows:
        low, high = int(row["HistologyLow"]), int(row["HistologyHigh"])
        assert group_of(groups, low) == group_of(groups, high) == int(row["HistologyGroupNumber"]), row
    assert group_of(groups, 9999) is None


def test_the_library_reads_the_shipped_copies_unless_told_otherwise(monkeypatch, tmp_path):
    monkeypatch.delenv("REGISTRY_MP_TABLES", raising=False)
    assert hematopoietic_dir() == OFFICIAL_DIR
    assert read_hematopoietic(OFFICIAL_DIR) == read_hematopoietic(REFERENCE_DIR / "algorithms" / "mph")
    monkeypatch.setenv("REGISTRY_MP_TABLES", str(tmp_path))
    assert hematopoietic_dir() == tmp_path


def test_the_product_compares_with_the_newest_install_of_each_table(app, tmp_path):
    from registry.audit import SYSTEM
    from registry.reference import InvalidReference, install
    from staging_tables.multiple_primaries.reference import KIND, installed_hematopoietic
    source = installed_hematopoietic()
    assert [name for name, _ in source] == list(HEMATOPOIETIC_FILES)
    assert all(Path(path).read_bytes() == (OFFICIAL_DIR / name).read_bytes() for name, path in source)
    revised = tmp_path / "Hematopoietic2010SamePrimaryPairs.csv"
    revised.write_text((OFFICIAL_DIR / revised.name).read_text() + "9989/3,2010,,2010,,9991/3\n")
    install(KIND, revised, actor=SYSTEM, store=tmp_path / "store")
    g.pop("_mp_hematopoietic")
    newest = dict(installed_hematopoietic())
    assert Path(newest[revised.name]).read_bytes() == revised.read_bytes()
    wrong = tmp_path / "Hematopoietic2001HistologyGroups.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidReference, match="does not hold the columns"):
        install(KIND, wrong, actor=SYSTEM, store=tmp_path / "store")
    odd = tmp_path / "Hematopoietic2099Pairs.csv"
    odd.write_text(revised.read_text())
    with pytest.raises(InvalidReference, match="is not the name of one of the tables"):
        install(KIND, odd, actor=SYSTEM, store=tmp_path / "store")


def test_rule_tables_are_consistent():
    groups, rows, subtypes, by_site = histology_groups(), histology_rows(), histology_subtypes(), site_tables()
    for rule_set in rule_sets():
        for rule in rule_set.rules:
            for part in rule.args.split(";"):
                key, _, value = part.partition("=")
                named_group = ("both", "not_both", "also", "row", "unless_both") + (
                    ("later",) if rule.check != "behavior_sequence" else ())
                if key.strip() in named_group:
                    assert value in groups, (rule_set.key, rule.step, value)
                if key.strip() in ("each", "review"):
                    assert set(value.split("|")) <= set(groups), (rule_set.key, rule.step, value)
                if key.strip() == "table" and not value.startswith("site:"):
                    assert value in rows or value in subtypes, (rule_set.key, rule.step, value)
                if key.strip() == "table" and value.startswith("site:"):
                    assert value[5:] in by_site
    assert set(by_site["head_neck"].values()) <= set(rows)


@pytest.mark.parametrize("code", ["8500", "8022/3"])
def test_histology_rows_accept_any_or_one_behavior(code):
    assert histology_rows()["breast"][code] == "8500"
