"""Reader edge cases from the reference suite, plus encodings, BOM, gzip and streaming."""
import gzip
import io
import tracemalloc

import pytest

from registry.naaccr import (NaaccrReader, NaaccrReadError, NaaccrSyntaxError, NaaccrWriter, load_renamed_items,
                             read_patients, validate)

from .conftest import NAACCR_DIR, READER_CASES, USER_DICTIONARY_TESTS

RELAXED = {"strict_namespaces": False}


def read(store, name, *user, **options):
    options = {**RELAXED, **options}
    with NaaccrReader(READER_CASES / name, store, user, **options) as reader:
        patients = list(reader)
        return reader.data, patients, reader.problems


def codes(patients, file_problems=()):
    return [p.code for p in file_problems] + [p.code for patient in patients for p in patient.all_problems]


def test_standard_file(store):
    data, patients, problems = read(store, "standard-file.xml", strict_namespaces=True)
    assert not codes(patients, problems)
    assert data.items == {"registryId": "0000000001"}
    assert (data.record_type, data.specification_version, data.naaccr_version) == ("I", "1.4", "160")
    assert [p.items["patientIdNumber"] for p in patients] == ["00000001", "00000002"]
    assert patients[0].tumors[0].items == {"primarySite": "C123"}
    assert patients[1].tumors == []


def test_bad_time_generated(store):
    data, patients, problems = read(store, "xml-reader-bad-time-generated.xml")
    assert [p.code for p in problems] == ["structure"] and "timeGenerated" in problems[0].message
    assert not codes(patients)
    assert patients[0].items["nameLast"] == "Garcia"


def test_duplicate_items(store):
    _, patients, _ = read(store, "xml-reader-duplicate-items.xml")
    [problem] = patients[0].all_problems
    assert problem.code == "duplicate" and problem.naaccr_id == "primarySite"
    assert (problem.line, problem.patient, problem.tumor) == (6, 1, 1)
    assert patients[0].tumors[0].items["primarySite"] == "C123"


def test_one_patient_one_tumor_keeps_multiline_text(store):
    _, patients, problems = read(store, "xml-reader-one-patient-one-tumor.xml")
    assert not codes(patients, problems)
    assert patients[0].tumors[0].items["textRemarks"] == "This is\na multi-line\ncomment..."


def test_one_patient_two_tumors(store):
    _, patients, _ = read(store, "xml-reader-one-patient-two-tumors.xml")
    assert [t.items["primarySite"] for t in patients[0].tumors] == ["C123", "C456"]
    assert [t.index for t in patients[0].tumors] == [1, 2]


def test_too_long_value_is_reported_not_truncated(store):
    _, patients, _ = read(store, "xml-reader-options-too-long.xml",
                          USER_DICTIONARY_TESTS / "testing-user-dictionary.xml")
    assert patients[0].items["myVariable2"] == "XX"
    [problem] = patients[0].all_problems
    assert problem.code == "too-long" and "long" in problem.message


def test_too_long_case_without_user_dictionary_is_unknown(store):
    _, patients, _ = read(store, "xml-reader-options-too-long.xml")
    assert codes(patients) == ["unknown"]


def test_renamed_item_is_translated_only_where_the_new_id_exists(store):
    renamed = load_renamed_items(NAACCR_DIR / "items" / "renamed-items-naaccr18.csv")
    _, patients, _ = read(store, "xml-reader-options-translate-180.xml", renamed_items=renamed)
    assert patients[0].tumors[0].items == {"dateSentinelLymphNodeBiopsy": "20190101"}
    assert not codes(patients)
    _, patients, _ = read(store, "xml-reader-options-translate-160.xml", renamed_items=renamed)
    assert codes(patients) == ["unknown"]
    _, patients, _ = read(store, "xml-reader-options-translate-180.xml")
    assert codes(patients) == ["unknown"]


