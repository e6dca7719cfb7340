"""The abstract form carries the whole NAACCR v26 abstract: every catalogued item editable where a registrar
looks for it, validated by the catalogue when saved, and completion refused while a required item is blank."""
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select, update

from abstracts import operations as ops
from abstracts.forms import FIELD_RECORD, STAGE_FIELDS, item_name
from registry.audit import SYSTEM
from registry.catalogue import SSDI_STORE, shipped_catalogue
from registry.db import db_session
from registry.errors import InvalidInput
from registry.models import AuditEntry, Patient, Tumor, WorkflowState
from registry.reference import install
from staging_tables.staging.reference import installed_algorithm
from tests.abstracting.conftest import PATIENT, TUMOR, csrf_of, form_fields
from tests.completion import completable
from tests.reference import REFERENCE_DIR

EOD = REFERENCE_DIR / "staging" / "algorithms" / "eod_public-3.3.zip"
YEAR = 2025


@pytest.fixture
def eod(app, tmp_path):
    """The official eod_public 3.3 bundle, so the Stage section lists the breast schema's SSDIs."""
    app.config["INSTANCE_DIR"] = str(tmp_path)
    install("staging-algorithm", EOD, actor=SYSTEM, store=tmp_path / "reference")
    return installed_algorithm("eod_public-3.3")


def _abstract(year: int = YEAR, **tumor_changes):
    patient_data, tumor_data = completable(PATIENT, dict(TUMOR, date_of_diagnosis=f"{year}0115", **tumor_changes))
    patient = ops.create_patient(patient_data, actor=SYSTEM)
    tumor = ops.create_tumor(patient.id, tumor_data, actor=SYSTEM)
    return patient, tumor, f"/patients/{patient.id}/tumors/{tumor.id}"


