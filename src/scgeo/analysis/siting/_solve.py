"""Exact and greedy solutions of the siting models on a :class:`SitingProblem`.

Exact models are mixed-integer programs solved by HiGHS (:func:`scipy.optimize.milp`) with a
relative gap of zero, built sparse: one binary per candidate, one continuous variable per merged
demand row (or per pair when capacities or distances matter), never a dense matrix.

- **MCLP** (maximal covering): at most ``k`` new sites, existing ones always open, maximise the
  people within the threshold. With capacities, people are assigned to open facilities within
  the threshold, no facility beyond its capacity, and the assigned people are maximised.
- **p-median**: at most ``k`` new sites, minimise the total walking minutes of every person to
  their nearest open facility; a person with no facility within the search limit counts the
  limit (capped p-median), and is reported as beyond it.
- **LSCP** (set covering): the fewest new sites that bring the covered share to a target; among
  the smallest sets, the one that covers most.

Greedy solutions add, one at a time, the candidate with the largest gain (ties: the lowest
candidate position, i.e. candidates sorted by id give the same answer on every rerun).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from scgeo.analysis.siting._problem import SitingProblem, merge_rows

__all__ = [
    "Solution",
    "evaluate",
    "greedy_mclp",
    "greedy_pmedian",
    "marginal_order",
    "solve_lscp",
    "solve_mclp",
    "solve_pmedian",
]

_OPTIONS = {"mip_rel_gap": 0.0, "presolve": True}


class SolverError(RuntimeError):
    """HiGHS did not return a usable solution."""


@dataclass(frozen=True)
class Solution:
    """A set of new sites and what it achieves.

    ``chosen`` are candidate positions (``0 … n_candidates-1``) in the order of their marginal
    gain; ``objective`` is the covered people (MCLP, LSCP) or the total walking minutes
    (p-median) with the existing sites included; ``optimal`` says whether HiGHS proved it;
    ``greedy_objective`` and ``gap_pct`` compare the greedy solution (gap in % of the optimum,
    ≥ 0); ``covered`` is the people covered at each demand point.
    """

    model: str
    chosen: np.ndarray
    objective: float
    optimal: bool
    seconds: float
    greedy_chosen: np.ndarray
    greedy_objective: float
    gap_pct: float
    covered: np.ndarray
    n_merged: int
    status: str = "optimal"


# ------------------------------------------------------------------ evaluation


def evaluate(problem: SitingProblem, chosen: np.ndarray, *, model: str = "mclp") -> tuple[float, np.ndarray]:
    """The objective of opening ``chosen`` candidates, and the people covered at each demand point.

    For ``pmedian`` the second array holds each point's walking minutes (capped at the limit).
    """
    chosen = np.asarray(chosen, dtype=np.int64)
    if model == "pmedian":
        minutes = _nearest_minutes(problem, chosen)
        return float(problem.weights @ minutes), minutes
    if problem.capacitated:
        value, covered, _, _ = _capacitated(problem, 0, fixed=chosen)
        return value, covered
    covered = problem.covered_by(chosen) * problem.weights
    return float(covered.sum()), covered


def _nearest_minutes(problem: SitingProblem, chosen: np.ndarray) -> np.ndarray:
    is_open = np.zeros(problem.n_facilities, dtype=bool)
    is_open[: problem.n_existing] = True
    is_open[problem.n_existing + chosen] = True
    out = np.full(problem.n_demand, float(problem.max_minutes))
    mine = is_open[problem.col]
    np.minimum.at(out, problem.row[mine], problem.minutes[mine])
    return out


TIME_LIMIT_S = 120.0  # a solve stopped here returns its best solution with optimal=False


def _milp(c, integrality, lower, upper, blocks) -> tuple[np.ndarray, bool]:
    constraints = [LinearConstraint(a, lo, hi) for a, lo, hi in blocks if a.shape[0]]
    result = milp(c, integrality=integrality, bounds=Bounds(lower, upper), constraints=constraints,
                  options={**_OPTIONS, "time_limit": TIME_LIMIT_S})
    if result.x is None:
        raise SolverError(f"HiGHS: {result.message}")
    return result.x, result.status == 0


# ------------------------------------------------------------------ MCLP


def _open_rows(problem: SitingProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows not yet covered but reachable by a candidate, and their candidate pairs."""
    base = problem.covered_by_existing()
    cand = problem.col >= problem.n_existing
    reachable = np.zeros(problem.n_demand, dtype=bool)
    reachable[problem.row[cand]] = True
    rows = np.flatnonzero(reachable & ~base & (problem.weights > 0))
    mine = cand & np.isin(problem.row, rows)
    return rows, problem.row[mine], problem.col[mine] - problem.n_existing


