"""``flask --app wsgi staging run``: the CSV contract with an installed algorithm; clear errors otherwise."""
import csv

from .conftest import EOD

HEADER = "case,site,hist,year_dx,behavior,eod_primary_tumor,eod_regional_nodes,eod_mets,grade_clin,grade_path\n"


def test_run_stages_a_file_and_reports_bad_rows_in_their_row(app, install, tmp_path):
    install(EOD)
    source = tmp_path / "in.csv"
    source.write_text(HEADER +
                      "a,C504,8500,2022,3,100,000,00,1,2\n"      # breast, L/NONE/NONE -> 1, grade 2
                      "b,C187,8140,2022,3,400,200,00,,\n"        # colon, RE/RN -> 4
                      "c,C999,8500,2022,3,100,000,00,,\n"        # no such site
                      "d,C187,8140,2022,3,123,000,00,,\n")       # invalid EOD code, staged with its error
    target = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(args=["staging", "run", "--algorithm", "eod_public-3.3",
                                                "--input", str(source), "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "staged 4 rows with eod_public 3.3" in result.output
    rows = list(csv.DictReader(target.open()))
    assert list(rows[0])[:13] == [*HEADER.strip().split(","), "schema_id", "result", "errors"]
    assert [(r["case"], r["schema_id"], r["result"], r["ss2018_derived"]) for r in rows] == [
        ("a", "breast", "STAGED", "1"), ("b", "colon_rectum", "STAGED", "4"),
        ("c", "", "FAILED_NO_MATCHING_SCHEMA", ""), ("d", "colon_rectum", "STAGED", "9")]
    assert rows[0]["derived_summary_grade"] == "2" and rows[0]["naaccr_schema_id"] == "00480"
    assert "extension_bao: Invalid 'eod_primary_tumor' value (123)" in rows[3]["errors"]


def test_malformed_file_or_unknown_algorithm_exits_non_zero(app, no_reference_tables, install, tmp_path):
    runner = app.test_cli_runner()
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(HEADER + "a,C504,8500,2022,3,100,000,00,1,2\n")
    none = runner.invoke(args=["staging", "run", "--algorithm", "eod_public", "--input", str(source),
                               "--output", str(target)])
    assert none.exit_code == 1
    assert ("no staging algorithm 'eod_public' is installed (none is installed; install one with "
            "flask --app wsgi reference install staging-algorithm BUNDLE.zip)") in none.output
    install(EOD)
    unknown = runner.invoke(args=["staging", "run", "--algorithm", "eod_public-9.9", "--input", str(source),
                                  "--output", str(target)])
    assert unknown.exit_code == 1 and "(installed: eod_public-3.3)" in unknown.output
    broken = {"dupes.csv": "site,hist,site\nC504,8500,C504\n",
              "short.csv": HEADER + "a,C504,8500\n",
              "nohist.csv": "site,year_dx\nC504,2022\n",
              "empty.csv": ""}
    for name, text in broken.items():
        (tmp_path / name).write_text(text)
        result = runner.invoke(args=["staging", "run", "--algorithm", "eod_public", "--input",
                                     str(tmp_path / name), "--output", str(target)])
        assert result.exit_code == 1, (name, result.output)
        assert f"{tmp_path / name}" in result.output
    assert not target.exists()
    missing = runner.invoke(args=["staging", "run", "--algorithm", "eod_public", "--input",
                                  str(tmp_path / "nope.csv"), "--output", str(target)])
    assert missing.exit_code == 1 and "cannot open" in missing.output
