"""The ICD-O-3 reference kinds: official files install; wrong or corrupt files are refused and change nothing."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from registry.audit import SYSTEM
from registry.reference import InvalidReference, current, install, installed
from registry.reference.cli import reference_group, reference_store
from staging_tables.icdo3 import load_site_histology, read_site_histology
from tests.reference import REFERENCE_DIR

ICDO3 = REFERENCE_DIR / "icdo3"
SEER_LIST = ICDO3 / "seer_site_histology_validation_list_20220429.csv"
GOOD = {"icdo3-topography": ICDO3 / "primarySite.csv",
        "icdo3-morphology": ICDO3 / "histologicTypeIcdO3_preferredTermsOnly.csv",
        "icdo3-terms": ICDO3 / "histologicTypeIcdO3_allTerms.csv",
        "site-histology": SEER_LIST}


def _truncated(source: Path, target: Path, lines: int) -> Path:
    """The first ``lines`` lines, the last of them cut in half (a download that stopped)."""
    text = source.read_text(encoding="utf-8").splitlines()[:lines]
    text[-1] = text[-1][: len(text[-1]) // 2]
    target.write_text("\n".join(text), encoding="utf-8")
    return target


CORRUPT = {  # kind -> (make the bad file, words the refusal must contain)
    "icdo3-topography": (lambda d: _truncated(GOOD["icdo3-topography"], d / "primarySite.csv", 40),
                         "a complete list has about 330"),
    "icdo3-morphology": (lambda d: _truncated(GOOD["icdo3-morphology"], d / "morphology.csv", 900),
                         "line 900 is not readable CSV"),
    "icdo3-terms": (lambda d: _truncated(GOOD["icdo3-terms"], d / "allTerms.csv", 3000),
                    "line 3000 has"),
    "site-histology": (lambda d: _truncated(SEER_LIST, d / "seer_site_histology_validation_list_20990101.csv", 500),
                       "line 500 is not readable CSV"),
}


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_a_corrupt_file_is_refused_and_the_good_install_stays_current(app, no_reference_tables, tmp_path, kind):
    good = install(kind, GOOD[kind], actor=SYSTEM, store=reference_store())
    make, words = CORRUPT[kind]
    bad = make(tmp_path)
    with pytest.raises(InvalidReference) as refused:
        install(kind, bad, actor=SYSTEM, store=reference_store())
    assert words in str(refused.value) and "Expected" in str(refused.value)
    assert [r.id for r in installed(kind)] == [good.id]
    assert current(kind).checksum == good.checksum
    assert sorted(p.name for p in (reference_store() / kind).iterdir()) == [Path(good.stored_path).name]


def test_installs_record_what_the_file_is(app):
    records = {kind: install(kind, path, actor=SYSTEM, store=reference_store()) for kind, path in GOOD.items()}
    assert records["icdo3-topography"].summary == "330 codes"
    assert records["icdo3-morphology"].summary.startswith("1371 histology/behavior codes")
    assert records["icdo3-terms"].summary == "7611 terms of 1371 histology/behavior codes"
    seer = records["site-histology"]
    assert (seer.name, seer.version) == ("SEER site/histology validation list", "20220429")
    assert seer.summary.startswith("12496 rows")


@pytest.mark.parametrize("kind, wrong, words", [
    ("site-histology", GOOD["icdo3-topography"], "the first line must be the header Site recode"),
    ("icdo3-topography", GOOD["icdo3-morphology"], "is not a topography code"),
    ("icdo3-morphology", SEER_LIST, "expected \"8140/3\",term"),
    ("icdo3-morphology", ICDO3 / "primarySite.csv", "is not a histology/behavior code"),
    ("icdo3-terms", GOOD["icdo3-morphology"], "expected 8140,3,term,preferred|alternate"),
])
def test_a_file_of_another_kind_is_refused_saying_what_was_expected(app, no_reference_tables, kind, wrong, words):
    with pytest.raises(InvalidReference) as refused:
        install(kind, wrong, actor=SYSTEM, store=reference_store())
    assert words in str(refused.value)
    assert installed(kind) == []


def test_a_binary_file_is_refused(app, tmp_path):
    packed = tmp_path / "primarySite.csv"
    packed.write_bytes(gzip.compress(GOOD["icdo3-topography"].read_bytes()))
    with pytest.raises(InvalidReference, match="not UTF-8 text|binary"):
        install("icdo3-topography", packed, actor=SYSTEM, store=reference_store())


def test_the_command_installs_and_refuses(app, no_reference_tables, tmp_path):
    app.cli.add_command(reference_group)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reference", "install", "site-histology", str(SEER_LIST)])
    assert result.exit_code == 0 and "12496 rows" in result.output
    bad = CORRUPT["site-histology"][0](tmp_path)
    refused = runner.invoke(args=["reference", "install", "site-histology", str(bad)])
    assert refused.exit_code != 0 and "Expected the SEER ICD-O-3 site/histology validation list" in refused.output
    listed = runner.invoke(args=["reference", "list", "site-histology"])
    assert listed.output.count("site-histology") == 1 and "20220429" in listed.output


def test_an_installed_list_is_read_once_per_file():
    first = load_site_histology(str(SEER_LIST), "checksum-a")
    assert load_site_histology(str(SEER_LIST), "checksum-a") is first
    assert load_site_histology(str(SEER_LIST), "checksum-b") is not first
    assert read_site_histology(SEER_LIST).by_site == first.by_site


def test_a_terms_file_needs_one_preferred_term_a_code(app, no_reference_tables, tmp_path):
    lines = GOOD["icdo3-terms"].read_text(encoding="utf-8").splitlines()
    twice = tmp_path / "twice.csv"
    twice.write_text("\n".join(lines + ['8500,3,"Duct carcinoma, NOS",preferred']), encoding="utf-8")
    none = tmp_path / "none.csv"
    none.write_text("\n".join(line for line in lines if not line.startswith("8500,3,") or
                              not line.endswith(",preferred")), encoding="utf-8")
    for path, words in ((twice, f"line {len(lines) + 1}: 8500/3 has a second preferred term"),
                        (none, "8500/3 has no preferred term")):
        with pytest.raises(InvalidReference, match=re.escape(words)):
            install("icdo3-terms", path, actor=SYSTEM, store=reference_store())
    assert installed("icdo3-terms") == []
