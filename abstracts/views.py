"""Pages: work queue, patient search and page, new patient with duplicate check, the abstract form with
live edits, workflow, follow-up entry, casefinding suspense, code look-up and the user's API tokens."""
from __future__ import annotations

from typing import Any

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from abstracts import casefinding, tokens
from abstracts.codes import codes, describe, lookup, morphology_term, system_for
from abstracts.forms import (FIELD_RECORD, SECTIONS, SPECS, AbstractForm, ConfirmForm, FollowUpForm, NewPatientForm,
                             NotReportableForm, SuspenseForm, TokenForm, WorkflowForm, initial_values, remarks_of,
                             submitted_values, to_naaccr_date)
from abstracts.operations import create_patient, edit_failures, record_follow_up, save_abstract, set_workflow_state
from abstracts.queries import (QUEUES, PatientSearch, audit_history, count, page_of, queue_statement,
                               registry_totals, search_patients, tumor_counts_by_patient, work_queue)
from abstracts.schemas import PatientSchema, TreatmentSchema, TumorSchema, validation_errors
from abstracts.search import likely_duplicates
from registry.audit import log_event
from registry.auth import roles_required
from registry.db import db_session
from registry.edits import records_from_orm, run_edits
from registry.errors import Conflict, InvalidInput, NotAllowed, NotFound
from registry.models import PHI_ROLES, Patient, SuspenseCase, Tumor, WorkflowState
from registry.models.abstracting import SuspenseStatus

blueprint = Blueprint("abstracts", __name__, template_folder="templates")

QUEUE_TITLES = {"in_progress": "Abstracts in progress", "returned": "Returned by a reviewer",
                "edit_errors": "Abstracts with edit errors", "awaiting_review": "Awaiting review",
                "follow_ups_due": "Follow-ups due", "suspense": "Suspense cases"}


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _patient(patient_id: int) -> Patient:
    record = db_session.get(Patient, patient_id)
    if record is None:
        abort(404)
    return record


def _tumor(patient: Patient, tumor_id: int) -> Tumor:
    tumor = db_session.get(Tumor, tumor_id)
    if tumor is None or tumor.patient_id != patient.id:
        abort(404)
    return tumor


@blueprint.route("/")
@login_required
def home() -> str:
    queue = work_queue() if current_user.may_see_phi else {}
    return render_template("abstracts/home.html", queue=queue, titles=QUEUE_TITLES, totals=registry_totals())


