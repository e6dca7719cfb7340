"""Every change to patients, tumors, treatment and follow-up: plain functions used by web, API and CLI.

Each function is one transaction (see :func:`registry.audit.operation`): it validates every
field against the NAACCR item table first, so a bad value raises :class:`InvalidInput` naming
the field and nothing is written.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from abstracts.primaries import PrimaryDecision, PrimaryVerdict
from abstracts.search import LikelyMatch
from registry.audit import Actor, action_part, log_event, operation
from registry.catalogue import CatalogueItem, Requirement, catalogue, check_items
from registry.db import db_session
from registry.dates import parse_optional
from registry.edits import EditFailure, records_from_orm, run_edits
from registry.errors import Conflict, InvalidInput, NotAllowed, NotFound
from registry.items import MORPHOLOGY_FIELDS, naaccr_items, split_morphology
from registry.models import (AbstractEditStatus, AuditEntry, FirstCourseTreatment, FollowUpContact,
                             FollowUpTumorStatus, Patient, Role, Submission, SubmissionTumor, Tumor, User,
                             WorkflowState)
from registry.models.patient import utcnow
from registry.sequence_numbers import SEQUENCE_FIELDS, propose
TumorHook = Callable[[Session, Tumor], None]
#: Run inside the saving transaction after a tumor, or the patient it belongs to, changed; they
#: recompute what the registry derives (stage, survival time). Capabilities add theirs with
#: :func:`after_tumor_saved`; a hook that raises rolls the whole save back.
TUMOR_SAVED: list[TumorHook] = []


def after_tumor_saved(hook: TumorHook) -> TumorHook:
    if hook not in TUMOR_SAVED:
        TUMOR_SAVED.append(hook)
    return hook


def _tumor_saved(session: Session, tumors: list[Tumor]) -> None:
    for tumor in tumors:
        for hook in TUMOR_SAVED:
            hook(session, tumor)


#: Non-NAACCR attributes a caller may set, with the type they must have.
PLAIN_FIELDS: dict[type, dict[str, type]] = {
    Patient: {"extra_items": dict},
    Tumor: {"site_specific_items": dict, "extra_items": dict},
    FirstCourseTreatment: {},
    FollowUpContact: {"next_follow_up_due": str},
}
#: The NAACCR level (catalogue ``level``) whose items each model's item dictionaries hold.
ITEM_LEVELS: dict[type, str] = {Patient: "Patient", Tumor: "Tumor"}


def clean(model: type, data: dict[str, Any], *, record: str | None = None, allow_derived: bool = False,
          stored: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Validate ``data`` for ``model``: every field known, every value valid; blanks become None.

    Derived items (stage derived by the staging engine, survival time) are refused unless the
    caller is the process that derives them (``allow_derived``). Item dictionaries (``extra_items``,
    ``site_specific_items``) are checked item by item against the NAACCR catalogue; items it does not
    know (a state's user dictionary) are kept as they are, and so are the values ``stored`` (the record's
    dictionaries now, see :func:`stored_items`) already holds: what was imported is not asked again.
    """
    specs = naaccr_items(model)
    plain = PLAIN_FIELDS.get(model, {})
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if all(name in specs for name in MORPHOLOGY_FIELDS):
        data = dict(data)
        conflict = split_morphology(data)
        if conflict:
            errors[MORPHOLOGY_FIELDS[0]] = conflict
            data.pop(MORPHOLOGY_FIELDS[0])
    for field, value in data.items():
        if field in plain:
            if value is not None and not isinstance(value, plain[field]):
                errors[field] = f"must be a {plain[field].__name__}"
            elif isinstance(value, dict) and model in ITEM_LEVELS:
                before = (stored or {}).get(field) or {}
                changed = {k: v for k, v in value.items() if k not in before or before[k] != v}
                errors.update(check_items(changed, level=ITEM_LEVELS[model], store=field))
            elif field == "next_follow_up_due" and value:
                try:
                    parse_optional(value)
                except ValueError as exc:
                    errors[field] = str(exc)
            cleaned[field] = value
            continue
        spec = specs.get(field)
        if spec is None:
            errors[field] = f"unknown field for {model.__name__.lower()}"
            continue
        if spec.derived and not allow_derived:
            errors[field] = "is derived by the registry and cannot be entered"
            continue
        if value is None:
            cleaned[field] = None
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            errors[field] = f"must be text, not {type(value).__name__}"
            continue
        text = str(value).strip()
        problem = spec.problem(text)
        if problem:
            errors[field] = problem
        cleaned[field] = text or None
    if errors:
        raise InvalidInput(errors, record)
    return cleaned


