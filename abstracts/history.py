"""A patient's audit trail as a registrar reads it: who did what to which record, item by item.

The trail stores column names, naaccrIds and database ids; the patient page shows item labels with their
NAACCR numbers, tumors as registrars tell them apart (``Tumor.described``), and the Social Security Number
masked unless the reader chose to reveal it (which is itself recorded).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from abstracts.codes import current_catalogue
from abstracts.forms import FOLLOW_UP_SPECS, SPECS
from registry.models import AuditEntry

#: What each recorded action means, in the registrar's words; the part after ``:`` says what the step did.
ACTIONS = {
    "create_patient": "added the patient", "update_patient": "changed the patient",
    "create_tumor": "added an abstract", "update_tumor": "changed the abstract", "save_abstract": "saved the abstract",
    "delete_tumor": "deleted an abstract", "set_workflow_state": "moved the abstract in the workflow",
    "record_follow_up": "recorded a follow-up contact", "apply_sequence_numbers": "proposed sequence numbers",
    "view_patient": "opened the patient page", "view_abstract": "opened the abstract",
    "view_follow_up": "opened the follow-up form", "print_abstract": "printed the abstract",
    "reveal_ssn": "revealed the Social Security Number", "naaccr_import": "imported from a NAACCR file",
    "add_suspense_case": "added a casefinding case", "abstract_suspense_case": "abstracted a casefinding case",
    "suspense_not_reportable": "closed a casefinding case as not reportable",
    "casefinding_intake": "took in a pathology report", "casefinding_document_read": "read a pathology report",
    "follow_up_letter": "printed a follow-up letter", "follow_up_letters": "printed follow-up letters",
    "multiple_primaries": "decided single or multiple primaries", "survival_recompute": "recomputed survival",
    "edits_run": "ran the edits", "demo_data": "loaded demo data",
}
STEPS = {"sequence_numbers": "sequence numbers proposed again", "reason": "reason given",
         "open_existing": "the same primary as an existing abstract", "create_anyway": "created anyway",
         "create_new_primary": "a new primary",
         "create": "", "update": "", "delete": ""}  # the action's own words already say it
RECORDS = {"patient": "patient", "tumor": "abstract", "first_course_treatment": "treatment of",
           "follow_up_contact": "follow-up contact", "follow_up_tumor_status": "follow-up status of"}
#: Columns the trail keeps that say nothing to a registrar (ids, bookkeeping).
HIDDEN = {"id", "patient_id", "tumor_id", "contact_id", "version", "created_at", "updated_at", "edit_status"}
SSN_FIELDS = {"social_security_number"}
ITEM_STORES = ("extra_items", "site_specific_items")


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class HistoryRow:
    at: Any
    who: str
    what: str
    record: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""


def mask_ssn(value: str | None) -> str:
    """``***-**-6789``: enough to tell two patients apart, not enough to use."""
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return f"***-**-{digits[-4:]}" if len(digits) >= 4 else ("***" if value else "")


def _label(name: str) -> str:
    spec = SPECS.get(name) or FOLLOW_UP_SPECS.get(name)
    if spec is not None:
        return spec.label
    item = current_catalogue().get(name)
    return item.label if item is not None else name.replace("_", " ")


def _shown(name: str, value: Any, reveal_ssn: bool) -> str:
    if value is None or value == "":
        return "blank"
    if name in SSN_FIELDS and not reveal_ssn:
        return mask_ssn(str(value))
    return str(value)


def _changes(changes: Mapping[str, Any] | None, reveal_ssn: bool) -> list[Change]:
    out: list[Change] = []
    for name, pair in (changes or {}).items():
        if name in HIDDEN or not isinstance(pair, (list, tuple)) or len(pair) != 2:
            continue
        before, after = pair
        if name in ITEM_STORES or name == "treatment":
            before, after = before or {}, after or {}
            if not isinstance(before, dict) or not isinstance(after, dict):
                continue
            for item_id in sorted(set(before) | set(after)):
                if before.get(item_id) != after.get(item_id):
                    out.append(Change(_label(item_id), _shown(item_id, before.get(item_id), reveal_ssn),
                                      _shown(item_id, after.get(item_id), reveal_ssn)))
            continue
        out.append(Change(_label(name), _shown(name, before, reveal_ssn), _shown(name, after, reveal_ssn)))
    return out


def _what(action: str) -> str:
    head, _, rest = action.partition(":")
    words = ACTIONS.get(head, head.replace("_", " "))
    steps = [word for step in rest.split(":") if (word := STEPS.get(step, step.replace("_", " ")))]
    return f"{words} ({', '.join(steps)})" if steps else words


def readable_history(entries: Iterable[AuditEntry], tumors: Mapping[str, str], *,
                     reveal_ssn: bool = False) -> list[HistoryRow]:
    """One row per audit entry; ``tumors`` maps a tumor id (as the trail stores it) to its description."""
    rows = []
    for entry in entries:
        kind = entry.entity or ""
        record = RECORDS.get(kind, kind.replace("_", " "))
        if kind in ("tumor", "first_course_treatment", "follow_up_tumor_status"):
            tumor_id = str(entry.entity_id or "").split("/")[-1]
            record = f"{record} {tumors.get(tumor_id, 'a tumor since deleted')}".strip()
        rows.append(HistoryRow(at=entry.at, who=entry.username, what=_what(entry.action), record=record,
                               changes=_changes(entry.changes, reveal_ssn),
                               note="" if entry.changes else (entry.detail or "")))
    return rows
