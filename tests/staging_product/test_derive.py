"""Stage derived on save from the abstract's own fields, checked against the engine and the bundle's tables."""
import pytest
from sqlalchemy import select

from abstracts.operations import create_patient, create_tumor, update_patient, update_tumor
from registry.audit import SYSTEM
from registry.db import db_session
from registry.errors import InvalidInput
from registry.models import Tumor
from staging_tables.staging.derive import age_at_diagnosis, stage_section
from staging_tables.staging.reference import installed_algorithm

from .conftest import EOD

STORED = ("schema_id", "derived_summary_stage_2018", "derived_summary_grade_2018")


def tumor_data(site, hist, dx="20220405", behavior="3", ext="300", nodes="000", mets="00", ssdi=None, **more):
    data = {"primary_site": site, "histology": hist, "behavior": behavior, "date_of_diagnosis": dx,
            "eod_primary_tumor": ext, "eod_regional_nodes": nodes, "eod_mets": mets,
            "site_specific_items": ssdi or {}}
    data.update(more)
    return data


# (abstract fields, the same case in the algorithm's input keys, expected (Schema ID, SS2018, grade) from the tables)
CASES = {
    # extension_bak 100=L, nodes_daj 000=NONE, mets_hau 00=NONE -> summary_stage_rpa L/NONE/NONE = 1;
    # combined_grade_breast_8723: pathological 2 wins over clinical 1
    "breast": (tumor_data("C504", "8500", ext="100", grade_clinical="1", grade_pathological="2",
                          ssdi={"estrogenReceptorSummary": "1", "her2OverallSummary": "0"}),
               {"site": "C504", "hist": "8500", "behavior": "3", "year_dx": "2022", "eod_primary_tumor": "100",
                "eod_regional_nodes": "000", "eod_mets": "00", "grade_clin": "1", "grade_path": "2", "er": "1",
                "her2_summary": "0"},
               ("00480", "1", "2")),
    # extension_bak 200=RE, nodes_daj 100=RN -> RE/RN = 4; pathological grade 3
    "breast regional": (tumor_data("C501", "8520", ext="200", nodes="100", grade_clinical="1",
                                   grade_pathological="3"),
                        {"site": "C501", "hist": "8520", "behavior": "3", "year_dx": "2022",
                         "eod_primary_tumor": "200", "eod_regional_nodes": "100", "eod_mets": "00",
                         "grade_clin": "1", "grade_path": "3"},
                        ("00480", "4", "3")),
    # extension_bbo 200=L clinically, prostatePathologicalExtension 400=RE wins -> RE/NONE/NONE = 2
    "prostate": (tumor_data("C619", "8140", ext="200", ssdi={"prostatePathologicalExtension": "400",
                                                              "psaLabValue": "25.0"}),
                 {"site": "C619", "hist": "8140", "behavior": "3", "year_dx": "2022", "eod_primary_tumor": "200",
                  "eod_regional_nodes": "000", "eod_mets": "00", "eod_prostate_path_extension": "400",
                  "psa": "25.0"},
                 ("00580", "2", "9")),
    # extension_baj 300=L, nodes_dai 400=RN -> L/RN = 3; year 2022 selects lung (not lung_v9_2025)
    "lung": (tumor_data("C341", "8140", ext="300", nodes="400"),
             {"site": "C341", "hist": "8140", "behavior": "3", "year_dx": "2022", "eod_primary_tumor": "300",
              "eod_regional_nodes": "400", "eod_mets": "00"},
             ("00360", "3", "9")),
    # year 2025 selects lung_v9_2025 (Schema ID 09360); 675 = D -> 7
    "lung 2025": (tumor_data("C349", "8140", dx="20250110", ext="675"),
                  {"site": "C349", "hist": "8140", "behavior": "3", "year_dx": "2025", "eod_primary_tumor": "675",
                   "eod_regional_nodes": "000", "eod_mets": "00"},
                  ("09360", "7", "9")),
    # extension_bao 300=L -> 1; combined_grade_56638 clinical 3 over pathological 2
    "colon": (tumor_data("C187", "8140", ext="300", grade_clinical="3", grade_pathological="2"),
              {"site": "C187", "hist": "8140", "behavior": "3", "year_dx": "2022", "eod_primary_tumor": "300",
               "eod_regional_nodes": "000", "eod_mets": "00", "grade_clin": "3", "grade_path": "2"},
              ("00200", "1", "3")),
    # peritoneal mets 50 = D -> 7
    "colon distant": (tumor_data("C199", "8480", ext="600", mets="50"),
                      {"site": "C199", "hist": "8480", "behavior": "3", "year_dx": "2022",
                       "eod_primary_tumor": "600", "eod_regional_nodes": "000", "eod_mets": "50"},
                      ("00200", "7", "9")),
}


