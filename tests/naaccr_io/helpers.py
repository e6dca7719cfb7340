"""Reading files back for comparison, with the library's own reader."""
from __future__ import annotations

from pathlib import Path

from registry.naaccr import NaaccrReader


def file_items(path: Path, store, users=()) -> list[tuple[dict[str, str], list[dict[str, str]]]]:
    """Every patient's and tumor's items, in file order, exactly as written."""
    with NaaccrReader(path, store, users) as reader:
        return [(dict(p.items), [dict(t.items) for t in p.tumors]) for p in reader]


def file_header(path: Path, store, users=()):
    with NaaccrReader(path, store, users) as reader:
        return reader.data


def without_added_derived(exported, original):
    """``exported`` less the items the registry derives itself (stage, survival time, the staging save
    rules' columns such as Schema ID) that ``original`` lacked.

    Saving a tumor recomputes those items, so a file without them comes back with them; every item
    the original had must still come back string for string.
    """
    from registry.items import naaccr_items
    from registry.models import Patient, Tumor
    from staging_tables.staging.derive import SAVE_RULES
    staged = {column for rule in SAVE_RULES for column in rule.columns}
    derived = {spec.naaccr_id for model in (Patient, Tumor) for name, spec in naaccr_items(model).items()
               if spec.derived or name in staged}
    result = []
    for (patient, tumors), (_, original_tumors) in zip(exported, original):
        result.append((patient, [{k: v for k, v in tumor.items() if k not in derived or k in before}
                                 for tumor, before in zip(tumors, original_tumors)]))
    return result + exported[len(original):]
