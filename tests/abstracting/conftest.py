"""Helpers for the abstracting screens: CSRF tokens from pages and a small registry to work on."""
import re

import pytest

from abstracts import operations as ops
from tests.completion import completable

PATIENT = {"name_last": "Hazeldemo", "name_first": "Ingrid", "date_of_birth": "19580412", "sex": "2",
           "race1": "01", "race2": "88", "race3": "88", "race4": "88", "race5": "88",
           "spanish_hispanic_origin": "0", "social_security_number": "999123456", "medical_record_number": "M9000001",
           "vital_status": "1", "date_of_last_contact": "20250301", "cause_of_death": "0000"}
TUMOR = {"primary_site": "C504", "laterality": "1", "histology": "8500", "behavior": "3",
         "date_of_diagnosis": "20240105", "sequence_number_hospital": "00", "class_of_case": "14",
         "diagnostic_confirmation": "1", "summary_stage_2018": "1", "date_of_first_contact": "20240110",
         "type_of_reporting_source": "1", "grade_clinical": "2", "grade_pathological": "2",
         "treatment": {"surgery_of_primary_site": "22", "date_of_surgery": "20240201", "reason_for_no_surgery": "0",
                       "date_of_initial_treatment": "20240201", "radiation_modality": "00", "chemotherapy": "00",
                       "hormone_therapy": "00", "immunotherapy": "00", "other_therapy": "0"}}


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.fixture
def patient_with_tumor(app):
    """A patient with a 2024 breast abstract holding every item completing it requires."""
    from registry.audit import SYSTEM
    patient_data, tumor_data = completable(PATIENT, TUMOR)
    patient = ops.create_patient(patient_data, actor=SYSTEM)
    tumor = ops.create_tumor(patient.id, tumor_data, actor=SYSTEM)
    return patient, tumor


def form_fields(page: str, form_id: str | None = None) -> dict[str, str]:
    """Every input, select and textarea value of a page's form (the first form, or the one with ``form_id``)."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.values, self.inside, self.textarea, self.select = {}, form_id is None, None, None
            self.depth = 0

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form" and form_id is not None and a.get("id") == form_id:
                self.inside = True
            if not self.inside:
                return
            if tag == "input" and a.get("name") and a.get("type") not in {"submit", "checkbox"}:
                self.values.setdefault(a["name"], a.get("value") or "")
            elif tag == "textarea":
                self.textarea = a.get("name")
                self.values[self.textarea] = ""
            elif tag == "select":
                self.select = a.get("name")
                self.values[self.select] = ""
            elif tag == "option" and self.select and ("selected" in a):
                self.values[self.select] = a.get("value", "")

        def handle_endtag(self, tag):
            if tag == "form" and self.inside and form_id is not None:
                self.inside = False
            if tag == "textarea":
                self.textarea = None
            if tag == "select":
                self.select = None

        def handle_data(self, data):
            if self.textarea:
                self.values[self.textarea] += data

    parser = Fields()
    parser.feed(page)
    return parser.values
