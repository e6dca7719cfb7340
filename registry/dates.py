"""NAACCR partial dates: ``CCYYMMDD`` where the day, or the month and day, may be unknown.

Stored the way NAACCR XML carries them, with unknown parts left off (``2008``, ``200801``,
``20080115``). Nothing here ever invents a missing part: comparisons answer ``None`` when the
known parts cannot decide.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_FORMS = re.compile(r"^(\d{4})(\d{2})?(\d{2})?$")
MIN_YEAR = 1850


class InvalidDate(ValueError):
    """A value that is not a NAACCR date; the message says why in the registrar's terms."""


@dataclass(frozen=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, value: str) -> PartialDate:
        """Read ``CCYY``, ``CCYYMM`` or ``CCYYMMDD``; flat-file blanks (``2008    ``) are accepted too."""
        text = (value or "").strip()
        if len(value or "") == 8 and " " in value:
            text = value.rstrip()
        match = _FORMS.match(text)
        if not match:
            raise InvalidDate(f"'{value}' is not a date in CCYYMMDD form (day or month may be left off)")
        year = int(match.group(1))
        month = int(match.group(2)) if match.group(2) else None
        day = int(match.group(3)) if match.group(3) else None
        if year < MIN_YEAR:
            raise InvalidDate(f"'{value}': year {year} is before {MIN_YEAR}")
        if month is not None and not 1 <= month <= 12:
            raise InvalidDate(f"'{value}': month {month:02d} does not exist")
        if day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
            raise InvalidDate(f"'{value}': day {day:02d} does not exist in {year}-{month:02d}")
        return cls(year, month, day)

    @classmethod
    def from_date(cls, value: dt.date) -> PartialDate:
        return cls(value.year, value.month, value.day)

    def __str__(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"{self.month:02d}"
            if self.day is not None:
                text += f"{self.day:02d}"
        return text

    @property
    def is_complete(self) -> bool:
        return self.day is not None

    def earliest(self) -> dt.date:
        """The first calendar day this date can be."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> dt.date:
        """The last calendar day this date can be."""
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return dt.date(self.year, month, day)

    def compare(self, other: PartialDate) -> int | None:
        """-1, 0 or 1 when the known parts decide the order; None when they cannot.

        0 means the same day for two complete dates, or the same partial value (``2008`` vs
        ``2008``); ``2008`` vs ``20080315`` is undecidable.
        """
        if self.latest() < other.earliest():
            return -1
        if self.earliest() > other.latest():
            return 1
        if self == other:
            return 0
        return None

    def certainly_before(self, other: PartialDate) -> bool:
        return self.latest() < other.earliest()

    def certainly_after(self, other: PartialDate) -> bool:
        return self.earliest() > other.latest()

    def possibly_before(self, other: PartialDate) -> bool:
        """True unless the known parts prove ``self`` is on or after ``other``."""
        return self.earliest() < other.latest()


def parse_optional(value: str | None) -> PartialDate | None:
    """None for a blank value, else the parsed date."""
    if value is None or not str(value).strip():
        return None
    return PartialDate.parse(str(value))


def date_problem(value: str) -> str | None:
    """The reason ``value`` is not a valid NAACCR date, or None when it is."""
    try:
        PartialDate.parse(value)
    except InvalidDate as exc:
        return str(exc)
    return None


def display_date(value: str | None) -> str:
    """``20080115`` → ``2008-01-15``, ``200801`` → ``2008-01``; blank stays blank, bad text is shown as is."""
    if not value:
        return ""
    try:
        date = PartialDate.parse(value)
    except InvalidDate:
        return value
    return "-".join(part for part in (f"{date.year:04d}", date.month and f"{date.month:02d}",
                                      date.day and f"{date.day:02d}") if part)


def display_zone(name: str | None = None) -> dt.tzinfo:
    """The zone times are shown in: ``name`` (an IANA zone such as America/Chicago), else the server's own."""
    if name:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"REGISTRY_TIMEZONE {name!r} is not a time zone name such as America/Chicago") from None
    zone = dt.datetime.now().astimezone().tzinfo
    return zone if zone is not None else dt.timezone.utc


def display_time(value: dt.datetime | None, zone: dt.tzinfo | None = None, *, seconds: bool = False) -> str:
    """A stored time (UTC; SQLite hands it back without its zone) as people read it: local, to the minute,
    with the zone's abbreviation (``2026-12-05 12:04 CST``)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(zone or display_zone()).strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")