def test_unknown_item_is_an_error_but_kept(store):
    _, patients, _ = read(store, "xml-reader-options-unk.xml")
    [problem] = patients[0].all_problems
    assert (problem.code, problem.naaccr_id, problem.line, problem.patient) == ("unknown", "unknown", 3, 1)
    assert patients[0].items == {"unknown": "X"}


def test_root_data_without_specification_version(store):
    data, patients, problems = read(store, "xml-reader-root-data-1.xml")
    assert [p.message for p in problems] == ["required attribute specificationVersion is missing on NaaccrData"]
    assert data.user_dictionary_uris == [] and data.time_generated is None and data.items == {}
    assert data.record_type == "I"


def test_root_data_with_items(store):
    data, _, problems = read(store, "xml-reader-root-data-2.xml")
    assert not problems
    assert data.specification_version == "1.1"
    assert data.time_generated == "2015-03-13T12:09:19.0Z"
    assert data.items == {"registryId": "0000000001"}
    assert data.item_lines == {"registryId": 2}


def test_special_characters(store):
    _, patients, _ = read(store, "xml-reader-special-characters.xml")
    tumor = patients[0].tumors[0]
    assert tumor.items["rxTextHormone"] == "& < > \" '"
    assert tumor.items["rxTextChemo"] == "& < > \" '"


def test_switched_level_is_reported_per_patient(store):
    _, patients, problems = read(store, "xml-reader-switched-level.xml", strict_namespaces=True)
    found = [(p.line, p.patient, p.naaccr_id, p.code) for patient in patients for p in patient.all_problems]
    assert found == [(7, 1, "dateOfLastCancerStatus", "level"), (14, 2, "dateOfLastCancerStatusFlag", "level")]
    assert not problems


def test_two_patients_with_line_numbers(store):
    _, patients, _ = read(store, "xml-reader-two-patients.xml")
    assert [p.tumors[0].item_lines["primarySite"] for p in patients] == [6, 12]
    assert [p.line for p in patients] == [3, 9]
    assert [p.index for p in patients] == [1, 2]


def test_user_dictionary_item(store, tmp_path):
    _, patients, _ = read(store, "xml-reader-user-dict-1.xml")
    assert codes(patients) == ["unknown"]
    user = tmp_path / "test.xml"
    user.write_text('<NaaccrDictionary dictionaryUri="http://test.org/naaccrxml/test.xml" specificationVersion="1.1"'
                    ' xmlns="http://naaccr.org/naaccrxml"><ItemDefs><ItemDef naaccrId="myVariable" naaccrNum="10000"'
                    ' length="2" dataType="digits" parentXmlElement="Tumor"/></ItemDefs></NaaccrDictionary>')
    _, patients, _ = read(store, "xml-reader-user-dict-1.xml", user, strict_namespaces=True)
    assert not codes(patients)
    assert patients[0].tumors[0].items["myVariable"] == "01"


def test_unqualified_extra_root_attribute(store):
    data, _, problems = read(store, "read-attributes-1.xml", strict_namespaces=True)
    assert "structure" in [p.code for p in problems]
    assert any("myOwnExtraAttribute" in p.message for p in problems if p.code == "structure")
    assert data.time_generated == "2015-03-13T12:09:19.0Z"
    relaxed, _, relaxed_problems = read(store, "read-attributes-1.xml")
    assert "myOwnExtraAttribute" in relaxed.extra_attributes and relaxed_problems == []


def test_root_without_attributes_cannot_be_read(store):
    with pytest.raises(NaaccrReadError, match="baseDictionaryUri"):
        read(store, "read-attributes-3.xml")


def test_not_xml_cannot_be_read(store):
    with pytest.raises(NaaccrSyntaxError):
        read(store, "read-attributes-4.xml")


def test_cp1252_declared_encoding(store):
    _, patients, problems = read(store, "encoding/test_Cp1252.xml", strict_namespaces=True)
    assert not codes(patients, problems)
    assert patients[0].tumors[0].items["textHistologyTitle"] == "This is a \u201csentence\u201d taken from \u2013 Word\u2026"


