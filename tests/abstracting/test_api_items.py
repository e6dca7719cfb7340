"""The API and its OpenAPI document carry every catalogued item: items without a column in the nested
``items`` / ``site_specific_items`` objects, validated by the catalogue, merged on PATCH, and left out of the
researchers' view where the catalogue marks them identifiers."""
from __future__ import annotations

from typing import Any

from registry.audit import SYSTEM, operation
from registry.catalogue import catalogue
from registry.db import db_session
from registry.items import naaccr_items
from registry.models import FirstCourseTreatment, Patient, Tumor
from tests.abstracting.conftest import PATIENT, TUMOR

SENT_ITEMS = {"tumorSizeSummary": "025", "regionalNodesPositive": "01", "lymphVascularInvasion": "0",
              "dateCaseCompleted": "20240301", "textRemarks": "Fake remark for a test.",
              "accessionNumberHosp": "202400001", "physicianManaging": "12345678", "censusTract2020": "000100"}


def _naaccr_ids(node: Any, found: dict[str, list[int]]) -> None:
    if isinstance(node, dict):
        if "x-naaccr-id" in node:
            found.setdefault(node["x-naaccr-id"], []).append(node["x-naaccr-number"])
        for value in node.values():
            _naaccr_ids(value, found)
    elif isinstance(node, list):
        for value in node:
            _naaccr_ids(value, found)


def test_openapi_lists_every_catalogued_item_with_its_naaccr_id_and_number(api, app, client, make_user):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    found: dict[str, list[int]] = {}
    for name in ("Patient", "Tumor", "Treatment"):
        _naaccr_ids(schemas[name], found)
    cat = catalogue()
    current = {item.naaccr_id for item in cat if not item.retired}
    assert len(current) == 766 and len(cat) == 813
    assert current <= set(found) and len([i for i in found if i in current]) == len(current)
    assert set(found) == {item.naaccr_id for item in cat}
    assert all(numbers == [cat.get(naaccr_id).naaccr_num] for naaccr_id, numbers in found.items())

    size = schemas["Tumor"]["properties"]["items"]["properties"]["tumorSizeSummary"]
    assert (size["x-naaccr-number"], size["maxLength"], size["description"]) == (756, 3, "Tumor Size Summary [756]")
    assert size["x-codes-url"] == "/api/v1/codes/tumorSizeSummary" and "enum" not in size  # it has a range
    lvi = schemas["Tumor"]["properties"]["items"]["properties"]["lymphVascularInvasion"]
    assert set(lvi["enum"]) == set(cat.codes("lymphVascularInvasion").codes)
    ssdi = schemas["Tumor"]["properties"]["site_specific_items"]["properties"]
    assert "estrogenReceptorSummary" in ssdi and "tumorSizeSummary" not in ssdi
    assert schemas["Patient"]["properties"]["sex"]["x-naaccr-number"] == 220
    derived = [item.naaccr_id for item in cat if item.derived and item.column is None and item.level == "Tumor"
               and item.store == "extra_items"]
    assert derived and all(schemas["Tumor"]["properties"]["items"]["properties"][i]["readOnly"] for i in derived)

    call = api("registrar")
    looked_up = call("GET", "/codes/tumorSizeSummary", query_string={"q": "millimeters"}).get_json()
    assert {"code": "002-988", "term": "Exact size in millimeters (2 mm to 988 mm)"} in looked_up["items"]


def test_items_round_trip_through_post_and_patch(api, app, client, make_user):
    call = api("registrar")
    patient = call("POST", "/patients", json=dict(PATIENT, items={"telephone": "5555551234"})).get_json()
    assert patient["items"] == {"telephone": "5555551234"}
    made = call("POST", f"/patients/{patient['id']}/tumors",
                json=dict(TUMOR, items=SENT_ITEMS, site_specific_items={"estrogenReceptorSummary": "1"}))
    assert made.status_code == 201, made.get_json()
    tumor = made.get_json()
    assert tumor["items"] == SENT_ITEMS and tumor["site_specific_items"] == {"estrogenReceptorSummary": "1"}
    assert call("GET", f"/tumors/{tumor['id']}").get_json()["items"]["tumorSizeSummary"] == "025"
    assert db_session.get(Tumor, tumor["id"], populate_existing=True).extra_items == SENT_ITEMS

    changed = call("PATCH", f"/tumors/{tumor['id']}", json={"items": {"tumorSizeSummary": "030", "textRemarks": None},
                                                           "version": tumor["version"]})
    assert changed.status_code == 200, changed.get_json()
    expected = {k: v for k, v in SENT_ITEMS.items() if k != "textRemarks"} | {"tumorSizeSummary": "030"}
    assert changed.get_json()["items"] == expected
    assert db_session.get(Tumor, tumor["id"], populate_existing=True).extra_items == expected
    again = call("GET", f"/tumors/{tumor['id']}").get_json()
    assert again["items"] == expected and again["site_specific_items"] == {"estrogenReceptorSummary": "1"}

    moved = call("PATCH", f"/patients/{patient['id']}", json={"items": {"telephone": "5555550000"},
                                                              "version": patient["version"]})
    assert moved.status_code == 200 and moved.get_json()["items"] == {"telephone": "5555550000"}


