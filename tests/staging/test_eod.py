"""EOD 2018 (eod_public 3.3) cases built by reading the bundle's own tables.

Each expectation cites the rows it follows (extension/nodes/mets tables give T/N/M categories, and
summary_stage_rpa combines them), so a failure points at the table that disagrees.
"""
import pytest

from staging_tables.staging import (FAILED_INVALID_YEAR_DX, FAILED_MULTIPLE_MATCHING_SCHEMAS, STAGED)


def case(site, hist, year="2022", behavior="3", ext="300", nodes="000", mets="00", **extra):
    d = {"site": site, "hist": hist, "year_dx": year, "behavior": behavior,
         "eod_primary_tumor": ext, "eod_regional_nodes": nodes, "eod_mets": mets}
    d.update(extra)
    return d


BREAST = [
    # extension_bak 100=L, nodes_daj 000=NONE, mets_hau 00=NONE -> rpa L/NONE/NONE = 1
    (case("C504", "8500", ext="100", grade_clin="1", grade_path="2"), "1", "2"),
    # 200=RE, 100=RN -> RE/RN = 4; combined_grade_breast_8723 behavior 3, path 3 wins
    (case("C501", "8520", ext="200", nodes="100", grade_clin="1", grade_path="3"), "4", "3"),
    # 100=L, 200=RN -> L/RN = 3
    (case("C509", "8500", ext="100", nodes="200"), "3", "9"),
    # mets 10 = D -> 7
    (case("C504", "8500", ext="100", mets="10"), "7", "9"),
    # supraclavicular node 700 = D -> 7
    (case("C504", "8500", ext="100", nodes="700"), "7", "9"),
    # in situ: 000=IS, NONE, NONE -> 0; in situ grade from path H (behavior 2 rows)
    (case("C504", "8500", behavior="2", ext="000", grade_clin="9", grade_path="H"), "0", "H"),
    # unknown extension 999=U with unknown nodes 999=U -> 9
    (case("C504", "8500", ext="999", nodes="999"), "9", "9"),
]

PROSTATE = [
    # extension_bbo 200=L (clinical), path 900=U -> combine row 1 keeps clinical L -> 1; grade 2 vs 9 -> 2
    (case("C619", "8140", ext="200", eod_prostate_path_extension="900", grade_clin="2", grade_path="9"), "1", "2"),
    # path 400=RE beats clinical L -> RE/NONE/NONE = 2
    (case("C619", "8140", ext="200", eod_prostate_path_extension="400"), "2", "9"),
    # nodes_dbf 300=RN -> L/RN = 3
    (case("C619", "8140", ext="200", eod_prostate_path_extension="900", nodes="300"), "3", "9"),
    # mets_hal 30 bone = D -> 7
    (case("C619", "8140", ext="200", eod_prostate_path_extension="900", mets="30", psa="25.0"), "7", "9"),
    # clinical 700=D, path 300=L: combine row "RE,D / L" keeps clinical D -> 7
    (case("C619", "8140", ext="700", eod_prostate_path_extension="300"), "7", "9"),
]

LUNG = [
    # extension_baj 300=L, nodes_dai 400=RN -> 3
    (case("C341", "8140", ext="300", nodes="400"), "3", "9"),
    # 500=RE, 000 -> 2
    (case("C343", "8070", ext="500"), "2", "9"),
    # 675=D -> 7
    (case("C349", "8140", ext="675"), "7", "9"),
    # contralateral nodes 700 = D -> 7
    (case("C341", "8140", ext="300", nodes="700"), "7", "9"),
]

COLON = [
    # extension_bao 300=L, nodes_dan 000, mets_hae 00 -> 1; combined_grade_56638 clin 3 vs path 2 -> 3
    (case("C187", "8140", ext="300", grade_clin="3", grade_path="2"), "1", "3"),
    # 400=RE, 200=RN -> 4
    (case("C189", "8140", ext="400", nodes="200"), "4", "9"),
    # rectum C209, 200=L, 800=RN -> 3
    (case("C209", "8140", ext="200", nodes="800"), "3", "9"),
    # peritoneal mets 50 = D -> 7
    (case("C199", "8480", ext="600", mets="50"), "7", "9"),
    # 999/999/00 = U/U/NONE -> 9
    (case("C180", "8140", ext="999", nodes="999"), "9", "9"),
]


