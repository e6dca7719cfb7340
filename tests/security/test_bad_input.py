"""Bad input, fuzzed with hypothesis: forms, the JSON API, the NAACCR reader and the CSV readers never give a
500 or a stack trace; a refusal names the field or line; nothing is half-written. And the 500 page itself."""
from __future__ import annotations

import gzip
import logging
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from registry.db import db_session
from registry.models import AuditEntry, FollowUpContact, Patient, SuspenseCase, Tumor
from tests.reference import REFERENCE_DIR

FUZZ = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
#: Anything a browser or a script might send: control characters, markup, quotes, very long runs, non-BMP.
junk = st.one_of(st.text(max_size=60), st.text(alphabet=string.printable, max_size=12),
                 st.sampled_from(["", " ", "0", "-1", "99999999", "2025-02-30", "1e309", "NaN", "\x00", "9" * 400,
                                  "<b>", "' OR 1=1 --", "C50.9", "../../etc/passwd", "\ud7ff\U0001f600"]))
STACK = ("Traceback (most recent call last)", 'File "/', "sqlalchemy.exc", "werkzeug.exceptions")


def _counts() -> tuple[int, ...]:
    db_session.expire_all()
    return tuple(db_session.scalar(select(func.count()).select_from(m)) for m in (Patient, Tumor, FollowUpContact,
                                                                                   SuspenseCase))


def _no_stack(response, where: str) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code < 500, f"{where}: {response.status_code}\n{body[:2000]}"
    assert not any(marker in body for marker in STACK), f"{where}: a stack trace reached the user"
    return body


# --- forms -------------------------------------------------------------------------------------

FORMS = {
    "/patients/new": ("name_last", "name_first", "date_of_birth", "sex", "social_security_number",
                      "medical_record_number", "confirmed"),
    "/suspense": ("name_last", "name_first", "date_of_birth", "medical_record_number", "primary_site", "date_found",
                  "source", "note"),
    "/account": ("name", "days"),
}


@FUZZ
@given(form=st.sampled_from(sorted(FORMS)), values=st.lists(junk, min_size=8, max_size=8))
def test_forms_refuse_bad_input_by_name_and_write_nothing_half(app, registry, form, values):
    registrar = registry.principals["registrar"]
    data = dict(zip(FORMS[form], values), csrf_token=registrar.csrf)
    before = _counts()
    response = registrar.client.post(form, data=data)
    body = _no_stack(response, f"POST {form} {data}")
    after = _counts()
    if response.status_code in (400, 422):
        assert after == before, f"{form}: refused but something was written"
        assert 'class="msg error"' in body or 'role="alert"' in body or ": contains a NUL" in body, f"{form}: no message"
    else:
        assert response.status_code in (200, 302), response.status_code
        assert all(a - b in (0, 1) for a, b in zip(after, before))


@FUZZ
@given(values=st.dictionaries(st.sampled_from(["date_of_contact", "vital_status", "follow_up_source",
                                               "next_follow_up_due", "cancer_status_1", "remarks"]), junk, max_size=6))
def test_follow_up_form(app, registry, values):
    registrar = registry.principals["registrar"]
    before = _counts()
    response = registrar.client.post(f"/patients/{registry.ids['patient_id']}/follow-up",
                                     data={**values, "csrf_token": registrar.csrf})
    _no_stack(response, f"follow-up {values}")
    if response.status_code != 302:
        assert _counts() == before


@FUZZ
@given(field=st.sampled_from(["primary_site", "histology", "behavior", "date_of_diagnosis", "laterality",
                              "summary_stage_2018", "name_last", "date_of_birth", "sex", "surgery_of_primary_site",
                              "remarks", "patient_version", "tumor_version"]), value=junk)
def test_abstract_form(app, registry, field, value):
    from tests.abstracting.conftest import form_fields
    registrar = registry.principals["registrar"]
    path = f"/patients/{registry.ids['patient_id']}/tumors/{registry.ids['tumor_id']}"
    fields = form_fields(registrar.client.get(path).get_data(as_text=True), "abstract-form")
    fields[field] = value
    last_audit = db_session.scalar(select(func.max(AuditEntry.id)))
    response = registrar.client.post(path, data=fields)
    body = _no_stack(response, f"abstract {field}={value!r}")
    if response.status_code in (400, 422):
        changed = db_session.scalars(select(AuditEntry.action).where(AuditEntry.id > last_audit,
                                                                    AuditEntry.action.like("%:update"))).all()
        assert changed == [], f"refused save wrote {changed}"
        assert "Nothing was saved" in body or "error" in body


