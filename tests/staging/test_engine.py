"""Engine rules on a small hand-made bundle, so each rule is tested where its effect is obvious."""
import json
import zipfile

import pytest

from staging_tables.staging import (FAILED_INVALID_INPUT, FAILED_INVALID_YEAR_DX, FAILED_MISSING_SITE_OR_HISTOLOGY,
                                    FAILED_MULTIPLE_MATCHING_SCHEMAS, FAILED_NO_MATCHING_SCHEMA, STAGED,
                                    BundleError, load_algorithm)
from staging_tables.staging.bundle import CellMatcher, Table


def table(tid, definition, rows):
    return {"id": tid, "algorithm": "toy", "version": "1.0", "name": tid,
            "definition": [{"key": k, "name": k, "type": t} for k, t in definition], "rows": rows}


def inp(key, table_id=None, default=None, used=True):
    d = {"key": key, "name": key.title(), "used_for_staging": used}
    if table_id:
        d["table"] = table_id
    if default is not None:
        d["default"] = default
    return d


TABLES = [
    table("primary_site", [("site", "INPUT")], [["C500"], ["C501"], ["C619"], ["C700"]]),
    table("histology", [("hist", "INPUT")], [["8000-8999"]]),
    table("sel_breast", [("site", "INPUT"), ("hist", "INPUT"), ("result", "ENDPOINT")],
          [["C500-C501", "8000-8700", "MATCH"]]),
    table("sel_prostate", [("site", "INPUT"), ("hist", "INPUT"), ("result", "ENDPOINT")],
          [["C619", "8000-8999", "MATCH"]]),
    table("sel_a", [("site", "INPUT"), ("hist", "INPUT"), ("discriminator_1", "INPUT"), ("result", "ENDPOINT")],
          [["C700", "8000-8999", "1", "MATCH"]]),
    table("sel_b", [("site", "INPUT"), ("hist", "INPUT"), ("discriminator_1", "INPUT"), ("result", "ENDPOINT")],
          [["C700", "8000-8999", "2,", "MATCH"]]),
    table("disc_1", [("discriminator_1", "INPUT"), ("desc", "DESCRIPTION")], [["1", "Upper"], ["2", "Lower"]]),
    table("year_dx", [("year_dx", "INPUT")], [["2018-{{ctx_year_current}}"], [""]]),
    table("size_codes", [("size", "INPUT")], [["000-989"], ["999"]]),
    table("grade_codes", [("grade", "INPUT")], [["1,2,3,9"]]),
    table("t_table", [("ext", "INPUT"), ("desc", "DESCRIPTION"), ("t", "ENDPOINT")],
          [["100", "local", "VALUE:L"], ["200", "regional", "VALUE:RE"], ["300", "jump", "JUMP:t_size"],
           ["400", "error", "ERROR:Extension 400 is not allowed"], ["500", "bare error", "ERROR:"],
           ["600", "stop", "STOP"], ["700", "loop", "JUMP:loop_a"], ["800", "clear", "VALUE:"]]),
    table("t_size", [("size", "INPUT"), ("t", "ENDPOINT"), ("note", "ENDPOINT")],
          [["000-020", "VALUE:L", "VALUE:small"], ["021-989", "VALUE:RE", "VALUE:{{size}}"], ["*", "VALUE:U", "VALUE:"]]),
    table("loop_a", [("ext", "INPUT"), ("t", "ENDPOINT")], [["*", "JUMP:loop_b"]]),
    table("loop_b", [("ext", "INPUT"), ("t", "ENDPOINT")], [["*", "JUMP:loop_a"]]),
    table("stage_table", [("x_t", "INPUT"), ("grade", "INPUT"), ("stage", "ENDPOINT")],
          [["L", "1,2", "VALUE:1A"], ["L", "*", "VALUE:1B"], ["RE", "*", "VALUE:2"], ["", "*", "VALUE:"],
           ["U", "9", "VALUE:9"]]),
    table("is_high_grade", [("g", "INPUT"), ("r", "ENDPOINT")], [["3", "MATCH"]]),
    table("is_blank_ext", [("ext", "INPUT"), ("r", "ENDPOINT")], [["", "MATCH"]]),
    table("flag_table", [("anything", "INPUT"), ("flag", "ENDPOINT")], [["*", "VALUE:{{ctx_alg_version}}"]]),
    table("stage_codes", [("stage", "INPUT")], [["1A,1B,2,9"]]),
    table("a_only", [("site", "INPUT"), ("out", "ENDPOINT")], [["*", "VALUE:a"]]),
]


