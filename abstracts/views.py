"""Pages: work queue, patient search and page, new patient with duplicate check, the abstract form with
live edits, workflow, follow-up entry, casefinding suspense, code look-up and the user's API tokens."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template, render_template_string,
                   request, url_for)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from abstracts import casefinding, primaries, tokens
from abstracts.codes import codes, current_catalogue, describe, lookup, lookup_note, morphology_term, system_for
from abstracts.forms import (DATE_HINT, FIELD_RECORD, ITEM_PREFIX, REMARKS_ID, SPECS, STAGE_FIELDS, AbstractForm,
                             ConfirmForm, FollowUpForm, NewPatientForm, NotReportableForm, SuspenseForm, TokenForm,
                             WorkflowForm, diagnosis_year, initial_values, item_layout, item_row, remarks_of,
                             submitted_values, to_naaccr_date)
from abstracts.history import mask_ssn, readable_history
from abstracts.operations import (ASSIGNABLE, ASSIGNERS, assign_abstracts, create_patient, delete_tumor,
                                   edit_failures, load_tumors, record_follow_up, record_primary_decision,
                                   save_abstract, set_workflow_state)
from abstracts.queries import (QUEUES, TUMOR_QUEUES, PatientSearch, QueueView, audit_history, count, page_of,
                               queue_statement, registry_totals, search_patients, tumor_counts_by_patient, work_queue)
from abstracts.schemas import PatientSchema, TreatmentSchema, TumorSchema, validation_errors
from abstracts.search import DUPLICATE_CHECKED, likely_duplicates
from registry.audit import log_event
from registry.auth import roles_required
from registry.catalogue import check_items
from registry.db import db_session
from registry.edits import records_from_orm, run_edits
from registry.errors import Conflict, InvalidInput, NotAllowed, NotFound
from registry.items import naaccr_items
from registry.models import (FirstCourseTreatment, PHI_ROLES, Patient, Role, SuspenseCase, Tumor, User,
                             WorkflowState)
from registry.models.abstracting import SuspenseStatus
from staging_tables.staging import derive as staging
from staging_tables.staging.views import plain_description

blueprint = Blueprint("abstracts", __name__, template_folder="templates")

QUEUE_TITLES = {"assigned_to_me": "Assigned to me", "in_progress": "Abstracts in progress", "returned": "Returned by a reviewer",
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
    queue = work_queue(current_user.id, current_user.role.value) if current_user.may_see_phi else {}
    totals = {} if current_user.may_see_phi else registry_totals()  # only the de-identified home shows them
    return render_template("abstracts/home.html", queue=queue, titles=QUEUE_TITLES, totals=totals,
                           columns=QUEUE_COLUMNS, tumor_queues=TUMOR_QUEUES)


#: The columns of an abstract queue: (heading, sort key or "").
QUEUE_COLUMNS = (("Patient", "patient"), ("Seq", ""), ("Site", "site"), ("Morphology", ""),
                 ("Diagnosed", "diagnosed"), ("Stage", ""), ("State", "state"), ("Assigned to", "assigned"),
                 ("Updated", "updated"), ("Reviewer's comment", ""))


@blueprint.route("/queue/<name>")
@roles_required(*PHI_ROLES)
def queue(name: str) -> str:
    if name not in QUEUES:
        abort(404)
    per_page = current_app.config["PATIENTS_PER_PAGE"]
    view = QueueView.from_args(request.args)
    stmt = queue_statement(name, user_id=current_user.id, view=view)
    unsorted = queue_statement(name, user_id=current_user.id, view=QueueView(show=view.show))  # no sort's join
    total, page = count(unsorted), _page()
    assignees = (list(db_session.scalars(select(User).where(User.role.in_(ASSIGNABLE), User.is_enabled)
                                         .order_by(User.username)))
                 if name in TUMOR_QUEUES and current_user.role in ASSIGNERS else [])
    return render_template("abstracts/queue.html", name=name, title=QUEUE_TITLES[name],
                           rows=page_of(stmt, page, per_page), total=total, page=page,
                           pages=max((total + per_page - 1) // per_page, 1), view=view,
                           columns=QUEUE_COLUMNS if name in TUMOR_QUEUES else (), assignees=assignees,
                           may_take=name in TUMOR_QUEUES and current_user.role not in ASSIGNERS,
                           form=WorkflowForm())


@blueprint.route("/queue/<name>/assign", methods=["POST"])
@roles_required(Role.REGISTRAR, Role.REVIEWER, Role.ADMIN)
def assign(name: str) -> Response:
    """Assign the ticked abstracts (reviewers, admins), or take them / give them back (registrars)."""
    form = WorkflowForm()
    if name not in TUMOR_QUEUES:
        abort(404)
    if not form.validate_on_submit():
        abort(400, refused(form))
    back = redirect(url_for("abstracts.queue", name=name, **{k: v for k, v in request.args.items()
                                                              if k in ("sort", "dir", "show", "page")}))
    tumor_ids = [int(v) for v in request.form.getlist("tumor") if v.isdigit()]
    if not tumor_ids:
        flash("Tick the abstracts to assign first.", "error")
        return back
    target = request.form.get("assignee", "")
    assignee_id = current_user.id if target == "me" else None if target in ("", "none") else _int(target)
    if target not in ("me", "", "none") and assignee_id is None:
        abort(400, f"assignee: '{target[:40]}' is not a user; choose one from the list.")
    try:
        assign_abstracts(tumor_ids, assignee_id, actor=current_user)
    except (InvalidInput, NotAllowed, NotFound) as exc:
        flash(str(exc) if not isinstance(exc, InvalidInput) else "; ".join(exc.errors.values()), "error")
        return back
    flash(f"{len(tumor_ids)} abstract(s) " + ("back in the shared queue." if assignee_id is None
                                             else "assigned."), "ok")
    return back


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
        data = {name: (getattr(form, name).data or "").strip() or None for name in DUPLICATE_CHECKED}
        data["date_of_birth"] = to_naaccr_date(data["date_of_birth"]) or None
        matches = likely_duplicates(data)
        if matches and form.confirmed.data != "yes":
            form.confirmed.data = "yes"
            return render_template("abstracts/new_patient.html", form=form, matches=matches), 200
        try:
            patient = create_patient(data, actor=current_user, likely_duplicates=matches,
                                     confirmed_by="the new-patient form's confirmation" if matches else None)
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
    """The patient page; ``?reveal=ssn`` shows the Social Security Number in clear, and says so in the trail."""
    record = _patient(patient_id)
    reveal_ssn = request.args.get("reveal") == "ssn"
    log_event(current_user, "view_patient", entity="patient", entity_id=patient_id, patient_id=patient_id)
    if reveal_ssn:
        log_event(current_user, "reveal_ssn", entity="patient", entity_id=patient_id, patient_id=patient_id)
    tumors = {str(t.id): t.described for t in record.tumors}
    return render_template("abstracts/patient.html", patient=record, reveal_ssn=reveal_ssn, mask_ssn=mask_ssn,
                           history=readable_history(audit_history(patient_id), tumors, reveal_ssn=reveal_ssn),
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


# ----- the Stage section: schema, its inputs and codes, the derived values -----------------------------------
#: The tumor's item stores; the form posts their items as ``<store>.<naaccrId>`` (SSDIs in the Stage section).
ITEM_STORES = ("site_specific_items", "extra_items")
#: Patient-level catalogued items without a column, kept in ``Patient.extra_items``.
PATIENT_STORE = ITEM_PREFIX["Patient"]
#: The derived items shown read-only after a save; T/N/M and stage group only when the algorithm produced them.
DERIVED_SHOWN = (("schema_id", True), ("derived_summary_stage_2018", True), ("derived_eod_2018_t", False),
                 ("derived_eod_2018_n", False), ("derived_eod_2018_m", False),
                 ("derived_eod_2018_stage_group", False), ("derived_summary_grade_2018", True))
INSTALL_EXAMPLE = "flask --app wsgi reference install staging-algorithm eod_public-3.3.zip"
#: Longest value accepted for an item kept by naaccrId (the longest SSDI, e.g. a ratio like XX.8, is 5).
ITEM_LENGTH = 20
#: Inputs with more codes than this list them through the picker only.
LISTED_CODES = 40


def _posted_items() -> dict[str, str]:
    """Items kept by naaccrId as the form posted them (``{'site_specific_items.her2OverallSummary': '1'}``),
    dates of catalogued date items in NAACCR form."""
    cat = current_catalogue()
    posted = {}
    for name, value in request.form.items():
        store, _, item_id = name.partition(".")
        if (store in ITEM_STORES or store == PATIENT_STORE) and item_id:
            item = cat.get(item_id)
            text = value.strip()
            posted[name] = to_naaccr_date(text) if item is not None and item.data_type == "date" else text
    return posted


def _apply(stored: dict[str, Any] | None, store: str, items: dict[str, str]) -> dict[str, Any]:
    """``stored`` with the posted items of ``store`` applied: a value sets the item, a blank removes it."""
    out = dict(stored or {})
    for name, value in items.items():
        prefix, _, item_id = name.partition(".")
        if prefix != store:
            continue
        if value:
            out[item_id] = value
        else:
            out.pop(item_id, None)
    return out


def _stores(tumor: Tumor | None, items: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The tumor's SSDI and extra-item dictionaries with the posted items applied."""
    return {store: _apply(getattr(tumor, store) if tumor is not None else None, store, items)
            for store in ITEM_STORES}


