"""``flask --app wsgi mp compare --input PAIRS.csv --output OUT.csv``: the multiple-primary verdict of each pair.

The input has the columns of SEER's test file (``year1,month1,day1,site1,hist1,beh1,lat1`` and the same with
2); other columns pass through (a row with more fields than the header, as the unquoted reasons of SEER's
file, keeps the overflow in its last column). An optional ``mp_answers`` column gives registrars' answers to the rules'
questions (``question_id=yes;other_id=no``). The output adds ``mp_result``, ``mp_step`` and ``mp_reason``; a
row the rules cannot read keeps an empty result and a reason naming the column at fault.
"""
from __future__ import annotations

import collections
import csv
from pathlib import Path

import click

from registry.csv_safety import SafeDictWriter

from .engine import InvalidTumor, engine, tumor
from .reference import installed_hematopoietic
from .tables import HematoSource

TUMOR_COLUMNS = ("year", "month", "day", "site", "hist", "beh", "lat")
INPUT_COLUMNS = tuple(f"{name}{n}" for n in (1, 2) for name in TUMOR_COLUMNS)
OUTPUT_COLUMNS = ("mp_result", "mp_step", "mp_reason")
ANSWERS_COLUMN = "mp_answers"
YES, NO = frozenset({"yes", "y", "true", "1"}), frozenset({"no", "n", "false", "0"})


class PairsFileError(Exception):
    """The input is not a CSV file of tumor pairs."""


def _answers(text: str) -> dict[str, bool]:
    answers = {}
    for part in text.split(";"):
        if part.strip():
            key, _, value = part.partition("=")
            value = value.strip().lower()
            if value not in YES | NO:
                raise ValueError(f"{ANSWERS_COLUMN}: answer '{part.strip()}' is not question_id=yes or =no")
            answers[key.strip()] = value in YES
    return answers


def compare_row(row: dict[str, str], hematopoietic_folder: HematoSource | None = None) -> dict[str, str]:
    """The three output columns for one input row."""
    tumors = []
    for n in (1, 2):
        try:
            tumors.append(tumor(row[f"site{n}"], row[f"hist{n}"], row[f"beh{n}"], row[f"lat{n}"], row[f"year{n}"],
                                row[f"month{n}"], row[f"day{n}"]))
        except InvalidTumor as exc:
            return {"mp_result": "", "mp_step": "", "mp_reason": f"column {exc.field}{n} is wrong: {exc}"}
    try:
        answers = _answers(row.get(ANSWERS_COLUMN) or "")
    except ValueError as exc:
        return {"mp_result": "", "mp_step": "", "mp_reason": f"column {exc}"}
    verdict = engine(hematopoietic_folder).compare(tumors[0], tumors[1], answers)
    reason = verdict.reason.replace("\n", "\\n")
    if verdict.question:
        reason += f" Question {verdict.question_id}: {verdict.question}"
    return {"mp_result": verdict.result, "mp_step": verdict.step, "mp_reason": reason}


def compare_csv(in_path: Path, out_path: Path, hematopoietic_folder: HematoSource | None = None) -> collections.Counter:
    """Compare every pair of ``in_path`` into ``out_path``; counts by result ("malformed" for unread rows)."""
    try:
        with in_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except UnicodeDecodeError:
        raise PairsFileError(f"{in_path} is not a text CSV file (UTF-8)") from None
    except csv.Error as exc:
        raise PairsFileError(f"{in_path} is not a readable CSV file: {exc}") from None
    missing = [column for column in INPUT_COLUMNS if column not in header]
    if missing:
        raise PairsFileError(f"{in_path} lacks the column(s) {', '.join(missing)}; the header must hold "
                             + ",".join(INPUT_COLUMNS))
    for row in rows:
        overflow = row.pop(None, None)
        if overflow:
            row[header[-1]] = ",".join([row[header[-1]] or "", *overflow])
    counts: collections.Counter = collections.Counter()
    with out_path.open("w", newline="", encoding="utf-8") as handle:
        writer = SafeDictWriter(handle, [c for c in header if c not in OUTPUT_COLUMNS] + list(OUTPUT_COLUMNS))
        writer.writeheader()
        for row in rows:
            result = compare_row({k: (v or "") for k, v in row.items()}, hematopoietic_folder)
            counts[result["mp_result"] or "malformed"] += 1
            writer.writerow({**row, **result})
    return counts


@click.group("mp", help="Multiple-primary rules: compare pairs of tumors of one patient.")
def mp_group() -> None:
    pass


@mp_group.command("compare", help="Add mp_result, mp_step and mp_reason to every pair of tumors of IN.csv.")
@click.option("--input", "in_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tables", "tables", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Folder of the official hematopoietic CSVs (default: the installed tables).")
def mp_compare(in_path: Path, out_path: Path, tables: Path | None) -> None:
    if not in_path.is_file():
        raise click.ClickException(f"{in_path} does not exist")
    try:
        counts = compare_csv(in_path, out_path, tables or installed_hematopoietic())
    except PairsFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"compared {sum(counts.values())} pairs into {out_path}: "
               + ", ".join(f"{result} {n}" for result, n in sorted(counts.items())))
