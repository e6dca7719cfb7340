"""Populations as reference data, and the Incidence page, CLI and API over the demo registry: the same request
gives the same numbers everywhere, computed as the library computes them, suppressed the same way."""
from __future__ import annotations

import html
import io
import re

import pandas as pd
import pytest

from abstracts.tokens import create_token
from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.reference import InvalidReference, install
from registry.reference.cli import reference_store
from reports.rates.incidence import RatesRequest, incidence_cases, rates_table
from reports.rates.methods import adjusted_rates
from reports.rates.populations import KIND, load_population, parse_population
from reports.rates.standards import AGE_GROUPS, SEER_19_GROUPS, collapse_index, standard

QUERY = "years=2012-2021&by=sex&standard=us2000"


def _seer_line(year, county, race, sex, age, population, width=8):
    return f"{year}IL17{county}99{race}0{sex}{age:02d}{population:0{width}d}"


def test_seer_population_file_in_19_groups_and_single_ages(tmp_path):
    grouped = tmp_path / "us.1990_2020.19ages.txt"
    grouped.write_text("\n".join(_seer_line(2019, "001", 1, sex, age, 1000 + age) for sex in (1, 2)
                                 for age in range(19)) + "\n")
    frame, meta = parse_population(grouped)
    assert meta["layout"] == "SEER population file"
    assert sorted(frame["age"].unique()) == list(SEER_19_GROUPS)
    assert frame.loc[(frame["sex"] == "1") & (frame["age"] == 85), "population"].item() == 1018
    single = tmp_path / "us.singleages.txt"
    single.write_text("\n".join(_seer_line(2019, "001", 1, 2, age, 10) for age in range(86)) + "\n")
    frame, _ = parse_population(single)
    by_group = frame.set_index("age")["population"]
    assert by_group[0] == 10 and by_group[1] == 40 and by_group[5] == 50 and by_group[85] == 10
    to_99 = tmp_path / "us.singleagesthru99.txt"
    to_99.write_text("\n".join(_seer_line(2019, "001", 1, 2, age, 10) for age in range(100)) + "\n")
    frame, _ = parse_population(to_99)
    by_group = frame.set_index("age")["population"]
    assert tuple(by_group.index) == AGE_GROUPS and by_group[85] == 50 and by_group[90] == 100


def test_plain_csv_population_installs_and_loads(app, tmp_path):
    path = tmp_path / "county-pop.csv"
    rows = ["# name: County estimates", "# source: state demographer", "year,area,sex,race,age_group,population"]
    rows += [f"2020,IL001,{sex},all,{label},500" for sex in ("M", "F")
             for label in ["<1", "1-4", *[f"{a}-{a + 4}" for a in range(5, 85, 5)], "85+"]]
    path.write_text("\n".join(rows) + "\n")
    record = install(KIND, path, actor=SYSTEM, store=reference_store())
    assert record.name == "County estimates" and "SYNTHETIC" not in record.summary
    population = load_population()
    assert population["population"].sum() == 2 * 19 * 500
    assert population.attrs["name"].startswith("County estimates") and not population.attrs["synthetic"]


@pytest.mark.parametrize("content, message", [
    ("year,area,sex,race,age_group,population\n2020,001,3,all,0,5\n", "line 2: sex '3'"),
    ("year,area,sex,race,age_group,population\n2020,001,1,all,0,-5\n", "line 2: population"),
    ("year,area,sex,race,age_group,population\n2020,001,1,all,teen,5\n", "line 2: age_group 'teen'"),
    ("year,area,sex,age_group\n2020,001,1,0\n", "no column race, population"),
    ("2019IL17001991012x00001000\n", "line 1: neither a SEER population record"),
])
def test_bad_population_files_are_refused_naming_the_line(app, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InvalidReference, match=re.escape(message)):
        install(KIND, path, actor=SYSTEM, store=reference_store())


@pytest.fixture
def demo_registry(app):
    from registry.demo import load_demo_data
    from reports.rates.demo_population import install_demo_population
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 600, seed=5)
    record = install_demo_population(actor=SYSTEM, store=reference_store())
    assert record is not None
    return record


def test_demo_population_is_installed_labelled_synthetic(demo_registry):
    assert demo_registry.name == "Synthetic demo population"
    assert demo_registry.summary.startswith("SYNTHETIC")
    population = load_population()
    assert population.attrs["synthetic"]
    from registry.demo_profiles import CITIES
    assert set(population["county"]) == {county for _city, county, _zip in CITIES}


def _api(client, app, role, query):
    from registry.auth.operations import create_user
    user = create_user(f"api-{role}", "correct-horse-9", role)
    _, token = create_token(user, "tests")
    return client.get(f"/api/v1/rates?{query}", headers={"Authorization": f"Bearer {token}"})