def breast_schema(on_invalid="CONTINUE"):
    return {
        "id": "breast", "algorithm": "toy", "version": "1.0", "name": "Breast", "title": "Breast",
        "schema_selection_table": "sel_breast", "on_invalid_input": on_invalid,
        "inputs": [inp("site", "primary_site"), inp("hist", "histology"), inp("year_dx", "year_dx", used=False),
                   inp("ext", default="999"), inp("size", "size_codes", default="999"),
                   inp("grade", "grade_codes", default="9", used=False)],
        "outputs": [{"key": "t", "name": "T"}, {"key": "stage", "name": "Stage", "table": "stage_codes"},
                    {"key": "note", "name": "Note", "default": "none"},
                    {"key": "version", "name": "Version", "default": "{{ctx_alg_version}}"},
                    {"key": "high_grade_flag", "name": "Flag"}],
        "mappings": [
            {"id": "m_t", "name": "T", "initial_context": [{"key": "t", "value": "U"}],
             "tables": [{"id": "t_table", "inputs": ["ext"], "outputs": ["t"]}]},
            {"id": "m_stage", "name": "Stage", "exclusion_tables": [{"id": "is_blank_ext", "inputs": ["ext"]}],
             "tables": [{"id": "stage_table", "inputs": ["x_t", "grade"], "outputs": ["stage"],
                         "input_mapping": [{"from": "t", "to": "x_t"}]}]},
            {"id": "m_flag", "name": "Flag",
             "inclusion_tables": [{"id": "is_high_grade", "inputs": ["g"],
                                   "input_mapping": [{"from": "grade", "to": "g"}]}],
             "tables": [{"id": "flag_table", "inputs": [], "outputs": ["flag"],
                         "output_mapping": [{"from": "flag", "to": "high_grade_flag"}]}]},
        ],
    }


def simple_schema(sid, sel, disc=None):
    return {"id": sid, "algorithm": "toy", "version": "1.0", "name": sid, "title": sid,
            "schema_selection_table": sel, "schema_discriminators": disc or [],
            "inputs": [inp("site", "primary_site"), inp("hist", "histology"),
                       inp("discriminator_1", "disc_1", used=False)],
            "outputs": [{"key": "out", "name": "Out"}],
            "mappings": [{"id": "m", "name": "m", "tables": [{"id": "a_only", "inputs": ["site"], "outputs": ["out"]}]}]}


def write_bundle(root, schemas, tables=TABLES):
    (root / "schemas").mkdir(parents=True)
    (root / "tables").mkdir()
    for s in schemas:
        (root / "schemas" / f"{s['id']}.json").write_text(json.dumps(s))
    for t in tables:
        (root / "tables" / f"{t['id']}.json").write_text(json.dumps(t))
    return root


@pytest.fixture
def toy(tmp_path):
    schemas = [breast_schema(), simple_schema("prostate", "sel_prostate"),
               simple_schema("site_a", "sel_a", ["discriminator_1"]), simple_schema("site_b", "sel_b", ["discriminator_1"])]
    return load_algorithm(write_bundle(tmp_path / "toy", schemas), year_current=2026)


def base(**kw):
    d = {"site": "C500", "hist": "8500", "year_dx": "2022", "ext": "100", "size": "010", "grade": "1"}
    d.update(kw)
    return d


# ----- cell matching -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell,value,expected", [
    ("C500-C506, C508", "C503", True),
    ("C500-C506, C508", "C508", True),
    ("C500-C506, C508", "C507", False),
    ("C500-C506", "C5030", False),  # string ranges only hold values of the same length
    ("1-10", "5", True),  # numeric bounds compare as numbers whatever their width
    ("001-010", "5", True),
    ("1-10", "11", False),
    ("1-10", "5.5", False),  # a decimal value never falls in an integer range
    ("0.0-1.5", "0.5", True),
    ("N0(mol-)", "N0(mol-)", True),  # unequal, non-numeric sides: the hyphen is literal
    ("N0(mol-)", "N0(mol", False),
    ("", "", True),
    ("", "1", False),
    ("1,2, 3", "3", True),
    ("XX.8", "XX.8", True),
    ("A-C", "B", True),
    ("A-C", "D", False),
])
def test_cell_matching(cell, value, expected):
    assert CellMatcher(cell).matches(value, {}) is expected


