"""No CSV the registry writes can run a formula in the spreadsheet that opens it (CSV injection)."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from abstracts import tokens
from registry.csv_safety import SafeWriter, safe_cell, safe_frame
from registry.edits.cli import edits_group
from tests.edits.cases import BASE_PATIENT, BASE_TUMOR
from tests.edits.test_cli import _report, _to_naaccr, _write
from tests.security.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("registry", "reports", "abstracts", "staging_tables")
HYPERLINK = '=HYPERLINK("http://x.test","tok")'


@pytest.mark.parametrize("text", [HYPERLINK, "+1+cmd", "-2+3", "@SUM(A1:A9)", "\t=1+2", "\r=1+2", "-", "=",
                                  "-1.5e", "--1"])
def test_text_that_a_spreadsheet_would_run_is_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-1.5, -3, 0.25, "-1.5", "+2", "-0.0312", "-2e-3", ".5", "C509", "8500", "9",
                                   "", None, "a=b", "O'Brien", " =1"])
def test_numbers_codes_and_ordinary_text_stay_as_they_are(value):
    assert safe_cell(value) == value


def test_the_writers_quote_every_cell_and_keep_numbers():
    out = io.StringIO()
    SafeWriter(out, lineterminator="\n").writerows([["name", "value"], [HYPERLINK, -1.5], ["@x", "-0.25"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["name", "value"], ["'" + HYPERLINK, "-1.5"], ["'@x", "-0.25"]]
    frame = pd.DataFrame({"group": ["=1+2", "Distant"], "survival": [-0.5, 0.75], "as_text": ["-0.5", "-x"]})
    written = list(csv.reader(io.StringIO(safe_frame(frame).to_csv(index=False))))
    assert written == [["group", "survival", "as_text"], ["'=1+2", "-0.5", "-0.5"], ["Distant", "0.75", "'-x"]]


def test_a_token_named_like_a_formula_is_quoted_in_the_audit_export(app, make_user):
    admin = make_user("admin")
    tokens.create_token(admin, HYPERLINK)
    rows = list(csv.reader(io.StringIO(sign_in(app, admin.username).get("/admin/audit/export.csv")
                                       .get_data(as_text=True))))
    details = [row[-1] for row in rows if row[4] == "create_api_token"]
    assert details and all(detail.startswith("'" + HYPERLINK) for detail in details)
    assert all(not cell.startswith(("=", "+", "@", "\t", "\r")) for row in rows for cell in row)


def test_the_edits_report_quotes_a_record_id_that_looks_like_a_formula(app, tmp_path):
    app.cli.add_command(edits_group)
    record = _to_naaccr(BASE_PATIENT | BASE_TUMOR | {"patient_id_number": "@SUM(1+1)*cmd", "sex": "Q"})
    source = _write(tmp_path / "in.csv", [record])
    result = app.test_cli_runner().invoke(args=["edits", "check", "--input", str(source),
                                                "--report", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    rows = _report(tmp_path / "out.csv")
    assert rows and {row["patient_id"] for row in rows} == {"'@SUM(1+1)*cmd"}


def test_every_csv_the_product_writes_goes_through_the_one_helper():
    """csv.writer, csv.DictWriter and DataFrame.to_csv appear only in registry/csv_safety.py (or wrap safe_frame)."""
    offenders = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "registry" / "csv_safety.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                raw_writer = re.search(r"\bcsv\.(writer|DictWriter)\(", line)
                raw_frame = re.search(r"\.to_csv\(", line) and "safe_frame(" not in line
                if raw_writer or raw_frame:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "write CSV with registry.csv_safety (SafeWriter, SafeDictWriter, safe_frame):\n" \
        + "\n".join(offenders)
