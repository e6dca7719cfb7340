"""The abstract form (WTForms, CSRF) built from the NAACCR item table, in the sections registrars work in.

Typed columns are WTForms fields, validated by the same marshmallow schemas the API uses
(:mod:`abstracts.schemas`); every other catalogued item (:mod:`registry.catalogue`) is posted by
naaccrId as ``extra_items.<id>`` (tumor) or ``patient_items.<id>`` (patient) and validated by the
catalogue when saved. :func:`item_layout` arranges all of them in the catalogue's sections and groups.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import TextInput
from wtforms.widgets.core import clean_key

from abstracts.codes import ICDO3_FILES, current_catalogue, describe, item_system, system_for
from abstracts.casefinding import SOURCES
from abstracts.operations import is_analytic
from registry.catalogue import SSDI_STORE, CatalogueItem, shipped_catalogue
from registry.dates import display_date
from registry.items import MORPHOLOGY_FIELDS, MORPHOLOGY_NOTATION, ItemSpec, naaccr_items, split_morphology
from registry.models import FirstCourseTreatment, FollowUpContact, Patient, Tumor

DATE_HINT = "YYYY-MM-DD; leave off an unknown day or month (2023-01, 2023)"
UNKNOWN_PART = {"99", "??", "--", "__", "UU", "uu", ""}
REMARKS_ID = "textRemarks"
#: What a registrar may type into an ICD-O-3 picker: words of a term ("infiltrating duct carcinoma") as well as
#: a code, as much as the look-up reads; choosing an entry puts the code in the field.
ICDO3_QUERY_LENGTH = 80


def to_naaccr_date(text: str | None) -> str:
    """What a registrar types (2023-01-05, 2023-1, 2023-99-99, 01/05/2023, 20230105) as CCYY[MM[DD]];
    anything else comes back unchanged so validation names the problem."""
    value = (text or "").strip()
    if not value or re.fullmatch(r"\d{4}(\d{2}){0,2}", value):
        return value
    iso = re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2}|\?\?|99|--|__))?(?:[-/.](\d{1,2}|\?\?|99|--|__))?", value)
    us = re.fullmatch(r"(\d{1,2}|\?\?|99|--|__)[-/.](?:(\d{1,2}|\?\?|99|--|__)[-/.])?(\d{4})", value)
    if iso:
        year, month, day = iso.group(1), iso.group(2) or "", iso.group(3) or ""
    elif us:
        month, day, year = us.group(1), us.group(2) or "", us.group(3)
    else:
        return value
    if month in UNKNOWN_PART:
        return year
    if day in UNKNOWN_PART:
        return f"{year}{int(month):02d}"
    return f"{year}{int(month):02d}{int(day):02d}"


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    record: str  # patient, tumor or treatment
    fields: tuple[str, ...]


STAGE_FIELDS = ("summary_stage_2018", "summary_stage_2000", "eod_primary_tumor", "eod_regional_nodes", "eod_mets",
                "ajcc_clinical_t", "ajcc_clinical_n", "ajcc_clinical_m", "ajcc_clinical_stage_group",
                "ajcc_pathological_t", "ajcc_pathological_n", "ajcc_pathological_m",
                "ajcc_pathological_stage_group", "schema_id", "schema_discriminator_1", "schema_discriminator_2",
                "schema_discriminator_3")
FOLLOW_UP_FIELDS = ("vital_status", "date_of_last_contact", "cause_of_death")
DIAGNOSIS_ORDER = ("date_of_first_contact", "class_of_case", "type_of_reporting_source", "date_of_diagnosis",
                   "sequence_number_hospital",
                   "sequence_number_central", "primary_site", "laterality", "histology", "behavior",
                   "diagnostic_confirmation", "grade_clinical", "grade_pathological", "grade_post_therapy",
                   "grade_pre_2018")


def _enterable(model: type) -> dict[str, ItemSpec]:
    return {name: spec for name, spec in naaccr_items(model).items() if not spec.derived}


def _sections() -> tuple[Section, ...]:
    patient = [f for f in _enterable(Patient) if f not in FOLLOW_UP_FIELDS and f != "patient_id_number"]
    tumor = _enterable(Tumor)
    diagnosis = [f for f in DIAGNOSIS_ORDER if f in tumor] + [f for f in tumor if f not in DIAGNOSIS_ORDER
                                                              and f not in STAGE_FIELDS]
    return (Section("patient", "Patient", "patient", tuple(patient)),
            Section("diagnosis", "Diagnosis", "tumor", tuple(diagnosis)),
            Section("stage", "Stage", "tumor", tuple(f for f in STAGE_FIELDS if f in tumor)),
            Section("treatment", "Treatment", "treatment", tuple(_enterable(FirstCourseTreatment))),
            Section("follow_up", "Follow-up", "patient", FOLLOW_UP_FIELDS),
            Section("remarks", "Remarks", "tumor", ("remarks",)))


SECTIONS = _sections()
SPECS: dict[str, ItemSpec] = {**naaccr_items(Patient), **naaccr_items(Tumor), **naaccr_items(FirstCourseTreatment)}
FIELD_RECORD = {name: section.record for section in SECTIONS for name in section.fields}


def _render_kw(spec: ItemSpec) -> dict[str, Any]:
    kw: dict[str, Any] = {"maxlength": 10 if spec.kind == "date" else spec.length, "autocomplete": "off",
                          "data-item": spec.naaccr_num}
    system = system_for(spec) or _catalogue_system(spec)
    if system:
        kw["data-picker"] = system
        if system in ICDO3_FILES:  # room for search words; what the field holds is data-length (C50.4 for C504)
            kw["maxlength"] = ICDO3_QUERY_LENGTH
            kw["data-length"] = spec.length + (1 if system == "topography" else 0)
        if system == "morphology":
            kw["data-behavior-field"] = MORPHOLOGY_FIELDS[1]
            kw["data-notation"] = MORPHOLOGY_NOTATION
    if spec.kind == "date":
        kw["data-date"] = "1"
        kw["placeholder"] = "YYYY-MM-DD"
        kw["title"] = DATE_HINT
    return kw


def _catalogue_system(spec: ItemSpec) -> str | None:
    """A column without a code list of its own still gets the NAACCR lookup's picker (Cause of Death)."""
    item = shipped_catalogue().get(spec.naaccr_id)
    return item_system(item) if item is not None else None


