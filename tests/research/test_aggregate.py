"""Suppression of small cells: no hidden cell can be recovered from the published totals.

A hidden cell is recoverable when the published numbers fix its value. The check solves the
margins both ways: linear algebra (the cell's unit vector lies in the row space of the total
equations) and linear programming (the smallest and largest non-negative values the cell can take
given every published number coincide)."""
import numpy as np
import pytest
from scipy.optimize import linprog

from reports.research.aggregate import SUPPRESSED, suppress, table_csv_rows, with_totals

CRAFTED = [
    [120, 4, 35, 60, 0],     # one small cell alone in its row
    [80, 50, 7, 44, 12],
    [3, 2, 90, 15, 30],      # two small cells side by side
    [55, 40, 61, 9, 0],
    [6, 70, 18, 25, 14],
    [1, 0, 0, 0, 0],         # a row whose total is small too
]


def _equations(table):
    """Rows and columns of the table with totals: each line's cells sum to its total."""
    n_rows, n_cols = len(table), len(table[0])
    lines = []
    for i in range(n_rows):
        lines.append({(i, j): (1 if j < n_cols - 1 else -1) for j in range(n_cols)})
    for j in range(n_cols):
        lines.append({(i, j): (1 if i < n_rows - 1 else -1) for i in range(n_rows)})
    return lines


def _recoverable(table, mask):
    """Hidden cells whose value the published cells determine (by rank, and by LP bounds)."""
    hidden = [(i, j) for i in range(len(table)) for j in range(len(table[0])) if mask[i][j]]
    index = {cell: k for k, cell in enumerate(hidden)}
    a_rows, b = [], []
    for line in _equations(table):
        coefficients = np.zeros(len(hidden))
        rhs = 0.0
        for cell, sign in line.items():
            if cell in index:
                coefficients[index[cell]] = sign
            else:
                rhs -= sign * table[cell[0]][cell[1]]
        if coefficients.any():
            a_rows.append(coefficients)
            b.append(rhs)
    a, b = np.array(a_rows), np.array(b)
    rank = np.linalg.matrix_rank(a)
    found = []
    for cell, k in index.items():
        unit = np.zeros(len(hidden))
        unit[k] = 1
        by_rank = np.linalg.matrix_rank(np.vstack([a, unit])) == rank
        low = linprog(unit, A_eq=a, b_eq=b, bounds=(0, None)).fun
        top = linprog(-unit, A_eq=a, b_eq=b, bounds=(0, None))
        high = float("inf") if top.status == 3 else -top.fun   # 3: unbounded, nothing fixes the cell
        assert low <= table[cell[0]][cell[1]] <= high
        if by_rank or high - low < 1e-9:
            found.append(cell)
    return found


def test_primary_suppression_alone_leaves_cells_recoverable():
    table = with_totals(CRAFTED)
    primary = [[0 < v < 11 for v in row] for row in table]
    assert _recoverable(table, primary), "the crafted table must need complementary suppression"


def test_complementary_suppression_leaves_no_recoverable_cell():
    table = with_totals(CRAFTED)
    mask = suppress(table)
    for i, row in enumerate(table):
        for j, value in enumerate(row):
            if 0 < value < 11:
                assert mask[i][j], f"cell {i},{j} = {value} is under 11 and must be hidden"
    assert _recoverable(table, mask) == []
    hidden = sum(map(sum, mask))
    assert hidden < len(table) * len(table[0]) // 2, "suppression must not hide most of the table"


@pytest.mark.parametrize("counts", [[[5, 100], [100, 100]], [[3]], [[50, 50, 4]], [[12, 12], [12, 12]]])
def test_small_tables(counts):
    table = with_totals(counts)
    mask = suppress(table)
    assert _recoverable(table, mask) == []
    assert all(mask[i][j] for i, row in enumerate(table) for j, v in enumerate(row) if 0 < v < 11)


def test_published_csv_marks_hidden_cells():
    lines = table_csv_rows("site", [f"s{i}" for i in range(len(CRAFTED))], list("abcde"), CRAFTED)
    assert lines[0] == ["site", "a", "b", "c", "d", "e", "Total"]
    shown = [cell for line in lines[1:] for cell in line[1:]]
    assert SUPPRESSED in shown and not any(cell in {str(v) for v in range(1, 11)} for cell in shown)
