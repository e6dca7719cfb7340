"""Administrator page: the installed reference tables, and installing one from an uploaded file."""
from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from registry.audit import Actor
from registry.auth import roles_required
from registry.models import Role
from registry.reference import KINDS, InvalidReference, install, installed
from registry.reference.cli import reference_store

blueprint = Blueprint("reference", __name__, url_prefix="/admin/reference", template_folder="../templates")


def _page(error: str | None = None, kind: str | None = None) -> str:
    from registry.reference import kinds  # noqa: F401 - registers the built-in kinds
    return render_template("reference/list.html", records=installed(), kinds=KINDS, error=error, chosen=kind)


@blueprint.route("/")
@roles_required(Role.ADMIN)
def list_installed() -> str:
    return _page()


def _upload_name(filename: str | None) -> str | None:
    """The uploaded file's own name without any folders, or None when there is no usable name."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    return name if name not in ("", ".", "..") and "\0" not in name else None


@blueprint.route("/install", methods=["POST"])
@roles_required(Role.ADMIN)
def upload() -> Response | tuple[str, int]:
    """Install an uploaded file with the CLI's own ``install``: same checks, audited, all or nothing.

    The file is saved under its own name in a private temporary folder, so the install record's
    source file is the name the administrator chose, and nothing is left behind either way.
    """
    from registry.reference import kinds  # noqa: F401 - registers the built-in kinds
    kind = request.form.get("kind", "")
    upload = request.files.get("file")
    name = _upload_name(upload.filename if upload else None)
    if kind not in KINDS:
        return _page(f"Choose what kind of reference file this is: one of {', '.join(sorted(KINDS))}."), 400
    if upload is None or name is None:
        return _page("Choose a file to install.", kind), 400
    with tempfile.TemporaryDirectory(prefix="reference-upload-") as folder:
        path = Path(folder) / name
        upload.save(path)
        try:
            record = install(kind, path, actor=Actor.of(current_user), store=reference_store())
        except InvalidReference as exc:  # a checker may name the file by its path: the temporary one means nothing here
            return _page(f"Nothing was installed: {str(exc).replace(str(path), name)}", kind), 400
    flash(f"Installed {record.kind} {record.name} version {record.version} ({record.summary}) "
          f"from {record.source_file}.", "ok")
    return redirect(url_for("reference.list_installed"))