_QUOTE, _QUOT = Markup('"'), Markup("&quot;")


def html_params(**kwargs: Any) -> Markup:
    """WTForms' ``html_params``, the same text, in plain f-strings: WTForms builds each attribute with
    ``Markup.format`` (Python's string formatter), and the abstract page's inputs cost more in it than anything
    else on the page."""
    params = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            params.append(clean_key(key))
        elif value is not False:
            params.append(f'{escape(clean_key(key))}="{escape(value).replace(_QUOTE, _QUOT)}"')
    return Markup(" ".join(params))


class FastTextInput(TextInput):
    """The text input of the abstract form's fields, rendered by :func:`html_params`."""

    html_params = staticmethod(html_params)


def _abstract_form() -> type[FlaskForm]:
    attrs: dict[str, Any] = {"patient_version": HiddenField(), "tumor_version": HiddenField(),
                             "remarks": TextAreaField("Remarks [2680]", validators=[Optional(), Length(max=1000)],
                                                      render_kw={"rows": 4, "data-item": 2680, "maxlength": 1000,
                                                                 "data-counter": "1"})}
    for section in SECTIONS:
        for name in section.fields:
            if name in SPECS:
                spec = SPECS[name]
                attrs[name] = StringField(spec.label, render_kw=_render_kw(spec), widget=FastTextInput())
    return type("AbstractForm", (FlaskForm,), attrs)


AbstractForm = _abstract_form()


