"""Re-derivation after a new version: every affected abstract staged again, what changed reported."""
import csv

from sqlalchemy import func, select

from abstracts.operations import create_patient, create_tumor
from registry.audit import SYSTEM
from registry.db import db_session
from registry.models import AuditEntry, Job, Tumor

from .conftest import EOD
from .test_derive import CASES, tumor_data


def test_rederive_after_a_new_version_reports_what_changed(app, install, eod_next):
    install(EOD)
    patient = create_patient({"date_of_birth": "19600312", "sex": "2"}, actor=SYSTEM)
    breast_l = create_tumor(patient.id, CASES["breast"][0], actor=SYSTEM)          # ext 100
    breast_re = create_tumor(patient.id, CASES["breast regional"][0], actor=SYSTEM)
    colon = create_tumor(patient.id, CASES["colon"][0], actor=SYSTEM)
    old = create_tumor(patient.id, tumor_data("C504", "8500", dx="2016", ext="100"), actor=SYSTEM)
    assert breast_l.derived_summary_stage_2018 == "1" and old.staging_algorithm is None
    ids = {"breast_l": breast_l.id, "breast_re": breast_re.id, "colon": colon.id, "old": old.id}
    install(eod_next)  # extension_bak 100 is regional (RE) in '3.4': breast L/NONE/NONE becomes RE/NONE/NONE = 2
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staging", "rederive", "--algorithm", "eod_public"])
    assert result.exit_code == 0, result.output
    assert ("re-derived 3 tumors with eod_public 3.4: 1 with changed values, 2 with only the algorithm version "
            "updated, 0 unchanged") in result.output
    assert "changed: derived_summary_stage_2018 1" in result.output and "results: STAGED 3" in result.output
    job = db_session.scalars(select(Job)).one()
    assert (job.kind, job.status.value, job.progress) == ("staging-rederive", "finished", 100)
    rows = list(csv.DictReader(open(job.result_file, encoding="utf-8")))
    assert [(r["tumor_id"], r["derived_summary_stage_2018_before"], r["derived_summary_stage_2018_after"],
             r["staging_algorithm_before"], r["staging_algorithm_after"]) for r in rows] == [
        (str(ids["breast_l"]), "1", "2", "eod_public 3.3", "eod_public 3.4")]
    stored = {t.id: (t.derived_summary_stage_2018, t.staging_algorithm) for t in db_session.scalars(select(Tumor))}
    assert stored == {ids["breast_l"]: ("2", "eod_public 3.4"), ids["breast_re"]: ("4", "eod_public 3.4"),
                      ids["colon"]: ("1", "eod_public 3.4"), ids["old"]: (None, None)}
    assert db_session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "staging_rederive:eod_public-3.4:update")) == 3
    again = runner.invoke(args=["staging", "rederive", "--algorithm", "eod_public"])
    assert "0 with changed values, 0 with only the algorithm version updated, 3 unchanged" in again.output


def test_rederive_refuses_what_it_cannot_do(app, no_reference_tables, install):
    runner = app.test_cli_runner()
    none = runner.invoke(args=["staging", "rederive", "--algorithm", "eod_public"])
    assert none.exit_code == 1 and "none is installed; install one with" in none.output
    other = runner.invoke(args=["staging", "rederive", "--algorithm", "cs"])
    assert other.exit_code == 1 and "'cs' is not derived into the abstracts" in other.output
    assert db_session.scalar(select(func.count(Job.id))) == 0
