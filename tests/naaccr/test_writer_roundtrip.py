"""Writer: samples round-trip string for string, record types filter items, output is XSD-valid."""
import gzip
import io

import pytest
from lxml import etree

from registry.naaccr import (NaaccrReader, NaaccrWriteError, NaaccrWriter, load_dictionary, read_flat,
                             read_patients, validate)

from .conftest import SAMPLES_DIR

FLAT_DIR = SAMPLES_DIR / "flat-and-xml"
SAMPLES = sorted(SAMPLES_DIR.glob("*.xml.gz")) + sorted(FLAT_DIR.glob("synthetic-data_*.xml"))
MY_DICTIONARY = FLAT_DIR / "my-dictionary.xml"


def _user(path):
    return [MY_DICTIONARY] if "non-standard" in path.name else []


def _shape(patients):
    return [(p.items, [t.items for t in p.tumors]) for p in patients]


def _read(path, store, user=()):
    with NaaccrReader(path, store, user) as reader:
        patients = list(reader)
        return reader.data, patients


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_round_trips(store, tmp_path, xsd, path):
    user = _user(path)
    data, patients = _read(path, store, user)
    assert patients and not [p for patient in patients for p in patient.all_problems]
    out = tmp_path / ("out.xml.gz" if path.name.endswith(".gz") else "out.xml")
    with NaaccrWriter(out, store.get(data.base_dictionary_uri), data.record_type, user, root_items=data.items,
                      allow_any_version=True, time_generated=data.time_generated) as writer:
        writer.write_patients(patients)
    assert not writer.skipped
    again_data, again = _read(out, store, user)
    assert _shape(again) == _shape(patients)
    assert again_data.items == data.items
    assert (again_data.record_type, again_data.base_dictionary_uri) == (data.record_type, data.base_dictionary_uri)
    assert validate(out, store, user).valid
    if path.name.endswith(".gz"):
        assert out.read_bytes()[:2] == b"\x1f\x8b"
    if path.stat().st_size < 100_000 or path.name.endswith(".gz") and "1000" not in path.name:
        xsd.validate(gzip.open(out) if path.name.endswith(".gz") else str(out))


@pytest.mark.parametrize("record_type", ["I", "C", "M"])
def test_record_type_keeps_only_its_items(store, tmp_path, xsd, record_type):
    v250 = store.get("250")
    _, patients = _read(SAMPLES_DIR / "naaccr-xml-sample-v250-abstract-100.xml.gz", store)
    out = tmp_path / "typed.xml"
    with NaaccrWriter(out, v250, record_type) as writer:
        writer.write_patients(patients)
    xsd.validate(str(out))
    assert bool(writer.skipped) == (record_type != "M")
    data, again = _read(out, store)
    assert data.record_type == record_type
    written = {key for p in again for key in p.items} | {key for p in again for t in p.tumors for key in t.items}
    assert all(record_type in v250.get(key).record_types for key in written)
    assert not any(record_type in v250.get(key).record_types for key in writer.skipped)
    if record_type == "I":
        assert "nameLast" not in written and "socialSecurityNumber" not in written


def test_items_are_written_in_dictionary_order(store, tmp_path):
    v250 = store.get("250")
    out = tmp_path / "order.xml"
    with NaaccrWriter(out, v250, "A") as writer:
        writer.write_patient({"items": {"vitalStatus": "1", "patientIdNumber": "00000001", "nameLast": "Doe"},
                              "tumors": [{"primarySite": "C509", "dateOfDiagnosis": "2025"}]})
    tree = etree.parse(str(out))
    order = list(v250.items)
    for level, expected in (("Patient", ["patientIdNumber", "nameLast", "vitalStatus"]),
                            ("Tumor", ["dateOfDiagnosis", "primarySite"])):
        ids = [el.get("naaccrId") for el in tree.iterfind(f".//{{http://naaccr.org/naaccrxml}}{level}/"
                                                          "{http://naaccr.org/naaccrxml}Item")]
        assert ids == sorted(ids, key=order.index) and sorted(ids) == sorted(expected)


def test_v26_export_maps_sex(store, tmp_path, xsd):
    _, patients = _read(SAMPLES_DIR / "naaccr-xml-sample-v250-incidence-100.xml.gz", store)
    out = tmp_path / "v26.xml.gz"
    with NaaccrWriter(out, store.get("260"), "I") as writer:
        writer.write_patients(patients)
    assert validate(out, store).valid
    xsd.validate(gzip.open(out))
    _, again = _read(out, store)
    assert [p.items["sexAssignedAtBirth"] for p in again] == [p.items["sex"] for p in patients]
    assert not any("sex" in p.items for p in again)
    back = tmp_path / "v25.xml"
    with NaaccrWriter(back, store.get("250"), "I") as writer:
        writer.write_patients(again)
    assert [p.items["sex"] for p in read_patients(back, store)] == [p.items["sex"] for p in patients]


