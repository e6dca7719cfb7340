"""Marshmallow schemas of patients, tumors, treatment and follow-up, built from the NAACCR item catalogue.

One schema serves the API (load and dump), the abstract form's validation and the OpenAPI
document. Each schema has *views* (as CTFd does): ``phi`` for registrars, reviewers and admins,
and ``deidentified`` for researchers, which leaves out every item the catalogue marks a HIPAA Safe
Harbor identifier (``identifier`` in staging_tables/naaccr_items.csv) and keeps only the year of every date.

Items with a column are fields of their own (``primary_site``). Every other catalogued item is a property
of the nested object ``items`` (patient or tumor level, stored in ``extra_items``) or, for the 2018+
site-specific data items, ``site_specific_items``; both are keyed by naaccrId. One object per store,
rather than seven hundred top-level fields, keeps a record's JSON the shape of its storage and of NAACCR
XML, lets a PATCH change one item without sending the others (a null removes it), and keeps items of a
state's user dictionary (kept verbatim from import) readable. Every value is checked against the
catalogue on the way in, so a bad code or an unknown naaccrId is a 422 naming ``items.<naaccrId>``.
"""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_dump, pre_load

from abstracts import primaries
from registry.catalogue import EXTRA_STORE, SSDI_STORE, Catalogue, CatalogueItem, catalogue, shipped_catalogue
from registry.item_filters import DATE_TYPES
from registry.items import MORPHOLOGY_FIELDS, ItemSpec, naaccr_items, split_morphology
from registry.models import FirstCourseTreatment, FollowUpContact, Patient, Tumor
from registry.models.abstracting import SuspenseStatus

#: The item stores as the API names them: {attribute: data key}.
STORE_KEYS = {EXTRA_STORE: "items", SSDI_STORE: SSDI_STORE}


def _column_identifiers(model: type) -> frozenset[str]:
    """Columns of ``model`` whose catalogue item is an identifier (the same in every NAACCR version)."""
    identifiers = {item.naaccr_id for item in shipped_catalogue() if item.identifier}
    return frozenset(name for name, spec in naaccr_items(model).items() if spec.naaccr_id in identifiers)


class ItemValidator:
    """Checks a value against its NAACCR item, with the same message the operations give."""

    def __init__(self, spec: ItemSpec):
        self.spec = spec

    def __call__(self, value: str | None) -> None:
        problem = self.spec.problem(value) if value else None
        if problem:
            raise ValidationError(problem)


def item_field(spec: ItemSpec) -> fields.Field:
    metadata = {"description": spec.label, "x-naaccr-number": spec.naaccr_num, "x-naaccr-id": spec.naaccr_id,
                "maxLength": spec.length}
    if spec.code_list:
        metadata["x-code-list"] = spec.code_list
    if spec.pattern:
        metadata["pattern"] = spec.pattern
    return fields.String(allow_none=True, validate=ItemValidator(spec), dump_only=spec.derived, metadata=metadata)


class ItemStore(fields.Field):
    """The catalogued items of one store (``extra_items`` or ``site_specific_items``) of a patient or tumor,
    as ``{naaccrId: value}``; a null value removes the item (see :func:`with_stores_merged`)."""

    def __init__(self, level: str, store: str, **kwargs: Any):
        self.level, self.store = level, store
        self._catalogue: Catalogue | None = None
        kwargs.setdefault("data_key", STORE_KEYS[store])
        kwargs.setdefault("metadata", {"description": f"{level} items without a field of their own, by naaccrId"})
        super().__init__(**kwargs)

    @property
    def cat(self) -> Catalogue:
        """The catalogue, looked up once per schema instance (a list dumps many records)."""
        if self._catalogue is None:
            self._catalogue = catalogue()
        return self._catalogue

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> dict[str, Any]:
        return dict(value or {})

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, str | None]:
        if not isinstance(value, dict):
            raise ValidationError("must be an object of {naaccrId: value}")
        cat = self.cat
        errors: dict[str, str] = {}
        values: dict[str, str | None] = {}
        for naaccr_id, raw in value.items():
            if raw is not None and not isinstance(raw, str):
                errors[str(naaccr_id)] = f"must be text or null, not {type(raw).__name__}"
                continue
            text = (raw or "").strip() or None
            problem = self.problem(cat, str(naaccr_id), text)
            if problem:
                errors[str(naaccr_id)] = problem
            else:
                values[str(naaccr_id)] = text
        if errors:
            raise ValidationError(errors)
        return values

    def problem(self, cat: Catalogue, naaccr_id: str, value: str | None) -> str | None:
        """Why ``naaccr_id`` may not be written here with ``value``, or None."""
        item = cat.get(naaccr_id)
        if item is None:
            return ("not an item of the NAACCR dictionaries installed (items of a user dictionary are kept "
                    "from import and read-only here)")
        if item.column is not None:
            return f"{item.label} is the field {item.column.attribute}" + (
                " of treatment" if item.record == "treatment" else "")
        if item.level != self.level:
            return f"{item.label} is a {item.level.lower()} item, not a {self.level.lower()} item"
        if item.store != self.store:
            return f"{item.label} belongs in {STORE_KEYS[item.store]}"
        if item.derived:
            return f"{item.label} is derived by the registry and cannot be entered"
        return cat.problem(naaccr_id, value) if value else None

    def deidentified(self, values: dict[str, Any]) -> dict[str, Any]:
        """Only catalogued items that are not identifiers, dates cut to their year."""
        cat = self.cat
        kept = {}
        for naaccr_id, value in values.items():
            item = cat.get(naaccr_id)
            if item is None or item.identifier:
                continue
            kept[naaccr_id] = value[:4] if value and item.data_type in DATE_TYPES else value
        return kept

    def catalogued(self, cat: Catalogue) -> list[CatalogueItem]:
        """The catalogued items this store holds, in catalogue order."""
        return [item for item in cat if item.column is None and item.level == self.level and item.store == self.store]


