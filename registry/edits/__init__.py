"""Edits: checks every abstract must pass, kept as data and run by a small engine (no Flask here)."""
from registry.edits.catalog import all_edits, edit_by_id
from registry.edits.engine import Edit, EditFailure
from registry.edits.records import naaccr_id_map, records_from_orm
from registry.edits.runner import run_edits

__all__ = ["Edit", "EditFailure", "all_edits", "edit_by_id", "naaccr_id_map", "records_from_orm", "run_edits"]
