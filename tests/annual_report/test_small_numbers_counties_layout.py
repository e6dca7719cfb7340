"""Issue 20.3: the annual report applies the small-number rule to every survival figure (not only the
charts), names counties from the registry's own table, and keeps tables with their headings (no single
row left alone on a page)."""
import csv
import re
import subprocess
from pathlib import Path

from sqlalchemy import select

from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.demo import load_demo_data
from registry.models import Patient, Tumor

YEAR = 2021
AS_OF = "2026-11-27"
COUNTIES = Path(__file__).resolve().parents[2] / "reports" / "annual_report" / "counties.csv"
STAGES = ("In situ", "Localized", "Regional", "Distant", "Not applicable", "Unknown", "All stages")


def _pdf_text(app, tmp_path: Path, *args: str) -> str:
    output = tmp_path / "report.pdf"
    result = app.test_cli_runner().invoke(args=["report", "annual", "--year", str(YEAR), "--as-of", AS_OF,
                                                "--output", str(output), *args])
    assert result.exit_code == 0, result.output
    return subprocess.run(["pdftotext", "-layout", str(output), "-"], check=True, capture_output=True,
                          text=True).stdout


def _section(text: str, heading: str, until: str) -> str:
    start = re.search(rf"^ *{re.escape(heading)}$", text, re.M)
    end = re.search(rf"^ *{re.escape(until)}$", text[start.end():], re.M)
    return text[start.end():start.end() + end.start()]


def test_no_survival_figure_from_fewer_than_five_patients(app, tmp_path):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 400, seed=5)
    survival = _section(_pdf_text(app, tmp_path), "Survival", "County of residence")
    pattern = re.compile(rf"^ *\S.*? +({'|'.join(map(re.escape, STAGES))}) +(\S+) *(.*)$", re.M)
    rows = pattern.findall(survival)
    assert rows
    small = [(stage, n, rest) for stage, n, rest in rows if not n.replace(",", "").isdigit() or int(n) < 5]
    assert small, "the demo year should have a stage group of fewer than 5 patients"
    for stage, n, rest in small:
        assert n == "<5" and rest.startswith("not shown: fewer than 5 patients"), (stage, n, rest)
        assert not re.search(r"\d", rest.replace("5 patients", "")), (stage, n, rest)
    assert re.search(r"Survival is not shown for a group of fewer than 5 patients", " ".join(survival.split()))


def test_counties_are_named_from_our_table(app, tmp_path):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 150, seed=6)
    with operation(SYSTEM, "unknown_county") as session:
        patient = session.scalars(select(Patient).join(Tumor).where(Tumor.date_of_diagnosis.like(f"{YEAR}%"))
                                  .order_by(Patient.id).limit(1)).one()
        patient.county_at_dx = "999"
    with COUNTIES.open(newline="", encoding="utf-8") as handle:
        names = {(row["state"], row["county_fips"]): row["county"] for row in csv.DictReader(handle)}
    counties = _section(_pdf_text(app, tmp_path), "County of residence", "Data quality")
    codes = {c for (c,) in db_session.execute(select(Patient.county_at_dx).join(Tumor)
                                              .where(Tumor.date_of_diagnosis.like(f"{YEAR}%")))}
    assert "999" in codes and len(codes) > 2
    for code in codes:
        name = names.get(("IL", code)) or names[("*", code)]
        assert re.search(rf"^ *IL +{re.escape(name)} +{code} +\d", counties, re.M), (code, name, counties)


def test_tables_keep_with_their_headings_and_no_row_is_left_alone(tmp_path):
    """The report's own style sheet, a heading and a table of ten rows pushed down the page step by step:
    on no page does the table show a single row, and the heading is always on the page of the first row."""
    from weasyprint import HTML
    css = (COUNTIES.parent / "templates" / "report.css").resolve()
    rows = "".join(f"<tr><td>row{i:02d}</td><td>{i}</td></tr>" for i in range(10))
    singles = []
    for filler in range(0, 60, 2):
        body = "".join(f"<p>filler {j}</p>" for j in range(filler))
        document = f"""<html><head><link rel="stylesheet" href="{css.as_uri()}"></head><body>{body}
            <h3>heading-of-table</h3><table><thead><tr><th>Name</th><th>N</th></tr></thead>
            <tbody>{rows}</tbody></table></body></html>"""
        pdf = tmp_path / f"layout-{filler}.pdf"
        HTML(string=document).write_pdf(pdf)
        pages = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                               text=True).stdout.split("\f")
        for number, page in enumerate(pages):
            shown = re.findall(r"row\d\d", page)
            if len(shown) == 1:
                singles.append((filler, number, shown))
            if "row00" in page:
                assert "heading-of-table" in page, (filler, number)
    assert not singles, singles
