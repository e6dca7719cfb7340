"""The PDF annual report: its printed numbers equal counts taken straight from the database.

The report is generated from demo data through the real command; its text is extracted with
pdftotext and compared with SQL counts written here independently of reports.annual_report.
Pages are rendered to PNG under test-artifacts/annual-report/ for a person to look at.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.demo import load_demo_data
from registry.models import Job, JobStatus, Patient, Tumor
from tests.jobs import ended as _wait

YEAR = 2021
AS_OF = "2026-11-27"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "annual-report"
ANALYTIC = ("00", "10", "11", "12", "13", "14", "20", "21", "22")


def _demo(patients: int, seed: int) -> None:
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, patients, seed)


def _report(app, tmp_path: Path, *args: str) -> tuple[str, Path]:
    output = tmp_path / "report.pdf"
    result = app.test_cli_runner().invoke(args=["report", "annual", "--output", str(output), "--as-of", AS_OF,
                                                *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "pages" in result.output
    text = subprocess.run(["pdftotext", "-layout", str(output), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text, output


def _section(text: str, heading: str, until: str) -> str:
    start = re.search(rf"^ *{re.escape(heading)}$", text, re.M)
    assert start, f"no section '{heading}'"
    end = re.search(rf"^ *{re.escape(until)}$", text[start.end():], re.M)
    return text[start.end():start.end() + (end.start() if end else len(text))]


def _row(section: str, label: str) -> list[str]:
    match = re.search(rf"^ *{re.escape(label)} +(\S.*)$", section, re.M)
    assert match, f"no row '{label}'"
    return match.group(1).split()


def _count(*conditions) -> int:
    return int(db_session.scalar(select(func.count(Tumor.id)).join(Patient, Patient.id == Tumor.patient_id)
                                 .where(*conditions)) or 0)


def _in_year(year: int):
    return Tumor.date_of_diagnosis.like(f"{year}%")


def test_report_numbers_equal_database_counts(app, tmp_path, backend):
    _demo(400, seed=5)
    text, pdf = _report(app, tmp_path, "--year", str(YEAR))

    year = _in_year(YEAR)
    analytic = Tumor.class_of_case.in_(ANALYTIC)
    total = _count(year)
    assert total > 10
    sites = _section(text, "New cases by primary site", "Class of case")
    assert _row(sites, "All sites")[:5] == [f"{n:,}" for n in (
        total, _count(year, analytic), _count(year, ~analytic), _count(year, Patient.sex == "1"),
        _count(year, Patient.sex == "2"))]
    breast = Tumor.primary_site.like("C50%")
    assert _row(sites, "Breast")[:5] == [str(n) for n in (
        _count(year, breast), _count(year, breast, analytic), _count(year, breast, ~analytic),
        _count(year, breast, Patient.sex == "1"), _count(year, breast, Patient.sex == "2"))]
    prostate = Tumor.primary_site == "C619"
    assert _row(sites, "Prostate")[:2] == [str(_count(year, prostate)), str(_count(year, prostate, analytic))]

    trend = _section(text, "Ten-year trend", "Age at diagnosis")
    assert _row(trend, "All sites") == [str(_count(_in_year(y), analytic)) for y in range(YEAR - 9, YEAR + 1)]

    counties = _section(text, "County of residence", "Data quality")
    county, n = db_session.execute(select(Patient.county_at_dx, func.count()).join(Tumor).where(year)
                                   .group_by(Patient.county_at_dx)
                                   .order_by(func.count().desc(), Patient.county_at_dx)).first()
    assert _row(counties, "IL")[-3:-1] == [county, str(n)]

    quality = _section(text, "Data quality", "Methods and definitions")
    reviewed = _count(year, Tumor.workflow_state == "reviewed")
    assert _row(quality, f"{total:,}")[2] == str(reviewed)
    assert re.search(r"Relative\s+survival\s+is\s+Ederer\s+II", text)
    survival = _section(text, "Survival", "County of residence")
    assert re.search(r"^ *Site group +Stage +Patients +observed +observed +observed +relative", survival, re.M)
    first_primaries = _count(Tumor.primary_site == "C619", analytic, Tumor.behavior == "3",
                             Tumor.sequence_number_hospital.in_(("00", "01")),
                             Tumor.type_of_reporting_source.not_in(("6", "7")),
                             Tumor.date_of_diagnosis.between(f"{YEAR - 9}", f"{YEAR - 5}9999"))
    assert re.search(rf"^ *Prostate +All stages +{first_primaries} ", survival, re.M)
    assert re.search(r"^ *Page 1 of \d+|Page \d+ of \d+", text, re.M)

    if backend == "sqlite":
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob("sample-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / "sample")], check=True)
        shutil.copy(pdf, ARTIFACTS / "sample.pdf")
        assert len(list(ARTIFACTS.glob("sample-*.png"))) >= 10


def test_empty_year_and_small_public_facility(app, tmp_path, backend):
    _demo(150, seed=6)
    text, _pdf = _report(app, tmp_path, "--year", "1990")
    assert "No tumor diagnosed in 1990 is recorded" in text
    assert _row(_section(text, "New cases by primary site", "Class of case"), "All sites")[0] == "0"

    with operation(SYSTEM, "set_reporting_facility") as session:
        tumors = session.scalars(select(Tumor).where(_in_year(YEAR)).order_by(Tumor.id).limit(3)).all()
        for tumor in tumors:
            tumor.extra_items = {**tumor.extra_items, "reportingFacility": "0000012345"}
    assert len(tumors) == 3
    text, pdf = _report(app, tmp_path, "--year", str(YEAR), "--facility", "0000012345", "--public")
    assert "Reporting facility 0000012345" in text and "public edition" in text
    sites = _section(text, "New cases by primary site", "Class of case")
    assert _row(sites, "All sites")[0] == "<11"
    glance = _section(text, "The year at a glance", "New cases by primary site")
    assert not re.search(r"\d\.\d%", glance), "a share of fewer than 11 cases is printed"
    cells = [token for line in sites.splitlines() for token in line.split() if re.fullmatch(r"[\d,]+", token)]
    assert cells and not [c for c in cells if 0 < int(c.replace(",", "")) < 11]
    if backend == "sqlite":
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "3", "-l", "4", str(pdf),
                        str(ARTIFACTS / "small-facility-public")], check=True)


@pytest.mark.parametrize("role", ["registrar", "reviewer", "researcher"])
def test_page_is_for_administrators_only(app, client, login, role):
    login(role)
    assert client.get("/admin/annual-report/").status_code == 403


def test_admin_generates_report_as_job_and_downloads_it(app, client, login):
    _demo(40, seed=7)
    login("admin")
    page = client.get("/admin/annual-report/").get_data(as_text=True)
    assert "No report generated yet" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/admin/annual-report/", data={"csrf_token": token, "year": "2024", "public": "1"})
    assert response.status_code == 302 and "/jobs/" in response.location
    job = _wait(int(response.location.rstrip("/").rsplit("/", 1)[-1]))
    assert job.status is JobStatus.FINISHED, job.messages
    assert job.kind == "annual-report" and job.result_file.endswith(".pdf") and "pages written" in job.messages
    assert Path(job.result_file).is_relative_to(Path(app.config["JOB_FILES_DIR"]))
    listing = client.get("/admin/annual-report/").get_data(as_text=True)
    assert f"/jobs/{job.id}/result" in listing
    download = client.get(f"/jobs/{job.id}/result")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    bad = client.post("/admin/annual-report/", data={"csrf_token": token, "year": "1066"})
    assert bad.status_code == 302 and db_session.scalar(select(func.count(Job.id))) == 1
    Path(job.result_file).unlink()
    listing = client.get("/admin/annual-report/").get_data(as_text=True)
    assert f"/jobs/{job.id}/result" not in listing and "file removed" in listing