@settings(FUZZ, max_examples=8)
@given(args=st.dictionaries(st.sampled_from(["name", "date_of_birth", "medical_record_number", "patient_id_number",
                                             "ssn_last4", "page", "user", "patient", "date_from", "date_to",
                                             "action", "list", "status", "q", "limit"]), junk, max_size=5))
def test_search_arguments(app, registry, args):
    admin = registry.principals["admin"]
    for path in ("/patients", "/admin/audit/", "/suspense", "/follow-up", "/codes/sex.json", "/staging/schema",
                 "/survival/"):
        _no_stack(admin.client.get(path, query_string=args), f"GET {path} {args}")


def test_a_nul_character_is_refused_by_field_name_on_every_database(app, registry):
    """PostgreSQL cannot store NUL: the app names the field instead of failing in the database."""
    registrar = registry.principals["registrar"]
    before = _counts()
    page = registrar.client.get("/patients", query_string={"date_of_birth": "19\x0050"})
    assert page.status_code == 400 and "date_of_birth: contains a NUL character" in page.get_data(as_text=True)
    form = registrar.client.post("/suspense", data={"name_last": "Nul", "note": "a\x00b", "source": "pathology",
                                                    "csrf_token": registrar.csrf})
    assert form.status_code == 400 and "note: contains a NUL" in form.get_data(as_text=True)
    api = registrar.api("POST", "/api/v1/patients", json={"name_last": "Nul", "extra_items": {"x": "\x00"}})
    assert api.status_code == 400 and api.json["error"]["message"].startswith("extra_items.x: contains a NUL")
    assert _counts() == before


# --- the JSON API ------------------------------------------------------------------------------

api_value = st.one_of(junk, st.integers(), st.none(), st.booleans(), st.floats(allow_nan=True),
                      st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=5), st.text(max_size=5),
                                                                          max_size=2))
PATIENT_FIELDS = ["name_last", "name_first", "sex", "date_of_birth", "race1", "social_security_number",
                  "vital_status", "date_of_last_contact", "extra_items", "id", "unknown_field"]
TUMOR_FIELDS = ["primary_site", "histology", "behavior", "date_of_diagnosis", "laterality", "treatment",
                "site_specific_items", "sequence_number_hospital", "version", "workflow_state"]


@FUZZ
@given(patient=st.dictionaries(st.sampled_from(PATIENT_FIELDS), api_value, max_size=6),
       tumor=st.dictionaries(st.sampled_from(TUMOR_FIELDS), api_value, max_size=6),
       raw=st.one_of(st.none(), st.binary(max_size=40)))
def test_api_refuses_bad_json_by_field_and_writes_nothing(app, registry, patient, tumor, raw):
    registrar = registry.principals["registrar"]
    patient_id, tumor_id = registry.ids["patient_id"], registry.ids["tumor_id"]
    requests = [("POST", "/api/v1/patients", patient), ("PATCH", f"/api/v1/patients/{patient_id}", patient),
                ("POST", f"/api/v1/patients/{patient_id}/tumors", tumor),
                ("PATCH", f"/api/v1/tumors/{tumor_id}", tumor),
                ("PATCH", f"/api/v1/tumors/{tumor_id}/treatment", tumor.get("treatment") if isinstance(
                    tumor.get("treatment"), dict) else tumor),
                ("POST", f"/api/v1/patients/{patient_id}/follow-ups", patient),
                ("POST", "/api/v1/edits/check", {"patient": patient, "tumor": tumor}),
                ("POST", f"/api/v1/tumors/{tumor_id}/workflow", tumor)]
    for method, path, body in requests:
        before = _counts()
        if raw is not None:
            response = registrar.api(method, path, data=raw, content_type="application/json")
        else:
            response = registrar.api(method, path, json=body)
        _no_stack(response, f"{method} {path} {body if raw is None else raw}")
        assert response.is_json, f"{method} {path}: {response.mimetype}"
        if response.status_code >= 400:
            error = response.json["error"]
            assert error["message"], error
            if response.status_code == 422:
                assert error.get("fields"), f"{method} {path}: 422 naming no field: {error}"
            assert _counts() == before, f"{method} {path}: refused but wrote something"