def initial_values(patient: Patient, tumor: Tumor | None) -> dict[str, Any]:
    """The form's starting values; dates shown as 2023-01-05 / 2023-01 / 2023."""
    values: dict[str, Any] = {"patient_version": patient.version, "tumor_version": tumor.version if tumor else ""}
    sources = {"patient": patient, "tumor": tumor, "treatment": tumor.treatment if tumor else None}
    for name, record in FIELD_RECORD.items():
        source = sources[record]
        if name == "remarks":
            values[name] = (tumor.extra_items or {}).get(REMARKS_ID, "") if tumor else ""
            continue
        value = getattr(source, name, None) if source is not None else None
        values[name] = display_date(value) if SPECS[name].kind == "date" else (value or "")
    return values


def read_notation(form: Any) -> None:
    """A morphology typed into histology as 8500/3 (8500-3, M-8500/3, 85003) fills histology and behavior on
    the form, so the form shows, stages and saves the two items; a behavior that disagrees is left for
    validation to name."""
    values = {name: (getattr(form, name).data or "").strip() for name in MORPHOLOGY_FIELDS}
    if split_morphology(values) is None:
        for name in MORPHOLOGY_FIELDS:
            getattr(form, name).data = values[name]


def submitted_values(form: Any) -> dict[str, dict[str, Any]]:
    """The form's fields split into patient, tumor and treatment dicts, dates in NAACCR form (a morphology
    notation in histology split first, see :func:`read_notation`)."""
    read_notation(form)
    split: dict[str, dict[str, Any]] = {"patient": {}, "tumor": {}, "treatment": {}}
    for name, record in FIELD_RECORD.items():
        field = getattr(form, name)
        text = (field.data or "").strip()
        if name == "remarks":
            continue
        if SPECS[name].kind == "date":
            text = to_naaccr_date(text)
        split[record][name] = text or None
    return split


def remarks_of(form: Any) -> str | None:
    return (form.remarks.data or "").strip() or None


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class WorkflowForm(FlaskForm):
    tumor_version = HiddenField()
    comment = TextAreaField("Comment", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})


class NewPatientForm(FlaskForm):
    name_last = StringField("Last name", validators=[DataRequired(), Length(max=40)])
    name_first = StringField("First name", validators=[Optional(), Length(max=40)])
    date_of_birth = StringField("Date of birth", validators=[Optional(), Length(max=10)],
                                render_kw={"placeholder": "YYYY-MM-DD", "title": DATE_HINT, "data-date": "1"})
    sex = StringField("Sex [220]", validators=[Optional(), Length(max=1)],
                      render_kw={"data-picker": "sex", "maxlength": 1, "autocomplete": "off"})
    social_security_number = StringField("SSN", validators=[Optional(), Length(max=9)], render_kw={"maxlength": 9})
    medical_record_number = StringField("Medical record no.", validators=[Optional(), Length(max=15)])
    confirmed = HiddenField()


class SuspenseForm(FlaskForm):
    name_last = StringField("Last name", validators=[Optional(), Length(max=40)])
    name_first = StringField("First name", validators=[Optional(), Length(max=40)])
    date_of_birth = StringField("Date of birth", validators=[Optional(), Length(max=10)],
                                render_kw={"placeholder": "YYYY-MM-DD", "data-date": "1"})
    medical_record_number = StringField("Medical record no.", validators=[Optional(), Length(max=15)])
    primary_site = StringField("Site", validators=[Optional(), Length(max=5)],
                               render_kw={"data-picker": "topography", "autocomplete": "off"})
    date_found = StringField("Date of report or visit", validators=[Optional(), Length(max=10)],
                             render_kw={"placeholder": "YYYY-MM-DD", "data-date": "1"})
    source = SelectField("Source", choices=[SelectChoice(code, term) for code, term in SOURCES.items()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})


class NotReportableForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 2})


