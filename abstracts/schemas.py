"""Marshmallow schemas of patients, tumors, treatment and follow-up, built from the NAACCR item table.

One schema serves the API (load and dump), the abstract form's validation and the OpenAPI
document. Each schema has *views* (as CTFd does): ``phi`` for registrars, reviewers and admins,
and ``deidentified`` for researchers, which leaves out the HIPAA Safe Harbor identifiers and
keeps only the year of every date.
"""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_dump, pre_load

from abstracts import primaries
from registry.items import ItemSpec, naaccr_items
from registry.models import FirstCourseTreatment, FollowUpContact, Patient, Tumor
from registry.models.abstracting import SuspenseStatus

#: Patient items that identify a person (Safe Harbor): never in the de-identified view.
IDENTIFIERS = frozenset({"patient_id_number", "medical_record_number", "name_last", "name_first", "name_middle",
                         "name_birth_surname", "social_security_number", "addr_at_dx_street", "addr_at_dx_city",
                         "addr_at_dx_postal_code", "county_at_dx", "date_of_birth", "extra_items"})


class ItemValidator:
    """Checks a value against its NAACCR item, with the same message the operations give."""

    def __init__(self, spec: ItemSpec):
        self.spec = spec

    def __call__(self, value: str | None) -> None:
        problem = self.spec.problem(value) if value else None
        if problem:
            raise ValidationError(problem)


def item_field(spec: ItemSpec) -> fields.Field:
    metadata = {"description": spec.label, "x-naaccr-num": spec.naaccr_num, "x-naaccr-id": spec.naaccr_id,
                "maxLength": spec.length}
    if spec.code_list:
        metadata["x-code-list"] = spec.code_list
    if spec.pattern:
        metadata["pattern"] = spec.pattern
    return fields.String(allow_none=True, validate=ItemValidator(spec), dump_only=spec.derived, metadata=metadata)


class ViewSchema(Schema):
    """A schema with named views; ``view='deidentified'`` also cuts every date to its year."""

    views: dict[str, tuple[str, ...] | None] = {}
    date_fields: frozenset[str] = frozenset()

    class Meta:
        unknown = RAISE
        ordered = True

    def __init__(self, *args: Any, view: str | None = None, **kwargs: Any):
        if view is not None:
            only = self.views[view]
            if only is not None:
                kwargs["only"] = only
        self.view = view
        super().__init__(*args, **kwargs)

    @pre_load
    def _blanks_are_none(self, data: Any, **_kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {key: (value.strip() or None) if isinstance(value, str) else value for key, value in data.items()}

    @post_dump
    def _years_only(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if self.view == "deidentified":
            _cut_dates(data, self.date_fields)
            for verdict in data.get("multiple_primaries") or ():
                _cut_dates(verdict, frozenset({"date_of_diagnosis"}))
            for name, field in self.fields.items():
                if isinstance(field, fields.Nested) and isinstance(data.get(name), dict):
                    _cut_dates(data[name], getattr(field.schema, "date_fields", frozenset()))
        return data


def _cut_dates(data: dict[str, Any], date_fields: frozenset[str]) -> None:
    for name in date_fields & data.keys():
        if data[name]:
            data[name] = data[name][:4]


def _item_fields(model: type) -> dict[str, fields.Field]:
    return {name: item_field(spec) for name, spec in naaccr_items(model).items()}


def _dates(model: type) -> frozenset[str]:
    return frozenset(name for name, spec in naaccr_items(model).items() if spec.kind == "date")


def _view_schema(name: str, declared: dict[str, fields.Field], *, deidentified_leaves: frozenset[str] = frozenset(),
                 dates: frozenset[str] = frozenset()) -> type[ViewSchema]:
    everything = tuple(declared)
    attrs: dict[str, Any] = dict(declared)
    attrs["views"] = {"phi": None, "deidentified": tuple(f for f in everything if f not in deidentified_leaves)}
    attrs["date_fields"] = dates
    return type(name, (ViewSchema,), attrs)


TreatmentSchema = _view_schema("TreatmentSchema", _item_fields(FirstCourseTreatment), dates=_dates(FirstCourseTreatment))

PatientSchema = _view_schema(
    "PatientSchema",
    {"id": fields.Integer(dump_only=True), "version": fields.Integer(dump_only=True),
     **_item_fields(Patient), "extra_items": fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))},
    deidentified_leaves=IDENTIFIERS, dates=_dates(Patient))

