"""Issue 20.2: one survival cut-off. The Survival page, its CSV, the command line, the API and the annual
report (PDF) all count follow-up to 31 December of the same end-point year, and each says so."""
import datetime as dt
import html
import subprocess

from abstracts import operations as ops
from abstracts.tokens import create_token
from registry.audit import SYSTEM
from registry.auth.operations import create_user
from tests.abstracting.conftest import PATIENT, TUMOR

QUERY = "measure=observed&site=39"


def _last_complete_year() -> int:
    return dt.date.today().year - 1


def test_every_survival_output_states_the_same_cutoff(app, client, login, demo, tmp_path):
    year = _last_complete_year()
    cutoff = f"Survival cut-off {year}-12-31"
    login("researcher")
    page = html.unescape(client.get(f"/survival/?{QUERY}").get_data(as_text=True))
    assert cutoff in page and f"counted to 31 December {year}" in page
    assert cutoff in client.get(f"/survival/table.csv?{QUERY}").get_data(as_text=True).splitlines()[1]

    user = create_user("api-researcher", "correct-horse-9", "researcher")
    _, token = create_token(user, "tests")
    body = client.get(f"/api/v1/survival?{QUERY}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["definitions"]["survival_cutoff"].startswith(cutoff)

    result = app.test_cli_runner().invoke(args=["survival", "table", "--site", "39",
                                                "--output", str(tmp_path / "breast.csv")])
    assert result.exit_code == 0 and cutoff in result.output, result.output

    pdf = tmp_path / "report.pdf"
    result = app.test_cli_runner().invoke(args=["report", "annual", "--year", str(year), "--output", str(pdf)])
    assert result.exit_code == 0, result.output
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    assert cutoff in text and f"active follow-up to {year}-12-31" in text
    assert f"active follow-up to {dt.date.today().isoformat()}" not in text


def test_annual_report_does_not_count_a_death_after_the_cutoff(app):
    """Judged on 27 November 2026, survival runs to 31 December 2025: a death on 10 March 2026 is not yet
    an event (the Survival page would not count it either)."""
    from reports.annual_report.queries import Scope, survival_cases
    patient = ops.create_patient(PATIENT | {"vital_status": "0", "date_of_last_contact": "20260310",
                                            "cause_of_death": "C509"}, actor=SYSTEM)
    ops.create_tumor(patient.id, TUMOR | {"date_of_diagnosis": "20170315", "date_of_first_contact": "20170320",
                                          "treatment": {}}, actor=SYSTEM)
    frame = survival_cases(Scope(2021, None, dt.date(2026, 11, 27)), 2017, 2017)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["dead"] == 0
    months = (dt.date(2025, 12, 31) - dt.date(2017, 3, 15)).days // (365.24 / 12)
    assert row["time"] == months / 12
