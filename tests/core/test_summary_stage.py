"""The stage of a tumor: the precedence rule in Python and in SQL (SQLite and PostgreSQL), and both forms
agreeing over every combination of diagnosis date and stage items."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import insert, select

from abstracts.operations import create_patient
from registry.audit import SYSTEM, operation
from registry.db import db_session
from registry.models import Tumor
from registry.summary_stage import SOURCES, SummaryStage, summary_stage, summary_stage_sql

# (date of diagnosis [390], SS2018 [764], derived SS2018 [762], SS2000 [759]) -> (code, scheme)
RULE = [
    (("20190412", "3", "1", None), ("3", "SS2018")),          # coded over derived
    (("20190412", "9", "1", None), ("9", "SS2018")),          # a coded unknown is still the coded stage
    (("20190412", None, "1", None), ("1", "SS2018 derived")),  # derived when nothing is coded
    (("201904", "", "1", None), ("1", "SS2018 derived")),      # blank is not coded
    (("2018", None, "7", None), ("7", "SS2018 derived")),      # first year of SS2018, year-only date
    (("20171231", None, None, "2"), ("2", "SS2000")),          # SS2000 before 2018
    (("20150601", "1", "1", "7"), ("7", "SS2000")),            # 2018 items are not read before 2018
    (("20150601", "1", "1", None), (None, None)),
    (("20200101", None, None, "4"), (None, None)),            # SS2000 is not read from 2018
    (("20200101", None, None, None), (None, None)),           # unknown when nothing is coded
    ((None, None, None, "5"), ("5", "SS2000")),               # unknown year: any item, in order
    (("", None, "0", "5"), ("0", "SS2018 derived")),
    ((None, "2", "0", "5"), ("2", "SS2018")),
]
COLUMNS = ("date_of_diagnosis", "summary_stage_2018", "derived_summary_stage_2018", "summary_stage_2000")


@pytest.mark.parametrize("values, expected", RULE)
def test_rule_in_python(values, expected):
    record = dict(zip(COLUMNS, values))
    assert summary_stage(record) == expected
    assert Tumor(**record).stage_at_diagnosis == expected


def test_page_text_names_the_scheme():
    assert SummaryStage("1", "SS2018 derived").text == "Localized only (SS2018 derived)"
    assert SummaryStage("5", "SS2000").text == "Regional, NOS (SS2000)"
    assert SummaryStage(None, None).text == ""


def _insert(rows: list[dict]) -> list[int]:
    patient = create_patient({"date_of_birth": "19500101", "sex": "2"}, actor=SYSTEM)
    with operation(SYSTEM, "test_tumors") as session:
        return list(session.scalars(insert(Tumor).returning(Tumor.id),
                                    [dict(row, patient_id=patient.id) for row in rows]))


def test_rule_in_sql(app):
    ids = _insert([dict(zip(COLUMNS, values)) for values, _ in RULE])
    code, scheme = summary_stage_sql()
    found = {i: (c, s) for i, c, s in db_session.execute(select(Tumor.id, code, scheme).where(Tumor.id.in_(ids)))}
    assert [found[i] for i in ids] == [expected for _, expected in RULE]


def test_python_and_sql_agree_over_every_combination(app):
    dates = [None, "", "1999", "20001231", "2017", "201712", "20171231", "2018", "201801", "20180101", "20251130"]
    codes = [None, "", "0", "1", "4", "7", "9"]
    rows = [dict(zip(COLUMNS, combo)) for combo in itertools.product(dates, codes, codes, codes)]
    _insert(rows)
    stmt = select(Tumor.summary_stage, Tumor.summary_stage_scheme, *(getattr(Tumor, c) for c in COLUMNS))
    results = db_session.execute(stmt).all()
    assert len(results) == len(rows)
    schemes = set()
    for row in results:
        assert (row.summary_stage, row.summary_stage_scheme) == summary_stage(row), row
        schemes.add(row.summary_stage_scheme)
    assert schemes == {None, *(s.scheme for s in SOURCES)}
    for tumor in db_session.scalars(select(Tumor).limit(300)):
        assert (tumor.summary_stage, tumor.summary_stage_scheme) == tuple(summary_stage(tumor))