TumorSchema = _view_schema(
    "TumorSchema",
    {"id": fields.Integer(dump_only=True), "patient_id": fields.Integer(dump_only=True),
     "version": fields.Integer(dump_only=True),
     "workflow_state": fields.Function(lambda t: t.workflow_state.value, dump_only=True),
     "workflow_comment": fields.String(dump_only=True, allow_none=True),
     **_item_fields(Tumor),
     "site_specific_items": fields.Dict(keys=fields.String(), values=fields.String(allow_none=True)),
     "extra_items": fields.Dict(keys=fields.String(), values=fields.String(allow_none=True)),
     "treatment": fields.Nested(TreatmentSchema, allow_none=True),
     "multiple_primaries": fields.Function(
         lambda t: [v.as_dict() for v in primaries.of_tumor(t)] if isinstance(t, Tumor) else [], dump_only=True,
         metadata={"description": "the multiple-primary rules' verdict against each other tumor of the patient: "
                                  "tumor_id, sequence_number_hospital, primary_site, morphology, date_of_diagnosis, "
                                  "result (SINGLE_PRIMARY, MULTIPLE_PRIMARIES, QUESTIONABLE or NOT_COMPARED), "
                                  "rule_set, step, reason, question_id, question"})},
    deidentified_leaves=frozenset({"extra_items", "workflow_comment"}), dates=_dates(Tumor))


FollowUpSchema = _view_schema(
    "FollowUpSchema",
    {"id": fields.Integer(dump_only=True), "patient_id": fields.Integer(dump_only=True),
     **{name: field for name, field in _item_fields(FollowUpContact).items()},
     "date_of_contact": fields.String(required=True, validate=ItemValidator(naaccr_items(FollowUpContact)[
         "date_of_contact"]), metadata={"description": "Date of contact [1750], CCYYMMDD (day or month may be "
                                                       "left off)"}),
     "next_follow_up_due": fields.String(allow_none=True, validate=ItemValidator(naaccr_items(FollowUpContact)[
         "date_of_contact"]), metadata={"description": "When the next follow-up is due"}),
     "cancer_status": fields.Dict(keys=fields.String(), values=fields.String(), load_only=True,
                                  metadata={"description": "{tumor id: Cancer Status [1770]}"})},
    dates=_dates(FollowUpContact) | {"next_follow_up_due"})


class SuspenseSchema(Schema):
    """A potential case from casefinding (PHI: never shown to researchers)."""

    class Meta:
        unknown = RAISE
        ordered = True

    id = fields.Integer(dump_only=True)
    name_last = fields.String(allow_none=True, validate=lambda v: v is None or len(v) <= 40)
    name_first = fields.String(allow_none=True, validate=lambda v: v is None or len(v) <= 40)
    date_of_birth = fields.String(allow_none=True)
    medical_record_number = fields.String(allow_none=True, validate=lambda v: v is None or len(v) <= 15)
    primary_site = fields.String(allow_none=True)
    date_found = fields.String(allow_none=True)
    source = fields.String(required=True)
    note = fields.String(allow_none=True)
    status = fields.Function(lambda c: c.status.value, dump_only=True,
                             metadata={"enum": [s.value for s in SuspenseStatus]})
    reason = fields.String(dump_only=True, allow_none=True)
    patient_id = fields.Integer(dump_only=True, allow_none=True)
    tumor_id = fields.Integer(dump_only=True, allow_none=True)


class EditFailureSchema(Schema):
    edit_id = fields.String()
    severity = fields.String(metadata={"enum": ["error", "warning"]})
    fields_ = fields.List(fields.String(), data_key="fields")
    message = fields.String()

    @staticmethod
    def of(failure: Any) -> dict[str, Any]:
        return {"edit_id": failure.edit_id, "severity": failure.severity, "fields": list(failure.fields),
                "message": failure.message}


class AbstractCheckSchema(Schema):
    """An abstract submitted for edit checks without saving: patient items, tumor items, treatment."""

    class Meta:
        unknown = RAISE

    patient = fields.Nested(PatientSchema, required=True)
    tumor = fields.Nested(TumorSchema, required=True)


def validation_errors(schema: Schema, data: Any, *, partial: bool = True) -> tuple[dict[str, Any], dict[str, str]]:
    """(valid values, {field: message}) with every field checked; nested fields are named
    ``treatment.chemotherapy`` so each message names exactly one field."""
    try:
        return schema.load(data, partial=partial), {}
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        return valid, dict(_flat("", messages))


def _flat(prefix: str, message: Any) -> list[tuple[str, str]]:
    if isinstance(message, dict):
        return [pair for key, value in message.items() for pair in _flat(f"{prefix}{key}." if key != "_schema"
                                                                         else prefix, value)]
    texts = [message] if isinstance(message, str) else [str(m) for m in message]
    return [(prefix.rstrip(".") or "_schema", "; ".join(texts))]


__all__ = ["AbstractCheckSchema", "EXCLUDE", "EditFailureSchema", "FollowUpSchema", "PatientSchema",
           "SuspenseSchema", "TreatmentSchema", "TumorSchema", "validation_errors"]
