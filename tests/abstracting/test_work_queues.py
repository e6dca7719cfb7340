"""Work queues as work lists: headings, sorting, "assigned to me", assignment, the reviewer's order."""
import re

from sqlalchemy import select

from abstracts import operations as ops
from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import AuditEntry, Tumor
from tests.abstracting.conftest import TUMOR, csrf_of

SITES = ("C619", "C187", "C341")


def _three_more(patient):
    return [ops.create_tumor(patient.id, {**TUMOR, "primary_site": site, "laterality": "0",
                                          "sequence_number_hospital": None}, actor=SYSTEM) for site in SITES]


def _token(page: str) -> str:
    """The CSRF token of any form on the page (the sign-out form's included)."""
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _sites(page: str) -> list[str]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return re.findall(r"</a></td>\s*<td>\d*</td><td>(C\d{3})</td>", body)


def test_queue_has_headings_and_sorts_by_a_column_both_ways(client, login, patient_with_tumor):
    patient, _ = patient_with_tumor
    _three_more(patient)
    login("registrar")
    page = client.get("/queue/in_progress").get_data(as_text=True)
    head = page[page.index("<thead>"):page.index("</thead>")]
    for heading in ("Patient", "Site", "Diagnosed", "State", "Assigned to", "Updated"):
        assert heading in head
    up = client.get("/queue/in_progress?sort=site").get_data(as_text=True)
    assert _sites(up) == ["C187", "C341", "C504", "C619"]
    assert 'aria-sort="ascending"' in up and "sort=site&amp;dir=desc" in up
    down = client.get("/queue/in_progress?sort=site&dir=desc").get_data(as_text=True)
    assert _sites(down) == ["C619", "C504", "C341", "C187"]
    assert _sites(client.get("/queue/in_progress?sort=nonsense").get_data(as_text=True))  # the queue's own order


def test_a_reviewer_assigns_and_the_registrar_finds_it_under_assigned_to_me(client, login, patient_with_tumor,
                                                                              make_user):
    patient, tumor = patient_with_tumor
    colon = _three_more(patient)[1]
    worker = make_user("registrar", "worker")
    login("reviewer")
    page = client.get("/queue/in_progress").get_data(as_text=True)
    assert 'id="assign"' in page and f'<option value="{worker.id}">worker' in page
    done = client.post("/queue/in_progress/assign", data={"csrf_token": csrf_of(page), "tumor": [str(colon.id)],
                                                          "assignee": str(worker.id)}, follow_redirects=True)
    assert "1 abstract(s) assigned." in done.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Tumor, colon.id).assigned_to_id == worker.id
    [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "assign_abstracts:update")).all()
    assert entry.changes["assigned_to_id"] == [None, worker.id] and entry.username == "reviewer1"
    mine = client.get("/queue/in_progress?show=mine").get_data(as_text=True)
    assert _sites(mine) == []  # the reviewer holds none
    assert _sites(client.get("/queue/in_progress?show=unassigned").get_data(as_text=True)).count("C187") == 0

    client.post("/logout", data={"csrf_token": _token(mine)})
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "worker", "password": "correct-horse-9", "csrf_token": csrf_of(page)})
    home = client.get("/").get_data(as_text=True)
    card = re.search(r'id="queue-assigned_to_me"[^>]*>\s*<div class="count">(\d+)</div>', home)
    assert card and card.group(1) == "1"
    assert _sites(client.get("/queue/assigned_to_me").get_data(as_text=True)) == ["C187"]


def test_a_registrar_takes_unassigned_work_but_not_someone_elses(client, login, patient_with_tumor, make_user):
    patient, tumor = patient_with_tumor
    prostate, colon, _ = _three_more(patient)
    other = make_user("registrar", "other")
    ops.assign_abstracts([colon.id], other.id, actor=make_user("admin", "lead"))
    me = login("registrar")
    page = client.get("/queue/in_progress").get_data(as_text=True)
    assert 'id="take"' in page and 'id="assign"' not in page
    token = csrf_of(page)
    taken = client.post("/queue/in_progress/assign", data={"csrf_token": token, "tumor": [str(prostate.id)],
                                                           "assignee": "me"}, follow_redirects=True)
    assert "1 abstract(s) assigned." in taken.get_data(as_text=True)
    refused = client.post("/queue/in_progress/assign", data={"csrf_token": token, "tumor": [str(colon.id)],
                                                             "assignee": "me"}, follow_redirects=True)
    assert "may take unassigned abstracts or give back their own, not reassign tumor C18.7" in \
        refused.get_data(as_text=True)
    unreadable = client.post("/queue/in_progress/assign", data={"csrf_token": token, "tumor": [str(colon.id)],
                                                                "assignee": "Smith"})
    assert unreadable.status_code == 400
    assert "assignee: &#39;Smith&#39; is not a user; choose one from the list. Nothing was saved." in \
        unreadable.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Tumor, prostate.id).assigned_to_id == me.id
    assert db_session.get(Tumor, colon.id).assigned_to_id == other.id
    client.post("/queue/in_progress/assign", data={"csrf_token": token, "tumor": [str(prostate.id)],
                                                   "assignee": "none"})
    db_session.expire_all()
    assert db_session.get(Tumor, prostate.id).assigned_to_id is None


