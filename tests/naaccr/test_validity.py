"""Every file of the official validity suite gets the verdict its folder names."""
import pytest
from lxml import etree

from registry.naaccr import validate

from .conftest import VALIDITY_DIR, XSD_18

VALIDITY_FILES = sorted(VALIDITY_DIR.glob("*/*.xml"))


def _id(path):
    return f"{path.parent.name}/{path.name}"


def test_the_suite_is_there():
    assert {path.parent.name for path in VALIDITY_FILES} == {"valid", "invalid", "invalid_library_only",
                                                             "invalid_relaxed"}


@pytest.mark.parametrize("path", VALIDITY_FILES, ids=_id)
def test_verdict_matches_folder(store, path):
    report = validate(path, store)
    if path.parent.name == "valid":
        assert report.status == "valid", [str(problem) for problem in report.problems]
    else:
        assert report.status in ("invalid", "unreadable")
        assert report.problems
        for problem in report.problems:
            assert problem.message and problem.line is not None


@pytest.mark.parametrize("path", VALIDITY_FILES, ids=_id)
def test_structure_verdict_agrees_with_xsd(store, path):
    """Our streaming structure checks say what a full XSD 1.8 validation says (dictionary checks aside)."""
    schema = etree.XMLSchema(etree.parse(str(XSD_18)))
    try:
        xsd_valid = schema.validate(etree.parse(str(path)))
    except etree.XMLSyntaxError:
        xsd_valid = False
    structural = [p for p in validate(path, store).problems if p.code not in ("unknown", "number", "too-long",
                                                                                "data-type", "level", "duplicate")]
    assert (not structural) == xsd_valid, [str(problem) for problem in structural]


def test_relaxed_namespaces_accept_the_missing_default_namespace(store):
    path = VALIDITY_DIR / "invalid_relaxed" / "invalid_default-namespace-missing-1.xml"
    assert validate(path, store).status == "invalid"
    assert validate(path, store, strict_namespaces=False).status == "valid"


def test_relaxed_reading_accepts_an_own_attribute_without_a_namespace(store, tmp_path):
    """A NaaccrData attribute of the sender's own without any namespace: refused strictly, kept when relaxed.
    (The official invalid_user-attribute-missing-namespace-2.xml uses an undeclared prefix instead, which
    libxml2 refuses as not namespace-well-formed in either mode.)"""
    official = (VALIDITY_DIR / "invalid_relaxed" / "invalid_user-attribute-missing-namespace-2.xml").read_text()
    path = tmp_path / "own-attribute.xml"
    path.write_text(official.replace("other:otherAttribute=", "otherAttribute="))
    strict = validate(path, store)
    assert strict.status == "invalid" and "attribute otherAttribute is not allowed on NaaccrData" in \
        strict.problems[0].message
    relaxed = validate(path, store, strict_namespaces=False)
    assert relaxed.status == "valid" and relaxed.data.extra_attributes == {"otherAttribute": "XXX"}


@pytest.mark.parametrize("name, where, words", [
    ("invalid_library_only/invalid_bad-data-item-4.xml", (10, 1, 1, "countyAtDxGeocode2010"), "unknown item"),
    ("invalid_library_only/invalid_bad-naaccr-item-number.xml", (8, 1, None, "patientIdNumber"), "naaccrNum 1"),
    ("invalid_library_only/invalid_unknown-data-item-1.xml", (10, 1, 1, "unknown"), "unknown item"),
    ("invalid_library_only/invalid_value-to-long-1.xml", (8, 1, None, "patientIdNumber"), "too long"),
    ("invalid/invalid_bad-attribute-2.xml", (9, 1, 1, None), "may not have attributes"),
    ("invalid/invalid_bad-tag-2.xml", (7, None, None, None), "Patien"),
    ("invalid/invalid_missing-required-attribute-1.xml", (5, None, None, None), "baseDictionaryUri"),
    ("invalid/invalid_unbalanced-tags-2.xml", (12, 1, None, None), "not well-formed"),
])
def test_problems_say_where_and_why(store, name, where, words):
    report = validate(VALIDITY_DIR / name, store)
    first = report.problems[0]
    assert (first.line, first.patient, first.tumor, first.naaccr_id) == where
    assert words in first.message
    assert words in str(first)


def test_garbage_is_unreadable(store):
    assert validate(VALIDITY_DIR / "invalid" / "invalid_garbage-1.xml", store).status == "unreadable"


def test_missing_file_is_unreadable(store, tmp_path):
    assert validate(tmp_path / "nope.xml", store).status == "unreadable"
