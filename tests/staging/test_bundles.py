"""All four reference bundles load unchanged, and no input, however odd, makes staging raise."""
import random

import pytest

from staging_tables.staging import load_algorithm

from .conftest import ALGORITHMS, YEAR_CURRENT

COUNTS = {"cs-02.05.50.zip": ("cs", "02.05.50", 153, 1484), "eod_public-3.3.zip": ("eod_public", "3.3", 141, 1059),
          "tnm-2.1.zip": ("tnm", "2.1", 153, 1363), "pediatric-1.3.zip": ("pediatric", "1.3", 33, 129)}


@pytest.mark.parametrize("name", ["tnm-2.1.zip", "pediatric-1.3.zip"])
def test_other_bundles_load(name):
    alg = load_algorithm(ALGORITHMS / name, year_current=YEAR_CURRENT)
    assert (alg.name, alg.version, len(alg.schemas), len(alg.tables)) == COUNTS[name]
    _fuzz(alg, 300)


def test_loaded_counts(cs_alg, eod_alg):
    for alg, name in ((cs_alg, "cs-02.05.50.zip"), (eod_alg, "eod_public-3.3.zip")):
        assert (alg.name, alg.version, len(alg.schemas), len(alg.tables)) == COUNTS[name]


def _fuzz(alg, n):
    rnd = random.Random(20261127)
    values = ["", "0", "1", "9", "999", "88", "X", "2022", "8140", " 1 ", "-", "1.5", "{{site}}", "C509", "ü"]
    statuses = set()
    for _ in range(n):
        data = {k: rnd.choice(values) for k in alg.input_keys if rnd.random() < 0.3}
        data["site"] = rnd.choice(["C509", "C619", "C341", "C187", "C111", "C700", "C999", ""])
        data["hist"] = rnd.choice(["8000", "8140", "8500", "9590", "8720", "abc"])
        res = alg.stage(data)
        statuses.add(res.status)
        assert res.algorithm == alg.name
    return statuses


def test_odd_inputs_never_raise(cs_alg, eod_alg):
    assert "STAGED" in _fuzz(cs_alg, 500)
    _fuzz(eod_alg, 500)
