"""Population denominators as installed reference data (kind ``population``).

Rates need the population at risk by year, area, sex, race and age group; which estimates to use is the
registry's choice, and every rate names the install it divided by. Two layouts are read:

- the SEER population file (fixed width, one record per line: year 1-4, state postal 5-6, state FIPS 7-8,
  county FIPS 9-11, registry 12-13, race 14, origin 15, sex 16, age 17-18, population from 19: 8 digits, or
  10 characters with one decimal in the CD layout); ages are the 19 groups (00 = <1, 01 = 1-4 … 18 = 85+) or
  single years to 85+, which are grouped into the 19;
- a plain CSV with columns ``year, area, sex, race, age_group, population`` (area: a county code, optionally
  after a state's postal code, e.g. ``IL001``; age_group: ``<1``/``0``, ``1-4`` … ``85+``, or any lower age
  of a grouping that starts at 0). Lines starting with ``#`` before the header carry ``name:``,
  ``version:``, ``source:`` and ``synthetic: yes``.
"""
from __future__ import annotations

import gzip
import io
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and pandas load when a population is read, not with the app
    import numpy as np
    import pandas as pd

from registry.reference import InvalidReference, ReferenceInfo, current, installed, reference_kind
from reports.rates.standards import AGE_GROUPS, SEER_19_GROUPS

KIND = "population"
EXPECTED = ("a SEER population file (fixed width: year, state, state FIPS, county FIPS, registry, race, origin, "
            "sex, age 00-18 or single ages, population) or a CSV with columns year, area, sex, race, age_group, "
            "population")
CSV_COLUMNS = ("year", "area", "sex", "race", "age_group", "population")
COLUMNS = ["year", "state", "county", "race", "origin", "sex", "age", "population"]
SEER_LINE = re.compile(r"^(\d{4})([A-Z]{2})(\d{2})(\d{3})(\d{2})(\d)(\d)([12])(\d{2})\s*(\d+(?:\.\d*)?)\s*$")


class NoPopulation(LookupError):
    """No population is installed, or none by the name asked for."""


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig", errors="replace")


def _age_group(age: np.ndarray) -> np.ndarray:
    """Single years of age into the registry's age groups (a file whose last age is 85 means 85+)."""
    import numpy as np
    edges = np.asarray(AGE_GROUPS)
    return edges[np.searchsorted(edges, age, side="right") - 1]


