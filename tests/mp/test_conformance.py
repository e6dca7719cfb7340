"""Every pair of SEER's MP/H and Solid Tumor test file (imsweb/mph ``mph-testing-2000-2022.csv.gz``): the
expected result, and apart from it the expected reason (the file keeps the reason up to its first comma)."""
import collections
import csv
import gzip

import pytest

from staging_tables.multiple_primaries import tumor

TEST_FILE = "mph-testing-2000-2022.csv.gz"


def _first_clause(text: str) -> str:
    return text.replace("\\n", "\n").split(",")[0].strip()


@pytest.fixture(scope="module")
def verdicts(mph_dir, mp_engine):
    with gzip.open(mph_dir / TEST_FILE, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = []
    for row in rows:
        first = tumor(row["site1"], row["hist1"], row["beh1"], row["lat1"], row["year1"], row["month1"], row["day1"])
        second = tumor(row["site2"], row["hist2"], row["beh2"], row["lat2"], row["year2"], row["month2"], row["day2"])
        found.append((row, mp_engine.compare(first, second)))
    return found


def _report(disagreements: list[tuple[dict, object]]) -> str:
    """Disagreements grouped by the expected rule (reason), with up to three pairs each."""
    by_rule = collections.defaultdict(list)
    for row, verdict in disagreements:
        by_rule[_first_clause(row["reason"])[:90]].append((row, verdict))
    lines = []
    for rule, items in sorted(by_rule.items(), key=lambda item: -len(item[1])):
        lines.append(f"{len(items):4d} x expected {items[0][0]['result']} by '{rule}'")
        for row, verdict in items[:3]:
            pair = ",".join(row[k] for k in ("year1", "month1", "day1", "site1", "hist1", "beh1", "lat1",
                                              "year2", "month2", "day2", "site2", "hist2", "beh2", "lat2"))
            lines.append(f"       {pair}: got {verdict.result} at '{verdict.step}': {_first_clause(verdict.reason)[:80]}")
    return "\n".join(lines)


@pytest.mark.conformance
def test_every_pair_gets_the_expected_result(verdicts):
    assert len(verdicts) == 6701
    wrong = [(row, v) for row, v in verdicts if v.result != row["result"]]
    assert not wrong, f"{len(wrong)} of {len(verdicts)} pairs disagree:\n" + _report(wrong)


@pytest.mark.conformance
def test_every_pair_gets_the_expected_rule(verdicts):
    wrong = [(row, v) for row, v in verdicts if _first_clause(v.reason) != _first_clause(row["reason"])]
    assert not wrong, f"{len(wrong)} of {len(verdicts)} pairs name another rule:\n" + _report(wrong)


def test_the_file_covers_every_rule_set_era(verdicts):
    eras = collections.Counter(v.rule_set.split(" ")[0] for _, v in verdicts if v.rule_set)
    assert {"Solid", "MPH", "Hematopoietic"} <= set(eras)