def _item_problems(items: dict[str, str]) -> dict[str, str]:
    """What the catalogue refuses among the posted items kept by naaccrId (the SSDIs are the schema's to judge)."""
    cat = current_catalogue()
    tumor = check_items({k.partition(".")[2]: v for k, v in items.items() if k.startswith("extra_items.") and v},
                        level="Tumor", cat=cat)
    patient = check_items({k.partition(".")[2]: v for k, v in items.items() if k.startswith(f"{PATIENT_STORE}.")
                           and v}, level="Patient", store=PATIENT_STORE, cat=cat)
    return tumor | patient


def _form_names(errors: dict[str, str]) -> dict[str, str]:
    """Errors of an operation under the names the form posts: a patient's ``extra_items.<id>`` is
    ``patient_items.<id>`` on the form."""
    cat = current_catalogue()
    out = {}
    for name, message in errors.items():
        store, _, item_id = name.partition(".")
        item = cat.get(item_id) if store == "extra_items" else None
        out[f"{PATIENT_STORE}.{item_id}" if item is not None and item.level == "Patient" else name] = message
    return out


def _section_of(attribute: str) -> str:
    """The title of the abstract section a column is entered in."""
    return current_catalogue().column_sections.get(attribute, "")


def _draft(patient: Patient, tumor: Tumor | None, values: dict[str, dict[str, Any]],
           stores: dict[str, dict[str, Any]]) -> SimpleNamespace:
    """The abstract as the form holds it, unsaved: what the staging engine reads (never added to the session)."""
    def overlay(model: type, record: Any, changes: dict[str, Any]) -> SimpleNamespace:
        draft = SimpleNamespace(**{a: getattr(record, a, None) if record is not None else None
                                   for a in naaccr_items(model)})
        draft.__dict__.update(changes)
        return draft
    draft = overlay(Tumor, tumor, values["tumor"])
    draft.patient = overlay(Patient, patient, values["patient"])
    draft.treatment = overlay(FirstCourseTreatment, tumor.treatment if tumor else None, values["treatment"])
    draft.site_specific_items, draft.extra_items = stores["site_specific_items"], stores["extra_items"]
    draft.staging_algorithm = tumor.staging_algorithm if tumor is not None else None
    return draft


