"""A small demo registry with crafted records: a patient diagnosed at 95, patients living in
restricted three-digit ZIP areas, and one in an ordinary area."""
from __future__ import annotations

import csv
import io
import zipfile

import pytest
from sqlalchemy import select

from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.models import Patient, ResearchStudyKey, Tumor

#: patient id → (birth date, postal code) written over the demo values.
CRAFTED = {1: ("19150310", "03612"), 2: (None, "82345"), 3: (None, "69201"), 4: (None, "62704")}


@pytest.fixture
def registry_data(app):
    from registry.demo import load_demo_data
    with operation(SYSTEM, "demo_data") as session:
        load_demo_data(session, 120, seed=5)
    with operation(SYSTEM, "test_crafted") as session:
        for patient_id, (birth, postal) in CRAFTED.items():
            patient = session.get(Patient, patient_id)
            if birth:
                patient.date_of_birth = birth
            patient.addr_at_dx_postal_code = postal
    return CRAFTED


def read_zip(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def tumor_of(release_id: int) -> dict[str, int]:
    """study tumor id → registry tumor id, from the key that stays in the registry."""
    return {key.study_tumor_id: key.tumor_id for key in
            db_session.scalars(select(ResearchStudyKey).where(ResearchStudyKey.release_id == release_id))}


def patient_of_tumor(tumor_id: int) -> int:
    return db_session.get(Tumor, tumor_id).patient_id
