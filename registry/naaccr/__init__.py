"""NAACCR XML for the registry: dictionaries, a streaming reader/validator, a writer, v18 flat files.

Pure library: no Flask and no database here, so the CLI, the import/export jobs and
the edits engine can all share it.  Dictionaries are never bundled; callers pass the
path of the installed ones.
"""
from .dictionary import (Dictionary, DictionaryError, DictionaryStore, ItemDef, ItemLookup, base_uri,
                         base_version_from_uri, convert_sex_items, load_dictionary, load_renamed_items)
from .flat import FlatReader, read_flat
from .reader import (NaaccrData, NaaccrError, NaaccrReader, NaaccrReadError, NaaccrSyntaxError, Patient,
                     Problem, Tumor, ValidationReport, check_value, read_patients, validate)
from .writer import WRITABLE_VERSIONS, NaaccrWriteError, NaaccrWriter, write_file

__all__ = [
    "Dictionary", "DictionaryError", "DictionaryStore", "FlatReader", "ItemDef", "ItemLookup", "NaaccrData",
    "NaaccrError", "NaaccrReadError", "NaaccrReader", "NaaccrSyntaxError", "NaaccrWriteError", "NaaccrWriter",
    "Patient", "Problem", "Tumor", "ValidationReport", "WRITABLE_VERSIONS", "base_uri", "base_version_from_uri",
    "check_value", "convert_sex_items", "load_dictionary", "load_renamed_items", "read_flat", "read_patients",
    "validate", "write_file",
]
