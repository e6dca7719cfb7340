"""``flask --app wsgi report annual --year YYYY --output FILE.pdf [--facility F] [--public]``."""
from __future__ import annotations

import datetime as dt

import click

from registry.audit import SYSTEM, log_event


@click.group("report", help="Reports.")
def report_group() -> None:
    pass


@report_group.command("annual", help="Write the PDF annual report of the cases diagnosed in YEAR.")
@click.option("--year", type=click.IntRange(1900, 2200), required=True, help="Diagnosis year.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), required=True, help="PDF file to write.")
@click.option("--facility", default=None, help="Only tumors whose Reporting Facility [540] (kept in the tumor's "
                                              "extra NAACCR items) is this code.")
@click.option("--public", is_flag=True, help="Suppress counts from 1 to 10 (shown as <11).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Judge follow-up at this date (default: today).")
def annual(year: int, output: str, facility: str | None, public: bool, as_of: dt.datetime | None) -> None:
    from reports.annual_report.builder import build_report
    with click.progressbar(length=100, label=f"Annual report {year}") as bar:
        state = {"done": 0}

        def progress(percent: int, _message: str) -> None:
            bar.update(percent - state["done"])
            state["done"] = percent

        summary = build_report(year, output, facility=facility, public=public,
                               as_of=as_of.date() if as_of else None, progress=progress)
    log_event(SYSTEM, "annual_report", detail=f"year {year}, facility {facility or 'all'}, "
                                              f"{'public' if public else 'internal'}: {output}")
    click.echo(f"{summary['pages']} pages, {summary['cases']} cases ({summary['analytic']} analytic) "
               f"written to {output} in {summary['seconds']:.1f} s")
