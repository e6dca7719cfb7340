"""Life tables as reference data: accepted layouts, refusals that say what is wrong, the demo
population dying of other causes as the SSA tables say, and relative survival refusing a table that does not
cover."""
import random

import pandas as pd
import pytest

from registry.audit import SYSTEM
from registry.reference import InvalidReference, install, installed
from registry.reference.cli import reference_store
from reports.survival.lifetables import KIND, check_life_table, load_life_table, parse_life_table
from tests.reference import REFERENCE_DIR

POPMORT = REFERENCE_DIR / "survival" / "dickman_popmort.csv"
SSA = REFERENCE_DIR / "lifetables" / "ssa_tr2020"


def write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def small_table(years=range(2000, 2003), ages=range(0, 3)):
    return "sex,age,year,prob\n" + "".join(f"{s},{a},{y},0.99\n" for s in (1, 2) for a in ages for y in years)


def test_layouts_are_read_as_sex_age_year_prob():
    table, meta = parse_life_table(POPMORT)
    assert meta["layout"] == "strs popmort" and len(table) == 10600
    reference = pd.read_csv(POPMORT)
    assert table["prob"].tolist() == reference["prob"].tolist()
    table, meta = parse_life_table(SSA / "PerLifeTables_M_Hist_TR2020.csv.gz")
    assert meta["layout"] == "SSA period table" and set(table["sex"]) == {1}
    row = table[(table["year"] == 1900) & (table["age"] == 0)]
    assert row["prob"].item() == pytest.approx(1 - 0.145957)


@pytest.mark.parametrize("text, message", [
    ("sex,age,prob\n1,0,0.9\n", "no header line"),
    (small_table().replace("1,1,2001,0.99", "1,1,2001,1.5"), "1.5 is not in (0, 1]"),
    (small_table().replace("2,2,2002,0.99\n", ""), "sex 2 has no probability for age 2 in year 2002"),
    (small_table() + "1,0,2000,0.98\n", "appears twice"),
    (small_table().replace("1,0,2000", "3,0,2000"), "sex '3' is not 1 (male) or 2 (female)"),
])
def test_invalid_tables_are_refused_saying_why(tmp_path, text, message):
    with pytest.raises(InvalidReference) as refused:
        check_life_table(write(tmp_path, text))
    assert message in str(refused.value)


def test_install_and_load_join_the_sexes_of_one_table(app, no_reference_tables):
    install(KIND, SSA / "PerLifeTables_M_Hist_TR2020.csv.gz", actor=SYSTEM, store=reference_store())
    install(KIND, SSA / "PerLifeTables_F_Hist_TR2020.csv.gz", actor=SYSTEM, store=reference_store())
    table = load_life_table()
    assert set(table["sex"]) == {1, 2}
    assert table.attrs["name"] == "US Social Security period life table, version 1900-2017"
    assert [r.summary.split(":")[0] for r in installed(KIND)] == ["SSA period table"] * 2


def test_cli_install_refuses_a_bad_file_and_records_nothing(app, no_reference_tables, tmp_path):
    bad = write(tmp_path, small_table().replace("0.99", "abc", 1))
    result = app.test_cli_runner().invoke(args=["reference", "install", "life-table", str(bad)])
    assert result.exit_code != 0
    assert "table.csv is not a valid life-table: line 2: prob is not a number" in result.output
    assert installed(KIND) == []
    good = write(tmp_path, "# name: Test table\n" + small_table(), "good.csv")
    result = app.test_cli_runner().invoke(args=["reference", "install", "life-table", str(good)])
    assert result.exit_code == 0, result.output
    assert "installed life-table Test table version 2000-2002" in result.output


def test_demo_patients_die_of_other_causes_as_the_installed_life_table_says(app):
    from registry.demo import _other_cause_years
    table = load_life_table()
    for sex, age, year in ((1, 70, 2010), (2, 80, 2020)):
        prob = table[(table["age"] == age) & (table["year"] == year) & (table["sex"] == sex)]["prob"].item()
        rng = random.Random(7)
        draws = [_other_cause_years(rng, float(age), sex, year) for _ in range(40000)]
        share_alive = sum(d > 1 for d in draws) / len(draws)
        assert share_alive == pytest.approx(prob, abs=0.005)


def test_demo_data_command_installs_the_official_ssa_tables_once(app, no_reference_tables):
    result = app.test_cli_runner().invoke(args=["demo-data", "--patients", "20"])
    assert result.exit_code == 0, result.output
    assert "installed life-table US Social Security period life table" in result.output
    records = installed(KIND)
    assert len(records) == 4 and {r.name for r in records} == {"US Social Security period life table"}
    again = app.test_cli_runner().invoke(args=["demo-data", "--patients", "5"])
    assert again.exit_code == 0 and len(installed(KIND)) == 4