class FollowUpForm(FlaskForm):
    date_of_contact = StringField("Date of contact [1750]", validators=[DataRequired(), Length(max=10)],
                                  render_kw={"placeholder": "YYYY-MM-DD", "title": DATE_HINT, "data-date": "1"})
    vital_status = StringField("Vital status [1760]", validators=[Optional(), Length(max=1)],
                               render_kw={"data-picker": "vital_status", "maxlength": 1, "autocomplete": "off"})
    follow_up_source = StringField("Follow-up source [1790]", validators=[Optional(), Length(max=1)],
                                   render_kw={"data-picker": "follow_up_source", "maxlength": 1,
                                              "autocomplete": "off"})
    next_follow_up_due = StringField("Next follow-up due", validators=[Optional(), Length(max=10)],
                                     render_kw={"placeholder": "YYYY-MM-DD", "data-date": "1"})


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=80)])
    days = SelectField("Expires after", choices=[SelectChoice("30", "30 days"), SelectChoice("90", "90 days"),
                                                 SelectChoice("365", "1 year")],
                       default="90")


FOLLOW_UP_SPECS = naaccr_items(FollowUpContact)


# ----- every catalogued item, in the catalogue's sections and groups ------------------------------------------
#: Where the form posts items kept by naaccrId, by NAACCR level.
ITEM_PREFIX = {"Patient": "patient_items", "Tumor": "extra_items"}
#: Text items longer than this are text areas with a character counter.
TEXTAREA_FROM = 100


@dataclass
class ItemField:
    """One catalogued item as the abstract shows it.

    ``kind``: ``column`` (a WTForms field), ``remarks`` (the Remarks text area), ``item`` (an input posted by
    naaccrId) or ``derived`` (shown, never entered)."""

    item: CatalogueItem
    kind: str
    name: str
    dom_id: str
    value: str
    term: str
    system: str | None
    applicable: bool
    error: str = ""

    @property
    def textarea(self) -> bool:
        return self.item.text_documentation or (self.item.data_type == "text" and self.item.length > TEXTAREA_FROM)

    @property
    def maxlength(self) -> int | None:
        if self.item.data_type == "date":
            return 10
        return None if self.item.allow_unlimited_text else self.item.length


def item_row(f: ItemField, year: int | None, date_hint: str) -> Markup:
    """The abstract's row for an item kept by naaccrId or derived (what the ``item_row`` macro wrote, to the byte).

    Written in Python because an abstract has some 450 of them: as a Jinja macro they cost more than the rest of
    the page's template together."""
    e = escape
    textarea, maxlength = f.textarea, f.maxlength
    classes = " wide" if textarea else ""
    if not f.applicable:
        classes += " not-applicable"
    limit = f' maxlength="{e(maxlength)}"' if maxlength else ""
    if f.kind == "derived":
        entry = f'<output id="{e(f.dom_id)}" class="derived">{e(f.value or "(blank)")}</output>'
    elif textarea:
        entry = (f'<textarea id="{e(f.dom_id)}" name="{e(f.name)}" rows="3"{limit} data-counter="1">'
                 f'{e(f.value)}</textarea>')
    else:
        picker = f' class="picker" data-picker="{e(f.system)}"' if f.system else ""
        date = (f' data-date="1" placeholder="YYYY-MM-DD" title="{e(date_hint)}"'
                if f.item.data_type == "date" else "")
        entry = (f'<input id="{e(f.dom_id)}" name="{e(f.name)}" value="{e(f.value)}" autocomplete="off"'
                 f'{limit}{picker}{date}>')
    derived = ("derived by the registry" + (" · " if f.term else "")) if f.kind == "derived" else ""
    note = "" if f.applicable else f'<span class="not-applicable-note">not used for {e(year)} diagnoses</span>'
    error = f'<span class="msg invalid" role="alert">{e(f.error)}</span>' if f.error else ""
    return Markup(f'<div class="field{classes}" data-field="{e(f.name)}" data-item="{e(f.item.naaccr_num)}">\n'
                  f'  <label for="{e(f.dom_id)}">{e(f.item.label)}</label>\n'
                  f'  \n    {entry}\n  \n'
                  f'  <span class="term" id="term-{e(f.dom_id)}">{derived}{e(f.term)}</span>\n'
                  f'  {note}\n'
                  f'  <div class="edit-msgs" data-for="{e(f.item.naaccr_id)}">{error}</div>\n'
                  f'</div>')


@dataclass
class GroupView:
    key: str
    title: str
    open: bool
    fields: list[ItemField]


