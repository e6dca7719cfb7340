"""SQL statements per page: the abstract page and the patient search cost a fixed number of queries, however many
tumors the patient has or patients the search finds (each used to grow with them, or read the reference installs
once per kind)."""
from contextlib import contextmanager

from sqlalchemy import event

from abstracts import operations as ops
from registry.audit import SYSTEM
from tests.abstracting.conftest import PATIENT, TUMOR


@contextmanager
def statements(app):
    """The SQL statements the application runs inside the block."""
    seen: list[str] = []
    engine = app.extensions["registry_engine"]

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _get(client, app, url):
    """The statements of a request as a server runs it: its own application context (``g``) and session."""
    with app.app_context():
        client.get(url)  # the first request builds what a process caches (catalogue, term indexes)
    with app.app_context(), statements(app) as seen:
        response = client.get(url)
    assert response.status_code == 200
    return list(seen)


def _another_tumor(patient_id, n):
    data = dict(TUMOR, primary_site=f"C{340 + n}", histology="8140", laterality="1", sequence_number_hospital=f"0{n}",
                date_of_diagnosis=f"202{n}0105", treatment=dict(TUMOR["treatment"]))
    return ops.create_tumor(patient_id, data, actor=SYSTEM)


def test_the_abstract_page_costs_the_same_queries_for_one_tumor_or_four(app, client, login, patient_with_tumor):
    login("registrar")
    patient, tumor = patient_with_tumor
    url = f"/patients/{patient.id}/tumors/{tumor.id}"
    alone = _get(client, app, url)
    for n in (1, 2, 3):
        _another_tumor(patient.id, n)
    with_others = _get(client, app, url)
    assert len(with_others) == len(alone), "\n".join(with_others)
    assert sum("FROM reference_install" in s for s in with_others) == 1
    assert sum("FROM first_course_treatment" in s for s in with_others) <= 1


def test_the_search_costs_the_same_queries_for_one_match_or_many(app, client, login):
    login("registrar")
    ops.create_patient(dict(PATIENT, medical_record_number="M1"), actor=SYSTEM)
    one = _get(client, app, "/patients?name=Hazeldmeo,Ingrid")
    for n in range(2, 8):
        ops.create_patient(dict(PATIENT, medical_record_number=f"M{n}", social_security_number=f"99912345{n}"),
                           actor=SYSTEM)
    many = _get(client, app, "/patients?name=Hazeldmeo,Ingrid")
    assert len(many) == len(one), "\n".join(many)
