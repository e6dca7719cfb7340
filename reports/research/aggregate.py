"""Count tables (tumors by site, year, stage, sex or age group) with small cells suppressed.

A cell counting 1 to 10 (``THRESHOLD`` - 1) is suppressed, the row and column totals included.
Totals are published, so a suppressed cell alone in its row or column could be recovered by
subtraction, and so could any cell whose value the totals determine. Seen as a graph whose nodes
are the rows and columns (the total row and column included) and whose edges are the suppressed
cells, the totals determine a cell exactly when its edge is a *bridge* (on no cycle): complementary
suppression adds cells, cheapest first (small interior counts before totals), until no bridge is
left, so every hidden cell can take at least two values that agree with every published number.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import current_app

from registry.audit import Actor, log_event, operation
from registry.csv_safety import SafeWriter
from registry.db import db_session
from registry.errors import InvalidInput
from registry.models import ResearchRelease, User
from registry.models.patient import utcnow
from reports.survival.cohorts import AGE_GROUPS, SEX_LABELS, STAGE_GROUPS, STAGE_ORDER, _age_group, site_names
from reports.research import cohort

THRESHOLD = 11
SUPPRESSED = "suppressed"
TOTAL = "Total"

#: Dimension → (derived or stored value it reads, how a value is labelled).
DIMENSIONS: dict[str, tuple[str, Any]] = {
    "site": ("seer_site_recode", lambda code: site_names().get(code or "", "unclassified site")),
    "year": ("date_of_diagnosis", lambda text: (text or "")[:4] or "unknown"),
    "stage": ("summary_stage", lambda code: STAGE_GROUPS.get(code or "9", "unknown")),
    "sex": ("sex", lambda code: SEX_LABELS.get(code or "", "other or unknown")),
    "age": ("age_at_diagnosis", lambda age: _age_group(float(age)) if age is not None else "unknown"),
}
ORDERS = {"stage": list(STAGE_ORDER), "age": [label for _, _, label in AGE_GROUPS] + ["unknown"]}


def with_totals(counts: list[list[int]]) -> list[list[int]]:
    """The table with a total column at the right and a total row at the bottom."""
    rows = [list(row) + [sum(row)] for row in counts]
    columns = len(rows[0]) if rows else 1
    rows.append([sum(row[j] for row in rows) for j in range(columns)])
    return rows


def _bridges(mask: list[list[bool]]) -> list[tuple[int, int]]:
    """Suppressed cells whose value the row and column totals determine (bridges of the graph)."""
    n_rows, n_cols = len(mask), len(mask[0])
    edges = [(i, j) for i in range(n_rows) for j in range(n_cols) if mask[i][j]]
    found = []
    for removed in edges:
        if ("c", removed[1]) not in _component(edges, removed, ("r", removed[0])):
            found.append(removed)
    return found


def _component(edges: list[tuple[int, int]], removed: tuple[int, int], start: tuple[str, int]) -> set[tuple[str, int]]:
    adjacency: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for edge in edges:
        if edge == removed:
            continue
        row, col = ("r", edge[0]), ("c", edge[1])
        adjacency.setdefault(row, []).append(col)
        adjacency.setdefault(col, []).append(row)
    seen, stack = {start}, [start]
    while stack:
        for nxt in adjacency.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def suppress(table: list[list[int]], threshold: int = THRESHOLD) -> list[list[bool]]:
    """Which cells of ``table`` (totals included, as :func:`with_totals` gives) to hide."""
    n_rows, n_cols = len(table), len(table[0])
    mask = [[0 < table[i][j] < threshold for j in range(n_cols)] for i in range(n_rows)]

    def cost(cell: tuple[int, int]) -> tuple[int, int, int, int]:
        i, j = cell
        value = table[i][j]
        total = (i == n_rows - 1) + (j == n_cols - 1)
        return (total, value == 0, value, i * n_cols + j)

    while True:
        bridges = _bridges(mask)
        if not bridges:
            return mask
        r, c = min(bridges, key=cost)
        edges = [(i, j) for i in range(n_rows) for j in range(n_cols) if mask[i][j]]
        side_a = _component(edges, (r, c), ("r", r))
        side_b = _component(edges, (r, c), ("c", c))
        rows_a = {n for kind, n in side_a if kind == "r"}
        cols_a = {n for kind, n in side_a if kind == "c"}
        rows_b = {n for kind, n in side_b if kind == "r"}
        cols_b = {n for kind, n in side_b if kind == "c"}
        closing = [(i, j) for i in rows_a for j in cols_b if not mask[i][j]]
        closing += [(i, j) for i in rows_b for j in cols_a if not mask[i][j]]
        if not closing:
            closing = [(r, j) for j in range(n_cols) if not mask[r][j]]
            closing += [(i, c) for i in range(n_rows) if not mask[i][c]]
        if not closing:
            closing = [(i, j) for i in range(n_rows) for j in range(n_cols) if not mask[i][j]]
        i, j = min(closing, key=cost)
        mask[i][j] = True


def count_table(values: Iterable[dict[str, Any]], row_dim: str, column_dim: str
                ) -> tuple[list[str], list[str], list[list[int]]]:
    """Row labels, column labels and counts of tumors by two dimensions."""
    row_source, row_label = DIMENSIONS[row_dim]
    column_source, column_label = DIMENSIONS[column_dim]
    counter: Counter[tuple[str, str]] = Counter()
    for row in values:
        counter[(row_label(row.get(row_source)), column_label(row.get(column_source)))] += 1

    def ordered(dim: str, labels: set[str]) -> list[str]:
        order = ORDERS.get(dim)
        if order:
            return [label for label in order if label in labels] + sorted(labels - set(order))
        if dim == "site":
            names = list(dict.fromkeys(site_names().values()))
            return sorted(labels, key=lambda label: names.index(label) if label in names else len(names))
        return sorted(labels)
    rows = ordered(row_dim, {key[0] for key in counter})
    columns = ordered(column_dim, {key[1] for key in counter})
    return rows, columns, [[counter[(r, c)] for c in columns] for r in rows]


def table_csv_rows(row_dim: str, rows: list[str], columns: list[str], counts: list[list[int]]) -> list[list[str]]:
    """The published table: header, one line per row, totals last; suppressed cells say so."""
    if not counts:
        return [[row_dim, TOTAL], [TOTAL, "0"]]
    full = with_totals(counts)
    mask = suppress(full)
    lines = [[row_dim, *columns, TOTAL]]
    for label, values, hidden in zip([*rows, TOTAL], full, mask):
        lines.append([label, *[SUPPRESSED if h else str(v) for v, h in zip(values, hidden)]])
    return lines


def create_table_release(filters: cohort.Filters, row_dim: str, column_dim: str, *, actor: Actor | User,
                         output: str | os.PathLike[str], purpose: str = "") -> ResearchRelease:
    """Write a suppressed count table to ``output`` (CSV) and record it in the release log (level aggregate)."""
    errors = {}
    for name, dim in (("rows", row_dim), ("columns", column_dim)):
        if dim not in DIMENSIONS:
            errors[name] = f"must be one of {', '.join(DIMENSIONS)}, not {dim!r}"
    if row_dim == column_dim and not errors:
        errors["columns"] = "rows and columns must be different dimensions"
    if errors:
        raise InvalidInput(errors)
    needed = [DIMENSIONS[row_dim][0], DIMENSIONS[column_dim][0]]
    cutoff = int(current_app.config["SURVIVAL_END_POINT_YEAR"])
    patients: set[int] = set()

    def values() -> Iterable[dict[str, Any]]:
        for row in cohort.rows(db_session(), filters, needed, cutoff):
            patients.add(row["_patient_id"])
            yield row
    rows, columns, counts = count_table(values(), row_dim, column_dim)
    target = Path(output)
    with target.open("w", newline="", encoding="utf-8") as handle:
        SafeWriter(handle, lineterminator="\n").writerows(table_csv_rows(row_dim, rows, columns, counts))
    checksum = hashlib.sha256(target.read_bytes()).hexdigest()
    who = actor if isinstance(actor, Actor) else Actor.of(actor)
    total = sum(map(sum, counts))
    with operation(who, "research_table") as session:
        release = ResearchRelease(created_by_id=who.user_id, created_by=who.username, purpose=purpose,
                                  level="aggregate", filters=filters.to_json(), variables=[row_dim, column_dim],
                                  file_format="csv", row_count=total, patient_count=len(patients), checksum=checksum,
                                  file_name=target.name, file_path=str(target.resolve()),
                                  expires_at=utcnow() + dt.timedelta(days=int(current_app.config.get("RESEARCH_FILE_DAYS", 30))))
        session.add(release)
        session.flush()
        log_event(who, "research_table", entity="research_release", entity_id=release.id, commit=False,
                  detail=f"{target.name}: {row_dim} by {column_dim}, {total} tumors, sha256 {checksum}")
    return release
