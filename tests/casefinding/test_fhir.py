"""Every FHIR JSON/XML file of the reference set: bundles taken in (patient, text, suggested site/histology as
the file says), files with nothing to take in refused with the reason."""
import pytest

from abstracts.epath.fhir import UnreadableBundle, read_bundle
from abstracts.epath.report import PathologyReport, Section
from abstracts.epath.suggest import suggest
from tests.reference import REFERENCE_DIR

FHIR_DIR = REFERENCE_DIR / "epath" / "fhir"
ADRENAL = ("C749", "8370/3")
#: file → (last name, first name, MRN, a phrase of the report text, site, histology)
TAKEN = {
    "cancer-reporting/AdrenalMessageBundle-1.xml": ("Rodriguez", "Jose", "JoelAlexPatient",
                                                    "Specimen Laterality: Left", *ADRENAL),
    "cancer-reporting/Bundle-us-pathology-exchange-bundle-example.json": ("Joel", "Alex", "JoelAlexPatient",
                                                                          "2118.100004300: Adrenal gland", *ADRENAL),
    "cancer-reporting/cancer-us-pathology-message-bundle.xml": ("Rodriguez", "Jose", "JoelAlexPatient",
                                                                "Procedure: Adrenalectomy, total", *ADRENAL),
    "cancer-reporting/us-pathology-content-bundle-example.xml": ("Joel", "Alex", "JoelAlexPatient",
                                                                 "Adrenal gland", *ADRENAL),
    "cancer-reporting/us-pathology-exchange-bundle-example.xml": ("Joel", "Alex", "JoelAlexPatient",
                                                                  "Adrenal gland", *ADRENAL),
    "cancer-reporting/us-pathology-reporting-bundle-example.xml": ("Joel", "Alex", "JoelAlexPatient",
                                                                   "Adrenal gland", *ADRENAL),
    "ccrr/ccrr-content-bundle-example.json": ("Shaw", "Amy", None, "Stage group.clinical Cancer: American Joint "
                                              "Committee on Cancer stage IIA", None, None),
    "ccrr/ccrr-encounter-based-content-bundle-example.json": ("Shaw", "Amy", None, "Condition: Infiltrating duct "
                                                              "carcinoma of breast", "C509", "8500/3"),
    "ccrr/ccrr-non-encounter-based-content-bundle-example.json": ("Shaw", "Amy", None,
                                                                  "Medication administered: docetaxel", "C509",
                                                                  "8500/3"),
    "ccrr/ccrr-reporting-bundle-example.xml": ("Shaw", "Amy", None, "Cancer Stage Group", None, None),
    "ccrr/ccrr-composition-example.json": ("Shaw", "Amy", None, "Primary Cancer Condition Section", None, None),
    "ccrr/ccrr-primary-cancer-condition-breast.json": (None, None, None, "Body site: Left breast structure",
                                                       "C509", "8500/3"),
    "ccrr/ccrr-procedure-surgery-example.json": (None, None, None, "Lumpectomy of left breast", "C509", None),
    "ccrr/ccrr-procedure-radiotherapy-example.json": (None, None, None, "Procedure: 1217123003", None, None),
    "ccrr/ccrr-med-admin-docetaxel-example.json": (None, None, None, "Medication administered: docetaxel", None,
                                                   None),
    "ccrr/cancer-stage-group-example.json": (None, None, None, "stage IIA", None, None),
    "ccrr/tnm-clinical-primary-tumor-category-ct2-example.json": (None, None, None, "cT2", None, None),
    "ccrr/tnm-clinical-regional-nodes-category-cn0-example.json": (None, None, None, "cN0", None, None),
    "ccrr/tnm-clinical-distant-metastases-category-cm0-example.json": (None, None, None, "cM0", None, None),
    "ccrr/observation-non-smoker.json": (None, None, None, "Tobacco smoking status", None, None),
    "ccrr/odh-usual-work.json": ("Shaw", "Amy", None, "Nursing", None, None),
    "ccrr/patient-example.json": ("Shaw", "Amy", "1032702", "", None, None),
    "ccrr/problem-diabetes.json": ("Shaw", "Amy V.", None, "Type 2 diabetes mellitus", None, None),
    "sdc-connectathon/AdrenalTransactionBundle.json": ("Shepard", "Meredith", "1234567893", "Adrenal gland",
                                                       *ADRENAL),
    "sdc-connectathon/BreastResBundleEx.json": ("Shepard", "Meredith", "6547", "Specimen Laterality: Right", "C509",
                                                "8260/3"),
    "sdc-connectathon/Bundle-CPDSBundleA.json": ("A", "Patient", "0000000011", "Percutaneous needle biopsy",
                                                 *ADRENAL),
    "sdc-connectathon/Bundle-TxBundleColorectalBx.json": ("Gonzalez", "Rosa", "1234567893",
                                                          "Tumor Site (Note A): Sigmoid colon", "C187", "8480/3"),
    "sdc-connectathon/ColorectalTransactionBundle.json": ("Shepard", "Meredith", "1234567893",
                                                          "Adenoma-like adenocarcinoma", None, "8140/3"),
    "sdc-connectathon/LungResBundleEx.json": ("Shepard", "Meredith", "6547", "Pleomorphic carcinoma", "C343",
                                              "8010/3"),
    "sdc-connectathon/MelanomaBundleEx.json": ("Shepard", "Meredith", "1234567893", "BRAF", "C449", None),
}
#: bundles whose answers name no site: the site comes from the synoptic form's title, which the detail quotes
#: (ColorectalTransactionBundle's form, "COLON AND RECTUM", names no one site, so it suggests none)
FORM_SITE = {
    "sdc-connectathon/BreastResBundleEx.json": "synoptic form title 'INVASIVE CARCINOMA OF THE BREAST: Resection'",
    "sdc-connectathon/MelanomaBundleEx.json": "synoptic form title 'Melanoma Biomarker Reporting Template'",
}
#: files with no patient, condition, report or observation: refused, naming what they hold
REFUSED = {
    "ccrr/Central-Cancer-Registry-Reporting-specification-bundle-example.json": "PlanDefinition, ValueSet",
    "ccrr/ccrr-encounter-example-radiation.json": "Encounter", "ccrr/ccrr-encounter-example-surgery.json": "Encounter",
    "ccrr/ccrr-encounter-example.json": "Encounter", "ccrr/endpoint-healthcare-example.xml": "Endpoint",
    "ccrr/endpoint-pha-example.xml": "Endpoint", "ccrr/messageheader-example-reportheader.xml": "MessageHeader",
    "ccrr/organization-cancer-example.json": "Organization", "ccrr/organization-example-pha-org.xml": "Organization",
    "ccrr/plandefinition-ccrr-example.json": "PlanDefinition", "ccrr/practitioner-1.json": "Practitioner",
}