@pytest.fixture
def patient(app):
    return create_patient({"date_of_birth": "19600312", "sex": "2", "sex_assigned_at_birth": "2"}, actor=SYSTEM)


def test_stage_is_derived_on_save_as_the_engine_and_the_tables_give_it(eod_installed, patient):
    algorithm = installed_algorithm("eod_public")
    for label, (fields, inputs, expected) in CASES.items():
        tumor = create_tumor(patient.id, fields, actor=SYSTEM)
        direct = algorithm.stage(inputs)
        assert direct.status == "STAGED" and direct.errors == [], (label, direct.errors)
        stored = tuple(getattr(tumor, c) for c in STORED)
        assert stored == (direct.outputs["naaccr_schema_id"], direct.outputs["ss2018_derived"],
                          direct.outputs["derived_summary_grade"]), label
        assert stored == expected, label
        assert tumor.staging_algorithm == "eod_public 3.3" and tumor.staged_at is not None
        # the public EOD bundle derives no T/N/M; the columns stay blank until a bundle does
        assert (tumor.derived_eod_2018_t, tumor.derived_eod_2018_stage_group) == (None, None)


def test_a_change_rederives_and_an_earlier_year_clears(eod_installed, patient):
    tumor = create_tumor(patient.id, CASES["breast"][0], actor=SYSTEM)
    tumor = update_tumor(tumor.id, {"eod_mets": "10"}, actor=SYSTEM)  # mets_hau 10 = D -> 7
    assert tumor.derived_summary_stage_2018 == "7"
    version = tumor.version
    update_patient(patient.id, {"name_last": "Unchanged-demo"}, actor=SYSTEM)
    assert db_session.get(Tumor, tumor.id).version == version  # nothing derived differently: no new version
    tumor = update_tumor(tumor.id, {"date_of_diagnosis": "20160405"}, actor=SYSTEM)
    assert [getattr(tumor, c) for c in (*STORED, "staging_algorithm")] == [None] * 4
    assert stage_section(tumor)["status"] == "NOT_APPLICABLE"


def test_invalid_code_refuses_the_tumor_save_but_not_a_patient_save(app, no_reference_tables, install, patient):
    tumor = create_tumor(patient.id, tumor_data("C187", "8140", ext="123"), actor=SYSTEM)
    assert tumor.staging_algorithm is None  # nothing installed yet: saved, not derived
    install(EOD)
    update_patient(patient.id, {"name_last": "Other-demo"}, actor=SYSTEM)
    tumor = db_session.get(Tumor, tumor.id)
    assert (tumor.schema_id, tumor.derived_summary_stage_2018, tumor.staging_algorithm) == ("00200", "9",
                                                                                            "eod_public 3.3")
    version = tumor.version
    with pytest.raises(InvalidInput) as refused:
        update_tumor(tumor.id, {"laterality": "0"}, actor=SYSTEM)
    assert refused.value.errors == {"eod_primary_tumor": "'123' is not a valid code for EOD Primary Tumor [772] "
                                                         "in schema Colon and Rectum (eod_public 3.3)"}
    with pytest.raises(InvalidInput) as ssdi:
        update_tumor(tumor.id, {"eod_primary_tumor": "300", "site_specific_items": {"kras": "5"}}, actor=SYSTEM)
    assert list(ssdi.value.errors) == ["site_specific_items.kras"]
    db_session.expire_all()
    tumor = db_session.get(Tumor, tumor.id)
    assert (tumor.version, tumor.eod_primary_tumor, tumor.laterality) == (version, "123", None)
    assert update_tumor(tumor.id, {"eod_primary_tumor": "300"}, actor=SYSTEM).derived_summary_stage_2018 == "1"


