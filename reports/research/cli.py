"""Commands: ``export research`` (a research dataset) and ``research agreement add/list/revoke``,
``research purge``, ``research table`` (a suppressed count table)."""
from __future__ import annotations

import click
from flask import current_app

from registry.audit import Actor
from registry.errors import RegistryError
from reports.research import cohort
from reports.research.export import FORMATS, ReleaseRequest, create_release, purge_expired
from reports.research.variables import LIMITED, SAFE_HARBOR

CLI_ACTOR = Actor(None, "cli:research-export")


def _filter_options(command):
    options = [
        click.option("--years", default="", help="Diagnosis years, e.g. 2015-2020 or 2018."),
        click.option("--site", "sites", multiple=True, help="Primary site code or range, e.g. C50 or C18-C20."),
        click.option("--site-group", "site_groups", multiple=True, help="SEER site recode, e.g. 39 or Breast."),
        click.option("--histology", "histologies", multiple=True, help="Histology or range, e.g. 8500 or 8000-8799."),
        click.option("--behavior", "behaviors", multiple=True, help="Behavior code 0-3."),
        click.option("--stage", "stages", multiple=True, help="Stage group (localized …) or Summary Stage code."),
        click.option("--sex", "sexes", multiple=True, help="Sex [220] code, e.g. 2."),
        click.option("--age", "ages", default="", help="Age at diagnosis range, e.g. 20-64."),
        click.option("--vital-status", "vital_statuses", multiple=True, help="alive or dead."),
        click.option("--class-of-case", "classes_of_case", multiple=True, help="Class of case or range, e.g. 00-22."),
        click.option("--item", "items", multiple=True,
                     help="Any catalogued item that is not an identifier: naaccrId=codes or ranges, "
                          "e.g. tumorSizeSummary=010-020,990 (dates by year: dateOfDiagnosis=2018-2020)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


FILTER_NAMES = ("years", "sites", "site_groups", "histologies", "behaviors", "stages", "sexes", "ages",
                "vital_statuses", "classes_of_case", "items")


class _Bar:
    """A terminal progress bar fed by percent reports."""

    def __init__(self, bar):
        self.bar, self.done = bar, 0

    def __call__(self, percent: int, _message: str = "") -> None:
        self.bar.update(max(percent - self.done, 0))
        self.done = max(self.done, percent)


@click.group("export", help="Exports of registry data.")
def export_group() -> None:
    pass


@export_group.command("research", help="A research dataset (zip: data + data dictionary); Safe Harbor unless "
                                       "--limited with a data use agreement. No filter releases every tumor.")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="The zip file to write.")
@_filter_options
@click.option("--variables", default="", help="Comma-separated variable names (default: every releasable one).")
@click.option("--format", "file_format", type=click.Choice(list(FORMATS)), default="csv", show_default=True)
@click.option("--limited", is_flag=True, help="A limited data set (dates, ZIP5); needs --agreement.")
@click.option("--agreement", "agreement_id", type=int, help="Data use agreement id for --limited.")
@click.option("--purpose", default="", help="Purpose or project, kept in the release log.")
def export_research(output: str, variables: str, file_format: str, limited: bool, agreement_id: int | None,
                    purpose: str, **filters) -> None:
    try:
        request = ReleaseRequest(cohort.Filters.parse(**{name: filters[name] for name in FILTER_NAMES}),
                                 [v.strip() for v in variables.split(",") if v.strip()] or None,
                                 LIMITED if limited else SAFE_HARBOR, file_format, purpose, agreement_id)
        with click.progressbar(length=100, label="Releasing") as bar:
            release = create_release(request, actor=CLI_ACTOR, output=output, progress=_Bar(bar))
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"release {release.id}: {release.row_count} tumors of {release.patient_count} patients "
               f"({release.level}, {release.file_format}) written to {output}; sha256 {release.checksum}")


@click.group("research", help="Research releases: data use agreements, expired files, count tables.")
def research_group() -> None:
    pass


@research_group.group("agreement", help="Data use agreements (limited data sets).")
def agreement_group() -> None:
    pass


@agreement_group.command("add", help="Record a data use agreement for USER (administrators).")
@click.argument("username")
@click.option("--project", required=True)
@click.option("--expires", required=True, help="Last valid day, YYYY-MM-DD.")
def agreement_add(username: str, project: str, expires: str) -> None:
    from reports.research.agreements import add_agreement
    try:
        agreement = add_agreement(username, project, expires, actor=Actor(None, "cli:research-agreement"))
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"agreement {agreement.id}: {username}, {agreement.project}, until {agreement.expires_on}")


@agreement_group.command("list", help="List data use agreements.")
def agreement_list() -> None:
    from reports.research.agreements import agreements
    for a in agreements():
        state = "revoked" if a.revoked_at else f"until {a.expires_on}"
        click.echo(f"{a.id:5} {a.user.username:20} {state:18} {a.project}")


@agreement_group.command("revoke", help="Revoke data use agreement ID.")
@click.argument("agreement_id", type=int)
def agreement_revoke(agreement_id: int) -> None:
    from reports.research.agreements import revoke_agreement
    try:
        revoke_agreement(agreement_id, actor=Actor(None, "cli:research-agreement"))
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"agreement {agreement_id} revoked")


@research_group.command("purge", help="Delete release files past RESEARCH_FILE_DAYS (the log stays).")
def purge() -> None:
    count = purge_expired(actor=Actor(None, "cli:research-purge"))
    click.echo(f"{count} expired release files deleted (files are kept "
               f"{current_app.config.get('RESEARCH_FILE_DAYS', 30)} days)")


@research_group.command("table", help="Tumor counts by two dimensions with small cells suppressed (CSV).")
@click.option("--output", required=True, type=click.Path(dir_okay=False))
@click.option("--rows", "row_dim", default="site", show_default=True)
@click.option("--columns", "column_dim", default="year", show_default=True)
@_filter_options
@click.option("--purpose", default="")
def table(output: str, row_dim: str, column_dim: str, purpose: str, **filters) -> None:
    from reports.research.aggregate import create_table_release
    try:
        release = create_table_release(cohort.Filters.parse(**{name: filters[name] for name in FILTER_NAMES}),
                                       row_dim, column_dim, actor=Actor(None, "cli:research-table"),
                                       output=output, purpose=purpose)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"release {release.id}: table of {release.row_count} tumors written to {output}")
