"""Issue 20.2: one definition of the follow-up rate. The follow-up page and the annual report (PDF) count
the same diagnosis years (the five complete years before the as-of year) with the same query, so they give
the same rate, and both state the definition."""
import datetime as dt
import html
import re
import subprocess

from registry.audit import SYSTEM, operation
from registry.demo import load_demo_data


def _words(text: str) -> str:
    return " ".join(text.split())


def test_follow_up_page_and_pdf_give_the_same_rate_over_the_same_years(app, client, login, tmp_path):
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 200, seed=11)
    today = dt.date.today()
    first, last = today.year - 5, today.year - 1

    login("registrar")
    page = html.unescape(client.get("/follow-up").get_data(as_text=True))
    rates = re.search(r'<table class="compact" id="rates">(.*?)</table>', page, re.S).group(1)
    recent = re.search(rf"<td>Analytic cases diagnosed {first}–{last}</td><td>(\d+)</td><td>(\d+)</td>", rates)
    assert recent, rates
    definition = _words(re.search(r'<p class="definition" id="follow-up-definition">(.*?)</p>', page, re.S)
                        .group(1))
    assert f"diagnosed in the 5 complete years {first}–{last}" in definition

    pdf = tmp_path / "report.pdf"
    result = app.test_cli_runner().invoke(args=["report", "annual", "--year", "2021", "--output", str(pdf),
                                                "--as-of", today.isoformat()])
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    row = re.search(rf"^ *Analytic cases {first}–{last} +(\d+) +(\d+) ", text, re.M)
    assert row, "the PDF's follow-up rate does not cover the page's years"
    assert (row.group(1), row.group(2)) == (recent.group(1), recent.group(2))
    assert int(recent.group(1)) > 0
    assert definition in _words(text)