def greedy_mclp(problem: SitingProblem, k: int) -> np.ndarray:
    """Greedy MCLP: ``k`` times the candidate that covers most of the still uncovered people."""
    if problem.capacitated:
        return _greedy_capacitated(problem, k)
    rows, prow, pcol = _open_rows(problem)
    merged = merge_rows(rows, prow, pcol, problem.weights)
    return _greedy_cover(merged.row, merged.col, merged.weights, problem.n_candidates, k)


def _greedy_cover(row, col, weights, n_candidates, k, *, target: float = np.inf) -> np.ndarray:
    uncovered = np.ones(len(weights), dtype=bool)
    by_col = np.argsort(col, kind="stable")
    starts = np.searchsorted(col[by_col], np.arange(n_candidates + 1))
    chosen, gained = [], 0.0
    for _ in range(min(k, n_candidates)):
        gain = np.bincount(col, weights=weights[row] * uncovered[row], minlength=n_candidates)
        best = int(np.argmax(gain))
        if gain[best] <= 0 or gained >= target:
            break
        chosen.append(best)
        gained += gain[best]
        uncovered[row[by_col[starts[best]:starts[best + 1]]]] = False
    return np.array(chosen, dtype=np.int64)


def solve_mclp(problem: SitingProblem, k: int) -> Solution:
    """Exact MCLP with at most ``k`` new sites (see the module docstring)."""
    t0 = time.perf_counter()
    if problem.capacitated:
        greedy = greedy_mclp(problem, k)
        value, covered, chosen, optimal = _capacitated(problem, k)
        return _finish(problem, "mclp", t0, chosen, value, covered, greedy, len(problem.weights), optimal)
    rows, prow, pcol = _open_rows(problem)
    merged = merge_rows(rows, prow, pcol, problem.weights)
    greedy = _greedy_cover(merged.row, merged.col, merged.weights, problem.n_candidates, k)
    chosen, optimal = _mclp_milp(merged.row, merged.col, merged.weights, problem.n_candidates, k) \
        if merged.n_rows else (np.array([], dtype=np.int64), True)
    value, covered = evaluate(problem, chosen)
    return _finish(problem, "mclp", t0, chosen, value, covered, greedy, merged.n_rows, optimal)


def _mclp_milp(row, col, weights, n_candidates, k, *,
               min_cover: float | None = None) -> tuple[np.ndarray, bool]:
    """Max Σ w_g y_g  s.t.  y_g ≤ Σ_{j∈N_g} x_j,  Σ x ≤ k  (or, with min_cover, min Σ x s.t. Σ w y ≥ min_cover)."""
    n_rows = len(weights)
    used = np.unique(col)  # candidates that reach nobody are left out of the model
    local = np.full(n_candidates, -1)
    local[used] = np.arange(len(used))
    n_x = len(used)
    link = sparse.hstack([
        -sparse.csr_matrix((np.ones(len(row)), (row, local[col])), shape=(n_rows, n_x)),
        sparse.identity(n_rows, format="csr"),
    ], format="csr")
    count = sparse.csr_matrix(np.concatenate([np.ones(n_x), np.zeros(n_rows)])[None, :])
    lower, upper = np.zeros(n_x + n_rows), np.ones(n_x + n_rows)
    integrality = np.concatenate([np.ones(n_x), np.zeros(n_rows)])
    if min_cover is None:
        c = np.concatenate([np.zeros(n_x), -weights])
        blocks = [(link, -np.inf, 0.0), (count, 0.0, float(k))]
    else:
        c = np.concatenate([np.ones(n_x), np.zeros(n_rows)])
        cover = sparse.csr_matrix(np.concatenate([np.zeros(n_x), weights])[None, :])
        blocks = [(link, -np.inf, 0.0), (cover, min_cover, np.inf)]
    x, optimal = _milp(c, integrality, lower, upper, blocks)
    return used[np.flatnonzero(x[:n_x] > 0.5)], optimal