@pytest.mark.parametrize("schema_id,naaccr,cases", [
    ("breast", "00480", BREAST), ("prostate", "00580", PROSTATE), ("lung", "00360", LUNG), ("colon_rectum", "00200", COLON),
])
def test_summary_stage_2018(eod_alg, schema_id, naaccr, cases):
    for data, ss2018, grade in cases:
        res = eod_alg.stage(data)
        assert res.status == STAGED, (data, res.errors)
        assert res.schema_id == schema_id
        assert res.errors == [], (data, [str(e) for e in res.errors])
        assert res.outputs == {"naaccr_schema_id": naaccr, "derived_version": "3.3",
                               "ss2018_derived": ss2018, "derived_summary_grade": grade}, data
        assert (res.algorithm, res.version) == ("eod_public", "3.3")


def test_breast_paget_jumps_to_behavior_table(eod_alg):
    res = eod_alg.stage(case("C504", "8500", ext="050"))
    assert res.outputs["ss2018_derived"] == "1"
    assert any(p.endswith(":behavior_with_primary_tumor_for_ss2018_t_69793") for p in res.path)


def test_lung_year_selects_the_version_9_schema(eod_alg):
    assert eod_alg.stage(case("C341", "8140", year="2024")).schema_id == "lung"
    res = eod_alg.stage(case("C341", "8140", year="2025"))
    assert res.schema_id == "lung_v9_2025" and res.outputs["naaccr_schema_id"] == "09360"


def test_missing_discriminator_offers_the_question(eod_alg):
    data = case("C341", "8140")
    del data["year_dx"]
    res = eod_alg.stage(data)
    assert res.status == FAILED_MULTIPLE_MATCHING_SCHEMAS
    assert res.candidate_schemas == ["lung", "lung_v9_2025"]
    lookup = eod_alg.lookup_schema("C341", "8140")
    assert [q.key for q in lookup.questions] == ["year_dx"]
    naso = eod_alg.lookup_schema("C111", "8000", year_dx="2022")
    assert "discriminator_1" in [q.key for q in naso.questions]
    disc = next(q for q in naso.questions if q.key == "discriminator_1")
    assert [c for c, _ in disc.codes][:2] == ["1", "2"]


def test_breast_melanoma_of_nipple_goes_elsewhere(eod_alg):
    assert eod_alg.lookup_schema("C500", "8720").schema.id == "melanoma_skin"
    assert eod_alg.lookup_schema("C504", "8720").schema.id == "breast"


def test_invalid_code_is_reported_with_table_and_key(eod_alg):
    res = eod_alg.stage(case("C187", "8140", ext="123"))
    assert res.status == STAGED  # schema says on_invalid_input CONTINUE
    first = res.errors[0]
    assert (first.type, first.key, first.table) == ("INVALID_REQUIRED_INPUT", "eod_primary_tumor", "extension_bao")
    assert any(e.type == "MATCH_NOT_FOUND" and e.table == "summary_stage_rpa" for e in res.errors)
    assert res.outputs["ss2018_derived"] == "9"  # the output default stays


def test_future_year_is_rejected(eod_alg):
    res = eod_alg.stage(case("C187", "8140", year="2027"))
    assert res.status == FAILED_INVALID_YEAR_DX and res.schema_id == "colon_rectum"


def test_input_defaults_apply(eod_alg):
    # no grade, no nodes/mets: defaults 9/9 grade, nodes 999 (U), mets 00 (NONE) -> L/U/NONE -> 1
    res = eod_alg.stage({"site": "C187", "hist": "8140", "year_dx": "2021", "eod_primary_tumor": "300"})
    assert res.outputs["ss2018_derived"] == "1" and res.outputs["derived_summary_grade"] == "9"


def test_code_lists_for_forms(eod_alg):
    codes = dict(eod_alg.valid_codes("breast", "eod_mets"))
    assert set(codes) == {"00", "05", "10", "70", "99"}
    assert eod_alg.is_code_valid("prostate", "psa", "10.5")
    assert not eod_alg.is_code_valid("prostate", "eod_mets", "20")
