"""The reportability screener: the SEER/IMS sample report and the negation rules."""
import json
from collections import Counter

import pytest

from abstracts.epath.screening import NON_REPORTABLE, REPORTABLE, Screener, read_keywords, screen
from registry.errors import InvalidInput
from tests.reference import REFERENCE_DIR

SCREENER_DIR = REFERENCE_DIR / "epath" / "reportability" / "imsweb-reportability-screener"


def test_sample_report_path1_as_the_screener_states():
    text = (SCREENER_DIR / "samples" / "path1.txt").read_text()
    result = screen(text)
    groups = Counter(m.group for m in result.matches)
    assert result.result == REPORTABLE
    assert groups == {"Positive": 17, "Negative": 1, "Other": 20}
    assert "lymphoma" in [m.text for m in result.keywords("Positive")]
    assert [m.text for m in result.keywords("Negative")] == ["history"]
    assert "blood" in [m.text for m in result.keywords("Other")]
    for match in result.matches:
        assert text[match.start:match.end + 1] == match.text


@pytest.mark.parametrize("text, expected", [("not cancer", NON_REPORTABLE), ("not cancer cancer", REPORTABLE),
                                            ("NOT CANCER", NON_REPORTABLE), ("", NON_REPORTABLE),
                                            ("Invasive carcinoma", REPORTABLE)])
def test_negation_cancels_only_the_keyword_it_covers(text, expected):
    assert screen(text).result == expected


def test_json_contract_end_inclusive_and_text_is_the_slice():
    result = json.loads(screen("not cancer cancer").dumps())
    assert set(result) == {"result", "keywords"}
    assert result["result"] == "REPORTABLE"
    assert {"text": "cancer", "group": "Positive", "start": 11, "end": 16} in result["keywords"]
    assert {"text": "not cancer", "group": "Negative", "start": 0, "end": 9} in result["keywords"]
    for keyword in result["keywords"]:
        assert set(keyword) == {"text", "group", "start", "end"}


def test_whole_words_only_and_overlap_cancels():
    screener = Screener([("tumor", "Positive"), ("no tumor seen", "Negative"), ("tumor seen here", "Other")])
    assert screener.screen("tumors").matches == ()
    result = screener.screen("no tumor seen here")
    assert result.result == NON_REPORTABLE
    assert [(m.group, m.cancelled) for m in result.matches] == [("Negative", False), ("Positive", True),
                                                                ("Other", False)]
    assert Screener([("tumor", "Positive"), ("seen", "Negative")]).screen("tumor seen").result == REPORTABLE


def test_bad_keyword_line_named():
    with pytest.raises(InvalidInput) as caught:
        read_keywords(["carcinoma|Positive", "sarcoma|Maybe"], source="mine.txt")
    assert "line 2" in str(caught.value) and "mine.txt" in str(caught.value)


def test_cli_screen_prints_one_json_object(tmp_path):
    from click.testing import CliRunner

    from abstracts.epath.cli import screen_command
    keywords = tmp_path / "k.txt"
    keywords.write_text("sarcoma|Positive\nno sarcoma|Negative\n")
    runner = CliRunner()
    out = runner.invoke(screen_command, ["--text", "no sarcoma; sarcoma", "--keywords", str(keywords)])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {"result": "REPORTABLE", "keywords": [
        {"text": "no sarcoma", "group": "Negative", "start": 0, "end": 9},
        {"text": "sarcoma", "group": "Positive", "start": 3, "end": 9},
        {"text": "sarcoma", "group": "Positive", "start": 12, "end": 18}]}
    sample = runner.invoke(screen_command, ["--file", str(SCREENER_DIR / "samples" / "path1.txt")])
    assert json.loads(sample.output)["result"] == "REPORTABLE"
    assert runner.invoke(screen_command, []).exit_code == 2
