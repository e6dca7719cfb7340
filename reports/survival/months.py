"""SEER survival time in months (seer.cancer.gov/survivaltime), one patient at a time.

Registries store survival months on every tumor so that every report counts the same
days the same way. SEER's rules decide what happens when dates are partial (an unknown
day or month is put in the middle of the range the patient's other dates allow), when
the patient's tumors disagree (everything unknown), for death-certificate-only and
autopsy-only cases (flag 8), and at the study cutoff (31 December of the end-point
year). The results use the NAACCR item ids, so they can be written straight back.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

__all__ = ["survival_time", "parse_naaccr_date", "FLAG_COMPLETE_NO_SURVIVAL",
           "FLAG_COMPLETE_SOME_SURVIVAL", "FLAG_MISSING_ZERO_POSSIBLE",
           "FLAG_MISSING_SOME_SURVIVAL", "FLAG_DCO_AUTOPSY", "FLAG_UNKNOWN"]

FLAG_COMPLETE_NO_SURVIVAL = "0"
FLAG_COMPLETE_SOME_SURVIVAL = "1"
FLAG_MISSING_ZERO_POSSIBLE = "2"
FLAG_MISSING_SOME_SURVIVAL = "3"
FLAG_DCO_AUTOPSY = "8"
FLAG_UNKNOWN = "9"

UNKNOWN_MONTHS = "9999"
UNKNOWN_DAYS = "99999"
DAYS_PER_MONTH = 365.24 / 12
UY, UM, UD = 9999, 99, 99  # unknown year, month, day
_SOME_SURVIVAL = (FLAG_COMPLETE_SOME_SURVIVAL, FLAG_MISSING_SOME_SURVIVAL)


def _int_or(text: Any, unknown: int) -> int:
    text = "" if text is None else str(text).strip()
    return int(text) if text.isdigit() else unknown


def parse_naaccr_date(value: str | None) -> tuple[int, int, int]:
    """Split a NAACCR date (``CCYY``, ``CCYYMM`` or ``CCYYMMDD``) into year, month, day.

    Unknown parts come back as 9999/99/99, the codes the algorithm reasons with; a
    flat-file style ``99`` or blanks in the month or day mean the same.
    """
    text = (value or "").strip()
    year = _int_or(text[0:4], UY) if len(text) >= 4 else UY
    month = _int_or(text[4:6], UM) if len(text) >= 6 else UM
    day = _int_or(text[6:8], UD) if len(text) >= 8 else UD
    if year == UY:
        month = day = UM
    if month == UM:
        day = UD
    return year, month, day


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _drop_invalid_parts(year: int, month: int, day: int, year_for_check: int | None = None
                        ) -> tuple[int, int]:
    """An impossible month makes month and day unknown; an impossible day only the day."""
    check_year = year if year_for_check is None else year_for_check
    if _is_date(check_year, 1 if month == UM else month, 1 if day == UD else day):
        return month, day
    if 1 <= month <= 12:
        return month, UD
    return UM, UD


def _naaccr(year: int, month: int, day: int) -> str:
    return f"{year:04d}{month:02d}{day:02d}"


def _naaccr_partial(year: int, month: int, day: int) -> str:
    """A coded date with its unknown parts left off, as NAACCR XML writes it."""
    if month == UM:
        return f"{year:04d}"
    return f"{year:04d}{month:02d}" if day == UD else _naaccr(year, month, day)


@dataclass(eq=False)
class _Tumor:
    """A diagnosis date as coded (year/month/day) and as imputed (the ``i`` fields)."""
    index: int
    year: int
    month: int
    day: int
    seq: int
    iyear: int = 0
    imonth: int = 0
    iday: int = 0
    out: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.iyear, self.imonth, self.iday = self.year, self.month, self.day

    @property
    def completeness(self) -> int:
        """0 complete, 1 day unknown, 2 month unknown, 3 year unknown."""
        if self.year == UY:
            return 3
        if self.month == UM:
            return 2
        return 1 if self.day == UD else 0


def _date_order(a: _Tumor, b: _Tumor) -> int:
    """Sign of a − b by the known parts of both dates; 0 when they cannot be told apart."""
    for x, y, unknown in ((a.year, b.year, UY), (a.month, b.month, UM), (a.day, b.day, UD)):
        if x == unknown or y == unknown:
            return 0
        if x != y:
            return -1 if x < y else 1
    return 0


def _sequence(value: Any) -> int:
    """Central sequence number as a sort key: non-federal (60–97) always after federal."""
    seq = _int_or(value, -1)
    return seq + 100 if 60 <= seq <= 97 else seq


def _non_federal_goes_earlier(seq: int, same_date: list[_Tumor]) -> bool:
    """A non-federal tumor may move before others with the same possible date only when
    the non-federal ones already placed are in sequence order and it numbers below one."""
    placed = [t.seq for t in same_date if t.seq > 100]
    if not placed or placed != sorted(placed):
        return False
    return seq <= placed[-1]


def _chronological(tumors: list[_Tumor]) -> list[_Tumor]:
    """Order tumors by diagnosis date, then sequence number.

    Complete dates are sorted first; tumors with an unknown day, then month, then year
    are slotted in from the latest end, each after the last tumor that is surely earlier
    or that has the same possible date and a lower sequence number. Doing it in this
    order keeps the result consistent where a plain sort on partial dates would not be.
    """
    groups: list[list[_Tumor]] = [[], [], [], []]
    for tumor in tumors:
        groups[tumor.completeness].append(tumor)
    keys = (lambda t: (t.year, t.month, t.day, t.seq), lambda t: (t.year, t.month, t.seq),
            lambda t: (t.year, t.seq), lambda t: t.seq)
    result = sorted(groups[0], key=keys[0])
    for group, key in zip(groups[1:], keys[1:]):
        for tumor in sorted(group, key=key):
            result.insert(_slot(result, tumor), tumor)
    return result


def _slot(placed: list[_Tumor], tumor: _Tumor) -> int:
    for i in range(len(placed) - 1, -1, -1):
        other = placed[i]
        order = _date_order(tumor, other)
        if order > 0:
            return i + 1
        if order == 0:
            if (tumor.seq < 100 and tumor.seq >= other.seq) or \
                    (tumor.seq > 100 and other.seq > 100 and tumor.seq >= other.seq):
                return i + 1
            if tumor.seq > 100:
                same = [t for t in placed[:i + 1] if _date_order(tumor, t) == 0]
                if not _non_federal_goes_earlier(tumor.seq, same):
                    return i + 1
    return 0


def _impute(chain: list[_Tumor], birth: tuple[int, int, int]) -> None:
    """Fill unknown days, then unknown months, with the middle of the possible range.

    The range is bounded by the neighbouring known dates in the same month (or year),
    and for the earliest date by the birth date.
    """
    b_year, b_month, b_day = birth
    for i, rec in enumerate(chain):
        if rec.imonth == UM or rec.iday != UD:
            continue
        earliest = b_day if (i == 0 and (b_year, b_month) == (rec.iyear, rec.imonth)
                             and b_day != UD) else 0
        prev = next((p for p in reversed(chain[:i]) if p.iday != UD), None)
        if prev is not None and (prev.iyear, prev.imonth) == (rec.iyear, rec.imonth):
            earliest = prev.iday
        earliest = earliest or 1
        nxt = next((n for n in chain[i + 1:] if n.iday != UD), None)
        if nxt is not None and (nxt.iyear, nxt.imonth) == (rec.iyear, rec.imonth):
            latest = nxt.iday
        else:
            latest = calendar.monthrange(rec.iyear, rec.imonth)[1]
        rec.iday = (earliest + latest) // 2
    for i, rec in enumerate(chain):
        if rec.imonth != UM:
            continue
        start = (0, 0)
        if i == 0 and b_year == rec.iyear and b_month != UM:
            start = (b_month, b_day if b_day != UD else 1)
        prev = next((p for p in reversed(chain[:i]) if p.imonth != UM), None)
        if prev is not None and prev.iyear == rec.iyear:
            start = (prev.imonth, prev.iday)
        if start[0] == 0:
            start = (1, 1)
        end = (12, 31)
        nxt = next((n for n in chain[i + 1:] if n.imonth != UM), None)
        if nxt is not None and nxt.iyear == rec.iyear:
            end = (nxt.imonth, nxt.iday)
        first = dt.date(rec.iyear, *start)
        middle = first + dt.timedelta(days=math.floor((dt.date(rec.iyear, *end) - first).days / 2))
        rec.imonth, rec.iday = middle.month, middle.day


def _flag(rec: _Tumor, contact: tuple[int, int, int], days: int, months: int) -> str:
    c_year, c_month, c_day = contact
    if months == 9999:
        return FLAG_UNKNOWN
    if UM in (rec.month, c_month) or UD in (rec.day, c_day):
        if rec.year == c_year and (rec.month == c_month or UM in (rec.month, c_month)):
            return FLAG_MISSING_ZERO_POSSIBLE
        return FLAG_MISSING_SOME_SURVIVAL
    return FLAG_COMPLETE_SOME_SURVIVAL if days > 0 else FLAG_COMPLETE_NO_SURVIVAL


def _run(valid: list[_Tumor], outputs: list[dict], contact: tuple[int, int, int],
         birth: tuple[int, int, int], alive: bool, end_year: int, presume_alive: bool) -> None:
    """One pass of the algorithm: active follow-up, or presumed alive to the cutoff."""
    suffix = "PresumedAlive" if presume_alive else "ActiveFollowup"
    c_year, c_month, c_day = contact
    c_month, c_day = _drop_invalid_parts(c_year, c_month, c_day,
                                         1900 if c_year == UY else c_year)
    last = _Tumor(-1, c_year, c_month, c_day, -1)
    chain = valid + [last]
    b_year, b_month, b_day = birth
    if b_year == UY:
        b_month = b_day = UM
    if b_month == UM:
        b_day = UD
    b_month, b_day = _drop_invalid_parts(b_year, b_month, b_day)
    _impute(chain, (b_year, b_month, b_day))
    if c_year == UY:
        last.imonth = last.iday = UM
    cutoff = (end_year, 12, 31)
    if c_year != UY and c_year > end_year:
        last.iyear, last.imonth, last.iday = cutoff
    if last.iyear != UY:
        for out in outputs:
            out[f"survDate{suffix}"] = _naaccr(last.iyear, last.imonth, last.iday)
    if presume_alive and alive:
        last.iyear, last.imonth, last.iday = cutoff
        for out in outputs:
            out[f"survDate{suffix}"] = _naaccr(*cutoff)
    coded_contact = (last.year, last.month, last.day)
    if (last.iyear, last.imonth, last.iday) == cutoff:
        coded_contact = cutoff
    end = dt.date(last.iyear, last.imonth, last.iday)
    for rec in valid:
        days = (end - dt.date(rec.iyear, rec.imonth, rec.iday)).days
        months = math.floor(days / DAYS_PER_MONTH)
        if months < 0:
            months = 9999
        rec.out[f"survMos{suffix}"] = f"{months:04d}"
        rec.out[f"survDays{suffix}"] = f"{days:05d}" if months != 9999 else UNKNOWN_DAYS
        rec.out[f"survFlag{suffix}"] = _flag(rec, coded_contact, days, months)
        rec.out["survDateDxRecode"] = _naaccr(rec.iyear, rec.imonth, rec.iday)
    later_survival = False
    for rec in reversed(valid):
        flag = rec.out[f"survFlag{suffix}"]
        later_survival = later_survival or flag in _SOME_SURVIVAL
        if flag == FLAG_MISSING_ZERO_POSSIBLE and later_survival:
            rec.out[f"survFlag{suffix}"] = FLAG_MISSING_SOME_SURVIVAL


def _unknown_result() -> dict:
    result = {"survDateDxRecode": None}
    for suffix in ("ActiveFollowup", "PresumedAlive"):
        result.update({f"survDate{suffix}": None, f"survFlag{suffix}": FLAG_UNKNOWN,
                       f"survMos{suffix}": UNKNOWN_MONTHS, f"survDays{suffix}": UNKNOWN_DAYS})
    return result


def _contact_or_unknown(contact: tuple[int, int, int], today: dt.date) -> tuple[int, int, int]:
    """A last contact before 1900 or in the future is no contact at all."""
    year, month, day = contact
    future = year > today.year or (year == today.year and (
        (month <= 12 and month > today.month)
        or (month == today.month and _is_date(year, month, day) and day > today.day)))
    if year < 1900 or future:
        return UY, UM, UD
    return contact


def survival_time(tumors: Iterable[Mapping[str, Any]], end_point_year: int,
                  today: dt.date | None = None) -> list[dict[str, Any]]:
    """SEER survival time for all the tumors of one patient.

    ``tumors`` are dicts keyed by NAACCR XML ids (``dateOfDiagnosis``,
    ``dateOfLastContact``, ``dateOfBirth`` as NAACCR dates with unknown parts left off;
    ``vitalStatus`` 0 dead / 1 alive, ``typeOfReportingSource``,
    ``sequenceNumberCentral``). Returns one dict per tumor, in input order, with
    ``survDateActiveFollowup``, ``survFlagActiveFollowup``, ``survMosActiveFollowup``,
    ``survDatePresumedAlive``, ``survFlagPresumedAlive``, ``survMosPresumedAlive``,
    ``survDateDxRecode`` (dates as ``CCYYMMDD``, months as 4 digits, 9999 unknown) and,
    beyond the NAACCR items, ``survDaysActiveFollowup``/``survDaysPresumedAlive``
    (99999 unknown), ``vitalStatusRecode`` (status at the cutoff; None when the tumors
    disagree) and ``sortedIndex`` (1-based chronological rank). ``today`` bounds the last
    contact (a future contact counts as unknown); it defaults to the current date.
    """
    records = list(tumors)
    if not records:
        return []
    today = today or dt.date.today()
    outputs = [_unknown_result() for _ in records]
    internal = []
    for i, (record, out) in enumerate(zip(records, outputs)):
        year, month, day = parse_naaccr_date(record.get("dateOfDiagnosis"))
        internal.append(_Tumor(i, year, month, day, _sequence(record.get("sequenceNumberCentral")),
                               out=out))

    def finish(status: str | None) -> list[dict]:
        for rank, tumor in enumerate(_chronological(internal), start=1):
            tumor.out["sortedIndex"] = rank
        for out in outputs:
            out["vitalStatusRecode"] = status
        return outputs

    first = records[0]
    contact_text = (first.get("dateOfLastContact") or "").strip()
    status_text = (str(first.get("vitalStatus") or "")).strip()
    contacts = {(r.get("dateOfLastContact") or "").strip() for r in records}
    statuses = {str(r.get("vitalStatus") or "").strip() for r in records}
    if len(statuses) > 1:
        return finish(None)
    if len(contacts) > 1:
        return finish(status_text or None)

    contact = _contact_or_unknown(parse_naaccr_date(contact_text), today)
    alive = _int_or(status_text, 9) == 1
    status = status_text or None
    if contact[0] != UY and contact[0] > end_point_year:
        status = "1"
    birth = parse_naaccr_date(first.get("dateOfBirth"))

    valid = []
    for tumor in internal:
        if tumor.year == UY or not 1900 <= tumor.year <= end_point_year:
            continue
        tumor.month, tumor.day = _drop_invalid_parts(tumor.year, tumor.month, tumor.day)
        tumor.reset()
        tumor.out["survDateDxRecode"] = _naaccr_partial(tumor.year, tumor.month, tumor.day)
        valid.append(tumor)
    valid = _chronological(valid)

    for presume_alive in (False, True):
        for tumor in valid:
            tumor.reset()
        if contact[0] != UY or (presume_alive and alive):
            _run(valid, outputs, contact, birth, alive, end_point_year, presume_alive)
    for tumor, record in zip(internal, records):
        if tumor in valid and str(record.get("typeOfReportingSource") or "").strip() in ("6", "7"):
            for suffix in ("ActiveFollowup", "PresumedAlive"):
                tumor.out[f"survMos{suffix}"] = UNKNOWN_MONTHS
                tumor.out[f"survDays{suffix}"] = UNKNOWN_DAYS
                tumor.out[f"survFlag{suffix}"] = FLAG_DCO_AUTOPSY
    return finish(status)