class EditableFields(HTMLParser):
    """Names of the fields a registrar can type into (not hidden, not read-only), and those in the Stage section."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()
        self.in_stage: set[str] = set()
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.depth:
            self.depth += 1 if tag == "div" else 0
        if tag == "div" and a.get("id") == "stage-section":
            self.depth = 1
        if tag in ("input", "textarea", "select") and a.get("name") and a.get("type") != "hidden" \
                and "readonly" not in a and "disabled" not in a:
            self.names.add(a["name"])
            if self.depth:
                self.in_stage.add(a["name"])

    def handle_endtag(self, tag):
        if self.depth and tag == "div":
            self.depth -= 1


def test_every_v26_item_is_an_editable_field_of_a_2025_abstract(client, login, eod):
    _, _, url = _abstract()
    login("registrar")
    page = client.get(url).get_data(as_text=True)
    fields = EditableFields()
    fields.feed(page)
    breast = eod.lookup_schema("C504", "8500").schema
    cat = shipped_catalogue()
    schema_ssdis = {inp.naaccr_xml_id for inp in breast.inputs
                    if cat.get(inp.naaccr_xml_id) is not None and cat.get(inp.naaccr_xml_id).store == SSDI_STORE}
    v26 = [item for item in cat if "A" in item.record_types and not item.retired]
    found, excluded = [], {"derived": [], "ssdi_of_other_schemas": [], "not_used_in_2025": [], "assigned": [],
                           "schema_id_derived_by_engine": []}
    for item in v26:
        if item.derived:
            excluded["derived"].append(item)  # the registry derives them (stage, survival): shown read-only
            continue
        if item.store == SSDI_STORE and item.naaccr_id not in schema_ssdis:
            excluded["ssdi_of_other_schemas"].append(item)  # the Stage section lists the breast schema's own
            continue
        if not item.applies(YEAR):
            excluded["not_used_in_2025"].append(item)  # the catalogue's years exclude 2025; hidden while blank
            continue
        if item.naaccr_id == "patientIdNumber":
            excluded["assigned"].append(item)  # given by the registry when the patient is added
            continue
        if item.naaccr_id == "schemaId":
            excluded["schema_id_derived_by_engine"].append(item)  # the staging engine sets it from site/histology
            continue
        if item.store == SSDI_STORE:
            name = item.field_name
            assert name in fields.in_stage, f"{item.label} is not in the Stage section"
        elif item.naaccr_id == "textRemarks":
            name = "remarks"
        elif item.column is not None:
            name = item.column.attribute
            assert name in FIELD_RECORD
        else:
            name = item_name(item)
        assert name in fields.names, f"{item.label} ({name}) is not an editable field of the abstract"
        found.append(item)
    counts = {reason: len(items) for reason, items in excluded.items()}
    assert len(v26) == 766
    assert counts == {"derived": 69, "ssdi_of_other_schemas": 121, "not_used_in_2025": 76, "assigned": 1,
                      "schema_id_derived_by_engine": 1}
    assert len(found) == 498 and len(found) + sum(counts.values()) == len(v26)
    assert len(schema_ssdis) == 21
    # pickers for coded items, partial dates, character counters, closed groups outside the tab order
    assert re.search(r'name="extra_items.maritalStatusAtDx"[^>]*data-picker="naaccr:maritalStatusAtDx"', page)
    assert re.search(r'name="extra_items.rxDateMostDefinSurg"[^>]*data-date="1"', page)
    assert re.search(r'<textarea id="item-textDxProcPath" name="extra_items.textDxProcPath"[^>]*'
                     r'maxlength="4000" data-counter="1">', page)
    opened = re.findall(r'<details class="item-group" id="[^"]+" open>\s*<summary>([^<]+)<', page)
    closed = re.findall(r'<details class="item-group" id="[^"]+">\s*<summary>([^<]+)<', page)
    assert "Tumor size " in opened and "Diagnosis " in opened
    assert "Edit overrides " in closed and "Pathology reports " in closed


def test_items_not_used_in_the_diagnosis_year_are_hidden_unless_they_hold_a_value(client, login):
    _, tumor, url = _abstract(extra_items={"csExtension": "100"})
    login("registrar")
    page = client.get(url).get_data(as_text=True)
    fields = form_fields(page, "abstract-form")
    assert fields["extra_items.csExtension"] == "100" and "extra_items.csTumorSize" not in fields
    box = re.search(r'<div class="field not-applicable" data-field="extra_items.csExtension".*?</div>\s*</div>',
                    page, re.S).group(0)
    assert "not used for 2025 diagnoses" in box
    derived = re.search(r'<output id="item-derivedSummaryStage2018" class="derived">', page)
    assert derived is not None and 'name="derived_summary_stage_2018"' not in page


def test_items_without_a_column_are_saved_audited_and_read_back(client, login):
    patient, tumor, url = _abstract()
    login("registrar")
    fields = form_fields(client.get(url).get_data(as_text=True), "abstract-form")
    entered = {"extra_items.tumorSizeSummary": "022", "extra_items.maritalStatusAtDx": "2",
               "extra_items.phase2NumberOfFractions": "025",
               "extra_items.textDxProcPath": "Test text: core biopsy, invasive carcinoma.",
               "extra_items.rxDateMostDefinSurg": "2025-02", "patient_items.addrCurrentCity": "Testburg"}
    response = client.post(url, data=fields | entered)
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    stored = db_session.get(Tumor, tumor.id)
    assert {k: stored.extra_items.get(k) for k in ("tumorSizeSummary", "maritalStatusAtDx", "phase2NumberOfFractions",
                                                   "textDxProcPath", "rxDateMostDefinSurg")} == \
        {"tumorSizeSummary": "022", "maritalStatusAtDx": "2", "phase2NumberOfFractions": "025",
         "textDxProcPath": "Test text: core biopsy, invasive carcinoma.", "rxDateMostDefinSurg": "202502"}
    assert stored.extra_items["textPrimarySiteTitle"].startswith("Breast")  # items not posted stay
    assert db_session.get(Patient, patient.id).extra_items == {"addrCurrentCity": "Testburg"}
    page = client.get(url).get_data(as_text=True)
    again = form_fields(page, "abstract-form")
    assert (again["extra_items.tumorSizeSummary"], again["extra_items.rxDateMostDefinSurg"],
            again["patient_items.addrCurrentCity"]) == ("022", "2025-02", "Testburg")
    assert 'id="term-item-maritalStatusAtDx">Married (includes common law)</span>' in page
    saves = select(AuditEntry).where(AuditEntry.action.like("save_abstract%"))
    changes = [entry.changes for entry in db_session.scalars(saves)]
    assert any(c.get("extra_items", [{}, {}])[1].get("maritalStatusAtDx") == "2" for c in changes if c)
    assert any((c.get("extra_items") or [None, {}])[1] == {"addrCurrentCity": "Testburg"} for c in changes if c)
    # a blank removes the item
    assert client.post(url, data=again | {"patient_items.addrCurrentCity": "",
                                          "extra_items.maritalStatusAtDx": ""}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Patient, patient.id).extra_items == {}
    assert "maritalStatusAtDx" not in db_session.get(Tumor, tumor.id).extra_items


def test_a_bad_code_is_named_by_its_item_and_nothing_is_saved(client, login):
    patient, tumor, url = _abstract()
    login("registrar")
    page = client.get(url).get_data(as_text=True)
    fields = form_fields(page, "abstract-form")
    response = client.post(url, data=fields | {"extra_items.maritalStatusAtDx": "7",
                                               "patient_items.addrCurrentState": "zz", "laterality": "2"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    box = re.search(r'<div class="edit-msgs" data-for="maritalStatusAtDx">(.*?)</div>', text, re.S).group(1)
    assert "&#39;7&#39; is not a valid code for Marital Status at DX [150]" in box
    box = re.search(r'<div class="edit-msgs" data-for="addrCurrentState">(.*?)</div>', text, re.S).group(1)
    assert "Addr Current--State [1820]" in box
    assert form_fields(text, "abstract-form")["extra_items.maritalStatusAtDx"] == "7"
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).laterality == "1"
    assert "maritalStatusAtDx" not in db_session.get(Tumor, tumor.id).extra_items
    check = client.post(url + "/check", data=fields | {"csrf_token": csrf_of(page),
                                                       "extra_items.tumorSizeSummary": "12x"})
    assert "Tumor Size Summary [756]" in check.get_json()["invalid"]["extra_items.tumorSizeSummary"]


def test_every_write_path_checks_item_dictionaries_with_the_catalogue(app):
    patient, tumor, _ = _abstract()
    with pytest.raises(InvalidInput) as refused:
        ops.update_tumor(tumor.id, {"extra_items": {"maritalStatusAtDx": "7"},
                                    "site_specific_items": {"estrogenReceptorSummary": "55"}}, actor=SYSTEM)
    assert "Marital Status at DX [150]" in refused.value.errors["extra_items.maritalStatusAtDx"]
    assert "Estrogen Receptor Summary [3827]" in refused.value.errors["site_specific_items.estrogenReceptorSummary"]
    with pytest.raises(InvalidInput) as wrong_level:
        ops.update_patient(patient.id, {"extra_items": {"tumorSizeSummary": "010"}}, actor=SYSTEM)
    assert "is a Tumor item" in wrong_level.value.errors["extra_items.tumorSizeSummary"]
    # an item no installed dictionary defines is refused (issue 21.11); one already stored is not asked again
    with pytest.raises(InvalidInput) as unknown:
        ops.update_tumor(tumor.id, {"extra_items": dict(tumor.extra_items, stateRegistryItem1="X1")}, actor=SYSTEM)
    assert "not an item of the NAACCR dictionaries installed" in unknown.value.errors["extra_items.stateRegistryItem1"]
    db_session.execute(update(Tumor).where(Tumor.id == tumor.id).values(
        extra_items=dict(tumor.extra_items, stateRegistryItem1="X1", maritalStatusAtDx="7")))
    db_session.commit()
    ops.update_tumor(tumor.id, {"extra_items": dict(tumor.extra_items, stateRegistryItem1="X1",
                                                    maritalStatusAtDx="7", tumorSizeSummary="030")}, actor=SYSTEM)
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).extra_items["stateRegistryItem1"] == "X1"
    assert db_session.get(Tumor, tumor.id).extra_items["tumorSizeSummary"] == "030"


def test_completion_is_refused_naming_each_missing_item_and_who_requires_it(client, login, make_user, api):
    patient = ops.create_patient(PATIENT, actor=SYSTEM)
    tumor = ops.create_tumor(patient.id, TUMOR, actor=SYSTEM)
    with pytest.raises(InvalidInput) as refused:
        ops.set_workflow_state(tumor.id, "complete", actor=make_user("registrar", "r1"))
    errors = refused.value.errors
    assert errors["extra_items.tumorSizeSummary"] == \
        "Tumor Size Summary [756] is required to complete the abstract (CoC STORE and NPCR)"
    assert "(CoC STORE)" in errors["extra_items.accessionNumberHosp"]
    assert "(NPCR)" in errors["extra_items.textDxProcPe"] and "addr_at_dx_city" in errors
    assert "grade" not in errors  # Grade [440] is required for diagnoses before 2018 only
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).workflow_state is WorkflowState.IN_PROGRESS
    registrar = api("registrar")
    version = registrar("GET", f"/tumors/{tumor.id}").get_json()["version"]
    through_api = registrar("POST", f"/tumors/{tumor.id}/workflow", json={"state": "complete", "version": version})
    assert through_api.status_code == 422
    assert "Reporting Facility [540]" in through_api.get_json()["error"]["fields"]["extra_items.reportingFacility"]
    login("registrar")
    url = f"/patients/{patient.id}/tumors/{tumor.id}"
    page = client.get(url).get_data(as_text=True)
    shown = client.post(url + "/workflow", data={"csrf_token": csrf_of(page), "action": "complete",
                                                 "tumor_version": form_fields(page, "abstract-form")["tumor_version"]},
                        follow_redirects=True).get_data(as_text=True)
    assert "required item(s) missing" in shown and "Reporting Facility [540] is required" in shown
    db_session.expire_all()
    assert db_session.get(Tumor, tumor.id).workflow_state is WorkflowState.IN_PROGRESS


def test_pickers_look_up_naaccr_lookups_with_their_ranges(client, login):
    login("registrar")
    married = client.get("/codes/naaccr:maritalStatusAtDx.json?q=married").get_json()["results"]
    assert {"code": "2", "term": "Married (includes common law)"} in married
    size = client.get("/codes/naaccr:tumorSizeSummary.json?q=022").get_json()["results"]
    assert size[0] == {"code": "002-988", "term": "Exact size in millimeters (2 mm to 988 mm)", "range": True}
    assert client.get("/codes/naaccr:noSuchLookup.json").status_code == 404