def _parse_seer(lines: list[str]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        found = SEER_LINE.match(line.rstrip("\r\n"))
        if found is None:
            raise InvalidReference(f"line {number}: not a SEER population record "
                                   f"(year, state, FIPS codes, registry, race, origin, sex 1/2, age, population): "
                                   f"{line[:40]!r}")
        rows.append(found.groups())
    frame = pd.DataFrame(rows, columns=["year", "state", "state_fips", "county", "registry", "race", "origin", "sex",
                                        "age", "population"])
    codes = frame["age"].astype(int).to_numpy()
    if codes.max(initial=0) > 18:  # single years of age to 85+ or 90+
        ages = _age_group(codes)
    else:  # 00 = <1, 01 = 1-4, 02 = 5-9 … 18 = 85+
        ages = np.asarray(SEER_19_GROUPS)[codes]
    frame["age"] = ages
    frame["year"] = frame["year"].astype(int)
    frame["population"] = frame["population"].astype(float)
    return frame[COLUMNS]


def _age_low(text: str, line: int) -> int:
    value = text.strip().replace(" ", "")
    if value in ("<1", "0", "00"):
        return 0
    found = re.match(r"^(\d+)(?:[-–](\d+)|\+)?$", value)
    if found is None:
        raise InvalidReference(f"line {line}: age_group {text!r} is not like <1, 1-4, 85+ or a lowest age")
    return int(found.group(1))


def _parse_csv(lines: list[str], header_at: int) -> pd.DataFrame:
    import pandas as pd
    frame = pd.read_csv(io.StringIO("\n".join(lines[header_at:])), dtype=str, skipinitialspace=True)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidReference(f"line {header_at + 1}: no column {', '.join(missing)} "
                               f"(needed: {', '.join(CSV_COLUMNS)})")

    def line(i: int) -> int:
        return header_at + 2 + int(i)

    years = pd.to_numeric(frame["year"], errors="coerce")
    population = pd.to_numeric(frame["population"], errors="coerce")
    for name, values in (("year", years), ("population", population)):
        bad = values.isna() | (values < 0)
        if bad.any():
            i = bad.idxmax()
            raise InvalidReference(f"line {line(i)}: {name} {frame[name][i]!r} is not a number ≥ 0")
    sex = frame["sex"].fillna("").str.strip().str.upper().map({"1": "1", "2": "2", "M": "1", "F": "2",
                                                                "MALE": "1", "FEMALE": "2"})
    if sex.isna().any():
        i = sex.isna().idxmax()
        raise InvalidReference(f"line {line(i)}: sex {frame['sex'][i]!r} is not 1 (male) or 2 (female)")
    area = frame["area"].fillna("").str.strip().str.upper()
    state = area.str.extract(r"^([A-Z]{2})?")[0].fillna("")
    county = area.str.replace(r"^[A-Z]{2}", "", regex=True)
    ages = [_age_low(value, line(i)) for i, value in frame["age_group"].fillna("").items()]
    return pd.DataFrame({"year": years.astype(int), "state": state, "county": county,
                         "race": frame["race"].fillna("").str.strip(), "origin": "", "sex": sex, "age": ages,
                         "population": population.astype(float)})[COLUMNS]


def parse_population(path: str | Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Either layout as a frame (columns ``COLUMNS``; ``age`` the lowest age of each group) plus metadata."""
    import numpy as np
    lines = _text(Path(path)).splitlines()
    meta: dict[str, str] = {}
    start = 0
    while start < len(lines) and (lines[start].startswith("#") or not lines[start].strip()):
        key, _, value = lines[start].lstrip("#").partition(":")
        if value:
            meta[key.strip().lower()] = value.strip()
        start += 1
    if start == len(lines):
        raise InvalidReference("the file holds no records")
    if SEER_LINE.match(lines[start]):
        frame, meta["layout"] = _parse_seer(lines[start:]), "SEER population file"
    elif "," in lines[start]:
        frame, meta["layout"] = _parse_csv(lines, start), "CSV"
    else:
        raise InvalidReference(f"line {start + 1}: neither a SEER population record nor a CSV header with "
                               f"{', '.join(CSV_COLUMNS)}")
    ages = sorted(frame["age"].unique())
    if ages[0] != 0:
        raise InvalidReference(f"the youngest age group starts at {ages[0]}; it must start at 0")
    duplicate = frame.duplicated(["year", "state", "county", "race", "origin", "sex", "age"])
    if duplicate.any() and meta["layout"] == "CSV":
        i = int(np.flatnonzero(duplicate.to_numpy())[0])
        row = frame.iloc[i]
        raise InvalidReference(f"line {start + 2 + i}: year {row['year']}, area {row['state']}{row['county']}, "
                               f"sex {row['sex']}, race {row['race'] or '(all)'}, age {row['age']} appears twice")
    frame = frame.groupby(["year", "state", "county", "race", "origin", "sex", "age"], as_index=False)["population"].sum()
    return frame, meta


def describe(frame: pd.DataFrame) -> str:
    areas = frame[["state", "county"]].drop_duplicates()
    return (f"years {frame['year'].min()}-{frame['year'].max()}; {len(areas)} areas; "
            f"{frame['age'].nunique()} age groups; {frame['race'].nunique()} race groups; "
            f"{frame['population'].sum() / max(frame['year'].nunique(), 1):,.0f} persons a year")


@reference_kind(KIND, EXPECTED)
def check_population(path: Path) -> ReferenceInfo:
    frame, meta = parse_population(path)
    name = meta.get("name") or path.name.split(".")[0]
    synthetic = meta.get("synthetic", "").lower() in ("yes", "true", "1")
    summary = f"{meta['layout']}: {describe(frame)}"
    if synthetic:
        summary = "SYNTHETIC (not real people): " + summary
    if meta.get("source"):
        summary += f"; source: {meta['source']}"
    version = meta.get("version") or f"{frame['year'].min()}-{frame['year'].max()}"
    return ReferenceInfo(name=name[:120], version=version[:60], summary=summary[:500])


@lru_cache(maxsize=4)
def _read(stored_path: str) -> pd.DataFrame:
    return parse_population(stored_path)[0]


def load_population(name: str | None = None) -> pd.DataFrame:
    """The newest installed population (or the newest called ``name``); ``attrs`` name it and say whether
    it is synthetic."""
    record = current(KIND, name=name)
    if record is None:
        raise NoPopulation((f"no population named {name!r} is installed" if name else "no population is installed")
                           + ": incidence rates need one; install it with "
                             "'flask --app wsgi reference install population FILE'")
    frame = _read(record.stored_path)
    frame = frame.copy()
    frame.attrs["name"] = f"{record.name}, version {record.version}"
    frame.attrs["synthetic"] = record.summary.startswith("SYNTHETIC")
    return frame


def installed_populations() -> list[str]:
    """Names of the installed populations, newest first, each once."""
    names: list[str] = []
    for record in installed(KIND):
        if record.name not in names:
            names.append(record.name)
    return names


def has_population() -> bool:
    return current(KIND) is not None
