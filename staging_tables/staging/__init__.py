"""Pure-Python engine for SEER staging algorithm bundles (EOD, TNM, Pediatric, Collaborative Stage).

Typical use::

    alg = load_algorithm("eod_public-3.3.zip")
    result = alg.stage({"site": "C509", "hist": "8500", "behavior": "3", "year_dx": "2022", ...})
    result.status, result.schema_id, result.outputs, result.errors
"""
from .batch import CsvFormatError, stage_csv
from .bundle import BundleError
from .engine import (FAILED_INVALID_INPUT, FAILED_INVALID_YEAR_DX, FAILED_MISSING_SITE_OR_HISTOLOGY,
                     FAILED_MULTIPLE_MATCHING_SCHEMAS, FAILED_NO_MATCHING_SCHEMA, STAGED, Algorithm, Question,
                     SchemaLookupResult, StagingError, StagingResult, load_algorithm)

__all__ = [
    "Algorithm", "BundleError", "CsvFormatError", "Question", "SchemaLookupResult", "StagingError", "StagingResult",
    "load_algorithm", "stage_csv", "STAGED", "FAILED_INVALID_INPUT", "FAILED_INVALID_YEAR_DX",
    "FAILED_MISSING_SITE_OR_HISTOLOGY", "FAILED_MULTIPLE_MATCHING_SCHEMAS", "FAILED_NO_MATCHING_SCHEMA",
]