def test_every_reader_case_is_covered():
    tested = {"standard-file.xml", "xml-reader-bad-time-generated.xml", "xml-reader-duplicate-items.xml",
              "xml-reader-one-patient-one-tumor.xml", "xml-reader-one-patient-two-tumors.xml",
              "xml-reader-options-too-long.xml", "xml-reader-options-translate-160.xml",
              "xml-reader-options-translate-180.xml", "xml-reader-options-unk.xml", "xml-reader-root-data-1.xml",
              "xml-reader-root-data-2.xml", "xml-reader-special-characters.xml", "xml-reader-switched-level.xml",
              "xml-reader-two-patients.xml", "xml-reader-user-dict-1.xml", "read-attributes-1.xml",
              "read-attributes-3.xml", "read-attributes-4.xml", "encoding/test_Cp1252.xml"}
    present = {str(path.relative_to(READER_CASES)) for path in READER_CASES.rglob("*.xml")}
    assert present == tested


SMALL = ('<?xml version="1.0" encoding="UTF-8"?>\n<NaaccrData baseDictionaryUri="http://naaccr.org/naaccrxml/'
         'naaccr-dictionary-250.xml" recordType="A" specificationVersion="1.8" xmlns="http://naaccr.org/naaccrxml">\n'
         '<Patient><Item naaccrId="patientIdNumber">00000001</Item><Item naaccrId="nameLast">Ol\u00e9</Item>'
         '<Tumor><Item naaccrId="primarySite">C509</Item></Tumor></Patient>\n</NaaccrData>\n')


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("gz", [False, True], ids=["xml", "gz"])
def test_utf8_with_or_without_bom_plain_or_gzip(store, tmp_path, bom, gz):
    data = bom + SMALL.encode("utf-8")
    path = tmp_path / ("f.xml.gz" if gz else "f.xml")
    path.write_bytes(gzip.compress(data) if gz else data)
    [patient] = read_patients(path, store)
    assert patient.items["nameLast"] == "Ol\u00e9"
    assert validate(path, store).valid
    [patient] = read_patients(io.BytesIO(gzip.compress(data) if gz else data), store)
    assert patient.tumors[0].items["primarySite"] == "C509"


@pytest.mark.parametrize("value, words", [
    ("2023", None), ("202302", None), ("20230228", None), ("20230229", "not a calendar date"),
    ("202313", "data type date"), ("2023-02-28", "too long"), ("2023-2", "data type date"), ("1799", "data type date"),
])
def test_partial_dates(store, tmp_path, value, words):
    path = tmp_path / "d.xml"
    path.write_text(SMALL.replace("<Tumor>", f'<Tumor><Item naaccrId="dateOfDiagnosis">{value}</Item>'))
    problems = validate(path, store).problems
    if words is None:
        assert not problems
    else:
        assert len(problems) == 1 and words in problems[0].message and problems[0].naaccr_id == "dateOfDiagnosis"


@pytest.mark.parametrize("item, value, ok", [
    ("patientIdNumber", "0000000A", False), ("histologicTypeIcdO3", "85A0", False),
    ("primarySite", "C509", True), ("nameFirst", "O'Brien-Smith", True), ("addrAtDxState", "N1", False), ("addrAtDxState", "NY", True),
    ("tumorSizeSummary", "999", True),
])
def test_data_types(store, tmp_path, item, value, ok):
    level_item = f'<Item naaccrId="{item}">{value}</Item>'
    text = SMALL.replace("<Tumor>", "<Tumor>" + level_item) if item in ("primarySite", "addrAtDxState",
                                                                         "tumorSizeSummary", "histologicTypeIcdO3") else \
        SMALL.replace("<Patient>", "<Patient>" + level_item)
    if item == "primarySite":
        text = text.replace('<Item naaccrId="primarySite">C509</Item></Tumor>', "</Tumor>")
    if item == "patientIdNumber":
        text = text.replace('<Item naaccrId="patientIdNumber">00000001</Item><Item naaccrId="nameLast">',
                            '<Item naaccrId="nameLast">')
    path = tmp_path / "t.xml"
    path.write_text(text)
    problems = validate(path, store).problems
    assert (not problems) == ok, [str(p) for p in problems]