def with_stores_merged(values: dict[str, Any], current: Any) -> dict[str, Any]:
    """PATCH semantics for the item stores: the items sent replace or (null) remove those of ``current``
    (the stored patient or tumor, None for a new one); items not sent are kept."""
    for store in STORE_KEYS:
        if store in values:
            merged = dict(getattr(current, store, None) or {})
            for naaccr_id, value in (values[store] or {}).items():
                if value is None:
                    merged.pop(naaccr_id, None)
                else:
                    merged[naaccr_id] = value
            values[store] = merged
    return values


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
        """Blanks become None; a morphology typed into histology as 8500/3 fills histology and behavior."""
        if not isinstance(data, dict):
            return data
        data = {key: (value.strip() or None) if isinstance(value, str) else value for key, value in data.items()}
        if all(name in self.fields for name in MORPHOLOGY_FIELDS):
            conflict = split_morphology(data)
            if conflict:
                raise ValidationError({MORPHOLOGY_FIELDS[0]: [conflict]})
        return data

    @post_dump
    def _years_only(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if self.view == "deidentified":
            _cut_dates(data, self.date_fields)
            for verdict in data.get("multiple_primaries") or ():
                _cut_dates(verdict, frozenset({"date_of_diagnosis"}))
            for field in self.dump_fields.values():
                key = field.data_key or field.name
                if isinstance(field, fields.Nested) and isinstance(data.get(key), dict):
                    _cut_dates(data[key], getattr(field.schema, "date_fields", frozenset()))
                elif isinstance(field, ItemStore) and isinstance(data.get(key), dict):
                    data[key] = field.deidentified(data[key])
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


TreatmentSchema = _view_schema("TreatmentSchema", _item_fields(FirstCourseTreatment),
                               deidentified_leaves=_column_identifiers(FirstCourseTreatment),
                               dates=_dates(FirstCourseTreatment))

PatientSchema = _view_schema(
    "PatientSchema",
    {"id": fields.Integer(dump_only=True), "version": fields.Integer(dump_only=True),
     **_item_fields(Patient), "extra_items": ItemStore("Patient", EXTRA_STORE)},
    deidentified_leaves=_column_identifiers(Patient), dates=_dates(Patient))

TumorSchema = _view_schema(
    "TumorSchema",
    {"id": fields.Integer(dump_only=True), "patient_id": fields.Integer(dump_only=True),
     "version": fields.Integer(dump_only=True),
     "workflow_state": fields.Function(lambda t: t.workflow_state.value, dump_only=True),
     "workflow_comment": fields.String(dump_only=True, allow_none=True),
     **_item_fields(Tumor),
     "site_specific_items": ItemStore("Tumor", SSDI_STORE),
     "extra_items": ItemStore("Tumor", EXTRA_STORE),
     "treatment": fields.Nested(TreatmentSchema, allow_none=True),
     "multiple_primaries": fields.Function(
         lambda t: [v.as_dict() for v in primaries.of_tumor(t)] if isinstance(t, Tumor) else [], dump_only=True,
         metadata={"description": "the multiple-primary rules' verdict against each other tumor of the patient: "
                                  "tumor_id, sequence_number_hospital, primary_site, morphology, date_of_diagnosis, "
                                  "result (SINGLE_PRIMARY, MULTIPLE_PRIMARIES, QUESTIONABLE or NOT_COMPARED), "
                                  "rule_set, step, reason, question_id, question"})},
    deidentified_leaves=_column_identifiers(Tumor) | {"workflow_comment"}, dates=_dates(Tumor))


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


__all__ = ["AbstractCheckSchema", "EXCLUDE", "EditFailureSchema", "FollowUpSchema", "ItemStore", "PatientSchema",
           "SuspenseSchema", "TreatmentSchema", "TumorSchema", "validation_errors", "with_stores_merged"]
