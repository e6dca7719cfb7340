"""The top bar, by task, as data: who sees which page under which menu.

The registrar's daily work is a direct link each; analysis, submissions, reports and administration are
one menu each, so the bar fits 1280 px whatever the role. A page a role may not open is not offered
(the page itself still checks).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

ALL = frozenset({"registrar", "reviewer", "researcher", "admin"})
PHI = frozenset({"registrar", "reviewer", "admin"})
ANALYSTS = frozenset({"researcher", "admin"})
WRITERS = frozenset({"registrar", "admin"})
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class Link:
    label: str
    endpoint: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Menu:
    label: str
    links: tuple[Link, ...]


NAVIGATION: tuple[Link | Menu, ...] = (
    Link("Work", "abstracts.home", ALL),
    Link("Patients", "abstracts.patients", PHI),
    Link("Casefinding", "abstracts.suspense", PHI),
    Link("Follow-up", "followup.worklist", PHI),
    Menu("Analysis", (Link("Survival", "survival.page", ANALYSTS),
                      Link("Incidence", "incidence.page", ANALYSTS),
                      Link("Research data", "research.builder", ANALYSTS))),
    Menu("Submissions", (Link("Import a NAACCR file", "submissions.import_page", WRITERS),
                         Link("State submissions", "submissions.submissions_page", ADMIN))),
    Menu("Reports", (Link("Staging", "staging.index", PHI),
                     Link("Annual report", "annual_report.index", ADMIN))),
    Menu("Administration", (Link("Users", "admin.users", ADMIN),
                            Link("Facility", "admin.facility", ADMIN),
                            Link("Reference data", "reference.list_installed", ADMIN),
                            Link("Research releases", "research.admin", ADMIN),
                            Link("Audit log", "audit.search", ADMIN))),
)
#: Under the user's name: their own things.
ACCOUNT_MENU: tuple[Link, ...] = (
    Link("My account and API tokens", "abstracts.account", ALL),
    Link("My jobs", "jobs.list_jobs", ALL),
    Link("API documentation", "api.docs", ALL),
)


@dataclass(frozen=True)
class Shown:
    """One entry as the bar draws it: a link (``url``) or a menu (``links``), marked when it holds the page."""
    label: str
    url: str = ""
    links: tuple[tuple[str, str, bool], ...] = ()
    current: bool = False


def _links(links: tuple[Link, ...], role: str, endpoint: str | None) -> tuple[tuple[str, str, bool], ...]:
    return tuple((link.label, url_for(link.endpoint), link.endpoint == endpoint) for link in links
                 if role in link.roles)


def navigation_for(role: str, endpoint: str | None) -> list[Shown]:
    """The bar for a role on the page ``endpoint``: empty menus left out."""
    shown = []
    for entry in NAVIGATION:
        if isinstance(entry, Link):
            if role in entry.roles:
                shown.append(Shown(entry.label, url=url_for(entry.endpoint), current=entry.endpoint == endpoint))
            continue
        links = _links(entry.links, role, endpoint)
        if links:
            shown.append(Shown(entry.label, links=links, current=any(current for _, _, current in links)))
    return shown


def account_menu(role: str, endpoint: str | None) -> tuple[tuple[str, str, bool], ...]:
    return _links(ACCOUNT_MENU, role, endpoint)
