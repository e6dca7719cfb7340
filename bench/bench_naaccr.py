"""Benchmark the NAACCR XML writer and reader against lxml alone, and their peak memory.

Usage: ``python bench/bench_naaccr.py --dictionaries DIR [--sizes 10000 100000] [--repeat 3]``

Synthetic tumors are generated on the fly (one patient, one tumor each, the same
items for every tool), so the figures measure the tools, not the test data.  Each
(operation, size) runs in a fresh subprocess so its peak RSS (``ru_maxrss``) is its
own; the baseline is lxml alone: ``etree.xmlfile`` to write, ``iterparse`` with
clearing to parse, collecting the same dicts.  ``--repeat N`` runs the four operations in
turn N times (so each tool and its baseline see the same machine) and keeps each one's fastest run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NS = "http://naaccr.org/naaccrxml"
PATIENT_ITEMS = {"sex": "2", "race1": "01", "race2": "88", "spanishHispanicOrigin": "0", "dateOfBirth": "19500101",
                 "vitalStatus": "1", "dateOfLastContact": "20250601", "nameLast": "Doe", "nameFirst": "Jane",
                 "addrAtDxState": "NY", "addrAtDxPostalCode": "12345"}
TUMOR_ITEMS = {"primarySite": "C509", "laterality": "1", "histologicTypeIcdO3": "8500", "behaviorCodeIcdO3": "3",
               "dateOfDiagnosis": "20250315", "diagnosticConfirmation": "1", "sequenceNumberCentral": "00",
               "typeOfReportingSource": "1", "classOfCase": "10", "dateOfFirstContact": "20250320",
               "summaryStage2018": "1", "eodPrimaryTumor": "100", "eodRegionalNodes": "000", "eodMets": "00",
               "grade": "9", "rxSummSurgPrimSite2023": "A250", "rxDateSurgery": "20250401",
               "rxSummChemotherapy": "00", "rxSummHormone": "01", "textRemarks": "Synthetic & <test> tumor"}


def synthetic(count: int) -> Iterator[dict]:
    for n in range(count):
        yield {"items": {"patientIdNumber": f"{n:08d}", **PATIENT_ITEMS}, "tumors": [{"items": dict(TUMOR_ITEMS)}]}


def op_ours_write(path: str, count: int, dictionaries: str) -> None:
    from registry.naaccr import DictionaryStore, NaaccrWriter

    with NaaccrWriter(path, DictionaryStore.from_directory(dictionaries).get("250"), "A") as writer:
        for patient in synthetic(count):
            writer.write_patient(patient)


def op_lxml_write(path: str, count: int, dictionaries: str) -> None:
    from lxml import etree

    with etree.xmlfile(path, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{NS}}}NaaccrData", nsmap={None: NS}, recordType="A", specificationVersion="1.8",
                        baseDictionaryUri="http://naaccr.org/naaccrxml/naaccr-dictionary-250.xml"):
            for patient in synthetic(count):
                with xf.element(f"{{{NS}}}Patient"):
                    for key, value in patient["items"].items():
                        with xf.element(f"{{{NS}}}Item", naaccrId=key):
                            xf.write(value)
                    for tumor in patient["tumors"]:
                        with xf.element(f"{{{NS}}}Tumor"):
                            for key, value in tumor["items"].items():
                                with xf.element(f"{{{NS}}}Item", naaccrId=key):
                                    xf.write(value)


def op_ours_read(path: str, count: int, dictionaries: str) -> None:
    from registry.naaccr import DictionaryStore, read_patients

    seen = 0
    for patient in read_patients(path, DictionaryStore.from_directory(dictionaries)):
        seen += len(patient.tumors)
        assert not patient.all_problems, patient.all_problems[:3]
    assert seen == count


def op_lxml_read(path: str, count: int, dictionaries: str) -> None:
    from lxml import etree

    item, tumor_tag, patient_tag = f"{{{NS}}}Item", f"{{{NS}}}Tumor", f"{{{NS}}}Patient"
    seen = 0
    for _event, element in etree.iterparse(path, events=("end",)):
        if element.tag == patient_tag:
            items = {child.get("naaccrId"): child.text or "" for child in element if child.tag == item}
            tumors = [{c.get("naaccrId"): c.text or "" for c in t} for t in element if t.tag == tumor_tag]
            seen += len(tumors)
            assert items
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
    assert seen == count


OPERATIONS = {"ours-write": op_ours_write, "lxml-write": op_lxml_write, "ours-read": op_ours_read,
              "lxml-read": op_lxml_read}


def child(operation: str, path: str, count: int, dictionaries: str) -> None:
    start = time.perf_counter()
    OPERATIONS[operation](path, count, dictionaries)
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_kb / 1024}))


def run(operation: str, path: str, count: int, dictionaries: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", operation, path, str(count), dictionaries],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dictionaries", help="directory of installed NAACCR dictionaries")
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every operation; the fastest run is kept")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        operation, path, count, dictionaries = args.child
        child(operation, path, int(count), dictionaries)
        return
    if not args.dictionaries:
        parser.error("--dictionaries is required")
    print(f"{'tumors':>8} {'operation':<11} {'seconds':>8} {'x lxml':>7} {'peak RSS MB':>11} {'file MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.sizes:
            ours_path, lxml_path = os.path.join(tmp, f"ours-{count}.xml"), os.path.join(tmp, f"lxml-{count}.xml")
            runs: dict[str, list[dict]] = {}
            for _ in range(args.repeat):
                for operation, path in (("lxml-write", lxml_path), ("ours-write", ours_path),
                                        ("lxml-read", ours_path), ("ours-read", ours_path)):
                    runs.setdefault(operation, []).append(run(operation, path, count, args.dictionaries))
            results = {operation: min(found, key=lambda result: result["seconds"]) for operation, found in runs.items()}
            for operation, result in results.items():
                baseline = results["lxml-" + operation.split("-")[1]]["seconds"]
                size = os.path.getsize(ours_path if operation != "lxml-write" else lxml_path) / 1e6
                print(f"{count:>8} {operation:<11} {result['seconds']:>8.2f} {result['seconds'] / baseline:>7.2f} "
                      f"{result['peak_mb']:>11.1f} {size:>8.1f}")


if __name__ == "__main__":
    main()
