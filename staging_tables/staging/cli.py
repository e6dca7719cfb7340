"""``flask --app wsgi staging run|rederive|list``: batch staging of a CSV file and re-derivation of the abstracts.

The names and options of ``staging run`` are a contract other tools rely on (see docs/staging.md).
"""
from __future__ import annotations

from pathlib import Path

import click

from registry.db import db_session
from registry.errors import RegistryError
from registry.models import Job

from . import derive
from .batch import CsvFormatError, stage_csv
from .bundle import BundleError
from .reference import INSTALL_HINT, installed_algorithm, installed_algorithms


@click.group("staging", help="SEER staging: stage a CSV file, re-derive the abstracts after a new version.")
def staging_group() -> None:
    pass


@staging_group.command("run", help="Stage every row of IN.csv (header: the algorithm's input keys) into OUT.csv.")
@click.option("--algorithm", "spec", required=True, metavar="NAME[-VERSION]",
              help="An installed algorithm, e.g. eod_public or cs-02.05.50 (newest install when no version).")
@click.option("--input", "in_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def staging_run(spec: str, in_path: Path, out_path: Path) -> None:
    try:
        algorithm = installed_algorithm(spec)
        counts = stage_csv(algorithm, in_path, out_path)
    except (RegistryError, CsvFormatError, BundleError) as exc:
        raise click.ClickException(str(exc)) from None
    total = sum(counts.values())
    click.echo(f"staged {total} rows with {algorithm.name} {algorithm.version} into {out_path}: "
               + ", ".join(f"{status} {n}" for status, n in sorted(counts.items())))


@staging_group.command("rederive", help="Stage again every abstract the algorithm covers (after installing a new "
                                        "version) and report what changed.")
@click.option("--algorithm", "spec", required=True, metavar="NAME", help="e.g. eod_public (its newest install)")
def staging_rederive(spec: str) -> None:
    from registry.jobs import execute
    try:
        derive.rule_for(spec)
        algorithm = installed_algorithm(spec)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    job = Job(kind="staging-rederive", params={"algorithm": spec})
    db_session.add(job)
    db_session.commit()
    job_id = job.id
    with click.progressbar(length=100, label=f"Re-deriving with {algorithm.name} {algorithm.version}") as bar:
        state = {"done": 0}

        def echo(percent: int, _message: str) -> None:
            bar.update(percent - state["done"])
            state["done"] = percent

        finished = execute(job_id, echo=echo)
    if finished.status.value != "finished":
        raise click.ClickException(f"job {job_id} {finished.messages.strip().splitlines()[-1]}")
    summary = finished.messages[finished.messages.rfind("re-derived "):].strip()
    click.echo(f"{summary}\n(job {job_id})")


@staging_group.command("list", help="Installed staging algorithms, newest first.")
def staging_list() -> None:
    records = installed_algorithms()
    if not records:
        click.echo(f"no staging algorithm installed; install a SEER bundle with {INSTALL_HINT}")
    for r in records:
        click.echo(f"{r.name}-{r.version:12} {r.summary:28} {r.installed_at:%Y-%m-%d %H:%M} {r.source_file}")