def test_nothing_is_derived_without_an_installed_algorithm(app, no_reference_tables, patient):
    tumor = create_tumor(patient.id, CASES["breast"][0], actor=SYSTEM)
    assert [getattr(tumor, c) for c in (*STORED, "staging_algorithm", "staged_at")] == [None] * 5
    section = stage_section(tumor)
    assert section["status"] == "NO_ALGORITHM"
    assert "flask --app wsgi reference install staging-algorithm BUNDLE.zip" in section["message"]


def test_discriminator_question_then_stage(eod_installed, patient):
    tumor = create_tumor(patient.id, tumor_data("C111", "8000", ext="100"), actor=SYSTEM)
    assert tumor.schema_id is None and tumor.staging_algorithm is None
    assert db_session.info["staging_results"][tumor.id].result.status == "FAILED_MULTIPLE_MATCHING_SCHEMAS"
    section = stage_section(tumor)
    assert section["status"] == "MULTIPLE_MATCHES" and section["inputs"] == []
    question = next(q for q in section["questions"] if q["key"] == "discriminator_1")
    assert question["field"] == "schema_discriminator_1"
    assert question["codes"][0]["code"] == "1" and question["codes"][0]["description"]
    tumor = update_tumor(tumor.id, {"schema_discriminator_1": "1"}, actor=SYSTEM)
    assert (tumor.schema_id, tumor.staging_algorithm) == ("00090", "eod_public 3.3")  # nasopharynx
    section = stage_section(tumor)
    assert section["schema"]["id"] == "nasopharynx" and section["result"]["status"] == "STAGED"
    ext = next(i for i in section["inputs"] if i["key"] == "eod_primary_tumor")
    assert (ext["field"], ext["value"], ext["valid"], ext["naaccr_item"]) == ("eod_primary_tumor", "100", True, 772)
    assert "100" in [c["code"] for c in ext["codes"]]


def test_stage_section_names_where_each_input_is_kept(eod_installed, patient):
    tumor = create_tumor(patient.id, CASES["breast"][0], actor=SYSTEM)
    inputs = {i["key"]: i for i in stage_section(tumor)["inputs"]}
    assert inputs["er"]["field"] == "site_specific_items.estrogenReceptorSummary"
    assert (inputs["er"]["value"], inputs["er"]["valid"]) == ("1", True)
    assert inputs["size_clin"]["field"] == "extra_items.tumorSizeClinical"
    assert inputs["grade_clin"]["field"] == "grade_clinical"
    assert {c["code"] for c in inputs["eod_mets"]["codes"]} == {"00", "05", "10", "70", "99"}


def test_age_at_diagnosis(app, patient):
    tumor = create_tumor(patient.id, {"primary_site": "C504", "date_of_diagnosis": "20220311"}, actor=SYSTEM)
    assert age_at_diagnosis(tumor) == "061"
    tumor.date_of_diagnosis = "20220312"
    assert age_at_diagnosis(tumor) == "062"
    tumor.date_of_diagnosis = "2022"  # 61 or 62: the middle of the year decides
    assert age_at_diagnosis(tumor) == "062"
    db_session.rollback()
    assert db_session.scalars(select(Tumor.date_of_diagnosis)).all() == ["20220311"]