# ------------------------------------------------------------------ capacities

def _capacitated(problem: SitingProblem, k: int, *,
                 fixed: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray, bool]:
    """Capacitated MCLP (or, with ``fixed``, the assignment for those open candidates).

    Variables: x_j per candidate (binary), z_e per pair (people of the pair's merged row
    assigned to its facility). Σ_e∈row z_e ≤ W_row; Σ_e∈j z_e ≤ cap_j·x_j; z_e ≤ W_row·x_j.
    Returns the assigned people, the people covered at each demand point, the open candidates
    and whether HiGHS proved optimality.
    """
    cap = problem.capacity
    n_e, n_c = problem.n_existing, problem.n_candidates
    unlimited_existing = np.zeros(problem.n_facilities, dtype=bool)
    unlimited_existing[:n_e] = ~np.isfinite(cap[:n_e])
    free = np.zeros(problem.n_demand, dtype=bool)  # covered by an existing site without a limit
    free[problem.row[unlimited_existing[problem.col]]] = True
    if problem.covered_fixed is not None:
        free |= problem.covered_fixed
    rows = np.flatnonzero(~free & (problem.weights > 0) & np.isin(np.arange(problem.n_demand), problem.row))
    merged = merge_rows(rows, problem.row, problem.col, problem.weights)
    n_g, n_p = merged.n_rows, len(merged.row)
    if not n_p:
        covered = np.where(free, problem.weights, 0.0)
        return float(covered.sum()), covered, np.array([], dtype=np.int64), True
    is_cand = merged.col >= n_e
    cand_of = merged.col - n_e
    # variables: x (n_c) then z (n_p)
    c = np.concatenate([np.zeros(n_c), -np.ones(n_p)])
    z = np.arange(n_p)
    demand = sparse.csr_matrix((np.ones(n_p), (merged.row, n_c + z)), shape=(n_g, n_c + n_p))
    finite = np.isfinite(cap[merged.col])
    fac_rows = np.unique(merged.col[finite])
    fac_pos = np.searchsorted(fac_rows, merged.col[finite])
    cap_z = sparse.csr_matrix((np.ones(finite.sum()), (fac_pos, n_c + z[finite])), shape=(len(fac_rows), n_c + n_p))
    cand_fac = fac_rows >= n_e
    cap_x = sparse.csr_matrix((-cap[fac_rows[cand_fac]], (np.flatnonzero(cand_fac), fac_rows[cand_fac] - n_e)),
                              shape=(len(fac_rows), n_c + n_p))
    cap_hi = np.where(cand_fac, 0.0, cap[fac_rows])
    link_rows = np.flatnonzero(is_cand)
    w_pair = merged.weights[merged.row]
    link = sparse.csr_matrix((np.concatenate([np.ones(len(link_rows)), -w_pair[link_rows]]),
                              (np.concatenate([np.arange(len(link_rows))] * 2),
                               np.concatenate([n_c + link_rows, cand_of[link_rows]]))),
                             shape=(len(link_rows), n_c + n_p))
    lower = np.zeros(n_c + n_p)
    upper = np.concatenate([np.ones(n_c), w_pair])
    blocks = [(demand, -np.inf, merged.weights), (cap_z + cap_x, -np.inf, cap_hi), (link, -np.inf, 0.0)]
    integrality = np.concatenate([np.ones(n_c), np.zeros(n_p)])
    if fixed is not None:
        lower[:n_c] = 0.0
        upper[:n_c] = 0.0
        lower[np.asarray(fixed, dtype=int)] = 1.0
        upper[np.asarray(fixed, dtype=int)] = 1.0
        integrality = np.zeros(n_c + n_p)
    else:
        blocks.append((sparse.csr_matrix(np.concatenate([np.ones(n_c), np.zeros(n_p)])[None, :]), 0.0, float(k)))
    x, optimal = _milp(c, integrality, lower, upper, blocks)
    chosen = np.flatnonzero(x[:n_c] > 0.5)
    assigned = np.bincount(merged.row, weights=x[n_c:], minlength=n_g)
    share = np.divide(assigned, merged.weights, out=np.zeros(n_g), where=merged.weights > 0)
    covered = np.where(free, problem.weights, 0.0)
    covered[merged.rows] = problem.weights[merged.rows] * np.clip(share[merged.group], 0, 1)
    return float(covered.sum()), covered, chosen, optimal