# --- file readers ------------------------------------------------------------------------------

SAMPLE = REFERENCE_DIR / "naaccr" / "samples" / "naaccr-xml-sample-v250-abstract-10.xml.gz"
DICTIONARY = REFERENCE_DIR / "naaccr" / "dictionaries" / "naaccr-dictionary-250.xml"


@pytest.fixture
def naaccr_store(app, tmp_path):
    from registry.audit import SYSTEM
    from registry.naaccr.records import installed_dictionaries
    from registry.reference import install
    install("naaccr-dictionary", DICTIONARY, actor=SYSTEM, store=tmp_path / "store")
    return installed_dictionaries()


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    for position, cut, insert in edits:
        at = position % (len(data) + 1)
        data = data[:at] + insert + data[at + cut:]
    return data


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 40),
                                st.sampled_from([b"", b"<", b">", b"&", b"\x00", b"\xff\xfe", b"</Tumor>",
                                                 b"<Item naaccrId=\"primarySite\">C999</Item>", b"<Patient>",
                                                 b"<Item naaccrId=\"nope\">1</Item>", b"]]>", b"\"", b"9" * 30,
                                                 b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>&e;"])),
                      min_size=1, max_size=4), compressed=st.booleans())
def test_naaccr_reader_and_import_name_the_line_and_never_crash(app, naaccr_store, tmp_path_factory, edits,
                                                                compressed):
    from registry.audit import SYSTEM
    from registry.naaccr.importer import import_file
    from registry.naaccr.reader import validate
    store, users = naaccr_store
    data = _mutate(gzip.decompress(SAMPLE.read_bytes()), edits)
    path = tmp_path_factory.mktemp("naaccr") / ("fuzz.xml.gz" if compressed else "fuzz.xml")
    path.write_bytes(gzip.compress(data) if compressed else data)
    report = validate(path, store, users)
    assert report.status in ("valid", "invalid", "unreadable")
    for problem in report.problems:
        assert problem.message and (problem.line is not None or problem.code in ("dictionary", "unreadable")
                                    or "line" in str(problem) or problem.patient is not None), str(problem)
    before = _counts()
    result = import_file(path, actor=SYSTEM, store=store, user_dictionaries=users, batch_size=3)
    assert result.status in ("ok", "rejected", "unreadable")
    for rejection in result.rejections:
        assert rejection.reason and (rejection.line or rejection.item or rejection.patient), rejection
    written = _counts()[0] - before[0]
    assert written <= result.patients_created


def test_an_external_entity_in_a_naaccr_file_is_not_read(app, naaccr_store, tmp_path):
    from registry.naaccr.reader import validate
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    data = gzip.decompress(SAMPLE.read_bytes()).decode()
    head, _, rest = data.partition("?>")
    evil = (head + "?>" + f'<!DOCTYPE NaaccrData [<!ENTITY e SYSTEM "file://{secret}">]>'
            + rest.replace('<Item naaccrId="primarySite">', '<Item naaccrId="primarySite">&e;', 1))
    path = tmp_path / "evil.xml"
    path.write_text(evil)
    report = validate(path, *naaccr_store)
    assert "TOP-SECRET-CONTENT" not in " ".join(str(p) for p in report.problems)
    from registry.naaccr import NaaccrReader
    with NaaccrReader(path, *naaccr_store) as reader:
        values = [v for patient in reader for items in [patient.items, *(t.items for t in patient.tumors)]
                  for v in items.values()]
    assert values and not any("TOP-SECRET" in v for v in values), "the reader resolved an external entity"


