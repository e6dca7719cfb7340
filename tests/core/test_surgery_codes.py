"""Site-specific surgery codes: the library answer for a site, histology, year and item, and the picker's endpoint."""
from __future__ import annotations

import pytest

from staging_tables.surgery import surgery_codes, valid_surgery_code


def test_codes_come_from_the_table_of_the_site_and_the_diagnosis_years_edition():
    breast_2025 = {entry.code: entry.label for entry in surgery_codes("C504", "8500", 2025)}
    assert breast_2025["B200"].startswith("Partial mastectomy") and "A200" not in breast_2025
    breast_2023 = {entry.code for entry in surgery_codes("C504", "8500", 2023, "1291")}
    assert "A200" in breast_2023 and not breast_2023 & set(breast_2025)
    assert "22" in {entry.code for entry in surgery_codes("C50.4", None, 2020, "rxSummSurgPrimSite")}
    assert [entry.code for entry in surgery_codes("C421", "9861", 2019)] == ["98"]
    lung_2024 = {entry.code for entry in surgery_codes("C341", "8140", 2024)}
    assert "B120" in lung_2024 and lung_2024 != set(breast_2025)  # lung too is B-coded from 2024


def test_the_item_the_year_does_not_use_has_no_codes():
    assert surgery_codes("C504", "8500", 2025, 1290) == []
    assert surgery_codes("C504", "8500", 2019, 1291) == []
    assert not valid_surgery_code("C504", "8500", 2025, 1290, "22")
    assert valid_surgery_code("C421", "9861", 2019, 1290, "99")  # death certificate only, at every site


@pytest.mark.parametrize(("args", "field"), [(("504", None, 2025), "site"), (("C504", "85", 2025), "histology"),
                                             (("C504", None, 12), "year"), (("C504", None, 2025, 1300), "item")])
def test_bad_input_is_refused_naming_the_field(args, field):
    with pytest.raises(ValueError, match=rf"^{field}: "):
        surgery_codes(*args)


def test_the_picker_endpoint_answers_code_and_term_for_signed_in_users(client, login):
    assert client.get("/codes/surgery?site=C504&year=2025").status_code in (302, 401)
    login("researcher")
    found = client.get("/codes/surgery?site=C504&year=2025").get_json()
    assert {"code": "B200", "term": next(e.label for e in surgery_codes("C504", None, 2025) if e.code == "B200")} \
        in found
    assert [row["code"] for row in found] == [e.code for e in surgery_codes("C504", None, 2025)]
    narrowed = client.get("/codes/surgery?site=C504&year=2025&q=nipple-sparing").get_json()
    assert narrowed and all("nipple-sparing" in row["term"].lower() for row in narrowed)
    assert client.get("/codes/surgery?site=C504&year=2025&item=1290").get_json() == []
    bad = client.get("/codes/surgery?site=XYZ&year=2025")
    assert bad.status_code == 400 and bad.get_json()["error"].startswith("site:")
    assert client.get("/codes/surgery?site=C504").get_json()["error"].startswith("year:")
