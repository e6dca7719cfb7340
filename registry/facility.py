"""Facility settings: read by letters, reports and NAACCR exports; changed only by an administrator."""
from __future__ import annotations

import re
from typing import Any

from registry.audit import Actor, operation
from registry.db import db_session
from registry.errors import InvalidInput
from registry.items import naaccr_items
from registry.models import Facility, User

#: Fields an administrator edits, with the longest value each holds.
PLAIN_FIELDS = {"name": 120, "address_street": 120, "address_city": 60, "address_state": 2,
                "address_postal_code": 10, "telephone": 20, "registry_contact": 120}


def current_facility() -> Facility:
    """The facility row (an unsaved blank one before an administrator has filled it in)."""
    return db_session.get(Facility, 1) or Facility(id=1, name="")


def npi_problem(npi: str) -> str | None:
    """An NPI is ten digits whose last is the Luhn check digit over 80840 and the first nine (CMS)."""
    if not re.fullmatch(r"\d{10}", npi):
        return f"an NPI is ten digits, e.g. 1234567893; '{npi}' was typed"
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    if (10 - total % 10) % 10 != int(npi[9]):
        return f"'{npi}' is not a valid NPI: its check digit does not match (mistyped?)"
    return None


def update_facility(data: dict[str, Any], *, actor: Actor | User) -> Facility:
    """Validate and save the facility settings in one audited transaction; InvalidInput names each field."""
    items = naaccr_items(Facility)
    errors: dict[str, str] = {}
    cleaned: dict[str, str | None] = {}
    for field, value in data.items():
        text = (value or "").strip() if isinstance(value, str) or value is None else None
        if text is None:
            errors[field] = "must be text"
            continue
        if field in items:
            problem = items[field].problem(text)
            if not problem and field == "npi_reporting_facility" and text:
                problem = npi_problem(text)
        elif field in PLAIN_FIELDS:
            problem = (f"is longer than {PLAIN_FIELDS[field]} characters" if len(text) > PLAIN_FIELDS[field]
                       else None)
            if not problem and field == "address_state" and text and not re.fullmatch(r"[A-Z]{2}", text):
                problem = f"a state is two capital letters, e.g. IL; '{text}' was typed"
        else:
            errors[field] = "is not a facility setting"
            continue
        if problem:
            errors[field] = problem
        cleaned[field] = text or None
    if not (cleaned.get("name") or current_facility().name):
        errors.setdefault("name", "is required")
    if errors:
        raise InvalidInput(errors, record="facility")
    with operation(actor, "update_facility") as session:
        facility = session.get(Facility, 1)
        if facility is None:
            facility = Facility(id=1, name="")
            session.add(facility)
        for field, value in cleaned.items():
            setattr(facility, field, value if field != "name" else (value or ""))
    return facility
