"""Patient search tolerant of spelling, and the duplicate check before a new patient.

The database narrows the field with stored keys (the folded last name's first letter, the Soundex
digits under any first letter) and the other criteria; Python scores each distinct candidate last
name once (trigram and edit similarity) and the patients bearing the close ones by first name too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, bindparam, func, select, union, union_all

from registry.db import db_session
from registry.models import Patient, PatientNameKey
from registry.models.abstracting import fold, soundex
from registry.reads import note_shown

#: A candidate is kept when its last name is at least this similar (0..1), or starts with what was typed.
MIN_LAST_NAME_SCORE = 0.7
#: Weight of the first name in the score when one was typed.
FIRST_NAME_WEIGHT = 0.3


def trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def trigram_similarity(a: str, b: str) -> float:
    """Trigram similarity of two folded names (as PostgreSQL pg_trgm computes it)."""
    if not a or not b:
        return 0.0
    ta, tb = trigrams(a), trigrams(b)
    return len(ta & tb) / len(ta | tb)


def edit_similarity(a: str, b: str) -> float:
    """1 - (Damerau-Levenshtein distance / longer length): a swapped or wrong letter costs one."""
    if not a or not b:
        return 0.0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return 1 - previous[-1] / max(len(a), len(b))


def similarity(a: str, b: str) -> float:
    """How alike two folded names are, 0..1: the better of trigram and edit similarity."""
    return max(trigram_similarity(a, b), edit_similarity(a, b))


def split_name(text: str) -> tuple[str, str]:
    """``Last, First`` or ``First Last`` → (last, first); a single word is a last name."""
    last, _, first = (part.strip() for part in (text or "").partition(","))
    if not first and " " in last:
        first, _, last = last.rpartition(" ")
    return last.strip(), first.strip()


def _part_score(typed: str, stored: str) -> float:
    if stored.startswith(typed):
        return 1.0
    return similarity(typed, stored)


def _names_between() -> Select:
    """The distinct stored last names from the parameter ``low`` up to (not including) ``high``, found by a loose
    index scan: one probe of the last-name index per distinct name (a recursive query asking for the next name
    each time), where ``SELECT DISTINCT`` reads every patient's key in the range (thousands for a common letter)."""
    name, low, high = PatientNameKey.last_name, bindparam("low"), bindparam("high")
    names = select(func.min(name).label("name")).where(name >= low, name < high).cte("names", recursive=True)
    following = select(func.min(name)).where(name > names.c.name, name < high).scalar_subquery()
    names = names.union_all(select(following).select_from(names).where(names.c.name.is_not(None)))
    return select(names.c.name).where(names.c.name.is_not(None))


#: The names under a first letter, and those with the same Soundex digits too (parameter ``same_sound``) in the
#: same round trip, each part with its own index scan. Built once: building them cost more than running them.
NAMES_BETWEEN = _names_between()
NAMES_BETWEEN_OR_SOUNDING = union(NAMES_BETWEEN, select(PatientNameKey.last_name).where(
    PatientNameKey.last_key.in_(bindparam("same_sound", expanding=True))).distinct())


def close_last_names(last: str) -> dict[str, float]:
    """Stored (folded) last names close to ``last`` with their score.

    Distinct names are scored once: those sharing the first letter (an index range) or the Soundex
    digits, so a misspelling anywhere but the first letter, or a first letter that sounds alike, is found.
    """
    key = soundex(last)
    first_letter = last[:1]
    between = {"low": first_letter, "high": chr(ord(first_letter) + 1)}
    if len(key) == 4:
        same_sound = [letter + key[1:] for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        names = set(db_session.scalars(NAMES_BETWEEN_OR_SOUNDING, between | {"same_sound": same_sound}))
    else:
        names = set(db_session.scalars(NAMES_BETWEEN, between))
    scores = {name: _part_score(last, name) for name in names}
    return {name: score for name, score in scores.items() if score >= MIN_LAST_NAME_SCORE}


@dataclass
class ScoredPatients:
    ids: list[int] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)


def score_by_name(name: str, base=None) -> ScoredPatients:
    """Patient ids matching ``name`` (best first), within the patients ``base`` selects (a Select of ids)."""
    last, first = (fold(part) for part in split_name(name))
    if not last:
        last, first = first, ""
    if not last:
        return ScoredPatients()
    close = close_last_names(last)
    columns = (PatientNameKey.patient_id, PatientNameKey.last_name, PatientNameKey.first_name,
               PatientNameKey.birth_surname)
    statements = [select(*columns).where(PatientNameKey.birth_surname == last)]
    if close:
        statements.append(select(*columns).where(PatientNameKey.last_name.in_(close)))
    if base is not None:
        statements = [stmt.where(PatientNameKey.patient_id.in_(base)) for stmt in statements]
    both = union_all(*statements) if len(statements) > 1 else statements[0]  # one round trip
    rows = {row[0]: row for row in db_session.execute(both)}
    scored = []
    first_scores: dict[str, float] = {}
    for patient_id, stored_last, stored_first, birth in rows.values():
        last_score = max(close.get(stored_last, 0.0), 1.0 if birth == last else 0.0)
        if first and stored_first not in first_scores:
            first_scores[stored_first] = _part_score(first, stored_first)
        score = last_score if not first else \
            (1 - FIRST_NAME_WEIGHT) * last_score + FIRST_NAME_WEIGHT * first_scores[stored_first]
        scored.append((-round(score, 6), stored_last, stored_first, patient_id))
    scored.sort()
    return ScoredPatients([row[3] for row in scored], {row[3]: -row[0] for row in scored})


#: The fields of a new patient the duplicate check compares (the web form and the API send the same).
DUPLICATE_CHECKED = ("name_last", "name_first", "date_of_birth", "sex", "social_security_number",
                     "medical_record_number")


@dataclass(frozen=True)
class LikelyMatch:
    patient: Patient
    score: float
    reasons: tuple[str, ...]


def likely_duplicates(data: dict[str, str | None], limit: int = 10) -> list[LikelyMatch]:
    """Existing patients who may be the person about to be added: same SSN, same date of birth with a
    similar name, or a very similar full name."""
    reasons: dict[int, list[str]] = {}
    scores: dict[int, float] = {}
    ssn = (data.get("social_security_number") or "").strip()
    if ssn and ssn not in {"999999999", "000000000"}:
        for pid in db_session.scalars(select(Patient.id).where(Patient.social_security_number == ssn)):
            reasons.setdefault(pid, []).append("same SSN")
            scores[pid] = 1.0
    last, first = fold(data.get("name_last")), fold(data.get("name_first"))
    if last:
        named = score_by_name(f"{last}, {first}" if first else last)
        for pid in named.ids:
            scores[pid] = max(scores.get(pid, 0.0), named.scores[pid])
            if named.scores[pid] >= 0.8:
                reasons.setdefault(pid, []).append(f"similar name ({named.scores[pid]:.0%})")
    dob = (data.get("date_of_birth") or "").strip()
    if dob:
        for pid in db_session.scalars(select(Patient.id).where(Patient.date_of_birth == dob)):
            if scores.get(pid, 0.0) >= 0.5 or not last:
                reasons.setdefault(pid, []).append("same date of birth")
    ranked = sorted(reasons, key=lambda pid: (-len(reasons[pid]), -scores.get(pid, 0.0), pid))[:limit]
    patients = {p.id: p for p in db_session.scalars(select(Patient).where(Patient.id.in_(ranked)))}
    note_shown(patients.values())
    return [LikelyMatch(patients[pid], scores.get(pid, 0.0), tuple(reasons[pid])) for pid in ranked]
