"""CS 02.05.50 conformance: a fixed sample in the regular run, every row with ``-m conformance``."""
import pytest

from .cs_harness import check_integration_file, check_schema_identification, check_valid_inputs

INTEGRATION_FILES = ["cs_integration_sample.txt.gz", "AJCC_6.V020550.txt.gz", "AJCC_7.V020550.txt.gz"]
SAMPLE_EVERY = {"cs_integration_sample.txt.gz": 9, "AJCC_6.V020550.txt.gz": 23, "AJCC_7.V020550.txt.gz": 29}


def _assert_all_pass(result):
    cases, failures, shown = result
    assert cases > 0
    assert failures == 0, f"{failures} of {cases} failed:\n" + "\n".join(shown)


@pytest.mark.parametrize("name", INTEGRATION_FILES)
def test_integration_sample_rows(cs_alg, name):
    _assert_all_pass(check_integration_file(cs_alg, name, every=SAMPLE_EVERY[name]))


def test_schema_identification_sample(cs_alg):
    _assert_all_pass(check_schema_identification(cs_alg, every=41))


def test_valid_inputs_sample(cs_alg):
    _assert_all_pass(check_valid_inputs(cs_alg, every=7))


@pytest.mark.conformance
@pytest.mark.parametrize("name", INTEGRATION_FILES)
def test_integration_full(cs_alg, name):
    _assert_all_pass(check_integration_file(cs_alg, name))


@pytest.mark.conformance
def test_schema_identification_full(cs_alg):
    _assert_all_pass(check_schema_identification(cs_alg))


@pytest.mark.conformance
def test_valid_inputs_full(cs_alg):
    _assert_all_pass(check_valid_inputs(cs_alg))