@dataclass
class SectionView:
    key: str
    title: str
    groups: list[GroupView]


def diagnosis_year(form: Any) -> int | None:
    """The year of the diagnosis date in the form (what the registrar sees), None when not known yet."""
    text = to_naaccr_date(form.date_of_diagnosis.data)
    return int(text[:4]) if len(text) >= 4 and text[:4].isdigit() else None


def item_name(item: CatalogueItem) -> str:
    """The name an item kept by naaccrId is posted under."""
    return f"{ITEM_PREFIX[item.level]}.{item.naaccr_id}"


def stored_item(patient: Patient, tumor: Tumor | None, item: CatalogueItem) -> str:
    """An item's stored value as text ('' when blank), wherever the catalogue says it lives."""
    if item.column is not None:
        owner = {"patient": patient, "tumor": tumor,
                 "treatment": tumor.treatment if tumor is not None else None}[item.record]
        value = getattr(owner, item.column.attribute, None) if owner is not None else None
    elif item.level == "Patient":
        value = (patient.extra_items or {}).get(item.naaccr_id)
    else:
        store = SSDI_STORE if item.store == SSDI_STORE else "extra_items"
        value = (getattr(tumor, store) or {}).get(item.naaccr_id) if tumor is not None else None
    return "" if value is None else str(value)


def item_layout(patient: Patient, tumor: Tumor | None, form: Any, posted: dict[str, str], *,
                skip: set[str], errors: dict[str, str]) -> list[SectionView]:
    """Every catalogued item the abstract shows, by section and group.

    Left out: the site-specific data items (the Stage section lists the schema's own), the columns ``skip``
    names (drawn by the Stage section), retired items and items not used in the diagnosis year unless they hold
    a value. Groups holding an item completion requires, a field of the core form or an error start open; the
    rest are closed, so their fields are no tab stops until the registrar opens them."""
    cat = current_catalogue()
    year = diagnosis_year(form)
    required = {item.naaccr_id for item, _ in cat.required(year, is_analytic(form.class_of_case.data))}
    sections = []
    for key, title, groups in cat.sections():
        shown = []
        for index, (group, items) in enumerate(groups):
            fields = [f for f in (_field(patient, tumor, form, posted, item, year, errors) for item in items
                                  if not (item.store == SSDI_STORE or item.column is not None and
                                          item.column.attribute in skip)) if f is not None]
            if not fields:
                continue
            core = any(f.kind in ("column", "remarks") and not f.item.retired for f in fields)
            opened = core or any(f.item.naaccr_id in required or f.error for f in fields)
            shown.append(GroupView(f"grp-{key}-{index}", group, opened, fields))
        sections.append(SectionView(key, title, shown))
    return sections


def _field(patient: Patient, tumor: Tumor | None, form: Any, posted: dict[str, str], item: CatalogueItem,
           year: int | None, errors: dict[str, str]) -> ItemField | None:
    system = item_system(item)
    if item.naaccr_id == REMARKS_ID:
        kind, name, value = "remarks", "remarks", form.remarks.data or ""
    elif item.column is not None and item.column.attribute in FIELD_RECORD and not item.derived:
        kind, name = "column", item.column.attribute
        value = getattr(form, name).data or ""
    elif item.column is not None or item.derived:
        kind, name = "derived", item.field_name
        value = stored_item(patient, tumor, item)
        value = display_date(value) if item.data_type == "date" else value
    else:
        kind, name = "item", item_name(item)
        value = posted[name] if name in posted else stored_item(patient, tumor, item)
        value = display_date(value) if item.data_type == "date" else value
    applicable = item.applies(year)
    if not value and (item.retired or not applicable):
        return None
    dom_id = name if kind in ("column", "remarks") else f"item-{item.naaccr_id}"
    error = errors.get(name, "")
    if kind == "column":
        error = "; ".join(getattr(form, name).errors or [])
    term = describe(system, value) if value and kind != "column" else ""
    return ItemField(item, kind, name, dom_id, value, term, system, applicable, error)