def test_reference_ranges_use_the_context():
    m = CellMatcher("2004-{{ctx_year_current}}")
    assert m.matches("2010", {"ctx_year_current": "2026"})
    assert not m.matches("2030", {"ctx_year_current": "2026"})
    eq = CellMatcher("{{other}}")
    assert eq.matches("7", {"other": "7"}) and not eq.matches("7", {"other": "8"})


def test_star_matches_anything_and_first_row_wins():
    t = Table(table("t", [("a", "INPUT"), ("b", "INPUT"), ("r", "ENDPOINT")],
                    [["1", "*", "VALUE:first"], ["1", "2", "VALUE:second"], ["*", "*", "VALUE:any"]]))
    assert t.find_row({"a": "1", "b": "2"}) == 0
    assert t.find_row({"a": "5"}) == 2
    assert t.find_row({"a": "1", "b": "2"}) == 0  # answered from the cache


def test_row_with_wrong_width_is_a_bundle_error():
    with pytest.raises(BundleError, match="bad"):
        Table(table("bad", [("a", "INPUT"), ("r", "ENDPOINT")], [["1"]]))


# ----- loading ---------------------------------------------------------------------------------------------------
def test_zip_and_folder_load_the_same(tmp_path):
    folder = write_bundle(tmp_path / "b", [breast_schema()])
    zpath = tmp_path / "toy-1.0.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in folder.rglob("*.json"):
            zf.write(p, p.relative_to(folder).as_posix())
    a, b = load_algorithm(folder, year_current=2026), load_algorithm(zpath, year_current=2026)
    assert (a.name, a.version) == (b.name, b.version) == ("toy", "1.0")
    assert a.stage(base()).outputs == b.stage(base()).outputs


def test_missing_bundle_and_bad_json(tmp_path):
    with pytest.raises(BundleError):
        load_algorithm(tmp_path / "nope.zip")
    root = write_bundle(tmp_path / "b", [breast_schema()])
    (root / "tables" / "broken.json").write_text("{not json")
    with pytest.raises(BundleError, match="broken.json"):
        load_algorithm(root)


# ----- schema selection --------------------------------------------------------------------------------------------
def test_lookup_single_none_and_multiple_with_questions(toy):
    assert toy.lookup_schema("C500", "8500").schema.id == "breast"
    assert toy.lookup_schema("C500", "8800").status == "NO_MATCH"
    assert toy.lookup_schema("C999", "8500").status == "NO_MATCH"  # invalid site
    multi = toy.lookup_schema("C700", "8000")
    assert multi.status == "MULTIPLE_MATCHES"
    assert sorted(s.id for s in multi.schemas) == ["site_a", "site_b"]
    [question] = multi.questions
    assert question.key == "discriminator_1" and ("2", "Lower") in question.codes
    assert toy.lookup_schema("C700", "8000", discriminator_1="2").schema.id == "site_b"
    assert toy.lookup_schema("C700", "8000", discriminator_1="").schema.id == "site_b"  # blank allowed by "2,"


def test_stage_reports_selection_failures(toy):
    assert toy.stage({"site": "C500"}).status == FAILED_MISSING_SITE_OR_HISTOLOGY
    res = toy.stage({"site": "C500", "hist": "8800"})
    assert res.status == FAILED_NO_MATCHING_SCHEMA and res.schema_id is None
    res = toy.stage({"site": "C700", "hist": "8000"})
    assert res.status == FAILED_MULTIPLE_MATCHING_SCHEMAS and res.candidate_schemas == ["site_a", "site_b"]
    assert toy.stage({"site": "C700", "hist": "8000", "discriminator_1": "1"}).outputs == {"out": "a"}


# ----- inputs --------------------------------------------------------------------------------------------------------
def test_result_carries_every_output_and_identity(toy):
    res = toy.stage(base())
    assert res.status == STAGED and res.schema_id == "breast"
    assert (res.algorithm, res.version) == ("toy", "1.0")
    assert res.outputs == {"t": "L", "stage": "1A", "note": "none", "version": "1.0", "high_grade_flag": ""}
    assert res.errors == []


