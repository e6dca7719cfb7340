"""Partial NAACCR dates: parsing, validation and honest comparison."""
import pytest
from hypothesis import given, strategies as st

from registry.dates import InvalidDate, PartialDate, date_problem


@pytest.mark.parametrize("text, parts", [
    ("2008", (2008, None, None)), ("200802", (2008, 2, None)), ("20080229", (2008, 2, 29)),
    ("2008    ", (2008, None, None)), ("200802  ", (2008, 2, None)),
])
def test_parse_keeps_unknown_parts_unknown(text, parts):
    date = PartialDate.parse(text)
    assert (date.year, date.month, date.day) == parts
    assert str(date) == text.strip()


@pytest.mark.parametrize("text, reason", [
    ("20070229", "day 29 does not exist"), ("200813", "month 13"), ("2008011", "CCYYMMDD"),
    ("18000101", "before 1850"), ("abcd", "CCYYMMDD"), ("", "CCYYMMDD"), ("2008  15", "CCYYMMDD"),
])
def test_invalid_dates_say_why(text, reason):
    with pytest.raises(InvalidDate, match=reason):
        PartialDate.parse(text)
    assert reason in date_problem(text)


def test_comparison_is_undecided_when_unknown_parts_overlap():
    year, day_in_year, next_year = PartialDate.parse("2008"), PartialDate.parse("20080315"), PartialDate.parse("2009")
    assert year.compare(day_in_year) is None
    assert year.compare(next_year) == -1 and next_year.compare(day_in_year) == 1
    assert PartialDate.parse("200803").compare(PartialDate.parse("20080415")) == -1
    assert PartialDate.parse("200803").compare(PartialDate.parse("200803")) == 0
    assert year.possibly_before(day_in_year) and not next_year.possibly_before(day_in_year)
    assert not year.certainly_before(day_in_year)


def test_bounds_never_invent_a_day():
    date = PartialDate.parse("200802")
    assert (date.earliest().isoformat(), date.latest().isoformat()) == ("2008-02-01", "2008-02-29")
    assert not date.is_complete


@given(st.dates(min_value=__import__("datetime").date(1850, 1, 1)), st.integers(0, 2))
def test_any_calendar_date_round_trips_at_every_precision(day, cut):
    text = day.strftime("%Y%m%d")[: 8 - 2 * cut]
    parsed = PartialDate.parse(text)
    assert str(parsed) == text
    assert parsed.earliest() <= day <= parsed.latest()