@pytest.mark.parametrize("record_type, refused", [("I", True), ("A", False), ("M", False), ("C", False)])
def test_an_item_the_record_type_does_not_allow_is_refused_where_it_stands(store, tmp_path, record_type, refused):
    """nameLast [2230] is in record types A, M and C only: an incidence file may not carry it."""
    path = tmp_path / "r.xml"
    path.write_text(SMALL.replace('recordType="A"', f'recordType="{record_type}"')
                    .replace("</Patient>", "</Patient>\n<Patient><Item naaccrId=\"patientIdNumber\">00000002</Item>"
                             "<Item naaccrId=\"nameLast\">Two</Item></Patient>"))
    problems = validate(path, store).problems
    if not refused:
        assert problems == []
        return
    assert [(p.code, p.naaccr_id, p.line, p.patient) for p in problems] == [
        ("record-type", "nameLast", 3, 1), ("record-type", "nameLast", 4, 2)]
    assert "item nameLast is not allowed in a record type I file (its dictionary allows it in record types A,C,M)" \
        in problems[0].message


@pytest.mark.parametrize("version, refused", [("1.0", True), ("1.1", True), ("1.2", False), ("1.8", False)])
def test_several_user_dictionaries_need_specification_1_2(store, tmp_path, version, refused):
    uris = 'userDictionaryUri="http://example.test/one.xml http://example.test/two.xml"'
    path = tmp_path / "u.xml"
    path.write_text(SMALL.replace('specificationVersion="1.8"', f'specificationVersion="{version}" {uris}'))
    with NaaccrReader(path, store, strict_namespaces=False) as reader:
        list(reader)
        messages = [p.message for p in reader.problems if p.code == "structure"]
    assert any("names 2 user dictionaries, but specificationVersion" in m for m in messages) == refused


def test_every_problem_is_reported_in_one_pass(store, tmp_path):
    patient = ('<Patient><Item naaccrId="patientIdNumber" naaccrNum="21">123456789</Item>'
               '<Tumor><Item naaccrId="bogus">1</Item><Item naaccrId="primarySite">C5099</Item></Tumor>'
               '<Tumor><Item naaccrId="sex">1</Item></Tumor></Patient>\n')
    path = tmp_path / "many.xml"
    path.write_text(SMALL.replace("</NaaccrData>", patient * 3 + "</NaaccrData>"))
    report = validate(path, store)
    assert report.patients == 4 and report.tumors == 7
    per_patient = [(p.patient, p.tumor, p.naaccr_id, p.code) for p in report.problems if p.patient == 3]
    assert per_patient == [(3, None, "patientIdNumber", "number"), (3, None, "patientIdNumber", "too-long"),
                           (3, 1, "bogus", "unknown"), (3, 1, "primarySite", "too-long"),
                           (3, 2, "sex", "level")]
    assert len(report.problems) == 15
    assert validate(path, store, max_problems=4).truncated


def _synthetic(store, path, patients):
    with NaaccrWriter(path, store.get("250"), "I") as writer:
        for n in range(patients):
            writer.write_patient({"items": {"patientIdNumber": f"{n:08d}", "sex": "2", "dateOfBirth": "19500101"},
                                  "tumors": [{"primarySite": "C509", "histologicTypeIcdO3": "8500",
                                              "behaviorCodeIcdO3": "3", "dateOfDiagnosis": "20250315",
                                              "textRemarks": "x" * 200}]})


def test_reading_is_streaming(store, tmp_path):
    """Peak memory while reading does not grow with the number of patients."""
    peaks = []
    for count in (500, 5000):
        path = tmp_path / f"{count}.xml"
        _synthetic(store, path, count)
        tracemalloc.start()
        seen = sum(1 for _ in read_patients(path, store))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert seen == count
    assert peaks[1] < peaks[0] * 1.5
