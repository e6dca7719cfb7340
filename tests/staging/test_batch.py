"""The CSV contract of ``staging run``: inputs repeated, results added, bad rows reported in place."""
import csv

import pytest

from staging_tables.staging import CsvFormatError, stage_csv

from .cs_harness import cs_columns, read_lines


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_cs_rows_round_trip(cs_alg, tmp_path):
    in_keys, out_keys = cs_columns()
    lines = [line.split(",") for _, line in read_lines("cs_integration_sample.txt.gz", every=1500)]
    rows = [[v.strip() for v in values[:42]] for values in lines]
    bad = list(rows[0])
    bad[0] = "C999"  # no schema for this site
    src = write_csv(tmp_path / "in.csv", ["case_id", *in_keys],
                    [[str(i), *r] for i, r in enumerate(rows)] + [["bad", *bad]])
    counts = stage_csv(cs_alg, src, tmp_path / "out.csv")
    out = read_csv(tmp_path / "out.csv")
    with open(tmp_path / "out.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header[:43] == ["case_id", *in_keys]
    assert header[43:46] == ["schema_id", "result", "errors"]
    assert set(out_keys) <= set(header[46:])
    assert len(out) == len(rows) + 1
    for row, values in zip(out, lines):
        assert [row[k] for k in in_keys] == [v.strip() for v in values[:42]]
        year = values[2].strip()
        if year not in ("2019", "2020"):
            assert [row[k] for k in out_keys] == [v.strip() for v in values[42:]], row["case_id"]
    assert sum(row["result"] == "STAGED" for row in out) > len(rows) // 2
    last = out[-1]
    assert last["case_id"] == "bad" and last["result"] == "FAILED_NO_MATCHING_SCHEMA" and last["schema_id"] == ""
    assert "C999" in last["errors"]
    assert counts["FAILED_NO_MATCHING_SCHEMA"] == 1


def test_errors_column_names_table(eod_alg, tmp_path):
    header = ["site", "hist", "year_dx", "behavior", "eod_primary_tumor", "eod_regional_nodes", "eod_mets", "psa"]
    src = write_csv(tmp_path / "in.csv", header, [
        ["C187", "8140", "2020", "3", "123", "000", "00", ""],
        ["C619", "8140", "2021", "3", "200", "000", "00", "10.5"],
        ["C341", "8140", "", "3", "300", "000", "00", ""],
    ])
    stage_csv(eod_alg, src, tmp_path / "out.csv")
    colon, prostate, lung = read_csv(tmp_path / "out.csv")
    assert colon["result"] == "STAGED" and "extension_bao: Invalid 'eod_primary_tumor' value (123)" in colon["errors"]
    assert colon["ss2018_derived"] == "9"
    assert prostate["ss2018_derived"] == "1" and prostate["errors"] == ""
    assert lung["schema_id"] == "lung_v9_2025"  # a blank year selects the 2025+ lung schema
    assert "gleason_score_path" not in colon or colon.get("gleason_score_path", "") == ""


@pytest.mark.parametrize("content,message", [
    ("", "empty file"),
    ("site,hist\nC500,8500\nC500\n", "line 3"),
    ("site,hist,site\nC500,8500,C500\n", "duplicate"),
    ("hist,year_dx\n8500,2020\n", "site"),
    ('site,hist\n"C500,8500\n', "line"),
    ("site,hist,errors\nC500,8500,x\n", "reserved"),
])
def test_malformed_files_raise_clear_errors(eod_alg, tmp_path, content, message):
    src = tmp_path / "in.csv"
    src.write_text(content)
    out = tmp_path / "out.csv"
    with pytest.raises(CsvFormatError, match=message):
        stage_csv(eod_alg, src, out)
    assert not out.exists()
    assert list(tmp_path.glob("*.tmp")) == []


def test_missing_input_file(eod_alg, tmp_path):
    with pytest.raises(CsvFormatError, match="cannot open"):
        stage_csv(eod_alg, tmp_path / "nope.csv", tmp_path / "out.csv")
