"""The import's compiled column checks give the same verdict and message as ``ItemSpec.problem``."""
import pytest

from registry.items import naaccr_items
from registry.models import FirstCourseTreatment, Patient, Tumor
from registry.naaccr.intake import clean_columns as _clean
from staging_tables.codes import terms

DATES = ["1850", "1849", "2024", "202402", "202413", "202400", "20240229", "20230229", "20240230", "20240431",
         "20240100", "2024010", "２０２４", "12345678", "2024 ", "abcd"]
OTHERS = ["1", "01", "9", "99", "999", "A", "a", "C509", "C50", "8500", "85000", "x" * 80, "١", "²", "12.5", "C 50"]


@pytest.mark.parametrize("model", [Patient, Tumor, FirstCourseTreatment])
def test_clean_agrees_with_item_spec(model):
    for name, spec in naaccr_items(model).items():
        candidates = DATES + OTHERS + (list(terms(spec.code_list))[:5] if spec.code_list else [])
        for value in candidates:
            cleaned, errors = _clean(model, {name: f" {value} "})
            assert errors.get(name) == spec.problem(value.strip()), (name, value)
            assert cleaned[name] == value.strip()