def test_an_item_holding_an_unresolved_entity_is_rejected_with_its_line_and_blanks_nothing(app, naaccr_store,
                                                                                            tmp_path):
    """The record below matches the stored patient by SSN and date of birth under another Patient ID Number;
    its last name cannot be read, so the record is refused, not taken as a blank last name."""
    from registry.audit import SYSTEM
    from registry.naaccr.importer import import_file
    store, users = naaccr_store
    original = tmp_path / "first.xml.gz"
    original.write_bytes(SAMPLE.read_bytes())
    assert import_file(original, actor=SYSTEM, store=store, user_dictionaries=users).status == "ok"
    data = gzip.decompress(SAMPLE.read_bytes()).decode()
    head, _, rest = data.partition("?>")
    rest = rest.replace('<Item naaccrId="patientIdNumber">00000001</Item>',
                        '<Item naaccrId="patientIdNumber">00000901</Item>', 1)
    rest = rest.replace('<Item naaccrId="nameLast">Smith</Item>', '<Item naaccrId="nameLast">&e;</Item>', 1)
    text = head + "?>" + '<!DOCTYPE NaaccrData [<!ENTITY e "Smith">]>' + rest
    path = tmp_path / "entity.xml"
    path.write_text(text)
    line = next(number for number, content in enumerate(text.splitlines(), 1) if "&e;" in content)
    result = import_file(path, actor=SYSTEM, store=store, user_dictionaries=users)
    assert result.records_rejected == 1, result.summary()
    assert [(r.line, r.item) for r in result.rejections] == [(line, "nameLast")], result.rejections
    db_session.expire_all()
    stored = db_session.scalars(select(Patient).where(Patient.patient_id_number == "00000001")).one()
    assert stored.name_last == "Smith"


csv_cell = st.one_of(st.text(alphabet=string.printable.replace("\r", ""), max_size=8),
                     st.sampled_from(["C509", "8500", "3", "20240105", "00", "1", "\"", "\"\"", "x,y"]))


@FUZZ
@given(header=st.lists(st.sampled_from(["patientIdNumber", "primarySite", "histologicTypeIcdO3", "behaviorCodeIcdO3",
                                        "dateOfDiagnosis", "sex", "dateOfBirth", "junk", "", "\ufeffsex"]),
                       max_size=6),
       rows=st.lists(st.lists(csv_cell, max_size=8), max_size=5), raw=st.binary(max_size=30))
def test_edits_check_csv_reader(app, tmp_path_factory, header, rows, raw):
    folder = tmp_path_factory.mktemp("edits")
    text_ = "\n".join([",".join(header)] + [",".join(row) for row in rows])
    for name, content in (("table.csv", text_.encode()), ("raw.csv", raw)):
        source = folder / name
        source.write_bytes(content)
        result = app.test_cli_runner().invoke(args=["edits", "check", "--input", str(source),
                                                    "--report", str(folder / "report.csv")])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code in (0, 1), result.output
        if result.exit_code == 1:
            assert str(source) in result.output and "Error:" in result.output, result.output


@pytest.fixture(scope="module")
def pediatric():
    from staging_tables.staging import load_algorithm
    return load_algorithm(REFERENCE_DIR / "staging" / "algorithms" / "pediatric-1.3.zip", year_current=2026)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(rows=st.lists(st.lists(csv_cell, max_size=6), max_size=5), keys=st.integers(0, 6), raw=st.booleans())
def test_staging_run_csv_reader(pediatric, tmp_path_factory, rows, keys, raw):
    from staging_tables.staging.batch import CsvFormatError, stage_csv
    folder = tmp_path_factory.mktemp("staging")
    header = list(pediatric.input_keys)[:keys]
    source, target = folder / "in.csv", folder / "out.csv"
    lines = [",".join(header)] + [",".join(row) for row in rows]
    source.write_bytes(("\n".join(lines)).encode() if not raw else b"\xff\x00" + "\n".join(lines).encode())
    try:
        counts = stage_csv(pediatric, source, target)
    except CsvFormatError as exc:
        assert str(source) in str(exc), str(exc)
        assert not target.exists(), "a refused file left a half-written result"
    else:
        assert sum(counts.values()) <= len(rows) and target.exists()


# --- the 500 page ------------------------------------------------------------------------------

def test_an_unexpected_error_shows_a_plain_page_and_is_logged(database_url, tmp_path, caplog):
    from registry.app import create_app
    app = create_app({"DATABASE_URL": database_url, "JOB_FILES_DIR": str(tmp_path)})

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    @app.route("/api/v1/boom")
    def api_boom():
        raise RuntimeError("secret internals")

    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        page = client.get("/boom")
        api = client.get("/api/v1/boom")
    body = page.get_data(as_text=True)
    assert page.status_code == 500 and "Something went wrong" in body and "nothing of it was saved" in body
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert page.headers["X-Frame-Options"] == "DENY" and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert api.status_code == 500 and api.is_json and "secret" not in api.get_data(as_text=True)
    assert "hunter2" in caplog.text and "RuntimeError" in caplog.text  # logged for the administrator
    app.extensions["registry_engine"].dispose()
