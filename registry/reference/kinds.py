"""The reference kinds the core knows; capabilities add their own with ``reference_kind``."""
from __future__ import annotations

from pathlib import Path

from registry.naaccr import DictionaryError, load_dictionary
from registry.reference import InvalidReference, ReferenceInfo, reference_kind
from staging_tables.staging import reference as _staging_algorithm  # noqa: F401 - kind staging-algorithm


@reference_kind("naaccr-dictionary", "a NAACCR XML base or user dictionary (naaccr-dictionary-NNN.xml) "
                                     "with a dictionaryUri and ItemDefs")
def naaccr_dictionary(path: Path) -> ReferenceInfo:
    try:
        dictionary = load_dictionary(path)
    except DictionaryError as exc:
        raise InvalidReference(str(exc)) from None
    if not len(dictionary):
        raise InvalidReference("it defines no items")
    version = dictionary.naaccr_version or dictionary.specification_version or "user"
    kind = "base" if dictionary.is_base else "user"
    return ReferenceInfo(name=dictionary.uri, version=str(version),
                         summary=f"{kind} dictionary, {len(dictionary)} items")
import reports.survival.lifetables  # noqa: E402,F401 - the life-table kind
import staging_tables.icdo3  # noqa: E402,F401 - the ICD-O-3 and site-histology kinds
import registry.naaccr.lookups  # noqa: E402,F401 - the NAACCR lookups kind
import staging_tables.surgery  # noqa: E402,F401 - the surgery-tables kind
import staging_tables.multiple_primaries.reference  # noqa: E402,F401 - the mp-hematopoietic kind
import reports.rates.populations  # noqa: E402,F401 - the population kind
import abstracts.epath.screening  # noqa: E402,F401 - the reportability-keywords kind
import abstracts.epath.valueset  # noqa: E402,F401 - the reportability-codes kind