def test_bad_items_are_refused_naming_the_item_and_nothing_is_saved(api, app, client, make_user, patient_with_tumor):
    _, tumor = patient_with_tumor
    call = api("registrar")
    version = call("GET", f"/tumors/{tumor.id}").get_json()["version"]
    before = dict(db_session.get(Tumor, tumor.id).extra_items or {})
    sent = {"tumorSizeSummary": "abc", "myStateItem": "1", "primarySite": "C509", "estrogenReceptorSummary": "1",
            "telephone": "5555551234", "regionalNodesPositive": 5, "lymphVascularInvasion": "7"}
    refused = call("PATCH", f"/tumors/{tumor.id}", json={"items": sent, "version": version})
    assert refused.status_code == 422
    fields = refused.get_json()["error"]["fields"]
    assert set(fields) == {f"items.{naaccr_id}" for naaccr_id in sent}
    assert "Tumor Size Summary [756]" in fields["items.tumorSizeSummary"]
    assert "'abc'" in fields["items.tumorSizeSummary"]
    assert "not an item of the NAACCR dictionaries" in fields["items.myStateItem"]
    assert "primary_site" in fields["items.primarySite"]
    assert "site_specific_items" in fields["items.estrogenReceptorSummary"]
    assert "patient item" in fields["items.telephone"]
    assert "text" in fields["items.regionalNodesPositive"]
    ssdi = call("PATCH", f"/tumors/{tumor.id}", json={"site_specific_items": {"tumorSizeSummary": "010"},
                                                     "version": version})
    assert ssdi.status_code == 422
    assert "belongs in items" in ssdi.get_json()["error"]["fields"]["site_specific_items.tumorSizeSummary"]
    assert call("PATCH", f"/tumors/{tumor.id}", json={"items": ["tumorSizeSummary"], "version": version}
                ).get_json()["error"]["fields"] == {"items": "must be an object of {naaccrId: value}"}
    fresh = db_session.get(Tumor, tumor.id, populate_existing=True)
    assert fresh.version == version and fresh.extra_items == before


def _column_naaccr_ids(model: type) -> dict[str, str]:
    return {name: spec.naaccr_id for name, spec in naaccr_items(model).items()}


def test_researchers_see_no_identifier_item(api, app, client, make_user, patient_with_tumor):
    patient, tumor = patient_with_tumor
    with operation(SYSTEM, "test_items") as session:
        session.get(Tumor, tumor.id).extra_items = dict(SENT_ITEMS, myStateItem="kept from import")
        session.get(Patient, patient.id).extra_items = {"telephone": "5555551234", "addrCurrentCity": "SPRINGFIELD",
                                                        "birthplaceCountry": "USA"}
    cat = catalogue()
    registrar, researcher = (api(role) for role in ("registrar", "researcher"))
    full = registrar("GET", f"/tumors/{tumor.id}").get_json()
    assert full["items"]["myStateItem"] == "kept from import" and full["items"]["accessionNumberHosp"] == "202400001"

    shown_tumor = researcher("GET", f"/tumors/{tumor.id}").get_json()
    shown_patient = researcher("GET", f"/patients/{patient.id}").get_json()
    listed = researcher("GET", "/tumors").get_json()["items"][0]
    assert listed == shown_tumor
    assert shown_tumor["items"] == {"tumorSizeSummary": "025", "regionalNodesPositive": "01",
                                    "lymphVascularInvasion": "0", "dateCaseCompleted": "2024"}
    assert shown_patient["items"] == {"birthplaceCountry": "USA"}
    columns = {**_column_naaccr_ids(Patient), **_column_naaccr_ids(Tumor), **_column_naaccr_ids(FirstCourseTreatment)}
    shown = set(shown_patient) | set(shown_tumor) | set(shown_tumor["treatment"])
    shown_ids = {columns[name] for name in shown if name in columns}
    shown_ids |= set(shown_patient["items"]) | set(shown_tumor["items"]) | set(shown_tumor["site_specific_items"])
    identifiers = {item.naaccr_id for item in cat if item.identifier}
    assert len(identifiers) == 91 and len(shown_ids) > 20
    assert not shown_ids & identifiers
    assert "date_of_birth" not in shown_patient and shown_tumor["date_of_diagnosis"] == "2024"