def test_work_goes_only_to_people_who_abstract(app, patient_with_tumor, make_user):
    import pytest
    from registry.errors import InvalidInput
    patient, tumor = patient_with_tumor
    analyst = make_user("researcher", "analyst")
    with pytest.raises(InvalidInput, match="analyst is not an enabled registrar or administrator"):
        ops.assign_abstracts([tumor.id], analyst.id, actor=make_user("admin", "lead"))
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).assigned_to_id is None


def test_the_reviewers_home_page_leads_with_what_awaits_review(client, login, patient_with_tumor):
    login("reviewer")
    cards = re.findall(r'id="queue-([a-z_]+)"', client.get("/").get_data(as_text=True))
    assert cards[0] == "awaiting_review" and len(cards) == 7
    client.post("/logout", data={"csrf_token": _token(client.get("/").get_data(as_text=True))})
    login("registrar", "reg2")
    cards = re.findall(r'id="queue-([a-z_]+)"', client.get("/").get_data(as_text=True))
    assert cards[:2] == ["assigned_to_me", "in_progress"]


def _varied_queues(patient, make_user):
    """Abstracts in every queue: assigned, returned, with edit errors (also a reviewed one, which no queue lists),
    awaiting review."""
    from sqlalchemy import update

    from registry.models import AbstractEditStatus, WorkflowState
    reg = make_user("registrar", "queue-reg")
    tumors = _three_more(patient) + _three_more(patient)
    values = [dict(assigned_to_id=reg.id), dict(workflow_comment="check the grade"),
              dict(workflow_state=WorkflowState.COMPLETE), dict(workflow_state=WorkflowState.COMPLETE,
                                                                assigned_to_id=reg.id),
              dict(workflow_state=WorkflowState.REVIEWED), dict()]
    for tumor, changes in zip(tumors, values):
        db_session.execute(update(Tumor).where(Tumor.id == tumor.id).values(**changes))
    for tumor, errors in zip(tumors[1:], (2, 0, 1, 3)):
        db_session.merge(AbstractEditStatus(tumor_id=tumor.id, errors=errors, warnings=0, failures=[]))
    db_session.commit()
    return reg


def test_the_home_page_counts_are_the_queues_own(app, patient_with_tumor, make_user):
    """The grouped count the home page uses gives what counting each queue's own rows gives."""
    from abstracts.queries import QUEUES, count, queue_counts, queue_statement
    patient, _ = patient_with_tumor
    reg = _varied_queues(patient, make_user)
    for user_id in (reg.id, None):
        counts = queue_counts(user_id)
        assert counts == {name: count(queue_statement(name, user_id=user_id)) for name in QUEUES}
    assert queue_counts(reg.id)["assigned_to_me"] == 1 and queue_counts(reg.id)["awaiting_review"] == 2
    assert queue_counts(reg.id)["returned"] == 1


def test_a_queue_page_costs_the_same_statements_however_many_rows_it_shows(app, client, login, patient_with_tumor,
                                                                           make_user):
    """No statement per row (the patient and assignee of each abstract come with it)."""
    from sqlalchemy import event

    from abstracts.queries import queue_counts
    patient, _ = patient_with_tumor
    admin = login("admin")
    seen = []
    engine = app.extensions["registry_engine"]

    def note(_conn, _cursor, statement, *_rest):
        seen.append(" ".join(statement.split())[:150])
    event.listen(engine, "before_cursor_execute", note)

    def fresh(path: str) -> str:
        db_session.remove()  # the test's session would answer lazy loads from its identity map
        return client.get(path).get_data(as_text=True)
    try:
        fresh("/queue/in_progress")
        fresh("/")
        seen.clear()
        fresh("/queue/in_progress")
        one_row = len(seen)
        fresh("/")
        home_few = len(seen) - one_row
        held_before = sum(1 for n in queue_counts(admin.id).values() if n)
        _varied_queues(patient, make_user)
        other = ops.create_patient({"name_last": "Queuesample", "name_first": "Otto", "date_of_birth": "19500101",
                                    "sex": "1"}, actor=SYSTEM)
        ops.create_tumor(other.id, {**TUMOR, "sequence_number_hospital": None}, actor=SYSTEM)
        seen.clear()
        page = fresh("/queue/in_progress")
        assert len(seen) == one_row and page.count('name="tumor"') >= 4 and "Queuesample" in page
        held_after = sum(1 for n in queue_counts(admin.id).values() if n)
        assert held_after > held_before
        seen.clear()
        fresh("/")
        assert len(seen) == home_few + held_after - held_before, seen  # one statement per queue that holds rows
    finally:
        event.remove(engine, "before_cursor_execute", note)
