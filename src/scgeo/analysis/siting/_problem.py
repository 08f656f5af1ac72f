"""The siting problem as arrays: who can reach which facility within the threshold.

A :class:`SitingProblem` holds the (demand point, facility) pairs within the walking threshold
found by bounded network searches, as three aligned arrays (``row``, ``col``, ``minutes``), never
a dense matrix. Facilities ``0 … n_existing-1`` are the existing resources (always open), the
rest are candidates. Demand points whose candidate reach is identical are merged into one row
with the summed weight before a model is built (:func:`merge_rows`); the merge is exact (hashes
propose groups, an element-wise comparison confirms them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Merged", "SitingProblem", "merge_rows"]


@dataclass(frozen=True)
class SitingProblem:
    """Demand × facility pairs within the walking threshold.

    Attributes
    ----------
    row, col, minutes
        One entry per (demand point, facility) pair within ``max_minutes``: the demand's
        position, the facility's position and the walking minutes.
    weights
        People at each demand point (fractional).
    n_existing
        Facilities ``0 … n_existing-1`` are existing resources, always open; the rest are
        candidates (candidate ``c`` is facility ``n_existing + c``).
    n_facilities
        Existing plus candidates.
    max_minutes
        The threshold the pairs were searched within.
    capacity
        People each facility can take (``inf``: unlimited), or ``None`` for no capacities.
    covered_fixed
        Demand points covered whatever is built (area-served resources), or ``None``.
    """

    row: np.ndarray
    col: np.ndarray
    minutes: np.ndarray
    weights: np.ndarray
    n_existing: int
    n_facilities: int
    max_minutes: float
    capacity: np.ndarray | None = None
    covered_fixed: np.ndarray | None = None

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return len(self.weights)

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites."""
        return self.n_facilities - self.n_existing

    @property
    def capacitated(self) -> bool:
        """Whether any facility has a finite capacity."""
        return self.capacity is not None and bool(np.isfinite(self.capacity).any())

    @classmethod
    def from_cost_matrix(cls, cost: np.ndarray, weights: np.ndarray, *, n_existing: int, max_minutes: float,
                         capacity: np.ndarray | None = None,
                         covered_fixed: np.ndarray | None = None) -> SitingProblem:
        """Build from a dense demand × facility matrix of minutes (small instances, tests)."""
        cost = np.asarray(cost, dtype=float)
        row, col = np.nonzero(cost <= max_minutes)
        return cls(row, col, cost[row, col], np.asarray(weights, dtype=float), n_existing, cost.shape[1],
                   float(max_minutes), None if capacity is None else np.asarray(capacity, dtype=float),
                   covered_fixed)

    def within(self, minutes: float) -> SitingProblem:
        """The same problem with a shorter threshold (pairs beyond ``minutes`` dropped)."""
        keep = self.minutes <= minutes
        return SitingProblem(self.row[keep], self.col[keep], self.minutes[keep], self.weights, self.n_existing,
                             self.n_facilities, float(minutes), self.capacity, self.covered_fixed)

    def with_weights(self, weights: np.ndarray) -> SitingProblem:
        """The same pairs with other demand weights (e.g. 75+ instead of 65+)."""
        return SitingProblem(self.row, self.col, self.minutes, np.asarray(weights, dtype=float), self.n_existing,
                             self.n_facilities, self.max_minutes, self.capacity, self.covered_fixed)

    def dropping(self, facilities: np.ndarray) -> SitingProblem:
        """The problem with some existing facilities closed (their pairs removed)."""
        closed = np.zeros(self.n_facilities, dtype=bool)
        closed[np.asarray(facilities, dtype=int)] = True
        keep = ~closed[self.col]
        return SitingProblem(self.row[keep], self.col[keep], self.minutes[keep], self.weights, self.n_existing,
                             self.n_facilities, self.max_minutes, self.capacity, self.covered_fixed)

    def covered_by_existing(self) -> np.ndarray:
        """Boolean per demand point: reached by an existing facility (or covered whatever is built)."""
        out = np.zeros(self.n_demand, dtype=bool)
        out[self.row[self.col < self.n_existing]] = True
        if self.covered_fixed is not None:
            out |= self.covered_fixed
        return out

    def covered_by(self, open_candidates: np.ndarray) -> np.ndarray:
        """Boolean per demand point: reached by an existing facility or one of ``open_candidates``."""
        is_open = np.zeros(self.n_facilities, dtype=bool)
        is_open[: self.n_existing] = True
        is_open[self.n_existing + np.asarray(open_candidates, dtype=int)] = True
        out = np.zeros(self.n_demand, dtype=bool)
        out[self.row[is_open[self.col]]] = True
        if self.covered_fixed is not None:
            out |= self.covered_fixed
        return out