@blueprint.route("/queue/<name>")
@roles_required(*PHI_ROLES)
def queue(name: str) -> str:
    if name not in QUEUES:
        abort(404)
    per_page = current_app.config["PATIENTS_PER_PAGE"]
    stmt = queue_statement(name)
    total, page = count(stmt), _page()
    return render_template("abstracts/queue.html", name=name, title=QUEUE_TITLES[name], rows=page_of(stmt, page, per_page),
                           total=total, page=page, pages=max((total + per_page - 1) // per_page, 1))


@blueprint.route("/patients")
@roles_required(*PHI_ROLES)
def patients() -> str:
    criteria = PatientSearch(**{field: request.args.get(field, "")[:80] for field in PatientSearch.__dataclass_fields__})
    page = _page()
    per_page = current_app.config["PATIENTS_PER_PAGE"]
    rows, total = search_patients(criteria, page=page, per_page=per_page)
    pages = max((total + per_page - 1) // per_page, 1)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("abstracts/patients.html", rows=rows, total=total, page=page, pages=pages,
                           criteria=criteria, query=query,
                           tumor_counts=tumor_counts_by_patient([p.id for p in rows]))


@blueprint.route("/patients/new", methods=["GET", "POST"])
@roles_required(*PHI_ROLES)
def new_patient() -> str | Response:
    """Add a patient, after showing likely matches so the registrar can open the existing one instead."""
    form = NewPatientForm()
    matches = []
    if form.validate_on_submit():
        data = {name: (getattr(form, name).data or "").strip() or None
                for name in ("name_last", "name_first", "date_of_birth", "sex", "social_security_number",
                             "medical_record_number")}
        data["date_of_birth"] = to_naaccr_date(data["date_of_birth"]) or None
        matches = likely_duplicates(data)
        if matches and form.confirmed.data != "yes":
            form.confirmed.data = "yes"
            return render_template("abstracts/new_patient.html", form=form, matches=matches), 200
        try:
            patient = create_patient(data, actor=current_user)
        except InvalidInput as exc:
            _attach_errors(form, exc.errors)
            return render_template("abstracts/new_patient.html", form=form, matches=matches), 422
        flash(f"Patient {patient.patient_id_number} added.", "ok")
        return redirect(url_for("abstracts.patient", patient_id=patient.id))
    return render_template("abstracts/new_patient.html", form=form, matches=matches), \
        (422 if request.method == "POST" else 200)


@blueprint.route("/patients/<int:patient_id>")
@roles_required(*PHI_ROLES)
def patient(patient_id: int) -> str:
    record = _patient(patient_id)
    log_event(current_user, "view_patient", entity="patient", entity_id=patient_id, patient_id=patient_id)
    return render_template("abstracts/patient.html", patient=record, history=audit_history(patient_id),
                           morphology_term=morphology_term)


def _attach_errors(form: Any, errors: dict[str, str]) -> dict[str, str]:
    """Put each message on its field; return the ones no field shows."""
    rest = {}
    for name, message in errors.items():
        field = getattr(form, name.split(".")[-1], None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors or []) + [message]
        else:
            rest[name] = message
    return rest


def _by_field(failures: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for failure in failures:
        for name in failure["fields"]:
            out.setdefault(name, []).append(failure)
    return out


def _failure_dict(f: Any) -> dict[str, Any]:
    return {"edit_id": f.edit_id, "severity": f.severity, "fields": list(f.fields), "message": f.message}


def _render_abstract(patient: Patient, tumor: Tumor | None, form: Any, *, failures: list[dict[str, Any]],
                     conflict: Conflict | None = None, status: int = 200) -> tuple[str, int]:
    terms = {}
    for name in FIELD_RECORD:
        value = (getattr(form, name).data or "").strip()
        if name == "histology":
            terms[name] = morphology_term(value, (form.behavior.data or "").strip())
        elif name in SPECS:
            terms[name] = describe(system_for(SPECS[name]), value)
    errors = [f for f in failures if f["severity"] == "error"]
    warnings = [f for f in failures if f["severity"] == "warning"]
    if conflict is not None and "extra_items" in conflict.changed:
        before, after = (value or {} for value in conflict.changed.pop("extra_items"))
        conflict.changed["remarks"] = [before.get("textRemarks"), after.get("textRemarks")]
    editable = tumor is None or tumor.workflow_state is WorkflowState.IN_PROGRESS
    return render_template("abstracts/abstract.html", patient=patient, tumor=tumor, form=form, sections=SECTIONS,
                           terms=terms, by_field=_by_field(failures), errors=errors, warnings=warnings,
                           conflict=conflict, labels={**{n: s.label for n, s in SPECS.items()},
                                                      "remarks": "Remarks [2680]"},
                           editable=editable, workflow_form=WorkflowForm(tumor_version=tumor.version if tumor else ""),
                           check_url=url_for("abstracts.check_abstract", patient_id=patient.id,
                                             tumor_id=tumor.id if tumor else 0)), status


def _validate(values: dict[str, dict[str, Any]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for schema, record in ((PatientSchema(), "patient"), (TumorSchema(), "tumor"), (TreatmentSchema(), "treatment")):
        errors.update(validation_errors(schema, values[record])[1])
    return errors


@blueprint.route("/patients/<int:patient_id>/abstracts/new", methods=["GET", "POST"], defaults={"tumor_id": None})
@blueprint.route("/patients/<int:patient_id>/tumors/<int:tumor_id>", methods=["GET", "POST"])
@roles_required(*PHI_ROLES)
def abstract(patient_id: int, tumor_id: int | None) -> tuple[str, int] | Response:
    """The abstract form: save as in progress any time; edits are shown beside their fields."""
    patient = _patient(patient_id)
    tumor = _tumor(patient, tumor_id) if tumor_id is not None else None
    if request.method == "GET":
        log_event(current_user, "view_abstract", entity="tumor", entity_id=tumor_id, patient_id=patient_id)
        form = AbstractForm(data=initial_values(patient, tumor))
        failures = [_failure_dict(f) for f in edit_failures(db_session(), tumor)] if tumor else []
        return _render_abstract(patient, tumor, form, failures=failures)
    form = AbstractForm()
    if not form.validate_on_submit():
        return _render_abstract(patient, tumor, form, failures=[], status=400)
    values = submitted_values(form)
    errors = _validate(values)
    if errors:
        _attach_errors(form, errors)
        flash("Nothing was saved: correct the fields marked below.", "error")
        return _render_abstract(patient, tumor, form, failures=[], status=422)
    tumor_changes = dict(values["tumor"], treatment=values["treatment"])
    remarks = remarks_of(form)
    extra = dict(tumor.extra_items or {}) if tumor else {}
    if remarks != extra.get("textRemarks"):
        if remarks:
            extra["textRemarks"] = remarks
        else:
            extra.pop("textRemarks", None)
        tumor_changes["extra_items"] = extra
    if tumor is not None and tumor.workflow_state is not WorkflowState.IN_PROGRESS:
        flash(f"This abstract is {tumor.workflow_state.value.replace('_', ' ')}; reopen it before changing it.",
              "error")
        return _render_abstract(patient, tumor, form, failures=[], status=409)
    try:
        saved = save_abstract(patient.id, tumor.id if tumor else None, values["patient"], tumor_changes,
                              actor=current_user, patient_version=_int(form.patient_version.data),
                              tumor_version=_int(form.tumor_version.data) if tumor else None)
    except Conflict as exc:
        db_session.rollback()
        patient = _patient(patient_id)
        tumor = _tumor(patient, tumor_id) if tumor_id is not None else None
        flash("Not saved: someone else saved this abstract after you opened it. Their changes are listed "
              "below; your entries are still in the form.", "error")
        form.patient_version.data = patient.version
        if tumor is not None:
            form.tumor_version.data = tumor.version
        return _render_abstract(patient, tumor, form, failures=[], conflict=exc, status=409)
    except InvalidInput as exc:
        _attach_errors(form, exc.errors)
        return _render_abstract(patient, tumor, form, failures=[], status=422)
    flash("Saved as in progress.", "ok")
    return redirect(url_for("abstracts.abstract", patient_id=patient.id, tumor_id=saved.id))


def _int(text: Any) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


@blueprint.route("/patients/<int:patient_id>/tumors/<int:tumor_id>/check", methods=["POST"])
@roles_required(*PHI_ROLES)
def check_abstract(patient_id: int, tumor_id: int) -> Response:
    """Edits on the values in the form, without saving: ``{invalid: {field: msg}, failures: [...]}``."""
    patient = _patient(patient_id)
    tumor = _tumor(patient, tumor_id) if tumor_id else None
    form = AbstractForm()
    if not form.validate():
        return jsonify(invalid={name: "; ".join(field.errors) for name, field in form._fields.items()
                                if field.errors}, failures=[]), 400
    values = submitted_values(form)
    invalid = _validate(values)
    failures = [_failure_dict(f) for f in edits_for(patient, tumor, values, invalid)]
    return jsonify(invalid=invalid, failures=failures)


def edits_for(patient: Patient, tumor: Tumor | None, values: dict[str, dict[str, Any]],
              invalid: dict[str, str] | None = None) -> list[Any]:
    """Run the edits as if ``values`` were saved (invalid fields left as stored): the failures for this
    tumor and its patient."""
    invalid = invalid or {}
    patient_record, tumor_records = records_from_orm(patient)
    patient_record.update({k: v for k, v in values["patient"].items() if k not in invalid})
    own = {k: v for k, v in (values["tumor"] | values["treatment"]).items() if k not in invalid
           and k.split(".")[-1] not in invalid}
    ids = [t.id for t in patient.tumors]
    if tumor is not None and tumor.id in ids:
        index = ids.index(tumor.id)
        tumor_records[index].update(own)
    else:
        tumor_records.append(own)
        index = len(tumor_records) - 1
    return [f for f in run_edits(patient_record, tumor_records) if f.tumor_index in (None, index)]


#: Workflow buttons: the target state and whether a comment is required.
WORKFLOW_ACTIONS = {"complete": (WorkflowState.COMPLETE, False), "reviewed": (WorkflowState.REVIEWED, False),
                    "return": (WorkflowState.IN_PROGRESS, True), "reopen": (WorkflowState.IN_PROGRESS, False)}


@blueprint.route("/patients/<int:patient_id>/tumors/<int:tumor_id>/workflow", methods=["POST"])
@roles_required(*PHI_ROLES)
def workflow(patient_id: int, tumor_id: int) -> Response:
    patient = _patient(patient_id)
    tumor = _tumor(patient, tumor_id)
    form = WorkflowForm()
    action = request.form.get("action", "")
    if not form.validate_on_submit() or action not in WORKFLOW_ACTIONS:
        abort(400)
    target, needs_comment = WORKFLOW_ACTIONS[action]
    comment = (form.comment.data or "").strip()
    back = redirect(url_for("abstracts.abstract", patient_id=patient.id, tumor_id=tumor.id))
    if needs_comment and not comment:
        flash("Returning an abstract needs a comment saying what to fix.", "error")
        return back
    try:
        set_workflow_state(tumor.id, target, actor=current_user, comment=comment or None,
                           expected_version=_int(form.tumor_version.data))
    except (NotAllowed, Conflict) as exc:
        flash(str(exc), "error")
        return back
    flash({"complete": "Abstract completed; it now awaits review.", "reviewed": "Abstract marked reviewed.",
           "return": "Abstract returned to the registrar.", "reopen": "Abstract reopened."}[action], "ok")
    return back


@blueprint.route("/patients/<int:patient_id>/follow-up", methods=["GET", "POST"])
@roles_required(*PHI_ROLES)
def follow_up(patient_id: int) -> tuple[str, int] | Response:
    """Record a follow-up contact: moves last contact and vital status, and each tumor's cancer status."""
    patient = _patient(patient_id)
    if request.method == "GET":
        log_event(current_user, "view_follow_up", entity="patient", entity_id=patient_id, patient_id=patient_id)
    form = FollowUpForm()
    if form.validate_on_submit():
        data = {"date_of_contact": to_naaccr_date(form.date_of_contact.data),
                "vital_status": (form.vital_status.data or "").strip() or None,
                "follow_up_source": (form.follow_up_source.data or "").strip() or None,
                "next_follow_up_due": to_naaccr_date(form.next_follow_up_due.data) or None}
        statuses = {t.id: request.form.get(f"cancer_status_{t.id}", "").strip() for t in patient.tumors}
        try:
            record_follow_up(patient.id, data, actor=current_user,
                             cancer_status={k: v for k, v in statuses.items() if v})
        except InvalidInput as exc:
            rest = _attach_errors(form, exc.errors)
            for message in rest.values():
                flash(message, "error")
            return render_template("abstracts/follow_up.html", patient=patient, form=form,
                                   statuses=codes("cancer_status")), 422
        flash("Follow-up recorded.", "ok")
        return redirect(url_for("abstracts.patient", patient_id=patient.id))
    return render_template("abstracts/follow_up.html", patient=patient, form=form,
                           statuses=codes("cancer_status")), (422 if request.method == "POST" else 200)


@blueprint.route("/codes/<system>.json")
@login_required
def code_lookup(system: str) -> Response:
    try:
        found = lookup(system, request.args.get("q", "")[:80], limit=min(request.args.get("limit", 20, type=int), 50))
    except KeyError as exc:
        return jsonify(error=str(exc).strip("'\"")), 404
    return jsonify(system=system, results=found)


@blueprint.route("/suspense", methods=["GET", "POST"])
@roles_required(*PHI_ROLES)
def suspense() -> tuple[str, int]:
    """Casefinding: enter a potential case with minimal data; the open ones are listed to work."""
    form = SuspenseForm()
    status = 200
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in casefinding.FIELDS}
        for name in ("date_of_birth", "date_found"):
            data[name] = to_naaccr_date(data[name])
        try:
            casefinding.add_suspense_case(data, actor=current_user)
            flash("Potential case added to suspense.", "ok")
            form = SuspenseForm(formdata=None)
        except InvalidInput as exc:
            _attach_errors(form, exc.errors)
            status = 422
    elif request.method == "POST":
        status = 422
    state = request.args.get("status", "open")
    if state not in {s.value for s in SuspenseStatus}:
        abort(404)
    stmt = select(SuspenseCase).where(SuspenseCase.status == SuspenseStatus(state)).order_by(SuspenseCase.id.desc())
    per_page = current_app.config["PATIENTS_PER_PAGE"]
    total, page = count(stmt), _page()
    return render_template("abstracts/suspense.html", form=form, rows=page_of(stmt, page, per_page), total=total,
                           page=page, pages=max((total + per_page - 1) // per_page, 1), state=state,
                           sources=casefinding.SOURCES, reason_form=NotReportableForm(), confirm_form=ConfirmForm()), status


@blueprint.route("/suspense/<int:case_id>/abstract", methods=["POST"])
@roles_required(*PHI_ROLES)
def abstract_suspense(case_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        tumor = casefinding.abstract_suspense_case(case_id, actor=current_user)
    except (NotFound, NotAllowed) as exc:
        flash(str(exc), "error")
        return redirect(url_for("abstracts.suspense"))
    flash("Abstract started from the suspense case.", "ok")
    return redirect(url_for("abstracts.abstract", patient_id=tumor.patient_id, tumor_id=tumor.id))


@blueprint.route("/suspense/<int:case_id>/not-reportable", methods=["POST"])
@roles_required(*PHI_ROLES)
def not_reportable(case_id: int) -> Response:
    form = NotReportableForm()
    if not form.validate_on_submit():
        flash("Say why the case is not reportable.", "error")
        return redirect(url_for("abstracts.suspense"))
    try:
        casefinding.mark_not_reportable(case_id, form.reason.data, actor=current_user)
    except (NotFound, NotAllowed, InvalidInput) as exc:
        flash(str(exc), "error")
        return redirect(url_for("abstracts.suspense"))
    flash("Marked not reportable.", "ok")
    return redirect(url_for("abstracts.suspense"))


@blueprint.route("/account", methods=["GET", "POST"])
@login_required
def account() -> str:
    """The user's page: API tokens (created here, shown once, revoked here)."""
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            _, new_token = tokens.create_token(current_user, form.name.data, days=int(form.days.data))
            form = TokenForm(formdata=None)
        except InvalidInput as exc:
            _attach_errors(form, exc.errors)
    return render_template("abstracts/account.html", form=form, new_token=new_token,
                           tokens=tokens.tokens_of(current_user), is_usable=tokens.is_usable,
                           confirm_form=ConfirmForm())


@blueprint.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        tokens.revoke_token(token_id, actor=current_user)
        flash("Token revoked.", "ok")
    except (NotFound, NotAllowed) as exc:
        flash(str(exc), "error")
    return redirect(url_for("abstracts.account"))
