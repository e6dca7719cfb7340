"""``flask --app wsgi casefinding import FILE...``: each file taken in or refused, with a line per message
saying which, why, and a summary; the exit code says whether anything was refused."""
import shutil

from sqlalchemy import select

from registry.db import db_session
from registry.models import AuditEntry, CasefindingReport, SuspenseCase
from tests.casefinding.test_intake import EPATH, count, message


def test_import_reports_taken_and_refused_files(app, tmp_path):
    good = shutil.copy(EPATH / "hl7v2/sdc-cdm/obx-Adrenal.hl7", tmp_path / "adrenal.hl7")
    bad = shutil.copy(EPATH / "hl7v2/imsweb-layout/fake-naaccr-hl7-bad1.txt", tmp_path / "bad1.txt")
    result = app.test_cli_runner().invoke(args=["casefinding", "import", str(good), str(bad)])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    report_id = db_session.scalar(select(CasefindingReport.id))
    case_id = db_session.scalar(select(SuspenseCase.id))
    assert lines == [
        f"taken: adrenal.hl7 message 1 (202102231900400001): case {case_id}, report {report_id}, reportable, new case",
        "adrenal.hl7: 1 report(s) taken in (1 reportable, 0 not), 0 refused",
        f"refused: bad1.txt message 1 (2004072813390045): {lines[2].split(': ', 2)[2]}",
        "bad1.txt: 0 report(s) taken in (0 reportable, 0 not), 1 refused",
    ]
    assert "segment 8 'Something unexpected...' is not an ORU^R01 segment" in lines[2]
    assert "100% 1 of 1 reports stored" in result.stderr
    assert count(CasefindingReport) == 1 and count(SuspenseCase) == 1
    assert db_session.scalar(select(AuditEntry.username).where(AuditEntry.action == "casefinding_intake")) \
        == "casefinding-import"


def test_import_exit_codes_all_taken_and_missing_file(app, tmp_path):
    good = tmp_path / "one.hl7"
    good.write_text(message("C1"))
    taken = app.test_cli_runner().invoke(args=["casefinding", "import", str(good)])
    assert taken.exit_code == 0, taken.output
    assert taken.stdout.splitlines()[-1] == "one.hl7: 1 report(s) taken in (1 reportable, 0 not), 0 refused"
    missing = app.test_cli_runner().invoke(args=["casefinding", "import", str(tmp_path / "nowhere.hl7")])
    assert missing.exit_code == 2 and f"{tmp_path / 'nowhere.hl7'}: no such file" in missing.stderr
    garbage = tmp_path / "notes.txt"
    garbage.write_text("hello there")
    refused = app.test_cli_runner().invoke(args=["casefinding", "import", str(garbage)])
    assert refused.exit_code == 1
    assert refused.stdout.startswith("refused: notes.txt: ") and "neither an HL7 v2 message" in refused.stdout