def test_inputs_are_trimmed_and_defaults_applied(toy):
    res = toy.stage({"site": " C500 ", "hist": "8500 ", "year_dx": "2022", "ext": "300"})
    # size defaults to 999 -> t_size "*" row -> U; grade defaults to 9 -> stage row U/9
    assert res.outputs["t"] == "U" and res.outputs["stage"] == "9" and res.outputs["note"] == ""


def test_invalid_year_stops_before_staging(toy):
    res = toy.stage(base(year_dx="2030"))
    assert res.status == FAILED_INVALID_YEAR_DX
    assert set(res.outputs.values()) == {""}


def test_invalid_input_continue_records_error(toy):
    res = toy.stage(base(grade="7"))
    assert res.status == STAGED
    [err] = res.errors
    assert (err.type, err.key, err.table) == ("INVALID_NON_REQUIRED_INPUT", "grade", "grade_codes")


@pytest.mark.parametrize("policy,bad,status", [
    ("FAIL", {"grade": "7"}, FAILED_INVALID_INPUT),
    ("FAIL_WHEN_USED_FOR_STAGING", {"grade": "7"}, STAGED),
    ("FAIL_WHEN_USED_FOR_STAGING", {"size": "ABC"}, FAILED_INVALID_INPUT),
])
def test_on_invalid_input_policies(tmp_path, policy, bad, status):
    alg = load_algorithm(write_bundle(tmp_path / "b", [breast_schema(policy)]), year_current=2026)
    assert alg.stage(base(**bad)).status == status


def test_unknown_input_key_fails(toy):
    res = toy.stage(base(psa="10.0"))
    assert res.status == FAILED_INVALID_INPUT and res.errors[0].key == "psa"
    assert toy.stage(base(psa="")).status == STAGED  # blank extra columns are ignored


# ----- mappings and endpoints ------------------------------------------------------------------------------------------
def test_jump_and_value_reference(toy):
    res = toy.stage(base(ext="300", size="050"))
    assert res.outputs["t"] == "RE" and res.outputs["note"] == "050"
    assert "m_t:t_table" in res.path and "m_t:t_size" in res.path


def test_error_endpoint_with_and_without_message(toy):
    res = toy.stage(base(ext="400"))
    assert [(e.type, e.table, e.message) for e in res.errors][0] == (
        "STAGING_ERROR", "t_table", "Extension 400 is not allowed")
    res = toy.stage(base(ext="500"))
    assert "for column 't' (500)" in res.errors[0].message


def test_match_not_found_names_table_and_inputs(toy):
    res = toy.stage(base(ext="900"))
    err = next(e for e in res.errors if e.type == "MATCH_NOT_FOUND")
    assert err.table == "t_table" and "(900)" in err.message and err.columns == ("t",)
    assert res.outputs["t"] == "U"  # from the mapping's initial context


def test_stop_ends_the_mapping_but_not_later_ones(toy):
    res = toy.stage(base(ext="600", grade="3"))
    assert res.outputs["t"] == "U" and res.outputs["high_grade_flag"] == "1.0"


def test_infinite_jump_loop_is_an_error_not_a_hang(toy):
    res = toy.stage(base(ext="700"))
    assert any(e.type == "INFINITE_LOOP" and e.table == "loop_a" for e in res.errors)


def test_value_blank_and_output_validation(toy):
    res = toy.stage(base(ext="800"))
    assert res.outputs["t"] == "" and res.outputs["stage"] == ""
    err = next(e for e in res.errors if e.type == "INVALID_OUTPUT")
    assert (err.key, err.table) == ("stage", "stage_codes") and "<blank>" in err.message


def test_exclusion_and_inclusion_tables(toy):
    res = toy.stage(base(ext=""))  # blank extension excludes the stage mapping; ext has no default once given
    assert res.outputs["stage"] == "" and not any(p.startswith("m_stage") for p in res.path)
    assert toy.stage(base(grade="3")).outputs["high_grade_flag"] == "1.0"
    assert toy.stage(base(grade="2")).outputs["high_grade_flag"] == ""


def test_input_mapping_keys_are_temporary(toy):
    res = toy.stage(base())
    assert "x_t" not in res.outputs and res.outputs["stage"] == "1A"


def test_code_validity_and_codes(toy):
    assert toy.is_code_valid("breast", "size", "500")
    assert not toy.is_code_valid("breast", "size", "990")
    assert toy.valid_codes("site_a", "discriminator_1") == [("1", "Upper"), ("2", "Lower")]
