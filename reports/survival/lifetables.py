"""Population life tables as installed reference data, for relative and net survival.

Relative survival divides by the survival of the general population of the same sex, age
and calendar year, so the registry needs a life table; which one is a choice the user
makes (national, state, by race …) and every result names it. Tables are installed with
``flask --app wsgi reference install life-table FILE`` and read back as the
``sex, age, year, prob`` frame that :func:`reports.survival.relative_survival` takes.

Accepted layouts (``LAYOUTS``): our own CSV (``sex,age,year,prob``), the strs ``popmort``
file (``sex,_age,_year,prob``) and the US Social Security Administration period tables
(``Year,x,q(x),…`` after a preamble naming the sex; one file per sex, gzip allowed). Lines
starting with ``#`` before the header carry ``name:``, ``version:`` and ``source:``.
"""
from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from registry.reference import InvalidReference, ReferenceInfo, current, installed, reference_kind

KIND = "life-table"
SEXES = {"1": "male", "2": "female"}
CLOSING_AGE = 100


@dataclass(frozen=True)
class Layout:
    """How a file's columns map onto sex, age, year and the one-year survival probability."""
    name: str
    sex: str | None
    age: str
    year: str
    prob: str | None = None
    death_prob: str | None = None


LAYOUTS = (
    Layout("registry", sex="sex", age="age", year="year", prob="prob"),
    Layout("strs popmort", sex="sex", age="_age", year="_year", prob="prob"),
    Layout("SSA period table", sex=None, age="x", year="Year", death_prob="q(x)"),
)
#: Preamble words of one-sex files (SSA) → NAACCR sex code.
SEX_WORDS = {"males": "1", "male": "1", "females": "2", "female": "2"}

EXPECTED = ("a CSV life table with columns sex (1 male, 2 female), age, year, prob (probability of "
            "surviving one year), a strs popmort file (sex,_age,_year,prob) or an SSA period life table "
            "(Year,x,q(x),… after a preamble saying Males or Females); every sex × age × year present once")


class NoLifeTable(LookupError):
    """No life table is installed, or none by the name asked for."""


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig", errors="replace")