def _stage(patient: Patient, tumor: Tumor | None, form: Any, stores: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the Stage section shows for the form's values: the engine's schema or question, the schema's inputs
    (where each is entered, its codes), the plain stage fields left, and the values derived at the last save."""
    section = staging.stage_section(_draft(patient, tumor, submitted_values(form), stores))
    stage_fields = STAGE_FIELDS
    stage: dict[str, Any] = {"status": section["status"], "message": section.get("message", ""),
                             "engine": section["status"] not in ("NO_ALGORITHM", "NOT_APPLICABLE"),
                             "install": INSTALL_EXAMPLE, "algorithm": section.get("algorithm"),
                             "version": section.get("version"), "schema": section.get("schema"),
                             "candidates": section.get("candidates", []), "questions": [], "inputs": [],
                             "errors": (section.get("result") or {}).get("errors", []), "derived": []}
    schema_name = (section.get("schema") or {}).get("name")
    where = f"{schema_name} ({stage['algorithm']} {stage['version']})"
    for q in section.get("questions", []):
        name = (q["field"] or "").split(".")[-1]
        stage["questions"].append({**q, "name_attr": name, "select": name in stage_fields,
                                   "label": SPECS[name].label if name in SPECS else q["name"],
                                   "value": (getattr(form, name).data or "") if name in FIELD_RECORD else "",
                                   "codes": [(c["code"], plain_description(c["description"]))
                                             for c in q["codes"] if c["code"]]})
    for inp in section.get("inputs", []):
        field = inp["field"] or ""
        store = field.partition(".")[0]
        if not inp["used_for_staging"] and store != "site_specific_items":
            continue  # shown where it is entered; only staging inputs and the schema's SSDIs are listed here
        name = field.split(".")[-1]
        kind = ("item" if store == "site_specific_items" else "stage" if name in stage_fields
                else "computed" if field == "computed" else "elsewhere")
        item = current_catalogue().get(name) if store == "extra_items" else None
        codes_ = [(c["code"], plain_description(c["description"])) for c in inp["codes"] if c["code"]]
        value = inp["value"] or ""
        if kind == "elsewhere" and name in FIELD_RECORD:
            value = (getattr(form, name).data or "").strip()  # the read-only copy shows the field it mirrors
        stage["inputs"].append({
            **inp, "kind": kind, "name_attr": field if kind == "item" or item is not None else name, "value": value,
            "anchor": f"item-{name}" if item is not None else name,
            "mirrors": name if kind == "elsewhere" and name in FIELD_RECORD else "",
            "dom_id": f"ssdi-{inp['naaccr_id']}" if kind == "item" else name,
            "select": kind == "stage" and name.startswith("schema_discriminator"),
            "term": next((d for c, d in codes_ if c == value), ""), "codes": codes_,
            "listed": codes_ if len(codes_) <= LISTED_CODES else [],
            "section": item.group if item is not None else _section_of(name),
            "problem": (f"'{value}' is not a valid code for {inp['name']} [{inp['naaccr_item']}] in schema "
                        f"{where}") if inp["valid"] is False else "",
            "picker_url": url_for("staging.codes", algorithm=f"{stage['algorithm']}-{stage['version']}",
                                  schema=section["schema"]["id"], key=inp["key"])})
    listed = {i["name_attr"] for i in stage["inputs"] if i["kind"] == "item"}
    held = (tumor.site_specific_items or {}) if tumor is not None else {}
    stage["held"] = [{"name_attr": f"site_specific_items.{item_id}", "dom_id": f"ssdi-{item_id}", "stored": stored,
                      "value": (stores.get("site_specific_items") or {}).get(item_id, ""),
                      "label": (current_catalogue().get(item_id).label if current_catalogue().get(item_id)
                                else item_id)}
                     for item_id, stored in sorted(held.items())
                     if stored and f"site_specific_items.{item_id}" not in listed]
    shown = {i["name_attr"] for i in stage["inputs"] if i["kind"] == "stage"}
    shown |= {q["name_attr"] for q in stage["questions"] if q["select"]}
    if stage["engine"]:
        shown.add("schema_id")  # derived by the engine; kept as stored in a hidden field
    stage["engine_fields"] = shown
    stage["plain_fields"] = [f for f in stage_fields if f not in shown]
    if tumor is not None and tumor.staging_algorithm:
        for column, always in DERIVED_SHOWN:
            value = getattr(tumor, column)
            if value or always:
                spec = SPECS[column]
                stage["derived"].append({"field": column, "label": spec.label, "value": value or "",
                                         "term": describe(system_for(spec), value)})
    stage["staging_algorithm"] = tumor.staging_algorithm if tumor is not None else None
    stage["staged_at"] = tumor.staged_at if tumor is not None else None
    return stage


def _stage_problems(stage: dict[str, Any], items: dict[str, str]) -> dict[str, str]:
    """{field: message} for posted stage items the chosen schema does not list or refuses, and schema codes
    refused in the Stage section's own fields (so they are named before anything is saved)."""
    listed = {i["name_attr"]: i for i in stage["inputs"]
              if i["kind"] in ("item", "stage") or i["name_attr"].startswith("extra_items.")}
    kept = {held["name_attr"]: held["stored"] for held in stage.get("held", [])}
    where = (f"schema {stage['schema']['name']}" if stage.get("schema")
             else "the schema (none is chosen for this site and histology yet)")
    problems: dict[str, str] = {}
    for name, value in items.items():
        if not name.startswith("site_specific_items."):
            continue  # items of the catalogue's groups: the catalogue judges them
        inp = listed.get(name)
        if len(value) > ITEM_LENGTH:
            problems[name] = f"is longer than {ITEM_LENGTH} characters"
        elif value and inp is None and kept.get(name) != value:  # a value held before may stay as it is
            problems[name] = (f"'{value}' was entered for {name.split('.')[-1]}, which is not an item of {where}; "
                              f"check Primary Site and Histology, or clear it")
    for name, inp in listed.items():
        if inp["problem"] and name not in problems:
            problems[name] = inp["problem"]
    return problems


def _terms(form: Any) -> dict[str, str]:
    """The description shown beside each coded field."""
    terms = {}
    for name in FIELD_RECORD:
        value = (getattr(form, name).data or "").strip()
        if name == "histology":
            terms[name] = morphology_term(value, (form.behavior.data or "").strip())
        elif name in SPECS:
            terms[name] = describe(system_for(SPECS[name]), value)
    return terms


def _item_changes(changed: dict[str, list]) -> dict[str, str]:
    """Replace the changed item dictionaries of a conflict by one row per item (Remarks under its form field);
    returns the labels of the rows added."""
    labels = {}
    for store in ("extra_items", "site_specific_items"):
        if store not in changed:
            continue
        before, after = (value or {} for value in changed.pop(store))
        for item_id in sorted(set(before) | set(after)):
            if before.get(item_id) == after.get(item_id):
                continue
            item = current_catalogue().get(item_id)
            name = "remarks" if item_id == REMARKS_ID else f"{store}.{item_id}"
            changed[name] = [before.get(item_id), after.get(item_id)]
            labels[name] = item.label if item is not None else item_id
    return labels


def _render_abstract(patient: Patient, tumor: Tumor | None, form: Any, *, failures: list[dict[str, Any]],
                     conflict: Conflict | None = None, status: int = 200, items: dict[str, str] | None = None,
                     item_errors: dict[str, str] | None = None,
                     primary_check: dict[str, Any] | None = None) -> tuple[str, int]:
    terms = _terms(form)
    errors = [f for f in failures if f["severity"] == "error"]
    warnings = [f for f in failures if f["severity"] == "warning"]
    labels: dict[str, str] = {**{n: s.label for n, s in SPECS.items()}, "remarks": "Remarks [2680]"}
    if conflict is not None:
        labels |= _item_changes(conflict.changed)
    editable = tumor is None or tumor.workflow_state is WorkflowState.IN_PROGRESS
    stage = _stage(patient, tumor, form, _stores(tumor, items or {}))
    item_errors = item_errors or {}
    layout = item_layout(patient, tumor, form, items or {}, skip=set(STAGE_FIELDS), errors=item_errors)
    drawn = {f.name for section in layout for group in section.groups for f in group.fields}
    stage["item_errors"] = {k: v for k, v in item_errors.items() if k not in drawn}
    refused = _refused(form, item_errors, labels)
    if primary_check is None and tumor is not None:
        primary_check = {"verdicts": primaries.of_tumor(tumor), "pending": False}
    return render_template("abstracts/abstract.html", patient=patient, tumor=tumor, form=form, sections=layout,
                           year=diagnosis_year(form), date_hint=DATE_HINT, item_row=item_row,
                           primary_check=primary_check, SINGLE=primaries.mp.SINGLE,
                           QUESTIONABLE=primaries.mp.QUESTIONABLE,
                           stage=stage, stage_url=url_for("abstracts.stage_section", patient_id=patient.id,
                                                          tumor_id=tumor.id if tumor else 0),
                           terms=terms, by_field=_by_field(failures), errors=errors, warnings=warnings,
                           refused=refused,
                           conflict=conflict, labels=labels,
                           editable=editable, workflow_form=WorkflowForm(tumor_version=tumor.version if tumor else ""),
                           check_url=url_for("abstracts.check_abstract", patient_id=patient.id,
                                             tumor_id=tumor.id if tumor else 0)), status


def _refused(form: Any, item_errors: dict[str, str], labels: dict[str, str]) -> list[dict[str, str]]:
    """Every field a refused save marked, as the edit summary lists and counts them (errors like failed edits):
    ``[{field, anchor, label, message}]`` in form order, then the items kept by naaccrId."""
    cat = current_catalogue()
    refused = [{"field": name, "anchor": name, "label": labels.get(name, field.label.text), "message": message}
               for name, field in form._fields.items() if name != "csrf_token"
               for message in field.errors or []]
    for name, message in item_errors.items():
        store, _, item_id = name.partition(".")
        item = cat.get(item_id)
        anchor = (f"ssdi-{item_id}" if store == "site_specific_items" else f"item-{item_id}") if item_id else name
        refused.append({"field": name, "anchor": anchor,
                        "label": item.label if item is not None else item_id or name, "message": message})
    return refused


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
        failures = [_failure_dict(f) for f in edit_failures(db_session(), tumor)] if tumor else []
        form = AbstractForm(data=initial_values(patient, tumor))  # the edits loaded the treatments
        return _render_abstract(patient, tumor, form, failures=failures)
    form = AbstractForm()
    if not form.validate_on_submit():
        return _render_abstract(patient, tumor, form, failures=[], status=400)
    values = submitted_values(form)
    items = _posted_items()
    errors = _validate(values)
    stage = _stage(patient, tumor, form, _stores(tumor, items))
    item_errors = {k: v for k, v in _stage_problems(stage, items).items() if k.split(".")[-1] not in errors}
    item_errors = _item_problems(items) | item_errors
    if errors or item_errors:
        _attach_errors(form, errors)
        rest = _attach_errors(form, {k: v for k, v in item_errors.items() if k in FIELD_RECORD})
        flash("Nothing was saved: correct the fields marked below.", "error")
        return _render_abstract(patient, tumor, form, failures=[], status=422, items=items,
                                item_errors={k: v for k, v in item_errors.items() if k not in FIELD_RECORD} | rest)
    tumor_changes = dict(values["tumor"], treatment=values["treatment"])
    if stage["engine"]:
        tumor_changes.pop("schema_id", None)  # derived by the staging engine, not entered
    stores = _stores(tumor, items)
    if stores["site_specific_items"] != ((tumor.site_specific_items or {}) if tumor else {}):
        tumor_changes["site_specific_items"] = stores["site_specific_items"]
    remarks = remarks_of(form)
    extra = stores["extra_items"]
    if remarks != extra.get("textRemarks"):
        if remarks:
            extra["textRemarks"] = remarks
        else:
            extra.pop("textRemarks", None)
    if extra != ((tumor.extra_items or {}) if tumor else {}):
        tumor_changes["extra_items"] = extra
    patient_changes = dict(values["patient"])
    patient_items = _apply(patient.extra_items, PATIENT_STORE, items)
    if patient_items != (patient.extra_items or {}):
        patient_changes["extra_items"] = patient_items
    if tumor is not None and tumor.workflow_state is not WorkflowState.IN_PROGRESS:
        flash(f"This abstract is {tumor.workflow_state.value.replace('_', ' ')}; reopen it before changing it.",
              "error")
        return _render_abstract(patient, tumor, form, failures=[], status=409)
    decision = None
    if tumor is None and patient.tumors:
        decision, stop = _primary_decision(patient, values)
        if stop is not None:
            return _render_abstract(patient, None, form, failures=[], status=stop[1], items=items,
                                    primary_check=stop[0])
    try:
        saved = save_abstract(patient.id, tumor.id if tumor else None, patient_changes, tumor_changes,
                              actor=current_user, patient_version=_int(form.patient_version.data),
                              tumor_version=_int(form.tumor_version.data) if tumor else None, decision=decision)
    except Conflict as exc:
        db_session.rollback()
        patient = _patient(patient_id)
        tumor = _tumor(patient, tumor_id) if tumor_id is not None else None
        flash("Not saved: someone else saved this abstract after you opened it. Their changes are listed "
              "below; your entries are still in the form.", "error")
        form.patient_version.data = patient.version
        if tumor is not None:
            form.tumor_version.data = tumor.version
        return _render_abstract(patient, tumor, form, failures=[], conflict=exc, status=409, items=items)
    except InvalidInput as exc:
        db_session.rollback()
        patient = _patient(patient_id)
        tumor = _tumor(patient, tumor_id) if tumor_id is not None else None
        named = _form_names(exc.errors)
        items_named = {k: v for k, v in named.items() if k.partition(".")[0] in (*ITEM_STORES, PATIENT_STORE)}
        rest = _attach_errors(form, {k: v for k, v in named.items() if k not in items_named})
        flash("Nothing was saved: correct the fields marked below.", "error")
        return _render_abstract(patient, tumor, form, failures=[], status=422, items=items,
                                item_errors=items_named | rest)
    flash("Saved as in progress.", "ok")
    return redirect(url_for("abstracts.abstract", patient_id=patient.id, tumor_id=saved.id))


#: The reason a registrar gives for creating an abstract the rules call the same primary as an existing one.
OVERRIDE_FIELD = "mp_override_reason"
ANSWER_PREFIX = "mp_answer."


def _primary_decision(patient: Patient, values: dict[str, dict[str, Any]]
                      ) -> tuple[primaries.PrimaryDecision | None, tuple[dict[str, Any], int] | None]:
    """The multiple-primary rules for a new abstract against each of the patient's tumors.

    Returns the decision to save with the abstract, or what to show instead of saving (and its status):
    the verdicts, while a verdict is SINGLE_PRIMARY or QUESTIONABLE and the registrar has not chosen
    *Create as a new primary* (with a reason where the rules call it the same primary)."""
    raw = {name[len(ANSWER_PREFIX):]: value for name, value in request.form.items() if name.startswith(ANSWER_PREFIX)}
    check: dict[str, Any] = {"pending": True, "answers": {k: v for k, v in raw.items() if v},
                             "reason": (request.form.get(OVERRIDE_FIELD) or "").strip(), "error": ""}
    try:
        answers = primaries.parse_answers(raw, field_name="answer")
    except ValueError as exc:
        check.update(verdicts=primaries.verdicts(values["tumor"], sorted(patient.tumors, key=lambda t: t.id)),
                     error=str(exc))
        return None, (check, 422)
    found = primaries.verdicts(values["tumor"], sorted(patient.tumors, key=lambda t: t.id), answers)
    check["verdicts"] = found
    decision = primaries.PrimaryDecision(found, answers, check["reason"] or None)
    if not primaries.needs_decision(found):
        return (decision if answers else None), None
    if request.form.get("mp_decision") != "create":
        flash("Not saved yet: the multiple-primary rules question this abstract. Read the verdicts below, then "
              "open the existing abstract or create this one as a new primary.", "error")
        return None, (check, 200)
    if decision.same_primary and not check["reason"]:
        check["error"] = ("Reason for creating a new primary: required, because the rules call this tumor the "
                          "same primary as an existing abstract")
        flash("Nothing was saved: give the reason for creating a new primary.", "error")
        return None, (check, 422)
    if len(check["reason"]) > 1000:
        check["error"] = "Reason for creating a new primary: at most 1000 characters"
        return None, (check, 422)
    return decision, None


@blueprint.route("/patients/<int:patient_id>/tumors/<int:tumor_id>/same-primary", methods=["POST"])
@roles_required(Role.REGISTRAR, Role.ADMIN)
def open_same_primary(patient_id: int, tumor_id: int) -> Response:
    """The registrar agrees the new report is the existing primary: recorded, then its abstract opens to update."""
    patient = _patient(patient_id)
    tumor = _tumor(patient, tumor_id)
    form = AbstractForm()
    if not form.validate():
        abort(400, refused(form))
    verdict = next(iter(primaries.verdicts(submitted_values(form)["tumor"], [tumor])), None)
    record_primary_decision(patient.id, tumor.id, verdict, actor=current_user)
    flash(f"Recorded: the new report is the same primary as the tumor {tumor.described}. "
          "Update this abstract with what it adds.", "ok")
    return redirect(url_for("abstracts.abstract", patient_id=patient.id, tumor_id=tumor.id))


def refused(form: Any) -> str:
    """Why a posted form was refused, naming each field, for the 400 page."""
    def label(name: str) -> str:
        field = getattr(form, name, None)
        return field.label.text if field is not None else name
    named = "; ".join(f"{label(name)}: {' '.join(str(m).rstrip('.') for m in messages)}"
                      for name, messages in form.errors.items())
    return (named or "the form could not be read") + "."


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
    items = _posted_items()
    stage = _stage(patient, tumor, form, _stores(tumor, items))
    invalid.update({k: v for k, v in _stage_problems(stage, items).items() if k.split(".")[-1] not in invalid})
    invalid.update(_item_problems(items))
    failures = [_failure_dict(f) for f in edits_for(patient, tumor, values, invalid)]
    return jsonify(invalid=invalid, failures=failures)


@blueprint.route("/patients/<int:patient_id>/tumors/<int:tumor_id>/stage", methods=["POST"])
@roles_required(*PHI_ROLES)
def stage_section(patient_id: int, tumor_id: int) -> tuple[str, int] | str:
    """The Stage section redrawn for the values in the form (site, histology, discriminators changed), unsaved."""
    patient = _patient(patient_id)
    tumor = _tumor(patient, tumor_id) if tumor_id else None
    form = AbstractForm()
    if not form.validate():
        abort(400, refused(form))
    stage = _stage(patient, tumor, form, _stores(tumor, _posted_items()))
    stage["item_errors"] = {}
    return render_template_string('{% from "abstracts/_macros.html" import stage_body %}'
                                  '{{ stage_body(form, stage, terms, {}) }}', form=form, stage=stage,
                                  terms=_terms(form))


def edits_for(patient: Patient, tumor: Tumor | None, values: dict[str, dict[str, Any]],
              invalid: dict[str, str] | None = None) -> list[Any]:
    """Run the edits as if ``values`` were saved (invalid fields left as stored): the failures for this
    tumor and its patient."""
    invalid = invalid or {}
    load_tumors(db_session(), patient)
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
    if action not in WORKFLOW_ACTIONS:
        abort(400, f"action: '{action[:40]}' is not one of {', '.join(WORKFLOW_ACTIONS)}.")
    if not form.validate_on_submit():
        abort(400, refused(form))
    target, needs_comment = WORKFLOW_ACTIONS[action]
    comment = (form.comment.data or "").strip()
    back = redirect(url_for("abstracts.abstract", patient_id=patient.id, tumor_id=tumor.id))
    if needs_comment and not comment:
        flash("Returning an abstract needs a comment saying what to fix.", "error")
        return back
    try:
        set_workflow_state(tumor.id, target, actor=current_user, comment=comment or None,
                           expected_version=_int(form.tumor_version.data))
    except InvalidInput as exc:
        flash(f"Abstract not completed: {len(exc.errors)} required item(s) missing.", "error")
        for message in exc.errors.values():
            flash(message, "error")
        return back
    except (NotAllowed, Conflict) as exc:
        flash(str(exc), "error")
        return back
    flash({"complete": "Abstract completed; it now awaits review.", "reviewed": "Abstract marked reviewed.",
           "return": "Abstract returned to the registrar.", "reopen": "Abstract reopened."}[action], "ok")
    return back


@blueprint.route("/patients/<int:patient_id>/tumors/<int:tumor_id>/delete", methods=["POST"])
@roles_required(Role.REGISTRAR, Role.ADMIN)
def delete_abstract(patient_id: int, tumor_id: int) -> Response:
    """Delete an abstract entered in error (in progress, never submitted); the reason goes to the audit trail."""
    patient = _patient(patient_id)
    tumor = _tumor(patient, tumor_id)
    form = WorkflowForm()
    if not form.validate_on_submit():
        abort(400, refused(form))
    reason = (request.form.get("reason") or "").strip()
    back = redirect(url_for("abstracts.abstract", patient_id=patient.id, tumor_id=tumor.id))
    if not reason:
        flash("Deleting an abstract needs a reason (e.g. entered in error, duplicate of another abstract).", "error")
        return back
    described = tumor.described
    try:
        delete_tumor(tumor.id, actor=current_user, expected_version=_int(form.tumor_version.data), reason=reason[:500])
    except (NotAllowed, Conflict) as exc:
        flash(str(exc), "error")
        return back
    flash(f"Abstract {described} deleted; the patient's sequence numbers were proposed again.", "ok")
    return redirect(url_for("abstracts.patient", patient_id=patient.id))


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
    note = lookup_note(system)
    return jsonify(system=system, results=found, **({"note": note} if note else {}))


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
    confirm = ConfirmForm()
    if not confirm.validate_on_submit():
        abort(400, refused(confirm))
    before = db_session.get(SuspenseCase, case_id)
    reviewing = before is not None and before.tumor_id is not None
    try:
        tumor = casefinding.abstract_suspense_case(case_id, actor=current_user)
    except (NotFound, NotAllowed) as exc:
        flash(str(exc), "error")
        return redirect(url_for("abstracts.suspense"))
    flash("The abstract of this case is open: check it against the corrected report." if reviewing
          else "Abstract started from the suspense case.", "ok")
    case = db_session.get(SuspenseCase, case_id)
    _values, provenance = casefinding.suggested_tumor_values(db_session, case)
    if provenance:
        flash("Suggested by casefinding, check each: " + "; ".join(provenance), "info")
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
    confirm = ConfirmForm()
    if not confirm.validate_on_submit():
        abort(400, refused(confirm))
    try:
        tokens.revoke_token(token_id, actor=current_user)
        flash("Token revoked.", "ok")
    except NotFound as exc:
        flash(str(exc), "error")
    return redirect(url_for("abstracts.account"))
