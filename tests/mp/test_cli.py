"""``flask --app wsgi mp compare``: pairs in, verdicts out; malformed rows reported in their row, malformed
files refused with exit 1."""
import csv
import importlib

from click.testing import CliRunner

from registry.cli import COMMAND_GROUPS
from staging_tables.multiple_primaries.cli import INPUT_COLUMNS, OUTPUT_COLUMNS, mp_group

HEADER = "case," + ",".join(INPUT_COLUMNS)


def _run(tmp_path, text, mph_dir, encoding="utf-8"):
    source, target = tmp_path / "pairs.csv", tmp_path / "out.csv"
    if isinstance(text, bytes):
        source.write_bytes(text)
    else:
        source.write_text(text, encoding=encoding)
    result = CliRunner().invoke(mp_group, ["compare", "--input", str(source), "--output", str(target),
                                           "--tables", str(mph_dir)])
    return result, target


def _read(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_command_group_is_registered():
    assert "staging_tables.multiple_primaries.cli:mp_group" in COMMAND_GROUPS
    module, _, name = "staging_tables.multiple_primaries.cli:mp_group".partition(":")
    assert getattr(importlib.import_module(module), name) is mp_group


def test_compare_adds_the_verdict_and_passes_other_columns(tmp_path, mph_dir):
    text = "\n".join([HEADER + ",note",
                      "bilateral,2019,03,02,C504,8500,3,1,2019,08,20,C504,8500,3,2,keep me",
                      "prostate,2023,03,18,C619,8140,3,0,2015,08,22,C619,8140,3,0,",
                      "laterality,2021,01,05,C504,8500,3,1,2021,02,01,C502,8500,3,9,"]) + "\n"
    result, target = _run(tmp_path, text, mph_dir)
    assert result.exit_code == 0, result.output
    assert "compared 3 pairs" in result.output
    rows = _read(target)
    assert list(rows[0])[-3:] == list(OUTPUT_COLUMNS) and rows[0]["note"] == "keep me"
    assert (rows[0]["mp_result"], rows[0]["mp_step"]) == ("MULTIPLE_PRIMARIES", "Solid Tumor 2018+ Breast M7")
    assert rows[1]["mp_result"] == "SINGLE_PRIMARY" and "prostate" in rows[1]["mp_reason"]
    assert rows[2]["mp_result"] == "QUESTIONABLE" and "tumors_in_both_breasts" in rows[2]["mp_reason"]


def test_answers_column_settles_a_question(tmp_path, mph_dir):
    text = HEADER + ",mp_answers\nq,2021,01,05,C504,8500,3,1,2021,02,01,C502,8500,3,9,tumors_in_both_breasts=yes\n"
    result, target = _run(tmp_path, text, mph_dir)
    assert result.exit_code == 0, result.output
    assert _read(target)[0]["mp_result"] == "MULTIPLE_PRIMARIES"


def test_malformed_rows_name_the_column(tmp_path, mph_dir):
    text = "\n".join([HEADER,
                      "site,2019,03,02,C80,8500,3,1,2019,08,20,C504,8500,3,2",
                      "beh,2019,03,02,C504,8500,3,1,2019,08,20,C504,8500,7,2",
                      "year,2019,03,02,C504,8500,3,1,,08,20,C504,8500,3,2",
                      "month,2019,ab,02,C504,8500,3,1,2019,08,20,C504,8500,3,2"]) + "\n"
    result, target = _run(tmp_path, text, mph_dir)
    assert result.exit_code == 0, result.output
    assert "malformed 4" in result.output
    rows = _read(target)
    assert all(row["mp_result"] == "" for row in rows)
    assert [row["mp_reason"].split(" ")[1] for row in rows] == ["site1", "beh2", "year2", "month1"]


def test_missing_columns_exit_1(tmp_path, mph_dir):
    result, target = _run(tmp_path, "year1,site1\n2020,C504\n", mph_dir)
    assert result.exit_code == 1
    assert "lacks the column(s)" in result.output and "hist1" in result.output
    assert not target.exists()


def test_a_file_that_is_not_csv_exits_1(tmp_path, mph_dir):
    result, _ = _run(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", mph_dir)
    assert result.exit_code == 1 and "not a text CSV file" in result.output
    result, _ = _run(tmp_path, "", mph_dir)
    assert result.exit_code == 1 and "lacks the column(s)" in result.output


def test_unquoted_commas_stay_in_the_last_column(tmp_path, mph_dir):
    text = HEADER + ",reason\nx,2019,03,02,C504,8500,3,1,2019,08,20,C504,8500,3,2,Tumors on both sides, right and left\n"
    result, target = _run(tmp_path, text, mph_dir)
    assert result.exit_code == 0, result.output
    row = _read(target)[0]
    assert row["reason"] == "Tumors on both sides, right and left" and row["mp_result"] == "MULTIPLE_PRIMARIES"
