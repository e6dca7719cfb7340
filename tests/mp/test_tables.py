"""The official hematopoietic tables: every row of the loader test files (imsweb/mph) is read and used
with its years; our rule tables are well formed."""
import csv

import pytest

from staging_tables.multiple_primaries.tables import (
    HematoTables, group_of, hematopoietic_dir, histology_groups, histology_rows, histology_subtypes, read_histology_groups,
    read_pair_table, rule_sets, site_tables)


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


def test_the_product_reads_the_official_tables_from_one_place(monkeypatch, tmp_path):
    monkeypatch.setenv("REGISTRY_MP_TABLES", str(tmp_path))
    assert hematopoietic_dir() == tmp_path


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