@dataclass(frozen=True)
class Merged:
    """Demand rows merged by identical reach.

    ``group`` gives each kept demand row's merged row; ``weights`` the merged weights; ``row``
    / ``col`` the merged pairs (``col`` as given to :func:`merge_rows`).
    """

    rows: np.ndarray      # the demand rows that were merged (positions in the problem)
    group: np.ndarray     # merged row of each of them
    weights: np.ndarray   # per merged row
    row: np.ndarray       # merged pairs: merged row
    col: np.ndarray       # merged pairs: column

    @property
    def n_rows(self) -> int:
        """Number of merged rows."""
        return len(self.weights)


def merge_rows(rows: np.ndarray, row: np.ndarray, col: np.ndarray, weights: np.ndarray) -> Merged:
    """Merge the demand ``rows`` whose sets of columns in the pairs ``(row, col)`` are identical.

    Groups are proposed by the entry count and two 64-bit sums of random column keys, then
    confirmed entry by entry against the group's first row; a row whose entries differ from its
    group's first row (a hash collision) keeps a group of its own. Rows must appear in ``row``
    at least once or not at all (rows without pairs form one group per empty pattern).
    """
    rows = np.asarray(rows, dtype=np.int64)
    pos = np.full(int(max(rows.max(initial=-1), row.max(initial=-1))) + 1, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    keep = pos[row] >= 0
    r, c = pos[row[keep]], col[keep].astype(np.int64)
    order = np.lexsort((c, r))
    r, c = r[order], c[order]
    count = np.bincount(r, minlength=len(rows))
    rng = np.random.default_rng(20240613)
    n_cols = int(c.max(initial=-1)) + 1
    keys = rng.integers(0, 2**63 - 1, size=(2, n_cols), dtype=np.int64).astype(np.uint64)
    h1 = np.zeros(len(rows), dtype=np.uint64)
    h2 = np.zeros(len(rows), dtype=np.uint64)
    np.add.at(h1, r, keys[0][c])  # wraps modulo 2**64, as intended
    np.add.at(h2, r, keys[1][c])
    _, first, group = np.unique(np.stack([count.astype(np.uint64), h1, h2], axis=1), axis=0,
                                return_index=True, return_inverse=True)
    group = group.ravel()
    start = np.concatenate([[0], np.cumsum(count)])
    # confirm: the p-th column of each row equals the p-th column of its group's first row
    rep = first[group]
    within = np.arange(len(r)) - start[r]
    same = c == c[start[rep[r]] + within]
    bad_rows = np.unique(r[~same])
    if len(bad_rows):  # collisions: those rows keep groups of their own
        group = group.copy()
        group[bad_rows] = group.max() + 1 + np.arange(len(bad_rows))
        _, group = np.unique(group, return_inverse=True)
    n_groups = int(group.max(initial=-1)) + 1
    merged_w = np.bincount(group, weights=np.asarray(weights, dtype=float)[rows], minlength=n_groups)
    leader = np.full(n_groups, -1, dtype=np.int64)
    leader[group[::-1]] = np.arange(len(rows))[::-1]  # first row of each group
    is_leader_entry = leader[group[r]] == r
    return Merged(rows, group, merged_w, group[r[is_leader_entry]], c[is_leader_entry])
