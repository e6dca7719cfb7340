"""/staging lists the installed algorithms; /staging/schema serves the Stage section's schema, inputs and codes."""
from .conftest import EOD


def test_schema_endpoint_is_not_for_researchers(client, login, install):
    install(EOD)
    url = "/staging/schema?site=C504&hist=8500"
    assert client.get(url).status_code == 302  # sign in first
    login("researcher")
    assert client.get(url).status_code == 403
    assert client.get("/staging/").status_code == 403


def test_schema_endpoint_for_registrars(client, login, install, no_reference_tables):
    url = "/staging/schema?site=C504&hist=8500"
    login("registrar")
    missing = client.get(url)
    assert missing.status_code == 404
    assert "install one with flask --app wsgi reference install staging-algorithm" in missing.get_json()["error"]
    install(EOD)
    answer = client.get(url).get_json()
    assert (answer["status"], answer["schema"]["id"], answer["schema"]["naaccr_schema_id"]) == ("MATCH", "breast",
                                                                                                "00480")
    mets = next(i for i in answer["inputs"] if i["key"] == "eod_mets")
    assert mets["naaccr_item"] == 776 and {c["code"] for c in mets["codes"]} == {"00", "05", "10", "70", "99"}
    naso = client.get("/staging/schema?site=C111&hist=8000&year_dx=2022").get_json()
    assert naso["status"] == "MULTIPLE_MATCHES" and "discriminator_1" in [q["key"] for q in naso["questions"]]
    chosen = client.get("/staging/schema?site=C111&hist=8000&year_dx=2022&discriminator_1=1").get_json()
    assert chosen["schema"]["id"] == "nasopharynx"
    assert client.get("/staging/schema?site=C504").status_code == 400
    assert client.get(url + "&algorithm=tnm").status_code == 404


def test_staging_page_says_how_to_install_then_lists(client, login, install, no_reference_tables):
    login("admin")
    page = client.get("/staging/").get_data(as_text=True)
    assert "No SEER staging algorithm is installed" in page
    assert "flask --app wsgi reference install staging-algorithm BUNDLE.zip" in page
    install(EOD)
    page = client.get("/staging/").get_data(as_text=True)
    assert "eod_public-3.3.zip" in page and "141 schemas" in page
    assert "Stage is derived on every save of a tumor diagnosed 2018 or later" in page
    assert "Re-derive eod_public" in page


def test_administrator_starts_a_rederive_job_from_the_page(app, client, login, install):
    import re
    import time

    from registry.db import db_session
    from registry.models import Job
    from abstracts.operations import create_patient, create_tumor
    from registry.audit import SYSTEM
    from tests.staging_product.test_derive import CASES
    install(EOD)
    create_tumor(create_patient({"sex": "2"}, actor=SYSTEM).id, CASES["colon"][0], actor=SYSTEM)
    login("registrar", "reg")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staging/").get_data(as_text=True)).group(1)
    assert client.post("/staging/rederive", data={"algorithm": "eod_public", "csrf_token": token}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    login("admin")
    page = client.get("/staging/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/staging/rederive", data={"algorithm": "eod_public", "csrf_token": token})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    for _ in range(100):
        db_session.expire_all()
        job = db_session.get(Job, job_id)
        if job.status.value in ("finished", "failed"):
            break
        time.sleep(0.1)
    assert job.status.value == "finished", job.messages
    assert "re-derived 1 tumors with eod_public 3.3: 0 with changed values" in job.messages
    assert job.params["username"] == "admin1" and job.user_id is not None and job.result_file
