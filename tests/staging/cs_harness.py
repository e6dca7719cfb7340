"""Readers for the CS 02.05.50 test files, following the harness notes in PROVENANCE.md."""
import csv
import gzip

from .conftest import CS_TESTS


def cs_columns():
    with open(CS_TESTS / "cs_columns.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    inputs = [r["key"] for r in rows if r["role"] == "input"]
    outputs = [r["key"] for r in rows if r["role"] == "expected_output"]
    return inputs, outputs


def read_lines(name, every=1):
    """Yield (line number, line) for every ``every``-th line: a fixed, deterministic sample."""
    with gzip.open(CS_TESTS / name, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if (number - 1) % every == 0:
                yield number, line.rstrip("\r\n")


def check_integration_file(alg, name, every=1):
    """Stage each 80-column row and compare the 38 outputs; returns (cases, failures, first mismatches)."""
    in_keys, out_keys = cs_columns()
    cases = failures = 0
    shown = []
    for number, line in read_lines(name, every):
        values = [v.strip() for v in line.split(",")]
        assert len(values) == len(in_keys) + len(out_keys), f"{name}:{number}: {len(values)} columns"
        data = dict(zip(in_keys, values))
        if data["year_dx"] in ("2019", "2020"):
            data["year_dx"] = "2049"
        cases += 1
        lookup = alg.lookup_schema(data["site"], data["hist"], ssf25=data["ssf25"])
        actual = alg.stage(data).outputs if lookup.schema is not None else {}
        expected = dict(zip(out_keys, values[len(in_keys):]))
        bad = {k: (v, actual.get(k, "")) for k, v in expected.items() if actual.get(k, "") != v}
        if bad:
            failures += 1
            if len(shown) < 5:
                shown.append(f"{name}:{number}: {bad}")
    return cases, failures, shown


def check_schema_identification(alg, every=1):
    cases = failures = 0
    shown = []
    for number, line in read_lines("cs_schema_identification_unit_test.txt.gz", every):
        if line.startswith("#"):
            continue
        site, hist, ssf25, expected = (p.strip() for p in line.split(","))
        found = [s.id for s in alg.lookup_schema(site, hist, ssf25=ssf25).schemas]
        ok = len(found) != 1 if not expected else found == [expected]
        cases += 1
        if not ok:
            failures += 1
            if len(shown) < 5:
                shown.append(f"line {number}: {site},{hist},{ssf25} expected {expected!r} found {found}")
    return cases, failures, shown


def check_valid_inputs(alg, every=1):
    by_name = {s.name: s.id for s in alg.schemas.values()}
    cases = failures = 0
    shown = []
    for number, line in read_lines("valid_inputs.020550.txt.gz", every):
        name, key, code = line.split("|")
        cases += 1
        if not alg.is_code_valid(by_name[name], key, code):
            failures += 1
            if len(shown) < 5:
                shown.append(f"line {number}: {name} {key}={code!r} rejected")
    return cases, failures, shown
