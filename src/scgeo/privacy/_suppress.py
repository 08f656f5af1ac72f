"""Cell suppression of a count table with its margins (primary, then complementary).

The table is extended with a ``total`` row and a ``total`` column; totals are cells like any
other. A *line* is a row or a column of the extended table: its interior cells add up to its
total cell.

1. **Primary**: every cell (totals included) with ``0 <= count < threshold`` is suppressed: the
   public band 「5未満」 covers 0 to 4, so a published table never tells a zero from a small count.
2. **Complementary, line rule**: while a line has exactly one suppressed cell, that cell equals
   the line's total minus its published cells, so the smallest non-zero published cell of the
   line is suppressed too (an interior cell when there is one, the total otherwise).
3. **Complementary, bridge rule**: a line rule alone is not enough. Take the graph whose
   vertices are the lines and whose edges are the suppressed cells (a cell joins its row and its
   column). A suppressed cell can be recovered from the published cells exactly when its edge is
   a *bridge* of that graph (it lies on no cycle): adding the rows and subtracting the columns of
   one side of the bridge leaves that cell alone. For each bridge, one more cell joining the two
   sides is suppressed (the smallest non-zero, interior first), then the line rule runs again.

When no suppressed cell is a bridge, every hidden cell lies on a cycle of hidden cells, and
moving ±1 around the cycle keeps every row and column total: with all hidden cells ``>= 1``,
no hidden value is pinned by this one table's totals. Whether the table is safe together with
everything published before is decided by the audit (:mod:`scgeo.privacy._audit`), which adds
suppression where this per-table plan is not enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from scgeo._errors import InputError

__all__ = ["TOTAL", "Suppression", "suppression_plan", "with_totals"]

TOTAL = "total"


def with_totals(counts: pd.DataFrame) -> pd.DataFrame:
    """``counts`` with a ``total`` column (row sums) and a ``total`` row (column sums).

    Examples
    --------
    >>> t = with_totals(pd.DataFrame({"a": [1, 2], "b": [3, 4]}, index=["x", "y"]))
    >>> t.loc["total"].tolist(), t["total"].tolist()
    ([3, 7, 10], [4, 6, 10])
    """
    if TOTAL in counts.index or TOTAL in counts.columns:
        raise InputError(f"集計表の行名・列名に「{TOTAL}」は使えません(合計の行・列の名前です)。")
    values = counts.to_numpy(dtype=np.int64)
    if (values < 0).any():
        raise InputError("集計表に負の件数があります。")
    out = pd.DataFrame(values, index=counts.index, columns=counts.columns)
    out[TOTAL] = values.sum(axis=1)
    out.loc[TOTAL] = out.sum(axis=0)
    return out.astype(np.int64)


@dataclass(frozen=True)
class Suppression:
    """What was suppressed in an extended table, and why.

    Attributes
    ----------
    table
        The extended table (:func:`with_totals`).
    mask
        Boolean DataFrame like ``table``: ``True`` where the cell is suppressed.
    reasons
        One row per suppressed cell: ``row``, ``column``, ``kind`` (``primary`` or
        ``complementary``), ``protects_row``, ``protects_column`` (the hidden cell it protects)
        and ``line`` (``row``, ``column`` or ``cycle``: how that cell would have been revealed).
    """

    table: pd.DataFrame
    mask: pd.DataFrame
    reasons: pd.DataFrame


def _pick(values: np.ndarray, hidden: np.ndarray, cells: list[tuple[int, int]], total_row: int,
          total_col: int) -> tuple[int, int]:
    """The cell to suppress among ``cells``: non-zero first, interior first, smallest, first."""
    def key(cell: tuple[int, int]) -> tuple:
        i, j = cell
        return (values[i, j] == 0, i == total_row or j == total_col, values[i, j], i, j)

    free = [c for c in cells if not hidden[c]]
    return min(free, key=key)


def _bridge_fix(values: np.ndarray, hidden: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """A bridge cell of the hidden-cell graph and the cell that closes a cycle through it."""
    n_rows, n_cols = values.shape
    graph = nx.Graph()
    rows, cols = np.nonzero(hidden)
    graph.add_edges_from((("r", int(i)), ("c", int(j))) for i, j in zip(rows, cols, strict=True))
    bridges = sorted(tuple(sorted(edge)) for edge in nx.bridges(graph))
    if not bridges:
        return None
    col_node, row_node = bridges[0]  # sorted: ("c", j) before ("r", i)
    graph.remove_edge(row_node, col_node)
    side_a = nx.node_connected_component(graph, row_node)
    a_rows = [i for kind, i in side_a if kind == "r"]
    a_cols = [j for kind, j in side_a if kind == "c"]
    side_b = nx.node_connected_component(graph, col_node)
    b_rows = [i for kind, i in side_b if kind == "r"]
    b_cols = [j for kind, j in side_b if kind == "c"]
    cells = [(i, j) for i in a_rows for j in b_cols] + [(i, j) for i in b_rows for j in a_cols]
    cells = [c for c in cells if c != (row_node[1], col_node[1])]
    return (row_node[1], col_node[1]), _pick(values, hidden, cells, n_rows - 1, n_cols - 1)


def suppression_plan(counts: pd.DataFrame, threshold: int, *, hide_zeros: bool = True) -> Suppression:
    """Primary and complementary suppression of a count table and its totals.

    Parameters
    ----------
    counts
        Non-negative integer counts, one row per unit and one column per category, *without*
        totals (they are added by :func:`with_totals`).
    threshold
        Counts ``0 .. threshold - 1`` are suppressed (``settings.suppress_below``, 5); a threshold
        of 1 publishes everything.
    hide_zeros
        ``False`` publishes zeros (the per-table rule of earlier versions, kept to measure what
        the audit fixes); the default hides them with the small counts.

    Returns
    -------
    Suppression
        The extended table, the mask and one reason per suppressed cell.

    Examples
    --------
    >>> plan = suppression_plan(pd.DataFrame({"a": [3, 9], "b": [8, 7]}, index=["x", "y"]), 5)
    >>> int(plan.mask.to_numpy().sum()), plan.reasons["kind"].value_counts().to_dict()
    (4, {'complementary': 3, 'primary': 1})
    >>> int(suppression_plan(pd.DataFrame({"a": [0, 9], "b": [8, 7]}), 5).mask.to_numpy().sum())
    4
    """
    if int(threshold) < 1:
        raise InputError(f"秘匿の基準 threshold は 1 以上の整数にしてください(指定: {threshold})。")
    table = with_totals(counts)
    values = table.to_numpy()
    lowest = 0 if hide_zeros and int(threshold) > 1 else 1
    hidden = (values >= lowest) & (values < int(threshold))
    reasons: list[tuple] = [(int(i), int(j), "primary", -1, -1, "") for i, j in zip(*np.nonzero(hidden), strict=True)]
    n_rows, n_cols = values.shape
    while True:
        lone_rows = np.flatnonzero(hidden.sum(axis=1) == 1)
        lone_cols = np.flatnonzero(hidden.sum(axis=0) == 1)
        if lone_rows.size:
            i = int(lone_rows[0])
            alone = (i, int(np.flatnonzero(hidden[i])[0]))
            cell, line = _pick(values, hidden, [(i, j) for j in range(n_cols)], n_rows - 1, n_cols - 1), "row"
        elif lone_cols.size:
            j = int(lone_cols[0])
            alone = (int(np.flatnonzero(hidden[:, j])[0]), j)
            cell, line = _pick(values, hidden, [(i, j) for i in range(n_rows)], n_rows - 1, n_cols - 1), "column"
        else:
            fix = _bridge_fix(values, hidden)
            if fix is None:
                break
            alone, cell = fix
            line = "cycle"
        hidden[cell] = True
        reasons.append((*cell, "complementary", *alone, line))
    i, j, kind, pi, pj, line = (list(col) for col in zip(*reasons, strict=True)) if reasons else ([],) * 6
    i, j, pi, pj = (np.asarray(v, dtype=np.int64) for v in (i, j, pi, pj))
    labels_r, labels_c = table.index.to_numpy(dtype=object), table.columns.to_numpy(dtype=object)
    out = pd.DataFrame({
        "row": labels_r[i], "column": labels_c[j], "kind": pd.Series(kind, dtype=object).to_numpy(),
        "protects_row": np.where(pi >= 0, labels_r[pi.clip(min=0)], None),
        "protects_column": np.where(pj >= 0, labels_c[pj.clip(min=0)], None),
        "line": pd.Series(line, dtype=object).to_numpy(),
    })
    return Suppression(table, pd.DataFrame(hidden, index=table.index, columns=table.columns), out)