def test_every_json_and_xml_file_is_covered():
    files = {str(p.relative_to(FHIR_DIR)) for p in FHIR_DIR.rglob("*") if p.suffix in {".json", ".xml"}}
    assert files == set(TAKEN) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_taken_in(name):
    last, first, mrn, phrase, site, histology = TAKEN[name]
    report = read_bundle((FHIR_DIR / name).read_bytes())
    assert (report.patient.name_last, report.patient.name_first) == (last, first)
    assert report.patient.medical_record_number == mrn
    assert phrase in report.text
    codes = {s.item: s for s in suggest(report)}
    assert (codes["site"].code if "site" in codes else None) == site
    assert (codes["histology"].code if "histology" in codes else None) == histology
    if name in FORM_SITE:
        assert (codes["site"].source, codes["site"].detail) == ("form", FORM_SITE[name])
    elif site is not None:
        assert codes["site"].source != "form"
    for suggestion in codes.values():
        assert suggestion.source in {"synoptic", "coded", "text", "form", "message", "rule"} and suggestion.detail


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_what_it_holds(name):
    with pytest.raises(UnreadableBundle) as caught:
        read_bundle((FHIR_DIR / name).read_bytes())
    assert REFUSED[name] in str(caught.value) and "no patient, condition, report or observation" in str(caught.value)


def test_primary_cancer_condition_codes_and_provenance():
    report = read_bundle((FHIR_DIR / "ccrr/ccrr-primary-cancer-condition-breast.json").read_bytes())
    codes = {s.item: s for s in suggest(report)}
    assert codes["laterality"].code == "2" and "7771000" in codes["laterality"].detail
    assert codes["histology"].source == "coded" and "82711006" in codes["histology"].detail
    assert codes["date_of_diagnosis"].code == "20230321"
    assert any(f.kind == "stage_group" and "IIA" in (f.display or "") for f in report.coded)


@pytest.mark.parametrize("title, category, code, detail", [
    (None, "Skin", "C449", "synoptic form category 'Skin'"),
    ("UVEAL MELANOMA: Resection", "Eye", "C694", "synoptic form title 'UVEAL MELANOMA: Resection'"),
    ("COLON AND RECTUM: Resection", "Gastrointestinal", None, None),
    ("Biomarker Reporting Template", "Gastrointestinal", None, None),
])
def test_site_from_the_form_title_else_its_category(title, category, code, detail):
    report = PathologyReport(format="fhir", form_title=title, form_category=category)
    site = next((s for s in suggest(report) if s.item == "site"), None)
    assert (site and (site.code, site.source, site.detail)) == ((code, "form", detail) if code else None)


def test_the_text_naming_a_site_comes_before_the_form():
    report = PathologyReport(format="fhir", form_title="INVASIVE CARCINOMA OF THE BREAST: Resection",
                             sections=[Section(None, "final diagnosis", "Carcinoma, upper outer quadrant")])
    site = next(s for s in suggest(report) if s.item == "site")
    assert (site.code, site.source) == ("C504", "text")


def test_breaking_elements_left_out_and_named():
    report = read_bundle((FHIR_DIR / "sdc-connectathon/Bundle-CPDSBundleA.json").read_bytes())
    assert any("left out entry.14.resource.valueString" in w for w in report.warnings)


def test_garbage_refused_plainly():
    with pytest.raises(UnreadableBundle, match="not JSON or XML"):
        read_bundle("{not json")
    with pytest.raises(UnreadableBundle, match="not in the FHIR namespace"):
        read_bundle("<Bundle/>")


def test_breast_grade_and_confirmation_from_the_checklist():
    report = read_bundle((FHIR_DIR / "sdc-connectathon/BreastResBundleEx.json").read_bytes())
    codes = {s.item: s for s in suggest(report)}
    assert (codes["grade"].code, codes["grade"].source, codes["grade"].detail) == (
        "2", "synoptic", "Overall Grade: Grade 2 (scores of 6 or 7)")
    assert (codes["diagnostic_confirmation"].code, codes["diagnostic_confirmation"].detail) == (
        "1", "Procedure (Note A): Excision (less than total mastectomy)")