def _greedy_capacitated(problem: SitingProblem, k: int) -> np.ndarray:
    """Greedy with capacities: the gain of a candidate is min(capacity, unserved people in reach)."""
    cap = problem.capacity
    residual = problem.weights.astype(float).copy()
    residual[problem.covered_fixed if problem.covered_fixed is not None else np.zeros(problem.n_demand, bool)] = 0.0
    for j in range(problem.n_existing):  # existing sites serve first, each up to its capacity
        residual = _serve(problem, residual, j, cap[j])
    chosen: list[int] = []
    cand = problem.col >= problem.n_existing
    for _ in range(min(k, problem.n_candidates)):
        reach = np.bincount(problem.col[cand] - problem.n_existing, weights=residual[problem.row[cand]],
                            minlength=problem.n_candidates)
        gain = np.minimum(reach, cap[problem.n_existing:])
        gain[chosen] = -1.0
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        residual = _serve(problem, residual, problem.n_existing + best, cap[problem.n_existing + best])
    return np.array(chosen, dtype=np.int64)


def _serve(problem: SitingProblem, residual: np.ndarray, facility: int, capacity: float) -> np.ndarray:
    rows = problem.row[problem.col == facility]
    total = residual[rows].sum()
    if total <= 0:
        return residual
    out = residual.copy()
    out[rows] *= 1.0 - min(1.0, capacity / total)
    return out


# ------------------------------------------------------------------ p-median


def _pmedian_pairs(problem: SitingProblem):
    """Candidate pairs that beat each point's nearest existing site (the others never matter)."""
    base = np.full(problem.n_demand, float(problem.max_minutes))
    existing = problem.col < problem.n_existing
    np.minimum.at(base, problem.row[existing], problem.minutes[existing])
    better = ~existing & (problem.minutes < base[problem.row]) & (problem.weights[problem.row] > 0)
    return base, problem.row[better], problem.col[better] - problem.n_existing, problem.minutes[better]


def greedy_pmedian(problem: SitingProblem, k: int) -> np.ndarray:
    """Greedy p-median: ``k`` times the candidate that saves the most walking minutes."""
    cost, row, col, minutes = _pmedian_pairs(problem)
    w = problem.weights
    chosen: list[int] = []
    for _ in range(min(k, problem.n_candidates)):
        saving = np.bincount(col, weights=w[row] * np.clip(cost[row] - minutes, 0, None),
                             minlength=problem.n_candidates)
        best = int(np.argmax(saving))
        if saving[best] <= 0:
            break
        chosen.append(best)
        mine = col == best
        np.minimum.at(cost, row[mine], minutes[mine])
    return np.array(chosen, dtype=np.int64)


def solve_pmedian(problem: SitingProblem, k: int) -> Solution:
    """Exact capped p-median with at most ``k`` new sites (see the module docstring)."""
    t0 = time.perf_counter()
    greedy = greedy_pmedian(problem, k)
    base, row, col, minutes = _pmedian_pairs(problem)
    rows = np.unique(row)
    chosen, optimal = np.array([], dtype=np.int64), True
    if len(rows):
        local = np.searchsorted(rows, row)
        used = np.unique(col)
        lcol = np.searchsorted(used, col)
        n_x, n_z, n_u = len(used), len(row), len(rows)
        w = problem.weights
        c = np.concatenate([np.zeros(n_x), w[row] * minutes, w[rows] * base[rows]])
        z = n_x + np.arange(n_z)
        u = n_x + n_z + np.arange(n_u)
        n_var = n_x + n_z + n_u
        assign = sparse.csr_matrix((np.ones(n_z + n_u), (np.concatenate([local, np.arange(n_u)]),
                                                         np.concatenate([z, u]))), shape=(n_u, n_var))
        link = sparse.csr_matrix((np.concatenate([np.ones(n_z), -np.ones(n_z)]),
                                  (np.concatenate([np.arange(n_z)] * 2), np.concatenate([z, lcol]))),
                                 shape=(n_z, n_var))
        count = sparse.csr_matrix(np.concatenate([np.ones(n_x), np.zeros(n_z + n_u)])[None, :])
        integrality = np.concatenate([np.ones(n_x), np.zeros(n_z + n_u)])
        x, optimal = _milp(c, integrality, np.zeros(n_var), np.ones(n_var),
                           [(assign, 1.0, 1.0), (link, -np.inf, 0.0), (count, 0.0, float(k))])
        chosen = used[np.flatnonzero(x[:n_x] > 0.5)]
    value, per_point = evaluate(problem, chosen, model="pmedian")
    return _finish(problem, "pmedian", t0, chosen, value, per_point, greedy, len(rows), optimal)