def parse_life_table(path: str | Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read any accepted layout as ``sex, age, year, prob`` plus the file's metadata.

    Raises InvalidReference naming what is wrong (missing column, probability out of
    range, duplicate or missing sex × age × year).
    """
    text = _text(Path(path))
    lines = text.splitlines()
    meta: dict[str, str] = {}
    sex_from_preamble = None
    header_at = None
    for number, line in enumerate(lines[:50]):
        stripped = line.strip()
        if stripped.startswith("#"):
            key, _, value = stripped.lstrip("#").partition(":")
            if value:
                meta[key.strip().lower()] = value.strip()
            continue
        columns = [c.strip() for c in stripped.split(",")]
        layout = next((lay for lay in LAYOUTS if {lay.age, lay.year} <= set(columns)
                       and (lay.sex is None or lay.sex in columns)
                       and (lay.prob in columns or lay.death_prob in columns)), None)
        if layout is not None:
            header_at = number
            break
        word = stripped.strip(",").lower()
        if word in SEX_WORDS:
            sex_from_preamble = SEX_WORDS[word]
    if header_at is None:
        raise InvalidReference("no header line with sex, age, year and prob (or a known layout) "
                               "in its first 50 lines")
    frame = pd.read_csv(io.StringIO("\n".join(lines[header_at:])), skipinitialspace=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    if layout.sex is None:
        if sex_from_preamble is None:
            raise InvalidReference(f"a {layout.name} holds one sex, but its preamble does not say "
                                   "Males or Females")
        sex = pd.Series(sex_from_preamble, index=frame.index)
    else:
        sex = frame[layout.sex]
    if layout.prob:
        prob = pd.to_numeric(frame[layout.prob], errors="coerce")
    else:
        prob = 1 - pd.to_numeric(frame[layout.death_prob], errors="coerce")
    table = pd.DataFrame({"sex": sex.astype(str).str.strip().str.replace(r"\.0$", "", regex=True),
                          "age": pd.to_numeric(frame[layout.age], errors="coerce"),
                          "year": pd.to_numeric(frame[layout.year], errors="coerce"),
                          "prob": prob})
    closing = table.loc[table["prob"] == 0, "age"]
    if len(closing) and closing.min() >= CLOSING_AGE:
        # Tables that close with q = 1 (SSA: from 115) stop before it; the last age stands for older ones.
        table = table[table["age"] < closing.min()]
        meta["closed"] = f"ages from {int(closing.min())} dropped (probability 0)"
    _validate(table, header_at)
    table["age"] = table["age"].astype(int)
    table["year"] = table["year"].astype(int)
    table["sex"] = table["sex"].astype(int)
    meta["layout"] = layout.name
    return table.reset_index(drop=True), meta


def _validate(table: pd.DataFrame, header_at: int) -> None:
    def line(index: int) -> int:
        return header_at + 2 + int(index)

    for column in ("age", "year", "prob"):
        bad = table[column].isna()
        if bad.any():
            raise InvalidReference(f"line {line(bad.idxmax())}: {column} is not a number")
    whole = (table["age"] % 1 != 0) | (table["year"] % 1 != 0) | (table["age"] < 0)
    if whole.any():
        raise InvalidReference(f"line {line(whole.idxmax())}: age and year must be whole, age ≥ 0")
    bad_sex = ~table["sex"].isin(list(SEXES))
    if bad_sex.any():
        raise InvalidReference(f"line {line(bad_sex.idxmax())}: sex {table['sex'][bad_sex.idxmax()]!r} "
                               "is not 1 (male) or 2 (female)")
    bad_prob = (table["prob"] <= 0) | (table["prob"] > 1)
    if bad_prob.any():
        i = bad_prob.idxmax()
        raise InvalidReference(f"line {line(i)}: probability of surviving a year {table['prob'][i]} "
                               "is not in (0, 1]")
    duplicate = table.duplicated(["sex", "age", "year"])
    if duplicate.any():
        i = duplicate.idxmax()
        raise InvalidReference(f"line {line(i)}: sex {table['sex'][i]}, age {int(table['age'][i])}, "
                               f"year {int(table['year'][i])} appears twice")
    for sex, part in table.groupby("sex"):
        ages = range(int(part["age"].min()), int(part["age"].max()) + 1)
        years = range(int(part["year"].min()), int(part["year"].max()) + 1)
        if len(part) != len(ages) * len(years):
            present = set(zip(part["age"].astype(int), part["year"].astype(int)))
            age, year = next((a, y) for y in years for a in ages if (a, y) not in present)
            raise InvalidReference(f"sex {sex} has no probability for age {age} in year {year}: "
                                   "a table must hold every age and year in its range")


def describe(table: pd.DataFrame) -> str:
    sexes = ", ".join(SEXES[str(s)] for s in sorted(table["sex"].unique()))
    return (f"{sexes}; ages {table['age'].min()}-{table['age'].max()}; "
            f"years {table['year'].min()}-{table['year'].max()}; {len(table):,} rows")


@reference_kind(KIND, EXPECTED)
def check_life_table(path: Path) -> ReferenceInfo:
    table, meta = parse_life_table(path)
    default = "US Social Security period life table" if meta["layout"] == "SSA period table" else None
    name = meta.get("name") or default or path.name.split(".")[0]
    version = meta.get("version") or f"{table['year'].min()}-{table['year'].max()}"
    summary = f"{meta['layout']}: {describe(table)}"
    if meta.get("closed"):
        summary += f" ({meta['closed']})"
    if meta.get("source"):
        summary += f"; source: {meta['source']}"
    return ReferenceInfo(name=name[:120], version=version[:60], summary=summary)


@lru_cache(maxsize=8)
def _read(stored_path: str) -> pd.DataFrame:
    return parse_life_table(stored_path)[0]


def load_life_table(name: str | None = None) -> pd.DataFrame:
    """The installed life table (the newest, or the newest called ``name``) as a frame
    whose ``attrs["name"]`` says which table it is. Installs of the same name are joined:
    one file per sex, and one per period (the SSA historical and projected files); where
    two cover the same sex and year, the newer install wins."""
    newest = current(KIND, name=name)
    if newest is None:
        raise NoLifeTable(
            (f"no life table named {name!r} is installed" if name else "no life table is installed")
            + ": relative and net survival need one; install it with "
              "'flask --app wsgi reference install life-table FILE.csv'")
    parts: list[pd.DataFrame] = []
    covered: set[tuple[int, int]] = set()
    versions: list[str] = []
    for record in installed(KIND):
        if record.name != newest.name:
            continue
        table = _read(record.stored_path)
        keys = list(zip(table["sex"].astype(int), table["year"].astype(int)))
        fresh = [key not in covered for key in keys]
        if any(fresh):
            parts.append(table[fresh])
            covered.update(keys)
            versions.append(record.version)
    table = pd.concat(parts, ignore_index=True)
    joined = ", ".join(sorted(set(versions)))
    table.attrs["name"] = f"{newest.name}, version {joined}"
    return table


def installed_life_tables() -> list[str]:
    """Names of the installed life tables, newest first, each once."""
    names: list[str] = []
    for record in installed(KIND):
        if record.name not in names:
            names.append(record.name)
    return names