def _page_rows(text: str) -> dict[str, dict[str, str]]:
    body = text.split('class="incidence-table"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr><td>(.*?)</tr>", body, flags=re.S):
        group = html.unescape(row.split("</td>", 1)[0])
        cell = dict(re.findall(r'<td class="(count|crude|aa|aa-ci)">\s*(.*?)\s*</td>', row, flags=re.S))
        rows[group] = cell
    return rows


def test_page_cli_and_api_give_the_same_numbers(app, client, login, demo_registry, tmp_path):
    output = tmp_path / "rates.csv"
    result = app.test_cli_runner().invoke(args=["rates", "table", "--years", "2012-2021", "--by", "sex",
                                                "--standard", "us2000", "--output", str(output)])
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(output, comment="#", dtype={"group": str}).set_index("group")

    api = _api(client, app, "admin", QUERY)
    assert api.status_code == 200, api.get_data(as_text=True)
    body = api.get_json()
    assert body["synthetic"] is True and body["standard"] == "us2000"
    from_api = pd.DataFrame(body["rows"]).set_index("group")

    login("researcher")
    page = client.get(f"/incidence/?{QUERY}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "SYNTHETIC" in text
    shown = _page_rows(text)

    # the library, from the registry's own rows, without the views
    cases = incidence_cases(db_session(), first_year=2012, last_year=2021)
    library = rates_table(cases, load_population(), RatesRequest(first_year=2012, last_year=2021, by=["sex"])).table
    library = library.set_index("group")
    assert set(cli.index) == set(from_api.index) == set(shown) == {"male", "female"}
    for group in ("male", "female"):
        expected = library.loc[group]
        assert expected["count"] >= 16
        assert cli.loc[group, "count"] == from_api.loc[group, "count"] == expected["count"] == int(shown[group]["count"])
        for column in ("crude_rate", "aa_rate", "aa_lo", "aa_hi"):
            assert cli.loc[group, column] == pytest.approx(expected[column], abs=5e-5)
            assert from_api.loc[group, column] == pytest.approx(expected[column], rel=1e-12)
        assert float(shown[group]["aa"]) == round(expected["aa_rate"], 1)
        assert float(shown[group]["crude"]) == round(expected["crude_rate"], 1)
        assert shown[group]["aa-ci"].replace("–", "-") == f"{expected['aa_lo']:.1f}-{expected['aa_hi']:.1f}"


def test_library_table_is_the_age_adjustment_of_the_registry_counts(demo_registry):
    """The sex table written out: counts by 19 age groups from the cases, divided by the synthetic
    population, weighted by the 2000 US standard."""
    cases = incidence_cases(db_session(), first_year=2015, last_year=2020)
    population = load_population()
    table = rates_table(cases, population, RatesRequest(first_year=2015, last_year=2020, by=["sex"])).table
    in_years = population[(population["year"] >= 2015) & (population["year"] <= 2020)]
    for sex in ("1", "2"):
        mine = cases[(cases["sex"] == sex) & cases["age"].notna() & cases["county"].isin(in_years["county"])]
        groups = collapse_index(mine["age"].astype(int).to_numpy(), SEER_19_GROUPS)  # the population ends at 85+
        counts = mine.groupby(groups).size().reindex(list(SEER_19_GROUPS), fill_value=0).to_numpy()
        pop = in_years[in_years["sex"] == sex].groupby("age")["population"].sum().reindex(list(SEER_19_GROUPS))
        weights = standard("us2000").weights.to_numpy()
        expected = (counts / pop.to_numpy() * weights / weights.sum()).sum() * 100_000
        row = table[table["sex"] == sex].iloc[0]
        assert row["count"] == counts.sum()
        assert row["aa_rate"] == pytest.approx(expected)
        again = adjusted_rates(counts[None, :], pop.to_numpy()[None, :], weights)
        assert row["aa_lo"] == pytest.approx(again.lo[0]) and row["aa_hi"] == pytest.approx(again.hi[0])


def test_a_population_with_90_plus_is_adjusted_in_20_groups():
    """Cases aged 90+ weigh by the standard's 90+ share when the population has that group; a population
    ending at 85+ joins them into 85+, and the table says which groups were used."""
    ages = [50, 87, 92, 95]
    cases = pd.DataFrame({"year": 2020, "site_recode": "1", "sex": "2", "race": "1", "state": "IL",
                          "county": "001", "age": [float(a) for a in ages]})
    cases["age"] = collapse_index(cases["age"].to_numpy(), AGE_GROUPS).astype(float)

    def population(groups):
        return pd.DataFrame({"year": 2020, "state": "IL", "county": "001", "race": "1", "origin": "", "sex": "2",
                             "age": list(groups), "population": 1000.0})

    request = RatesRequest(first_year=2020, last_year=2020, by=["sex"], standard="us2000-20")
    twenty = rates_table(cases, population(AGE_GROUPS), request)
    weights = standard("us2000-20").weights
    share = weights / weights.sum()
    expected = (share[50] * 1 + share[85] * 1 + share[90] * 2) / 1000 * 100_000
    assert twenty.table["aa_rate"].iloc[0] == pytest.approx(expected)
    assert not any("joined" in note for note in twenty.notes)
    nineteen = rates_table(cases, population(SEER_19_GROUPS), request)
    share19 = standard("us2000").weights / standard("us2000").weights.sum()
    assert nineteen.table["aa_rate"].iloc[0] == pytest.approx((share19[50] + share19[85] * 3) / 1000 * 100_000)
    assert "the standard's 20 age groups joined to the 19 that the population and the counts share " \
           "(the last is 85+)" in nineteen.notes


def test_small_counts_and_rates_from_few_cases_are_suppressed_everywhere(app, client, login, demo_registry):
    query = "years=2020-2020&by=site,sex"
    api = _api(client, app, "researcher", query).get_json()
    rows = pd.DataFrame(api["rows"])
    small = rows[rows["suppressed"].str.startswith("count")]
    few = rows[rows["suppressed"].str.startswith("rate")]
    assert len(small) and small["count"].isna().all() and small["aa_rate"].isna().all()
    assert len(few) and few["aa_rate"].isna().all() and ((few["count"] == 0) | (few["count"] >= 11)).all()
    shown = rows[rows["suppressed"] == ""]
    assert (shown["count"] >= 16).all()
    login("admin")
    csv_text = client.get(f"/incidence/table.csv?{query}").get_data(as_text=True)
    table = pd.read_csv(io.StringIO(csv_text), comment="#", keep_default_na=False, na_values=[""])
    assert table.loc[table["suppressed"].str.startswith("count").fillna(False), "count"].isna().all()


def test_refusals_name_the_field(app, client, login, demo_registry):
    login("researcher")
    page = client.get("/incidence/?years=2030-2031")
    assert "years: the population" in html.unescape(page.get_data(as_text=True))
    response = _api(client, app, "admin", "by=colour")
    assert response.status_code == 422 and "by" in response.get_json()["error"]["fields"]
    result = app.test_cli_runner().invoke(args=["rates", "table", "--standard", "mars", "--output", "x.csv"])
    assert result.exit_code != 0 and "standard must be one of" in result.output


def test_registrars_may_not_read_rates(app, client, login):
    assert _api(client, app, "registrar", QUERY).status_code == 403
    login("registrar")
    assert client.get(f"/incidence/?{QUERY}").status_code == 403


def test_without_a_population_the_page_says_how_to_install_one(app, client, login):
    login("admin")
    text = client.get(f"/incidence/?{QUERY}").get_data(as_text=True)
    assert "reference install population" in text


def test_annual_report_gains_an_incidence_section_with_the_library_numbers(demo_registry):
    import datetime as dt

    from reports.annual_report import builder, queries
    scope = queries.Scope(2020, None, dt.date(2026, 6, 30))
    context = builder.collect(scope, public=True, progress=lambda *_: None)
    section = context["incidence"]
    assert section["synthetic"] and not section.get("note")
    cases = incidence_cases(db_session(), first_year=2020, last_year=2020)
    expected = rates_table(cases, load_population(), RatesRequest(first_year=2020, last_year=2020)).table.iloc[0]
    assert section["total"]["count"] == expected["count"]
    assert section["total"]["aa_rate"] == pytest.approx(expected["aa_rate"])
    assert [row["year"] for row in section["trend"]] == [str(y) for y in range(2011, 2021)]
    shown = [row for row in section["sites"] if row["suppressed"] == ""]
    assert all(row["count"] >= 16 for row in shown) and len(shown) < len(section["sites"])
    assert all(row["aa_rate"] != row["aa_rate"] for row in section["sites"] if row["suppressed"])
    text = builder.render_html(context)
    assert 'id="incidence"' in text and "SYNTHETIC" in text and f"{expected['aa_rate']:.1f}" in text


def test_annual_report_has_no_incidence_section_without_a_population(app):
    import datetime as dt

    from reports.annual_report import builder, queries
    context = builder.collect(queries.Scope(2020, None, dt.date(2026, 6, 30)), public=False,
                              progress=lambda *_: None)
    assert context["incidence"] is None
    assert 'id="incidence"' not in builder.render_html(context)
