"""``flask --app wsgi rates table …``: the Incidence page's table from the command line.

    flask --app wsgi rates table --years 2015-2024 --by site,sex --standard us2000 --output rates.csv
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from registry.audit import SYSTEM, log_event
from registry.db import db_session


@click.group("rates", help="Incidence rates (counts, crude and age-adjusted rates) over the installed population.")
def rates_group() -> None:
    pass


@rates_group.command("table", help="Write counts, crude and age-adjusted rates with 95% limits as CSV "
                                   "(small counts and rates from few cases suppressed, as on every output).")
@click.option("--years", help="Years of diagnosis, e.g. 2015-2024 (default: every year of the population).")
@click.option("--by", default="", help="Comma-separated breakdown among site, sex, race, county, year.")
@click.option("--standard", default="us2000", show_default=True,
              help="Standard population: us2000, us2000-18, us2000-20, world-segi, esp2013.")
@click.option("--area", help="County code of the population (default: all its areas).")
@click.option("--site", "sites", multiple=True, help="SEER site recode (e.g. 39); repeatable (default: all sites).")
@click.option("--method", default="tiwari", show_default=True, type=click.Choice(["tiwari", "fay-feuer"]),
              help="Gamma interval of the age-adjusted rates.")
@click.option("--population", help="Installed population by name (default: the newest).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def rates_table_command(years: str | None, by: str, standard: str, area: str | None, sites: tuple[str, ...],
                        method: str, population: str | None, output: Path) -> None:
    from reports.rates.incidence import RatesRefused, run, to_csv
    args = {"years": years or "", "by": by, "standard": standard, "area": area or "", "site": list(sites),
            "method": method, "population": population or ""}
    try:
        result, _yearly, apc = run(args, db_session())
    except RatesRefused as exc:
        raise click.ClickException(str(exc)) from None
    public = result.public(min_rate_cases=current_app.config["RATE_MIN_CASES"],
                           min_count=current_app.config["RATE_MIN_COUNT"])
    output.write_text(to_csv(result, public))
    log_event(SYSTEM, "incidence_export", detail=f"{result.notes[0]} -> {output.name}")
    click.echo(f"wrote {output}: {len(public)} groups")
    for note in result.notes:
        click.echo(f"  {note}")
    for row in apc.itertuples():
        if row.apc == row.apc:
            click.echo(f"  APC {row.group}: {row.apc:+.2f}% ({row.apc_lo:+.2f} to {row.apc_hi:+.2f})")
