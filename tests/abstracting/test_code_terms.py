"""The ICD-O-3 pickers search every official term and synonym (issue 20.11): the words a registrar types, in any
order, find the code; better word matches come first, then the codes the registry uses most."""
import csv
import re

import pytest

from abstracts.codes import codes, describe, lookup, lookup_note
from abstracts.icdo3_terms import words_of
from registry.audit import SYSTEM, operation
from registry.models import Tumor
from staging_tables.icdo3 import read_morphology
from tests.abstracting.test_abstract_form import _open
from tests.reference import REFERENCE_DIR

ICDO3 = REFERENCE_DIR / "icdo3"


def _codes(found) -> list[str]:
    return [entry["code"] for entry in found]


def _picker(client, system: str, query: str, limit: int = 20) -> dict:
    response = client.get(f"/codes/{system}.json", query_string={"q": query, "limit": limit})
    assert response.status_code == 200
    return response.get_json()


def _alternates() -> list[tuple[str, str]]:
    with (ICDO3 / "histologicTypeIcdO3_allTerms.csv").open(newline="", encoding="utf-8") as handle:
        return [(f"{row[0]}/{row[1]}", row[2]) for row in csv.reader(handle) if row and row[3] == "alternate"]


def test_the_guides_example_upper_outer_is_typed_into_the_site_picker_and_offers_c504_first(client, login,
                                                                                           patient_with_tumor):
    login("registrar")
    patient, tumor = patient_with_tumor
    _, page = _open(client, patient, tumor)
    for name, words in (("primary_site", "upper outer quadrant of breast"), ("histology", "infiltrating duct")):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert int(re.search(r'maxlength="([0-9]+)"', field).group(1)) >= len(words), field
    for query in ("upper outer", "outer upper", "Upper-outer", "upp out"):
        assert _codes(_picker(client, "topography", query)["results"])[0] == "C504", query


def test_the_api_ranks_the_same_way(client, make_user, patient_with_tumor):
    from abstracts.tokens import create_token
    _, token = create_token(make_user("registrar", "api-codes"), "tests")
    headers = {"Authorization": f"Bearer {token}"}
    site = client.get("/api/v1/codes/topography", query_string={"q": "upper outer"}, headers=headers).get_json()
    assert site["items"][0] == {"code": "C504", "term": "Upper-outer quadrant of breast"} and "note" not in site
    duct = client.get("/api/v1/codes/morphology", query_string={"q": "duct carcinoma", "per_page": 100},
                      headers=headers).get_json()
    found = _codes(duct["items"])
    assert found.index("8500/3") < found.index("8160/3")


def test_infiltrating_duct_offers_8500_3_with_the_synonym_it_matched(client, login):
    login("registrar")
    found = _picker(client, "morphology", "infiltrating duct")["results"]
    entry = next(e for e in found if e["code"] == "8500/3")
    assert entry["term"] == read_morphology(ICDO3 / "histologicTypeIcdO3_preferredTermsOnly.csv")["8500/3"]
    assert {"infiltrating", "duct"} <= set(words_of(entry["matched"])) and entry["matched"] != entry["term"]
    assert ("8500/3", entry["matched"]) in _alternates()


def test_duct_carcinoma_lists_duct_carcinoma_nos_before_bile_duct_carcinoma(app):
    found = lookup("morphology", "duct carcinoma", limit=50)
    assert found[0]["code"] == "8500/3" and found[0]["matched"] == "Duct carcinoma, NOS"
    bile = next(e for e in found if e["code"] == "8160/3")
    assert "bile" in words_of(bile["matched"])
    assert _codes(found).index("8500/3") < _codes(found).index("8160/3")


def test_every_preferred_code_is_indexed_with_its_preferred_term(app):
    preferred = read_morphology(ICDO3 / "histologicTypeIcdO3_preferredTermsOnly.csv")
    assert len(preferred) >= 1370
    assert codes("morphology") == preferred
    for code, term in preferred.items():
        assert lookup("morphology", code, limit=1) == [{"code": code, "term": term}]
    assert describe("morphology", "8034/3") == preferred["8034/3"]  # not in the embedded table


def test_every_synonym_of_the_all_terms_file_finds_its_code(app):
    alternates = _alternates()
    assert len(alternates) > 6000
    for code, term in alternates[::61]:
        assert code in _codes(lookup("morphology", term, limit=50)), (code, term)
    found = lookup("morphology", "Bellini duct carcinoma")
    assert found[0] == {"code": "8319/3", "term": codes("morphology")["8319/3"], "matched": "Bellini duct carcinoma (C64.9)"}


def test_among_equal_matches_the_codes_the_registry_uses_most_come_first(app, client, login, patient_with_tumor):
    patient, _ = patient_with_tumor
    assert _codes(lookup("topography", "lobe lung"))[:3] == ["C341", "C342", "C343"]
    with operation(SYSTEM, "test_code_usage") as session:
        for site in ("C343", "C343", "C342"):
            session.add(Tumor(patient_id=patient.id, primary_site=site, histology="8070", behavior="3"))
    assert _codes(lookup("topography", "lobe lung"))[:3] == ["C343", "C342", "C341"]
    login("registrar")
    assert _codes(_picker(client, "topography", "lobe lung")["results"])[:3] == ["C343", "C342", "C341"]
    # a better match still comes before a more used code
    assert _codes(lookup("topography", "upper lobe lung"))[0] == "C341"


def test_without_the_official_files_the_embedded_tables_are_searched_with_a_note(client, login,
                                                                                no_reference_tables):
    login("registrar")
    answer = _picker(client, "morphology", "lobular carcinoma")
    assert {"8520/3", "8520/2"} <= set(_codes(answer["results"]))
    assert "not installed" in answer["note"] and "install-official" in answer["note"]
    assert lookup_note("morphology") == answer["note"]
    assert "8034/3" not in codes("morphology") and len(codes("morphology")) < 1000
    assert lookup_note("sex") == "" and "note" not in _picker(client, "sex", "f")


@pytest.mark.parametrize("query", ["", "   ", "!!", "8500/"])
def test_odd_queries_are_answered(app, query):
    assert isinstance(lookup("morphology", query), list)
