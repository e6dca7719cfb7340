"""Who may reach each endpoint of the application: the one table the access test checks every URL rule against.

A developer who adds a route adds one line here; the access test reads ``app.url_map`` and fails on any
endpoint missing from this table (or listed here but gone from the app). ``docs/security.md`` lists the
same table, and a test checks the two agree.

- ``roles``: the roles that may reach it (any other role gets ``denied``, normally 403).
- ``public``: no sign-in needed at all.
- ``token``: API endpoint authenticated by a personal token (anonymous gets 401, never a login redirect).
- ``phi``: the response carries identified patient data to the roles allowed (reads are audited).
"""
from __future__ import annotations

from dataclasses import dataclass

ALL = frozenset({"registrar", "reviewer", "researcher", "admin"})
PHI = frozenset({"registrar", "reviewer", "admin"})
ADMIN = frozenset({"admin"})
ANALYSTS = frozenset({"researcher", "admin"})
IMPORTERS = frozenset({"registrar", "admin"})
WRITERS = frozenset({"registrar", "admin"})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Access:
    roles: frozenset[str]
    public: bool = False
    token: bool = False
    phi: bool = False
    denied: int = 403
    why: str = ""


def _public(why: str) -> Access:
    return Access(ALL, public=True, why=why)


RULES: dict[str, Access] = {
    # sign-in and static files
    "auth.login": _public("the sign-in page"),
    "auth.logout": Access(ALL, why="sign out"),
    "static": _public("CSS and JavaScript"),
    # abstracting pages
    "abstracts.home": Access(ALL, why="work queue (counts only for researchers)"),
    "abstracts.queue": Access(PHI, phi=True, why="work-queue lists name patients"),
    "abstracts.assign": Access(PHI, phi=True, why="assign queue abstracts (reviewers, admins) or take them (registrars)"),
    "abstracts.patients": Access(PHI, phi=True, why="patient search"),
    "abstracts.new_patient": Access(PHI, phi=True, why="add a patient (duplicate check shows matches)"),
    "abstracts.patient": Access(PHI, phi=True, why="the patient page"),
    "abstracts.abstract": Access(PHI, phi=True, why="the abstract form"),
    "abstracts.check_abstract": Access(PHI, phi=True, why="live edits on the abstract form"),
    "abstracts.stage_section": Access(PHI, phi=True, why="the abstract form's Stage section for the values entered"),
    "abstracts.workflow": Access(PHI, phi=True, why="complete, review, return an abstract"),
    "abstracts.open_same_primary": Access(WRITERS, phi=True,
                                          why="record that a new report is an existing primary and open it"),
    "abstracts.delete_abstract": Access(WRITERS, phi=True, why="delete an abstract in progress entered in error"),
    "abstracts.follow_up": Access(PHI, phi=True, why="record a follow-up contact"),
    "abstracts.suspense": Access(PHI, phi=True, why="casefinding suspense list"),
    "abstracts.abstract_suspense": Access(PHI, phi=True, why="start an abstract from a suspense case"),
    "abstracts.not_reportable": Access(PHI, phi=True, why="close a suspense case"),
    "casefinding.import_page": Access(IMPORTERS, phi=True, why="take in pathology reports (HL7 v2, FHIR) as a job"),
    "casefinding.case": Access(PHI, phi=True, why="a suspense case's reports, screening and suggested codes"),
    "casefinding.document": Access(PHI, phi=True, why="a pathology report's source document"),
    "casefinding.reports": Access(PHI, phi=True, why="search every pathology report received"),
    "abstracts.code_lookup": Access(ALL, why="code and term look-up (no patient data)"),
    "surgery.codes": Access(ALL, why="site-specific surgery codes for a site and year (no patient data)"),
    "abstracts.account": Access(ALL, why="the user's own API tokens"),
    "abstracts.revoke_token": Access(ALL, why="revoke one's own token"),
    # printout
    "printout.printout": Access(PHI, phi=True, why="the abstract printout (PDF) naming the patient"),
    # follow-up
    "followup.worklist": Access(PHI, phi=True, why="due and delinquent patients"),
    "followup.letter": Access(PHI, phi=True, why="follow-up letter naming the patient"),
    "followup.letters": Access(PHI, phi=True, why="follow-up letters naming patients"),
    # jobs (each user sees their own; admins all)
    "jobs.list_jobs": Access(ALL, why="one's own jobs"),
    "jobs.show": Access(ALL, why="one's own job"),
    "jobs.status": Access(ALL, why="one's own job progress"),
    "jobs.result": Access(ALL, why="one's own job result file"),
    "jobs.rerun_job": Access(IMPORTERS, why="run one's own ended job again (roles that start its kind)"),
    # administration
    "reference.list_installed": Access(ADMIN, why="installed reference tables"),
    "admin.facility": Access(ADMIN, why="facility settings"),
    "admin.users": Access(ADMIN, why="accounts"),
    "admin.create_account": Access(ADMIN, why="create an account"),
    "admin.account_action": Access(ADMIN, why="change an account: role, state, password, sessions"),
    "reference.upload": Access(ADMIN, why="install a reference file"),
    "annual_report.index": Access(ADMIN, why="annual report jobs"),
    "submissions.submissions_page": Access(ADMIN, phi=True, why="NAACCR submissions (identified files)"),
    "submissions.download": Access(ADMIN, phi=True, why="a submission file"),
    "submissions.submission_page": Access(ADMIN, phi=True, why="a submission and the tumors it left out"),
    "submissions.import_page": Access(IMPORTERS, phi=True, why="load a NAACCR file into the registry"),
    "submissions.import_status": Access(IMPORTERS, phi=True, why="import report naming rejected records"),
    "audit.search": Access(ADMIN, why="search the audit log"),
    "audit.export": Access(ADMIN, why="export the audit log"),
    # staging and survival
    "staging.index": Access(PHI, why="installed staging algorithms"),
    "staging.schema": Access(PHI, why="the abstract form's Stage section"),
    "staging.codes": Access(PHI, why="valid codes of a staging input (no patient data)"),
    "staging.rederive": Access(ADMIN, why="re-stage every abstract"),
    "survival.page": Access(ANALYSTS, why="survival of cohorts (aggregates only)"),
    "survival.chart_image": Access(ANALYSTS, why="survival chart"),
    "survival.table_csv": Access(ANALYSTS, why="survival table export"),
    "incidence.page": Access(ANALYSTS, why="incidence rates (aggregates, small counts suppressed)"),
    "incidence.table_csv": Access(ANALYSTS, why="incidence table export"),
    "incidence.chart_image": Access(ANALYSTS, why="incidence trend chart"),
    # research datasets (de-identified, limited under a data use agreement, or aggregate)
    "research.builder": Access(ANALYSTS, why="build a research dataset"),
    "research.download": Access(ANALYSTS, why="one's own released dataset"),
    "research.admin": Access(ADMIN, why="data use agreements and the release log"),
    # REST API: personal tokens; researchers get the de-identified view and no writes
    "api.openapi_json": _public("the OpenAPI document"),
    "api.docs": Access(ALL, why="API reference page"),
    "api.list_code_systems": Access(ALL, token=True, why="code systems"),
    "api.code_lookup": Access(ALL, token=True, why="code look-up"),
    "api.check_abstract": Access(ALL, token=True, why="edits on posted values; nothing stored"),
    "api.list_patients": Access(ALL, token=True, phi=True, why="patients (de-identified for researchers)"),
    "api.get_patient": Access(ALL, token=True, phi=True, why="a patient (de-identified for researchers)"),
    "api.list_patient_tumors": Access(ALL, token=True, phi=True, why="a patient's tumors"),
    "api.list_tumors": Access(ALL, token=True, phi=True, why="tumors"),
    "api.get_tumor": Access(ALL, token=True, phi=True, why="a tumor"),
    "api.get_job": Access(ALL, token=True, why="one's own job: status, progress, messages, result URL"),
    "api.get_job_result": Access(ALL, token=True, why="one's own job result file"),
    "api.get_treatment": Access(ALL, token=True, phi=True, why="first-course treatment"),
    "api.list_follow_ups": Access(ALL, token=True, phi=True, why="follow-up contacts"),
    "api.create_patient": Access(PHI, token=True, phi=True, why="add a patient"),
    "api.update_patient": Access(PHI, token=True, phi=True, why="change a patient"),
    "api.create_tumor": Access(PHI, token=True, phi=True, why="start an abstract"),
    "api.update_tumor": Access(PHI, token=True, phi=True, why="change a tumor"),
    "api.delete_tumor": Access(WRITERS, token=True, phi=True, why="delete an abstract in progress entered in error"),
    "api.update_treatment": Access(PHI, token=True, phi=True, why="change treatment"),
    "api.move_workflow": Access(PHI, token=True, phi=True, why="workflow"),
    "api.add_follow_up": Access(PHI, token=True, phi=True, why="record a follow-up"),
    "api.tumor_printout": Access(PHI, token=True, phi=True, why="the abstract printout (PDF)"),
    "api.post_casefinding": Access(PHI, token=True, phi=True, why="take in an HL7 v2 message or FHIR bundle"),
    "api.tumor_fhir": Access(PHI, token=True, phi=True, why="an abstract as a FHIR content bundle"),
    # API: analysis, research, annual report, casefinding, follow-up
    "api.survival": Access(ANALYSTS, token=True, why="survival figures (the Survival page's)"),
    "api.rates": Access(ANALYSTS, token=True, why="incidence rates (the Incidence page's table)"),
    "api.research_variables": Access(ANALYSTS, token=True, why="the research data dictionary"),
    "api.research_export": Access(ANALYSTS, token=True,
                                  why="start a de-identified release (limited: own valid data use agreement)"),
    "api.list_agreements": Access(ANALYSTS, token=True, why="data use agreements (a researcher's own)"),
    "api.add_agreement": Access(ADMIN, token=True, why="record a data use agreement"),
    "api.revoke_agreement": Access(ADMIN, token=True, why="revoke a data use agreement"),
    "api.annual_report": Access(ADMIN, token=True, why="build the annual report (a job)"),
    "api.list_suspense": Access(PHI, token=True, phi=True, why="casefinding suspense list"),
    "api.add_suspense": Access(PHI, token=True, phi=True,
                               why="a potential case, or a pathology message, into suspense"),
    "api.abstract_suspense": Access(PHI, token=True, phi=True, why="start an abstract from a suspense case"),
    "api.suspense_not_reportable": Access(PHI, token=True, phi=True, why="close a suspense case as not reportable"),
    "api.follow_up_worklist": Access(PHI, token=True, phi=True, why="follow-up due and delinquent lists"),
    "api.follow_up_letters": Access(PHI, token=True, phi=True, why="follow-up letters (PDF)"),
    "api.follow_up_rates": Access(PHI, token=True, why="CoC follow-up rates (the Follow-up page's)"),
    # API: registry capabilities (NAACCR, submissions, staging, reference, users, audit)
    "api.validate_naaccr": Access(IMPORTERS, token=True, why="check a NAACCR file as an import would (a job)"),
    "api.import_naaccr": Access(IMPORTERS, token=True, phi=True, why="import a NAACCR file (a job)"),
    "api.export_naaccr": Access(ADMIN, token=True, phi=True, why="write a NAACCR file, recorded as a submission"),
    "api.list_submissions": Access(ADMIN, token=True, why="the NAACCR files sent"),
    "api.create_submission": Access(ADMIN, token=True, phi=True, why="write a submission (a job)"),
    "api.get_submission": Access(ADMIN, token=True, phi=True, why="one submission and the tumors it left out"),
    "api.download_submission": Access(ADMIN, token=True, phi=True, why="download a submission file (audited)"),
    "api.start_staging_run": Access(PHI, token=True, why="stage an uploaded CSV file (a job)"),
    "api.derive_tumor_stage": Access(PHI, token=True, phi=True, why="derive one abstract's stage"),
    "api.start_rederive": Access(ADMIN, token=True, why="re-derive every abstract after a new version (a job)"),
    "api.list_reference": Access(ADMIN, token=True, why="the installed reference tables"),
    "api.install_reference": Access(ADMIN, token=True, why="install a reference table from an upload"),
    "api.list_users": Access(ADMIN, token=True, why="the accounts"),
    "api.create_account": Access(ADMIN, token=True, why="create an account"),
    "api.get_account": Access(ADMIN, token=True, why="one account"),
    "api.change_account": Access(ADMIN, token=True, why="change an account's role, disable or enable it"),
    "api.reset_account_password": Access(ADMIN, token=True, why="set a new password for an account"),
    "api.end_account_sessions": Access(ADMIN, token=True, why="sign an account out everywhere"),
    "api.search_audit": Access(ADMIN, token=True, phi=True, why="search the audit trail"),
    # API: jobs list and rerun, facility, research releases
    "api.list_jobs": Access(ALL, token=True, why="one's own jobs (admins: every job)"),
    "api.rerun_job": Access(IMPORTERS, token=True, why="run one's own ended job again (roles that start its kind)"),
    "api.get_facility": Access(ADMIN, token=True, why="facility settings"),
    "api.change_facility": Access(ADMIN, token=True, why="change facility settings"),
    "api.list_releases": Access(ANALYSTS, token=True, why="the research release log (researchers: their own)"),
    "api.download_release": Access(ANALYSTS, token=True, why="one's own released dataset (admins: any)"),
}


def unclassified(endpoints: set[str]) -> list[str]:
    return sorted(endpoints - set(RULES))


def role_table() -> list[tuple[str, str, str]]:
    """(endpoint, who may reach it, what it is) — the table docs/security.md shows."""
    rows = []
    for endpoint, access in sorted(RULES.items()):
        who = ("anyone" if access.public else
               "all signed-in roles" if access.roles == ALL else ", ".join(sorted(access.roles)))
        if access.token:
            who += " (API token)"
        rows.append((endpoint, who, access.why))
    return rows