# ------------------------------------------------------------------ LSCP


def solve_lscp(problem: SitingProblem, target_share: float, *, max_new: int | None = None) -> Solution:
    """The fewest new sites covering ``target_share`` (0–1) of the demand.

    When even every candidate cannot reach the target, the solution opens the fewest sites that
    cover as much as all of them do, and ``status`` is ``"target_unreachable"``.
    """
    t0 = time.perf_counter()
    if problem.capacitated:
        raise NotImplementedError("LSCP with capacities is not supported")
    total = float(problem.weights.sum())
    before = float((problem.covered_by_existing() * problem.weights).sum())
    rows, prow, pcol = _open_rows(problem)
    merged = merge_rows(rows, prow, pcol, problem.weights)
    best_possible = before + float(merged.weights.sum())
    target = target_share * total
    status = "optimal"
    if target > best_possible + 1e-9:
        target, status = best_possible, "target_unreachable"
    need = target - before
    limit = problem.n_candidates if max_new is None else max_new
    greedy = _greedy_cover(merged.row, merged.col, merged.weights, problem.n_candidates, limit,
                           target=need - 1e-9)
    chosen, optimal = np.array([], dtype=np.int64), True
    if need > 1e-9 and merged.n_rows:
        fewest, optimal = _mclp_milp(merged.row, merged.col, merged.weights, problem.n_candidates, limit,
                                     min_cover=need - 1e-7 * max(1.0, need))
        chosen, optimal2 = _mclp_milp(merged.row, merged.col, merged.weights, problem.n_candidates, len(fewest))
        optimal = optimal and optimal2
    value, covered = evaluate(problem, chosen)
    if value + 1e-7 * max(1.0, total) < target and status == "optimal":
        status = "target_unreachable"
    sol = _finish(problem, "lscp", t0, chosen, value, covered, greedy, merged.n_rows, optimal)
    gap = 100.0 * (len(greedy) - len(chosen)) / len(chosen) if len(chosen) else 0.0
    return Solution(sol.model, sol.chosen, sol.objective, sol.optimal, sol.seconds, sol.greedy_chosen,
                    sol.greedy_objective, gap, sol.covered, sol.n_merged, status)


# ------------------------------------------------------------------ finishing


def marginal_order(problem: SitingProblem, chosen: np.ndarray, *, model: str = "mclp") -> tuple[np.ndarray,
                                                                                                 np.ndarray]:
    """Order ``chosen`` by greedy marginal gain among themselves; return the order and the gains.

    For p-median the gain is the walking minutes saved.
    """
    chosen = [int(c) for c in chosen]
    order: list[int] = []
    gains: list[float] = []
    current, _ = evaluate(problem, np.array([], dtype=np.int64), model=model)
    sign = -1.0 if model == "pmedian" else 1.0
    while chosen:
        values = [evaluate(problem, np.array([*order, c], dtype=np.int64), model=model)[0] for c in chosen]
        best = int(np.argmax([sign * (v - current) for v in values]))  # ties: the lowest position
        order.append(chosen.pop(best))
        gains.append(sign * (values[best] - current))
        current = values[best]
    return np.array(order, dtype=np.int64), np.array(gains, dtype=float)


def _finish(problem, model, t0, chosen, value, covered, greedy, n_merged, optimal) -> Solution:
    chosen = np.sort(np.asarray(chosen, dtype=np.int64))
    greedy_value = evaluate(problem, greedy, model=model)[0]
    if model == "pmedian":
        gap = 100.0 * (greedy_value - value) / value if value > 0 else 0.0
    else:
        gap = 100.0 * (value - greedy_value) / value if value > 0 else 0.0
    return Solution(model, chosen, value, bool(optimal), time.perf_counter() - t0, greedy, greedy_value, max(gap, 0.0),
                    covered, int(n_merged))