def test_escaping_round_trips_exactly(store, tmp_path, xsd):
    nasty = "a & b < c > d \" e ' f\r\ng\n  h\ttab  ]]> \u00e9\u4e2d"
    out = tmp_path / "esc.xml"
    with NaaccrWriter(out, store.get("250"), "A") as writer:
        writer.write_patient({"items": {"patientIdNumber": "00000001"}, "tumors": [{"textRemarks": nasty}]})
    xsd.validate(str(out))
    [patient] = read_patients(out, store)
    assert patient.tumors[0].items["textRemarks"] == nasty


def test_invalid_values_are_refused_and_file_left_incomplete(store, tmp_path):
    out = tmp_path / "bad.xml"
    with pytest.raises(NaaccrWriteError, match="dateOfDiagnosis"):
        with NaaccrWriter(out, store.get("250"), "A") as writer:
            writer.write_patient({"items": {"patientIdNumber": "00000001"}, "tumors": [{"primarySite": "C509"}]})
            writer.write_patient({"items": {"patientIdNumber": "00000002"}, "tumors": [{"dateOfDiagnosis": "2025-01"}]})
    assert validate(out, store).status != "valid"
    with pytest.raises(NaaccrWriteError, match="control character"):
        with NaaccrWriter(io.BytesIO(), store.get("250"), "A") as writer:
            writer.write_patient({"items": {"nameLast": "a\x01b"}})


def test_only_v24_to_v26_by_default(store):
    with pytest.raises(ValueError, match="not supported"):
        NaaccrWriter(io.BytesIO(), store.get("180"), "A")
    with pytest.raises(ValueError):
        NaaccrWriter(io.BytesIO(), store.get("250"), "X")


def test_extensions_and_root_attributes_survive(store, tmp_path, xsd):
    from .conftest import VALIDITY_DIR

    for name in ("valid_user-extensions-1.xml", "valid_user-extensions-2.xml", "valid_user-extensions-3.xml",
                 "valid_user-attributes-1.xml"):
        data, patients = _read(VALIDITY_DIR / "valid" / name, store)
        out = tmp_path / name
        with NaaccrWriter(out, store.get("240"), data.record_type, root_items=data.items,
                          extra_attributes=data.extra_attributes, namespaces=data.namespaces,
                          root_extensions=data.extensions) as writer:
            writer.write_patients(patients)
        xsd.validate(str(out))
        again_data, again = _read(out, store)
        assert again_data.extensions == data.extensions
        assert again_data.extra_attributes == data.extra_attributes
        assert [p.extensions for p in again] == [p.extensions for p in patients]
        assert [t.extensions for p in again for t in p.tumors] == [t.extensions for p in patients for t in p.tumors]


def test_flat_file_matches_its_xml_twin(store):
    v18 = store.get("180")
    with NaaccrReader(FLAT_DIR / "synthetic-data_naaccr-180-incidence_10-tumors.xml", store) as reader:
        xml = list(reader)
        xml_root = reader.data.items
    from registry.naaccr import FlatReader

    with FlatReader(FLAT_DIR / "synthetic-data_naaccr-180-incidence_10-records.txt", v18) as flat_reader:
        flat = list(flat_reader)
        flat_root = flat_reader.data.items
    assert len(flat) == 10 and sum(len(p.tumors) for p in flat) == 10
    assert _shape(flat) == _shape(xml)
    assert flat_root == xml_root
    assert not [p for patient in flat for p in patient.all_problems]


def test_flat_groups_consecutive_lines_of_a_patient(store, tmp_path):
    lines = (FLAT_DIR / "synthetic-data_naaccr-180-incidence_10-records.txt").read_text().splitlines()
    start = store.get("180").get("patientIdNumber").start_column - 1
    second = lines[1][:start] + lines[0][start:start + 8] + lines[1][start + 8:]
    path = tmp_path / "two.txt"
    path.write_text("\n".join([lines[0], second, lines[2][:50]]) + "\n")
    patients = list(read_flat(path, store.get("180")))
    assert [len(p.tumors) for p in patients] == [2, 1]
    assert patients[1].tumors[0].problems and patients[1].tumors[0].problems[0].line == 3


def test_flat_needs_start_columns(store):
    with pytest.raises(ValueError, match="startColumn"):
        list(read_flat(io.BytesIO(b""), store.get("250")))


def test_user_dictionary_path_accepted_by_writer(store, tmp_path):
    out = tmp_path / "user.xml"
    with NaaccrWriter(out, store.get("250"), "A", [load_dictionary(MY_DICTIONARY)]) as writer:
        writer.write_patient({"items": {"patientIdNumber": "00000001"}, "tumors": [{"myVariable": "1"}]})
    assert 'userDictionaryUri="https://my.organization.org/my-dictionary.xml"' in out.read_text()
    assert validate(out, store, [MY_DICTIONARY]).valid
    assert not validate(out, store).valid