def stored_items(model: type, ident: int | None) -> dict[str, dict[str, Any]]:
    """The item dictionaries a patient or tumor holds now (for :func:`clean`); none for a new or unknown one."""
    obj = db_session.get(model, ident) if ident is not None and model in ITEM_LEVELS else None
    if obj is None:
        return {}
    return {field: dict(getattr(obj, field) or {}) for field in PLAIN_FIELDS[model]}


def _get(session: Session, model: type, ident: int) -> Any:
    obj = session.get(model, ident)
    if obj is None:
        raise NotFound(f"{model.__name__.lower()} {ident} does not exist")
    return obj


def named(obj: Patient | Tumor) -> str:
    """A patient or tumor in messages, as registrars know it (never its database id)."""
    return f"{type(obj).__name__.lower()} {obj.described}"


def _check_version(obj: Patient | Tumor, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise Conflict(f"{named(obj)} was changed by someone else since you opened it "
                       f"(your version {expected_version}, now {obj.version}); nothing was saved",
                       current_version=obj.version, changed=changes_since(obj, expected_version))


def changes_since(obj: Patient | Tumor, version: int) -> dict[str, list]:
    """What others changed on ``obj`` after the ``version`` the caller saw: ``{field: [then, now]}``."""
    entities = [obj.__tablename__] + (["first_course_treatment"] if isinstance(obj, Tumor) else [])
    rows = db_session.scalars(
        select(AuditEntry).where(AuditEntry.entity.in_(entities), AuditEntry.entity_id == str(obj.id),
                                 AuditEntry.entity_version > version).order_by(AuditEntry.id))
    changed: dict[str, list] = {}
    for entry in rows:
        for field, (before, after) in (entry.changes or {}).items():
            changed.setdefault(field, [before, after])[1] = after
    return changed


def _next_patient_id_number(session: Session) -> str:
    highest = session.scalar(select(func.max(Patient.patient_id_number)))
    return f"{int(highest or 0) + 1:08d}"


def _flush(session: Session, what: str) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(f"{what} was changed by someone else at the same moment; nothing was saved") from None


def create_patient(data: dict[str, Any], *, actor: Actor | User, likely_duplicates: Sequence[LikelyMatch] = (),
                   confirmed_by: str | None = None) -> Patient:
    """Add a patient; a Patient ID Number [20] is assigned when none is given.

    ``likely_duplicates`` are the patients the duplicate check found that the user chose to add this one besides,
    and ``confirmed_by`` how they said so (``force=true``, the form's confirmation): both go into the creation's
    audit entry, so a second record of one person can be traced to the decision that made it."""
    values = clean(Patient, data)
    detail = json.dumps({"duplicate_check": {
        "confirmed_by": confirmed_by,
        "candidates": [{"patient_id": m.patient.id, "reasons": list(m.reasons)} for m in likely_duplicates]}},
        sort_keys=True) if likely_duplicates else None
    with operation(actor, "create_patient", detail=detail) as session:
        if not values.get("patient_id_number"):
            values["patient_id_number"] = _next_patient_id_number(session)
        elif session.scalar(select(Patient.id).where(Patient.patient_id_number == values["patient_id_number"])):
            raise InvalidInput({"patient_id_number": f"{values['patient_id_number']} is already used"})
        patient = Patient(**values)
        session.add(patient)
        session.flush()
    return patient


def update_patient(patient_id: int, changes: dict[str, Any], *, actor: Actor | User,
                   expected_version: int | None = None) -> Patient:
    values = clean(Patient, changes, stored=stored_items(Patient, patient_id))
    with operation(actor, "update_patient") as session:
        patient = _get(session, Patient, patient_id)
        _check_version(patient, expected_version)
        for field, value in values.items():
            setattr(patient, field, value)
        _flush(session, named(patient))
        _tumor_saved(session, list(patient.tumors))
        _flush(session, named(patient))
    return patient


def create_tumor(patient_id: int, data: dict[str, Any], *, actor: Actor | User,
                 decision: PrimaryDecision | None = None) -> Tumor:
    """Start an abstract for a new primary; ``data['treatment']`` holds first-course treatment fields.
    ``decision`` is what the registrar decided where the multiple-primary rules questioned it (audited)."""
    data = dict(data)
    treatment = clean(FirstCourseTreatment, data.pop("treatment", None) or {}, record="treatment")
    values = clean(Tumor, data)
    with operation(actor, "create_tumor") as session:
        _get(session, Patient, patient_id)
        who = actor.id if isinstance(actor, User) else actor.user_id
        tumor = Tumor(patient_id=patient_id, abstracted_by_id=who, abstracted_at=utcnow(), **values)
        tumor.treatment = FirstCourseTreatment(**treatment)
        session.add(tumor)
        session.flush()
        _after_save(session, tumor, actor, decision)
    return tumor


def update_tumor(tumor_id: int, changes: dict[str, Any], *, actor: Actor | User,
                 expected_version: int | None = None) -> Tumor:
    """Change abstract fields (and ``changes['treatment']``); refused if the version moved on."""
    changes = dict(changes)
    treatment = clean(FirstCourseTreatment, changes.pop("treatment", None) or {}, record="treatment")
    values = clean(Tumor, changes, stored=stored_items(Tumor, tumor_id))
    with operation(actor, "update_tumor") as session:
        tumor = _get(session, Tumor, tumor_id)
        _check_version(tumor, expected_version)
        renumber = _moves_in_sequence(tumor, values)
        for field, value in values.items():
            setattr(tumor, field, value)
        if treatment:
            if tumor.treatment is None:
                tumor.treatment = FirstCourseTreatment()
            for field, value in treatment.items():
                setattr(tumor.treatment, field, value)
            tumor.updated_at = utcnow()
        _flush(session, named(tumor))
        _after_save(session, tumor, actor, renumber=renumber)
    return tumor


def delete_tumor(tumor_id: int, *, actor: Actor | User, expected_version: int | None = None,
                 reason: str | None = None) -> None:
    """Remove an abstract entered in error; the patient's other sequence numbers are proposed again.

    Only an abstract in progress that no submission has carried may go: a completed one is reopened first
    (so a reviewer sees it leave review), and one the state registry has received stays, with the record of
    the batch that sent it."""
    with operation(actor, "delete_tumor") as session:
        tumor = _get(session, Tumor, tumor_id)
        _check_version(tumor, expected_version)
        patient_id, what = tumor.patient_id, named(tumor)
        if tumor.workflow_state != WorkflowState.IN_PROGRESS:
            raise NotAllowed(f"{what} is {tumor.workflow_state.value.replace('_', ' ')}: reopen it before deleting it")
        sent = session.execute(select(Submission.id, Submission.file_name).join(SubmissionTumor)
                               .where(SubmissionTumor.tumor_id == tumor.id).order_by(Submission.id)).first()
        if sent is not None:
            raise NotAllowed(f"{what} was sent to the state registry in submission {sent.id} ({sent.file_name}); "
                             "it cannot be deleted")
        log_event(actor, "delete_tumor:reason", entity="tumor", entity_id=tumor.id, patient_id=patient_id,
                  detail=(reason or "").strip() or None, commit=False)
        session.delete(tumor)
        _flush(session, what)
        for other in _resequence(session, patient_id):
            record_edit_status(session, other)
        session.flush()


def _resequence(session: Session, patient_id: int) -> list[Tumor]:
    """Give every tumor of the patient the sequence numbers the rules propose (``registry.sequence_numbers``).

    Flushed as ``<action>:sequence_numbers`` entries of their own, so a number the registrar entered and the
    rules changed shows in the audit trail with both values. Returns the tumors whose numbers changed."""
    tumors = list(session.scalars(select(Tumor).where(Tumor.patient_id == patient_id).order_by(Tumor.id)))
    changed: dict[int, Tumor] = {}
    for field in SEQUENCE_FIELDS:
        proposals = propose([{"behavior": t.behavior, "date_of_diagnosis": t.date_of_diagnosis,
                              field: getattr(t, field)} for t in tumors], field)
        for tumor, proposed in zip(tumors, proposals):
            if proposed is not None and getattr(tumor, field) != proposed:
                setattr(tumor, field, proposed)
                changed[tumor.id] = tumor
    if changed:
        with action_part("sequence_numbers"):
            _flush(session, named(session.get(Patient, patient_id)))
    return list(changed.values())


def apply_sequence_numbers(patient_id: int, *, actor: Actor | User) -> list[Tumor]:
    """Propose and apply the sequence numbers of every tumor of a patient (the save paths do this on their own)."""
    with operation(actor, "apply_sequence_numbers") as session:
        _get(session, Patient, patient_id)
        changed = _resequence(session, patient_id)
        for tumor in changed:
            record_edit_status(session, tumor)
        session.flush()
    return changed


#: The fields whose change moves a tumor within its patient's sequence (re-dated, or another series).
SEQUENCE_INPUTS = ("date_of_diagnosis", "behavior")


def _moves_in_sequence(tumor: Tumor, values: dict[str, Any]) -> bool:
    return any(field in values and values[field] != getattr(tumor, field) for field in SEQUENCE_INPUTS)


def _after_save(session: Session, tumor: Tumor, actor: Actor | User,
                decision: PrimaryDecision | None = None, *, renumber: bool = True) -> None:
    """What a tumor save does after its own changes: sequence numbers when a tumor was added, re-dated or
    changed series (``renumber``; otherwise a number the registrar typed, e.g. counting a primary diagnosed
    elsewhere, stands and edit P007 says where it differs from the rules), the decision on multiple
    primaries, the derived items and the edit status (of the other tumors too when their numbers moved)."""
    others = [t for t in _resequence(session, tumor.patient_id) if t.id != tumor.id] if renumber else []
    if decision is not None:
        _log_decision(actor, tumor, decision)
    _tumor_saved(session, [tumor])
    for other in others:
        record_edit_status(session, other)
    _flush(session, named(tumor))


def _log_decision(actor: Actor | User, tumor: Tumor, decision: PrimaryDecision) -> None:
    action = ("multiple_primaries:create_anyway" if decision.same_primary
              else "multiple_primaries:create_new_primary")
    log_event(actor, action, entity="tumor", entity_id=tumor.id, patient_id=tumor.patient_id,
              detail=json.dumps(decision.detail(), sort_keys=True), commit=False)


def record_primary_decision(patient_id: int, existing_tumor_id: int, verdict: PrimaryVerdict | None, *,
                            actor: Actor | User) -> Tumor:
    """The registrar chose to open (update) the existing abstract instead of creating a new one: audited."""
    with operation(actor, "multiple_primaries:open_existing") as session:
        tumor = _get(session, Tumor, existing_tumor_id)
        if tumor.patient_id != patient_id:
            raise NotFound(f"{named(tumor)} is not a tumor of {named(_get(session, Patient, patient_id))}")
        log_event(actor, "multiple_primaries:open_existing", entity="tumor", entity_id=tumor.id,
                  patient_id=patient_id, detail=json.dumps({"verdict": verdict.as_dict() if verdict else None},
                                                           sort_keys=True), commit=False)
    return tumor


#: Allowed workflow moves and the roles that may make them.
TRANSITIONS: dict[tuple[WorkflowState, WorkflowState], frozenset[Role]] = {
    (WorkflowState.IN_PROGRESS, WorkflowState.COMPLETE): frozenset({Role.REGISTRAR, Role.REVIEWER, Role.ADMIN}),
    (WorkflowState.COMPLETE, WorkflowState.REVIEWED): frozenset({Role.REVIEWER, Role.ADMIN}),
    (WorkflowState.COMPLETE, WorkflowState.IN_PROGRESS): frozenset({Role.REGISTRAR, Role.REVIEWER, Role.ADMIN}),
    (WorkflowState.REVIEWED, WorkflowState.IN_PROGRESS): frozenset({Role.REVIEWER, Role.ADMIN}),
}


def load_tumors(session: Session, patient: Patient) -> list[Tumor]:
    """The patient's tumors as stored now, each with its treatment, put in ``patient.tumors``: two queries
    however many tumors there are (the edits read every tumor's treatment, one lazy load each before)."""
    tumors = list(session.scalars(select(Tumor).where(Tumor.patient_id == patient.id)
                                  .order_by(Tumor.sequence_number_hospital).options(selectinload(Tumor.treatment))))
    set_committed_value(patient, "tumors", tumors)
    return tumors


def edit_failures(session: Session, tumor: Tumor) -> list[EditFailure]:
    """Edits failing for ``tumor`` as stored (its own, its patient's, and case edits naming it)."""
    patient = tumor.patient
    load_tumors(session, patient)
    patient_record, tumor_records = records_from_orm(patient)
    index = [t.id for t in patient.tumors].index(tumor.id)
    return [f for f in run_edits(patient_record, tumor_records) if f.tumor_index in (None, index)]


def _no_edit_errors(session: Session, tumor: Tumor) -> None:
    errors = [f for f in edit_failures(session, tumor) if f.severity == "error"]
    if errors:
        raise NotAllowed(f"{named(tumor)} cannot be completed while {len(errors)} error-level edit(s) fail: "
                         + "; ".join(f"{f.edit_id} {f.message}" for f in errors[:5]))


def item_value(tumor: Tumor, item: CatalogueItem) -> str:
    """A catalogued item's value for ``tumor`` ('' when blank), from its column or its item dictionary."""
    if item.column is not None:
        owner = {"patient": tumor.patient, "tumor": tumor, "treatment": tumor.treatment}[item.record]
        value = getattr(owner, item.column.attribute, None) if owner is not None else None
    elif item.level == "Patient":
        value = (tumor.patient.extra_items or {}).get(item.naaccr_id)
    else:
        value = ((tumor.site_specific_items or {}).get(item.naaccr_id)
                 or (tumor.extra_items or {}).get(item.naaccr_id))
    return str(value).strip() if value is not None else ""


def is_analytic(class_of_case: str | None) -> bool:
    """Class of case 00–22 is analytic; a blank class counts as analytic, so nothing required is left out."""
    case = (class_of_case or "").strip()
    return not case or (case.isdigit() and int(case) <= 22)


def missing_required(tumor: Tumor) -> list[tuple[CatalogueItem, Requirement]]:
    """The items the completion table requires for this tumor's diagnosis year and class of case that are blank."""
    year_text = (tumor.date_of_diagnosis or "")[:4]
    year = int(year_text) if year_text.isdigit() else None
    return [(item, rule) for item, rule in catalogue().required(year, is_analytic(tumor.class_of_case))
            if not item_value(tumor, item)]


def _required_items(session: Session, tumor: Tumor) -> None:
    """Completion needs every item the CoC STORE / NPCR lists ask for; each missing one is named with its list."""
    missing = missing_required(tumor)
    if missing:
        raise InvalidInput({item.field_name: f"{item.label} is required to complete the abstract "
                                             f"({' and '.join(rule.required_by)})" for item, rule in missing})


#: What must hold before an abstract may enter a state, checked in order (the first refusal is reported).
ENTRY_CHECKS: dict[WorkflowState, tuple[Callable[[Session, Tumor], None], ...]] = {
    WorkflowState.COMPLETE: (_no_edit_errors, _required_items),
}


#: Who hands out work: reviewers and administrators (the lead registrar's duty) assign to anyone who abstracts;
#: a registrar takes an unassigned abstract or gives back their own.
ASSIGNERS = frozenset({Role.REVIEWER, Role.ADMIN})
ASSIGNABLE = frozenset({Role.REGISTRAR, Role.ADMIN})


def assign_abstracts(tumor_ids: list[int], assignee_id: int | None, *, actor: User) -> list[Tumor]:
    """Put abstracts on a registrar's work list (``assignee_id`` None: back to the shared queue), all or none."""
    with operation(actor, "assign_abstracts") as session:
        assignee = _get(session, User, assignee_id) if assignee_id is not None else None
        if assignee is not None and (assignee.role not in ASSIGNABLE or not assignee.is_enabled):
            raise InvalidInput({"assignee": f"{assignee.username} is not an enabled registrar or administrator"})
        tumors = [_get(session, Tumor, tumor_id) for tumor_id in tumor_ids]
        if actor.role not in ASSIGNERS:
            for tumor in tumors:
                own = assignee is not None and assignee.id == actor.id and tumor.assigned_to_id in (None, actor.id)
                released = assignee is None and tumor.assigned_to_id == actor.id
                if not (own or released):
                    raise NotAllowed(f"a {actor.role.value} may take unassigned abstracts or give back their own, "
                                     f"not reassign {named(tumor)}")
        for tumor in tumors:
            tumor.assigned_to_id = assignee.id if assignee is not None else None
        session.flush()
    return tumors


def set_workflow_state(tumor_id: int, state: WorkflowState | str, *, actor: User,
                       comment: str | None = None, expected_version: int | None = None) -> Tumor:
    """Move an abstract along in progress → complete → reviewed (or return it with a comment)."""
    target = WorkflowState(state)
    with operation(actor, f"workflow:{target.value}") as session:
        tumor = _get(session, Tumor, tumor_id)
        _check_version(tumor, expected_version)
        allowed = TRANSITIONS.get((tumor.workflow_state, target))
        if allowed is None:
            raise NotAllowed(f"{named(tumor)} cannot go from {tumor.workflow_state.value} to {target.value}")
        if actor.role not in allowed:
            raise NotAllowed(f"a {actor.role.value} cannot move an abstract to {target.value}")
        for check in ENTRY_CHECKS.get(target, ()):
            check(session, tumor)
        tumor.workflow_state = target
        tumor.workflow_comment = comment or None
        _flush(session, named(tumor))
    return tumor


def _named_tumor(tumor_id: int) -> str:
    """A tumor a follow-up's cancer status names, for its message ("a tumor" when there is no such tumor)."""
    tumor = db_session.get(Tumor, tumor_id)
    return named(tumor) if tumor is not None else "a tumor not in the registry"


def record_follow_up(patient_id: int, data: dict[str, Any], *, actor: Actor | User,
                     cancer_status: dict[int, str] | None = None) -> FollowUpContact:
    """Add a follow-up contact; a later contact moves the patient's last contact and vital status."""
    values = clean(FollowUpContact, data)
    if not values.get("date_of_contact"):
        raise InvalidInput({"date_of_contact": "is required"})
    statuses = {tumor_id: clean(FollowUpTumorStatus, {"cancer_status": code},
                                record=_named_tumor(tumor_id))["cancer_status"]
                for tumor_id, code in (cancer_status or {}).items()}
    with operation(actor, "record_follow_up") as session:
        patient = _get(session, Patient, patient_id)
        own_tumors = {t.id for t in patient.tumors}
        strangers = set(statuses) - own_tumors
        if strangers:
            raise InvalidInput({"cancer_status": f"{len(strangers)} of the tumors given are not tumors of "
                                                 f"{named(patient)}"})
        who = actor.id if isinstance(actor, User) else actor.user_id
        contact = FollowUpContact(patient_id=patient_id, created_by_id=who, **values)
        contact.tumor_statuses = [FollowUpTumorStatus(tumor_id=t, cancer_status=s) for t, s in statuses.items()]
        session.add(contact)
        new_date = parse_optional(values["date_of_contact"])
        last = parse_optional(patient.date_of_last_contact)
        if last is None or new_date.compare(last) in (1, 0) or last.compare(new_date) is None and \
                new_date.latest() > last.latest():
            patient.date_of_last_contact = values["date_of_contact"]
            if values.get("vital_status"):
                patient.vital_status = values["vital_status"]
        _flush(session, named(patient))
        _tumor_saved(session, list(patient.tumors))
        _flush(session, named(patient))
    return contact


@after_tumor_saved
def record_edit_status(session: Session, tumor: Tumor) -> None:
    """Keep the abstract's edit result with it, so the work queue can list abstracts with errors."""
    failures = edit_failures(session, tumor)
    status = session.get(AbstractEditStatus, tumor.id) or AbstractEditStatus(tumor_id=tumor.id)
    status.errors = sum(f.severity == "error" for f in failures)
    status.warnings = sum(f.severity == "warning" for f in failures)
    status.failures = [{"edit_id": f.edit_id, "severity": f.severity, "fields": list(f.fields),
                        "message": f.message} for f in failures]
    status.checked_at = utcnow()
    session.add(status)


def _check_versions(patient: Patient, patient_version: int | None, tumor: Tumor | None,
                    tumor_version: int | None) -> None:
    """One Conflict naming everything others changed on the patient and the tumor since the form was opened."""
    stale = [(obj, seen) for obj, seen in ((patient, patient_version), (tumor, tumor_version))
             if obj is not None and seen is not None and obj.version != seen]
    if not stale:
        return
    changed: dict[str, list] = {}
    for obj, seen in stale:
        changed.update(changes_since(obj, seen))
    what = " and ".join(named(obj) for obj, _ in stale)
    raise Conflict(f"{what} was changed by someone else since you opened it; nothing was saved",
                   current_version=tumor.version if tumor is not None else patient.version, changed=changed)


def save_abstract(patient_id: int, tumor_id: int | None, patient_changes: dict[str, Any],
                  tumor_changes: dict[str, Any], *, actor: Actor | User, patient_version: int | None = None,
                  tumor_version: int | None = None, decision: PrimaryDecision | None = None) -> Tumor:
    """Save the abstract form: patient items, tumor items and ``tumor_changes['treatment']`` in one
    transaction, refused whole if any field is wrong or anyone saved the patient or tumor meanwhile.
    ``tumor_id`` None starts a new abstract for the patient."""
    tumor_changes = dict(tumor_changes)
    errors: dict[str, str] = {}
    cleaned = []
    for model, data, ident in ((Patient, patient_changes, patient_id), (Tumor, tumor_changes, tumor_id),
                               (FirstCourseTreatment, tumor_changes.pop("treatment", None) or {}, None)):
        try:
            cleaned.append(clean(model, data, stored=stored_items(model, ident)))
        except InvalidInput as exc:
            errors.update(exc.errors)
            cleaned.append({})
    if errors:
        raise InvalidInput(errors)
    patient_values, tumor_values, treatment_values = cleaned
    with operation(actor, "save_abstract") as session:
        patient = _get(session, Patient, patient_id)
        tumor = None
        if tumor_id is not None:
            tumor = _get(session, Tumor, tumor_id)
            if tumor.patient_id != patient_id:
                raise NotFound(f"{named(tumor)} is not a tumor of {named(patient)}")
        _check_versions(patient, patient_version, tumor, tumor_version)
        patient_changed = False
        for field, value in patient_values.items():
            if getattr(patient, field) != value:
                setattr(patient, field, value)
                patient_changed = True
        if tumor is None:
            who = actor.id if isinstance(actor, User) else actor.user_id
            tumor = Tumor(patient_id=patient_id, abstracted_by_id=who, abstracted_at=utcnow())
            tumor.treatment = FirstCourseTreatment()
            session.add(tumor)
        elif tumor.treatment is None:
            tumor.treatment = FirstCourseTreatment()
        renumber = tumor.id is None or _moves_in_sequence(tumor, tumor_values)
        for field, value in tumor_values.items():
            if getattr(tumor, field) != value:
                setattr(tumor, field, value)
        treatment_changed = False
        for field, value in treatment_values.items():
            if getattr(tumor.treatment, field) != value:
                setattr(tumor.treatment, field, value)
                treatment_changed = True
        if treatment_changed and tumor.id is not None:
            tumor.updated_at = utcnow()
        _flush(session, named(tumor))
        _after_save(session, tumor, actor, decision, renumber=renumber)
        if patient_changed:
            session.expire(patient, ["tumors"])
            _tumor_saved(session, [t for t in patient.tumors if t.id != tumor.id])
            _flush(session, named(tumor))
    return tumor
