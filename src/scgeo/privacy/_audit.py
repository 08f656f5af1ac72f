"""The attacker's problem over everything published: integer bounds of every hidden cell.

An attacker holds every released table (the ledger) and the public geometry of the units. The
needs are unknown non-negative integers, one per *variable*: an atom of space (the piece of the
municipality lying in one unit of every unit system involved) × a category × a status × a slice
of time (between the boundaries of the releases' periods) of the 受付日 × one of the date of the
current status (when a release counts by it: 「この月につないだ」). Every cell of every table is the sum
of some variables; a shown cell fixes its sum, a hidden cell is only known to be ``>= 0``. Space and
time are not multiplied out: releases over all periods see counts per piece of space, releases of a
period see counts per period of coarser blocks, tied by one equation per block
(:func:`_space_and_periods`, exact).

A hidden cell is **pinned** when its minimum equals its maximum over all integer solutions, and
**shown small** when its minimum is ``>= 1`` and its maximum ``<= threshold - 1``. The audit
proves every hidden cell is neither, or names those that are:

- Atoms are found by sampling the municipality on a grid (40 m, coarser for large cities) plus a point in every
  unit and every need's own point, each assigned to a unit of each system exactly as the tables
  assign needs. Pieces thinner than the grid are missed, which only gives the attacker more
  knowledge (the audit errs on the safe side).
- Variables that lie in exactly the same cells are merged (their sum is all anyone can learn),
  and cells with the same variables are merged (a cell shown anywhere is shown).
- Bounds come from HiGHS (:func:`scipy.optimize.milp`). The true counts are one solution; a few
  solves minimising and maximising the sum of the undecided cells give more; a cell is proven
  safe as soon as two solutions differ on it and one of them is 0 or ``>= threshold``. A cell
  left undecided gets a solve of its own that looks for such a solution (one at 0, or one at the
  threshold) rather than its exact minimum and maximum; the linear bounds prove the rest. Only a
  failing cell, and every cell in ``exact`` mode, gets its exact bounds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.optimize._highspy import _core as highspy  # the HiGHS scipy ships; its own API keeps a model

from scgeo._errors import InputError, ScgeoError
from scgeo.crs import WORKSPACE_CRS, to_metric
from scgeo.privacy._aggregate import PERIOD_FIELDS, need_dates
from scgeo.privacy._ledger import Release
from scgeo.privacy._suppress import TOTAL
from scgeo.privacy._units import OUTSIDE, study_extent, units_and_membership
from scgeo.schema import NEED_STATUSES

__all__ = ["AuditModel", "AuditResult", "PrivacyError", "audit_releases", "build_model", "table_model"]

GRID_M = 40.0  # finest spacing of the sample grid (metres)
MAX_SAMPLES = 100_000
EDGE_DEGREES = 5e-6  # about 0.5 m: sample points this close to a unit's boundary are dropped
SOLVE_SECONDS = 20.0
BATCH_ROUNDS = 12
BATCH_MIN = 16  # undecided cells worth a round of solves for all of them at once
EMPTY_ROUNDS = 200
# a round raising fewer groups than this costs more than their own solves (a round of the largest
# grid tables takes 0.2 to 5 s, one group's own solve 0.1 to 1 s): the rest go one group at a time
EMPTY_GAIN_MIN = 4
SWAP_TRIES = 8  # donor groups tried per empty group, most of a kind
EMPTY_REWARD = 20.0  # a need brought to an empty cell outweighs a chain of up to 19 changes
# neighbourhoods of a fractional vertex: through cells of at most this many variables (a step from
# 10 to 30 frees some 1,500 variables where 15 or 20 often finds the point with a few hundred; 10
# itself, tried first until then, found the point in a quarter of its programs and cost more than
# it saved)
NEAR_ROWS = (15, 20, 30, 100)


class PrivacyError(ScgeoError):
    """An output would reveal individual needs (要配慮個人情報); the message says why."""


@dataclass
class AuditResult:
    """Bounds of every hidden cell given everything published.

    Attributes
    ----------
    cells
        One row per distinct hidden cell: ``release`` (position in ``releases``),
        ``release_id``, ``unit_id``, ``category``, ``value`` (the true count, internal only),
        ``lo``, ``hi`` (bounds the attacker can prove, or proven wider), ``status``
        (``ok``, ``pinned`` or ``small``).
    releases
        The releases combined, in order.
    skipped
        ``(release, reason)`` of ledger releases that could not be combined (the needs or the
        areas have changed since).
    seconds, n_variables, n_solves
        Cost of the audit.
    """

    cells: pd.DataFrame
    releases: list[Release]
    skipped: list[tuple[Release, str]] = field(default_factory=list)
    seconds: float = 0.0
    n_variables: int = 0
    n_solves: int = 0

    @property
    def failing(self) -> pd.DataFrame:
        """The hidden cells that are pinned or shown to lie in ``1 .. threshold - 1``, beyond those
        the earlier releases alone gave away (status 「earlier」: the new table changes nothing in them).
        """
        return self.cells[~self.cells["status"].isin(["ok", "earlier"])]

    @property
    def ok(self) -> bool:
        """No hidden cell is pinned or shown small."""
        return not len(self.failing)

    def summary(self) -> dict:
        """Counts for a manifest or a report (nothing about which cell is which)."""
        status = self.cells["status"].value_counts()
        return {"releases": len(self.releases), "skipped": len(self.skipped), "hidden_cells": len(self.cells),
                "pinned": int(status.get("pinned", 0)), "small": int(status.get("small", 0)),
                "earlier": int(status.get("earlier", 0)),
                "variables": self.n_variables, "solves": self.n_solves, "seconds": round(self.seconds, 2)}


def _sample_points(needs: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None,
                   units: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Grid points over the municipality and one point inside every unit (within the municipality)."""
    extent = study_extent(areas)
    if extent is None:
        valid = needs.geometry[~needs.geometry.isna() & ~needs.geometry.is_empty]
        if not len(valid):
            return gpd.GeoDataFrame(geometry=[], crs=WORKSPACE_CRS)
        extent = valid.to_crs(WORKSPACE_CRS).union_all().envelope.buffer(1e-4)
    shape = gpd.GeoDataFrame(geometry=[extent], crs=WORKSPACE_CRS)
    metric = to_metric(shape)
    area = float(metric.area.iloc[0])
    step = max(GRID_M, float(np.sqrt(area / MAX_SAMPLES)))
    x0, y0, x1, y1 = metric.total_bounds
    gx, gy = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
    gx, gy = gx.ravel(), gy.ravel()
    region = metric.geometry.to_numpy()[0]
    shapely.prepare(region)
    inside = shapely.contains_xy(region, gx, gy)
    grid = gpd.GeoSeries(gpd.points_from_xy(gx[inside], gy[inside]), crs=metric.crs).to_crs(WORKSPACE_CRS)
    inner = []
    for frame in units.values():
        if len(frame):
            pieces = frame.geometry.intersection(extent)
            pieces = pieces[~pieces.is_empty]
            inner.append(pieces.representative_point())
    points = gpd.GeoSeries(pd.concat([grid, *inner], ignore_index=True) if inner else grid, crs=WORKSPACE_CRS)
    points = points[_off_edges(points.to_numpy(), units)]
    return gpd.GeoDataFrame(geometry=points.to_numpy(), crs=WORKSPACE_CRS)


def _off_edges(points: np.ndarray, units: dict[str, gpd.GeoDataFrame]) -> np.ndarray:
    """Which sample points lie off every unit's boundary (by more than :data:`EDGE_DEGREES`).

    Each unit system assigns a point on a shared boundary to one side on its own, so such a
    point can join a 町丁目 to the neighbouring 小学校区: an atom that does not exist, giving
    the attacker a freedom the real areas do not (and breaking the nesting of the areas, which
    makes the linear programs harder). Dropping it only gives the attacker more knowledge.
    """
    keep = np.ones(len(points), dtype=bool)
    for frame in units.values():
        if len(frame) and len(points):
            # the boundaries' single segments in the tree, not whole rings: a ring's box holds most
            # points, and each would be measured against all of its vertices
            rings = shapely.get_parts(shapely.boundary(frame.geometry.to_crs(WORKSPACE_CRS).to_numpy()))
            xy, ring = shapely.get_coordinates(rings, return_index=True)
            same = ring[1:] == ring[:-1]
            tree = shapely.STRtree(shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1)))
            near = tree.query(points, predicate="dwithin", distance=EDGE_DEGREES)[0]
            keep[near] = False
    return keep


def _period_cuts(releases: Sequence[Release], field: str = "recorded_date") -> np.ndarray:
    cuts = set()
    for r in releases:
        if r.period_field != field:
            continue
        start, end = r.period
        if start:
            cuts.add(np.datetime64(start, "D"))
        if end:
            cuts.add(np.datetime64(end, "D") + np.timedelta64(1, "D"))
    return np.array(sorted(cuts), dtype="datetime64[D]")


def _buckets_of(release: Release, cuts: np.ndarray) -> np.ndarray:
    """Which time slices (0 .. len(cuts)) a release's period covers."""
    lo = np.r_[np.datetime64("0001-01-01", "D"), cuts]
    hi = np.r_[cuts, np.datetime64("9999-12-31", "D")]
    start = np.datetime64(release.period[0], "D") if release.period[0] else lo[0]
    end = (np.datetime64(release.period[1], "D") + np.timedelta64(1, "D")) if release.period[1] else hi[-1]
    return np.flatnonzero((lo >= start) & (hi <= end))


@dataclass
class AuditModel:
    """The attacker's linear system, built once for a set of releases (see :func:`build_model`).

    ``matrix`` has one row per cell of every combined release and one column per variable;
    ``rows`` describes the rows (``release``, ``unit_id``, ``category``, ``shown``, ``value``,
    ``lo``, ``hi``, ``threshold``).
    """

    releases: list[Release]
    skipped: list[tuple[Release, str]]
    matrix: sp.csr_matrix
    truth: np.ndarray
    rows: pd.DataFrame
    group: np.ndarray = field(default=None)  # row → distinct cell
    merged: sp.csr_matrix = field(default=None)  # distinct cells × merged variables
    merged_truth: np.ndarray = field(default=None)
    witness_lo: np.ndarray = field(default=None)  # per distinct cell, over solutions found
    witness_hi: np.ndarray = field(default=None)
    n_solves: int = 0
    # per variable: how many unknowns of the full product (space × periods) it stands for; the box
    # on each unknown (``cap``) is this many times ``cap`` on the variable (merged ones summed)
    scale: np.ndarray = field(default=None)

    def __post_init__(self) -> None:
        self._merge()
        self._determined_program = None
        self._program_kept = None  # (program, the distinct cell of each of its rows): see _attack_program

    def _merge(self) -> None:
        rng = np.random.default_rng(12)
        m = self.matrix
        used = np.flatnonzero(m.getnnz(axis=0) > 0)
        m = m[:, used].tocsr()
        truth = self.truth[used]
        scale = np.ones(len(self.truth)) if self.scale is None else np.asarray(self.scale, dtype=float)
        w = rng.random((m.shape[1], 2))
        row_sig = np.round(m @ w, 9)
        _, first, group = np.unique(row_sig, axis=0, return_index=True, return_inverse=True)
        self.group = group.ravel()
        cells = m[first].tocsc()
        r = rng.random((2, cells.shape[0]))
        col_sig = np.round((r @ cells).T, 9)
        _, col_first, col_group = np.unique(col_sig, axis=0, return_index=True, return_inverse=True)
        col_group = col_group.ravel()
        self.merged = cells[:, col_first].tocsr()
        self.merged_truth = np.bincount(col_group, weights=truth, minlength=len(col_first)).astype(np.int64)
        self.merged_scale = np.bincount(col_group, weights=scale[used], minlength=len(col_first))
        values = self.merged @ self.merged_truth
        self.witness_lo, self.witness_hi = values.copy(), values.copy()

    def cell_shown(self, shown_rows: np.ndarray) -> np.ndarray:
        """Distinct cells shown by at least one of ``shown_rows`` (booleans over rows)."""
        out = np.zeros(self.merged.shape[0], dtype=bool)
        out[self.group[shown_rows]] = True
        return out

    def _cell_bounds(self, shown: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self.rows
        lo = np.zeros(len(shown))
        hi = np.full(len(shown), np.inf)
        np.maximum.at(lo, self.group, rows["lo"].to_numpy(dtype=float))
        np.minimum.at(hi, self.group, rows["hi"].to_numpy(dtype=float))
        threshold = np.zeros(len(shown), dtype=np.int64)
        np.maximum.at(threshold, self.group, rows["threshold"].to_numpy(dtype=np.int64))
        return lo, hi, threshold

    @staticmethod
    def _groups(rows: sp.spmatrix) -> np.ndarray:
        """Per variable (column of ``rows``), its group: the variables lying in exactly the same rows with
        the same coefficients (a block's equation holds its space variables at +1, its periods at -1).
        """
        cols = sp.csc_matrix(rows, dtype=np.float64, copy=True)
        cols.eliminate_zeros()
        cols.sort_indices()
        ids: dict[bytes, int] = {}
        out = np.empty(cols.shape[1], dtype=np.int64)
        for v in range(cols.shape[1]):
            span = slice(cols.indptr[v], cols.indptr[v + 1])
            out[v] = ids.setdefault(cols.indices[span].tobytes() + cols.data[span].tobytes(), len(ids))
        return out

    def _move_witnesses(self, fixed: np.ndarray, hidden: np.ndarray) -> None:
        """Witnesses for free: needs moved among variables that lie in the same fixed cells.

        Variables lying in exactly the same shown (or bounded) cells form a group; any split of
        the group's needs among its variables keeps every shown cell, so a hidden cell can hold
        as little as the groups lying wholly inside it and as much as the groups touching it.
        Both are counts of feasible integer solutions (one per cell), found without a solver.
        """
        a = (self.merged > 0).astype(np.float64).tocsr()
        group = self._groups(self.merged[fixed])
        n_groups = int(group.max()) + 1 if len(group) else 0
        mass = np.bincount(group, weights=self.merged_truth, minlength=n_groups)
        size = np.bincount(group, minlength=n_groups)
        member = sp.csr_matrix((np.ones(len(group)), (np.arange(len(group)), group)), shape=(len(group), n_groups))
        touch = (a[hidden] @ member).tocsr()  # hidden cells × groups: how many of the group's variables
        rows = np.repeat(np.arange(touch.shape[0]), np.diff(touch.indptr))
        inside = touch.data >= size[touch.indices] - 0.5
        low = np.bincount(rows[inside], weights=mass[touch.indices[inside]], minlength=len(hidden))
        high = np.bincount(rows, weights=mass[touch.indices], minlength=len(hidden))
        np.minimum.at(self.witness_lo, hidden, np.round(low).astype(np.int64))
        np.maximum.at(self.witness_hi, hidden, np.round(high).astype(np.int64))

    def _empty_witnesses(self, program: _Program, cells: np.ndarray, witness) -> np.ndarray:
        """Witnesses above 0 for hidden cells seen only at 0, found a group of variables at a time.

        A grid that lists every cell of the area hides thousands of empty cells; each needs a
        solution in which it holds a need. Where a town block's total over all kinds is shown, no
        need can simply move in: a need of the same kind comes from another block and one of
        another kind goes back, and so on through the shown cells. Which such chain exists
        depends only on the cell's *group* (:meth:`_groups`: the variables lying in the same
        constrained cells, so that only their sum is constrained), far fewer than the cells. Each
        round is one integer program over the groups' changes from the true counts (``up`` and
        ``down``, each need moved costing 1, every group not yet raised rewarding
        :data:`EMPTY_REWARD` for a need brought in): the chains of all groups at once, as many as
        the needs allow (needs wanted by several groups go to one of them per round). Its point,
        the needs brought to a group put on the group's first variable, is checked as every
        witness is; a cell is then decided by that point with the need moved onto the cell's own
        variable of the group, which changes no constrained cell. Before the first round and after
        each, every need of the point is also lent, one point per loan, to the groups of its *kind*
        (the same shown cells, so only bounded ones change): no solve, and a need decides as many
        empty cells as its kind holds instead of one per round. Rounds go on while each raises at
        least :data:`EMPTY_GAIN_MIN` groups (a round stopped by its time limit before it raised any
        is run again with twice the time); the groups left are then raised one at a time, each by
        its own solve (:meth:`_Program.reach`), which decides every cell of the group at once.

        Returns, per cell of ``cells``, whether it is proven held at 0: every group of its
        variables without a need and proven unable to take one (the linear bound of its own
        solve), so no solution puts a need in the cell. A grid over a rural city holds thousands of
        such cells beside cells shown exactly; their proof here spares each its own solve.
        """
        truth = self.merged_truth
        n = self.merged.shape[1]
        cap = np.broadcast_to(program.cap, n)
        active = np.flatnonzero(program.active)
        rows = program.by_row[active]
        group = self._groups(rows)
        n_groups = int(group.max()) + 1
        first = np.full(n_groups, -1)
        first[group[::-1]] = np.arange(n)[::-1]
        mass = np.bincount(group, weights=truth, minlength=n_groups)
        room = np.bincount(group, weights=cap, minlength=n_groups) - mass
        limits = np.r_[np.maximum(room, 0), mass]  # of each group's changes: up to its room, down to 0
        by_group = rows[:, first].tocsr()  # a group's variables have the same column: one stands for all
        base = rows @ truth
        lower, upper = program.row_lower[active], program.row_upper[active]
        constraint = LinearConstraint(sp.hstack([by_group, -by_group]).tocsr(), lower - base, upper - base)
        sub = self.merged[cells].tocsr()
        entry_row = np.repeat(np.arange(len(cells)), np.diff(sub.indptr))  # one per nonzero of ``sub``
        entry_cell, entry_group = cells[entry_row], group[sub.indices]
        # a cell of counts only: at 0 none of its variables holds a need
        plain = (np.bincount(entry_row, weights=sub.data <= 0, minlength=len(cells)) == 0)[entry_row]
        order = np.argsort(group, kind="stable")  # the variables of each group, first one first
        starts = np.searchsorted(group[order], np.arange(n_groups + 1))
        raised = np.zeros(n_groups, dtype=bool)
        cols = rows.tocsc()
        # per group, its kind: the groups lying in the same shown cells (they differ in bounded ones only)
        kind = self._groups(rows[lower == upper][:, first])

        def column(g: int) -> tuple[np.ndarray, np.ndarray]:
            span = slice(cols.indptr[first[g]], cols.indptr[first[g] + 1])
            return cols.indices[span], cols.data[span]

        def swaps(x: np.ndarray, todo: np.ndarray) -> np.ndarray:
            """Groups of ``todo`` given one need of another group of their kind, each a point of its own.

            Moving a need between groups of a kind changes only bounded cells (a grid cell and its
            neighbour both shown as 「5未満」): no solve, only a check of those cells' bounds.
            """
            activity = rows @ x
            held = np.bincount(group, weights=x, minlength=n_groups)
            donors: dict[int, list[int]] = {}
            for g in np.flatnonzero(held >= 1):
                donors.setdefault(int(kind[g]), []).append(int(g))
            out = []
            for h in todo:
                into = order[starts[h]:starts[h + 1]]
                v = into[x[into] < cap[into]]
                if not len(v):
                    continue
                rows_h, data_h = column(h)
                for g in donors.get(int(kind[h]), ())[:SWAP_TRIES]:
                    if g == h:
                        continue
                    rows_g, data_g = column(g)
                    # a row in both columns changes by the difference of the two
                    uniq, inverse = np.unique(np.r_[rows_h, rows_g], return_inverse=True)
                    change = np.bincount(inverse, weights=np.r_[data_h, -data_g], minlength=len(uniq))
                    after = activity[uniq] + change
                    if (after < lower[uniq] - 1e-9).any() or (after > upper[uniq] + 1e-9).any():
                        continue
                    members = order[starts[g]:starts[g + 1]]
                    point = x.copy()
                    point[members[x[members] >= 1][0]] -= 1
                    point[v[0]] += 1
                    if witness(point) is not None:
                        out.append(h)
                        break
            return np.asarray(out, dtype=np.int64)

        def record(got: np.ndarray, x: np.ndarray) -> None:
            """Cells still at 0 with a raised group: its need moved onto one of the cell's variables of
            the group gives the cell its coefficient, and changes no constrained cell.
            """
            raised[got] = True
            move = plain & np.isin(entry_group, got) & (self.witness_hi[entry_cell] == 0)
            move &= x[sub.indices] < cap[sub.indices]
            np.maximum.at(self.witness_hi, entry_cell[move], np.round(sub.data[move]).astype(np.int64))

        def todo_now() -> np.ndarray:
            """The groups of the cells still seen only at 0: one of its groups raised decides a cell."""
            open_ = plain & (self.witness_hi[entry_cell] == 0)
            return np.unique(entry_group[open_ & ~raised[entry_group]])

        def raised_in(x: np.ndarray, todo: np.ndarray) -> np.ndarray:
            held = np.bincount(group, weights=x, minlength=n_groups)
            return todo[held[todo] >= mass[todo] + 1 - 1e-9]

        def apply(solution: np.ndarray | None, todo: np.ndarray) -> int:
            """The groups a round's solution raises (-1: its point fails the check)."""
            if solution is None:
                return 0
            change = np.round(solution[:n_groups] - solution[n_groups:]).astype(np.int64)
            x = truth.copy()
            for g in np.flatnonzero(change):  # within a group: brought to its first variables, taken from its last
                members = order[starts[g]:starts[g + 1]]
                if change[g] < 0:
                    members = members[::-1]
                for v in members:
                    step = min(change[g], cap[v] - x[v]) if change[g] > 0 else max(change[g], -x[v])
                    x[v] += step
                    change[g] -= step
                    if not change[g]:
                        break
            if witness(x) is None:
                return -1
            got = raised_in(x, todo)
            record(got, x)
            more = swaps(x, todo_now())  # the round's needs, each lent on to the groups of its kind
            record(more, x)
            return len(got) + len(more)

        def program_of(todo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """A round's costs and bounds: each group not yet raised rewards its first need brought in."""
            cost = np.ones(2 * n_groups)
            cost[todo] -= EMPTY_REWARD
            bound = limits.copy()
            bound[todo] = np.minimum(bound[todo], 1.0)
            return cost, bound

        def on_support(cost: np.ndarray, bound: np.ndarray) -> np.ndarray | None:
            """A round's integer point among the changes its linear optimum makes, every other held at 0.

            The true counts (no change) stay a solution, so this program is never infeasible; it
            has the few hundred variables of the optimum's support where the whole one has two per
            group, and solves in a second where the whole one often runs into its time limit
            looking for an integer point (its linear bound is within a fraction of a per cent of
            the integer optimum: finding the point is what is hard, not proving it).
            """
            lp = milp(cost, integrality=np.zeros(len(cost)), bounds=Bounds(0, bound), constraints=[constraint])
            if lp.x is None:
                return None
            if _integral(lp.x):
                return np.round(lp.x)
            keep = np.flatnonzero(lp.x > 1e-9)
            part = LinearConstraint(constraint.A[:, keep], constraint.lb, constraint.ub)
            res = milp(cost[keep], integrality=np.ones(len(keep)), bounds=Bounds(0, bound[keep]), constraints=[part],
                       options={"time_limit": SOLVE_SECONDS / 4, "mip_rel_gap": 0.02})
            if res.x is None:
                return None
            out = np.zeros(len(cost))
            out[keep] = np.round(res.x)
            return out

        x = truth.copy()
        record(swaps(x, todo_now()), x)
        limit = SOLVE_SECONDS / 4
        for _ in range(EMPTY_ROUNDS):
            todo = todo_now()
            if len(todo) < EMPTY_GAIN_MIN:
                break
            self.n_solves += 1
            gained = apply(on_support(*program_of(todo)), todo)
            while 0 <= gained < EMPTY_GAIN_MIN:  # the whole program: chains the linear optimum does not use
                todo = todo_now()
                cost, bound = program_of(todo)
                self.n_solves += 1
                res = milp(cost, integrality=np.ones(2 * n_groups), bounds=Bounds(0, bound), constraints=[constraint],
                           options={"time_limit": limit, "mip_rel_gap": 0.02})
                gained = apply(res.x, todo)
                if gained or res.status != 1 or limit >= SOLVE_SECONDS:  # 1: stopped by the time limit
                    break
                limit *= 2  # the same round again, with more time
            if gained < EMPTY_GAIN_MIN:
                break
        tried = np.zeros(n_groups, dtype=bool)
        proven = np.zeros(n_groups, dtype=bool)  # no solution brings a need to the group
        # the rounds' program as a linear one kept between objectives: a group the linear program
        # cannot raise by 1 is proven stuck at once (a few simplex steps over the groups' changes,
        # where a solve over every variable costs a tenth of a second; the rural grids of a real city
        # hold thousands of such groups)
        changes = _Program(2 * n_groups, (None, None), (constraint.A, np.zeros(len(lower))), limits)
        changes.set_rows(np.arange(len(lower)), constraint.lb, constraint.ub)
        while len(todo := todo_now()):
            todo = todo[~tried[todo]]
            if not len(todo):
                break
            h = todo[0]
            tried[h] = True
            up = np.zeros(2 * n_groups)
            up[h] = -1.0
            self.n_solves += 1
            most = changes.linear_min(up)
            if most is not None and -most < 1 - 1e-9:
                proven[h] = mass[h] == 0
                continue
            c = np.zeros(n)
            c[order[starts[h]:starts[h + 1]]] = -1.0
            self.n_solves += 1
            x, bound = program.reach(c, -(mass[h] + 1))
            if x is None or witness(x) is None:
                proven[h] = x is None and bound > -(mass[h] + 1) and mass[h] == 0
                continue  # unless proven, left to the cells' own solves (the solver gave up)
            record(raised_in(x, todo), x)
            record(swaps(x, todo_now()), x)
        # a plain cell at 0 all of whose groups are proven: held at 0 in every solution
        open_entries = np.bincount(entry_row, weights=(sub.data <= 0) | ~proven[entry_group], minlength=len(cells))
        return (open_entries == 0) & (self.witness_hi[cells] == 0)

    def _attack_program(self, cells: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                        caps: np.ndarray) -> _Program:
        """The program of :meth:`attack`, one row per constrained cell, kept from one attack to the next.

        Rounds of suppression hide a few more cells (their rows are freed) or show a few (their
        rows are added or fixed): the rows' bounds change, the model and its last optimal basis
        are kept, and the next linear program starts from that basis instead of from scratch.
        """
        kept = self._program_kept
        if kept is None or not np.array_equal(kept[0].cap, caps):
            program = _Program(self.merged.shape[1], (None, None), (self.merged[cells], np.zeros(len(cells))), caps)
            program.set_rows(np.arange(len(cells)), lower, upper)
            self._program_kept = (program, cells.copy())
            return program
        program, order = kept
        new = cells[~np.isin(cells, order)]
        if len(new):
            program.add_rows(self.merged[new])
            order = np.r_[order, new]
            self._program_kept = (program, order)
        where = np.full(self.merged.shape[0], -1)
        where[order] = np.arange(len(order))
        row_lower, row_upper = np.full(len(order), -np.inf), np.full(len(order), np.inf)
        row_lower[where[cells]], row_upper[where[cells]] = lower, upper
        program.set_rows(np.arange(len(order)), row_lower, row_upper)
        return program

    def determined(self, cells: np.ndarray, shown_rows: np.ndarray) -> np.ndarray:
        """Whether each distinct cell in ``cells`` is worked out exactly from ``shown_rows``.

        Solved apart from :meth:`attack` (its solutions are not kept as witnesses).
        """
        shown = self.cell_shown(shown_rows)
        a = self.merged
        values = a @ self.merged_truth
        key = shown.tobytes()
        if self._determined_program is None or self._determined_program[0] != key:
            # publishing asks this of the same earlier releases round after round: kept while they are
            eq = (a[shown], values[shown]) if shown.any() else (None, None)
            cap = float(max(int(self.rows["threshold"].max()), int(values.max(initial=0)))) + 1
            self._determined_program = (key, _Program(a.shape[1], eq, (None, None), cap * self.merged_scale))
        program = self._determined_program[1]
        out = np.zeros(len(cells), dtype=bool)
        for k, cell in enumerate(cells):
            # the true value is one solution: determined when none is below it and none above
            c = a[cell].toarray().ravel().astype(float)
            below, bound = program.reach(c, float(values[cell]) - 1)
            self.n_solves += 1
            if below is None and bound >= values[cell]:
                above, bound = program.reach(-c, -float(values[cell]) - 1)
                self.n_solves += 1
                out[k] = above is None and -bound <= values[cell]
        return out

    def attack(self, shown_rows: np.ndarray, *, exact: bool = False, only: np.ndarray | None = None) -> pd.DataFrame:
        """Bounds of every hidden distinct cell when the rows ``shown_rows`` are shown.

        Returns one row per hidden distinct cell: ``cell``, ``value``, ``lo``, ``hi``,
        ``exact_lo``, ``exact_hi``, ``threshold``, ``status``. With ``exact`` every bound is
        solved for (for tests); otherwise only as far as needed to decide each cell. ``only``
        (booleans over distinct cells) limits the hidden cells attacked to those marked.

        A cell without a variable (a grid cell where no resident can be: no sample point lies in
        it, a sliver at the city's edge or open water) is 0 in every solution whatever is
        published: it tells nothing about any need and is not attacked.
        """
        shown = self.cell_shown(shown_rows)
        known_lo, known_hi, threshold = self._cell_bounds(shown)
        a = self.merged
        values = a @ self.merged_truth
        hidden = np.flatnonzero(~shown & (a.getnnz(axis=1) > 0) & (True if only is None else only))
        n = a.shape[1]
        constraints = []
        if shown.any():
            constraints.append(LinearConstraint(a[shown], values[shown], values[shown]))
        bounded = hidden[(known_lo[hidden] > 0) | np.isfinite(known_hi[hidden])]
        if len(bounded):
            constraints.append(LinearConstraint(a[bounded], known_lo[bounded], known_hi[bounded]))
        cap = float(max(int(threshold.max(initial=1)), int(values.max(initial=0)))) + 1
        caps = cap * self.merged_scale
        lo, hi = self.witness_lo, self.witness_hi
        exact_lo = np.zeros(a.shape[0], dtype=bool)
        exact_hi = np.zeros(a.shape[0], dtype=bool)
        h = a[hidden]

        eq = (a[shown], values[shown]) if shown.any() else (None, None)
        # each bound a row of its own: an upper one where it is finite, a lower one where it is above 0
        upper, lower = bounded[np.isfinite(known_hi[bounded])], bounded[known_lo[bounded] > 0]
        ub = ((sp.vstack([a[upper], -a[lower]]).tocsr(), np.r_[known_hi[upper], -known_lo[lower]])
              if len(bounded) else (None, None))

        program = self._attack_program(np.r_[np.flatnonzero(shown), bounded],
                                       np.r_[values[shown], known_lo[bounded]],
                                       np.r_[values[shown], known_hi[bounded]], caps)

        def witness(x: np.ndarray | None) -> np.ndarray | None:
            """The cells of a solution, its values kept as witnesses (once checked against every constraint)."""
            if x is None or not program.feasible(x):
                return None
            cells = a @ x
            np.minimum(lo, cells, out=lo)
            np.maximum(hi, cells, out=hi)
            return cells

        def solve(c: np.ndarray, *, prove: bool = True) -> np.ndarray | None:
            self.n_solves += 1
            return witness(program.minimise(c, prove=prove))

        def reach(c: np.ndarray, target: float) -> float:
            """A witness with ``c @ x <= target`` if there is one; else a proven lower bound of ``c @ x``."""
            self.n_solves += 1
            x, bound = program.reach(c, target)
            witness(x)
            return bound

        def spread(cells: np.ndarray) -> None:
            """One solution taking as many ``cells`` as possible up to their target.

            Maximises the sum of ``min(cell, target)`` (``target`` = 1 for a cell seen only at 0,
            else ``max(threshold, lo + 1)``), so the needs are spread over the cells instead of
            piled on one of them.
            """
            self.n_solves += 1
            k = len(cells)
            target = np.where(lo[cells] == 0, 1, np.maximum(threshold[cells], lo[cells] + 1)).astype(float)
            # variables: x (integers), z (one per cell, 0 <= z <= target, z <= cell(x))
            link = sp.hstack([-a[cells], sp.identity(k)]).tocsr()
            parts = [LinearConstraint(link, -np.inf, 0)]
            for con in constraints:
                parts.append(LinearConstraint(sp.hstack([con.A, sp.csr_matrix((con.A.shape[0], k))]).tocsr(),
                                              con.lb, con.ub))
            c = np.r_[np.zeros(n), -np.ones(k)]
            upper = np.r_[caps, target]
            # the LP first (its vertex is often integral in x), then branch and bound; a feasible
            # point found before the time limit is still a witness
            extra = [] if ub[0] is None else [sp.hstack([ub[0], sp.csr_matrix((ub[0].shape[0], k))])]
            a_ub = sp.vstack([link, *extra])
            b_ub = np.r_[np.zeros(k), [] if ub[1] is None else ub[1]]
            a_eq = None if eq[0] is None else sp.hstack([eq[0], sp.csr_matrix((eq[0].shape[0], k))]).tocsr()
            res = linprog(c, A_ub=a_ub.tocsr(), b_ub=b_ub, A_eq=a_eq, b_eq=eq[1], bounds=np.c_[np.zeros(n + k), upper],
                          method="highs-ds")
            if res.status == 0 and not _integral(res.x[:n]):  # an integer point beside the vertex
                near = program.near(res.x[:n], np.zeros(n), 0.0)
                if near is not None:
                    res.x[:n] = near
            if res.status != 0 or not _integral(res.x[:n]):
                res = milp(c, integrality=np.r_[np.ones(n), np.zeros(k)], bounds=Bounds(0, upper),
                           constraints=parts, options={"time_limit": SOLVE_SECONDS / 4})
            if res.x is not None:
                witness(np.round(res.x[:n]).astype(np.int64))

        def safe() -> np.ndarray:
            lo_h, hi_h, t = lo[hidden], hi[hidden], threshold[hidden]
            return (hi_h > lo_h) & ((lo_h == 0) | (hi_h >= t))

        def safe_one(cell: int) -> bool:
            return bool(hi[cell] > lo[cell] and (lo[cell] == 0 or hi[cell] >= threshold[cell]))

        if len(hidden) and not exact:
            self._move_witnesses(shown | np.isin(np.arange(len(shown)), bounded), hidden)
            empty = hidden[~safe() & (hi[hidden] == 0)]
            if len(empty) >= BATCH_MIN:  # a grid listing every cell: thousands of cells seen only at 0
                zero = empty[self._empty_witnesses(program, empty, witness)]
                exact_lo[zero] = exact_hi[zero] = True  # proven held at 0: no cell's own solve
            for _ in range(BATCH_ROUNDS):
                before = int(safe().sum())
                open_ = ~safe() & ~(exact_lo[hidden] & exact_hi[hidden])  # not those proven held at 0
                if open_.sum() < BATCH_MIN:  # a few cells: their own solves cost less than a round
                    break
                down = open_ & (lo[hidden] > 0)
                up = open_
                if down.any():
                    # only for witnesses: no branch and bound when the vertex is fractional
                    solve(np.asarray(h[down].sum(axis=0)).ravel().astype(float), prove=False)
                if up.any():
                    spread(hidden[up])
                if int(safe().sum()) == before:
                    break
        for cell in hidden:
            if not exact and (safe_one(cell) or (exact_lo[cell] and exact_hi[cell])):
                continue
            c = a[cell].toarray().ravel().astype(float)
            if not exact:
                # decide, not measure: a witness at 0, or one at the threshold (and above what is
                # seen), is all that makes the cell safe; the linear bounds prove the rest
                if lo[cell] > 0:
                    exact_lo[cell] = reach(c, 0.0) >= lo[cell]
                if not safe_one(cell):
                    target = 1 if lo[cell] == 0 else max(int(threshold[cell]), int(lo[cell]) + 1)
                    exact_hi[cell] = -reach(-c, -float(target)) <= hi[cell]
                exact_lo[cell] |= lo[cell] == 0
                if safe_one(cell) or (exact_lo[cell] and exact_hi[cell]):
                    continue
            # the exact bounds: every one in ``exact`` mode, else those of a failing cell not yet known
            if (exact or lo[cell] > 0) and not exact_lo[cell]:
                out = solve(c)
                if out is not None:
                    exact_lo[cell] = True
                    lo[cell] = out[cell]
            if (exact or not safe_one(cell)) and not exact_hi[cell]:
                out = solve(-c)
                if out is not None:
                    exact_hi[cell] = True
                    hi[cell] = out[cell]
        lo_h, hi_h, t = lo[hidden], hi[hidden], threshold[hidden]
        ok = safe()
        status = np.where(ok, "ok", np.where(hi_h == lo_h, "pinned", "small"))
        return pd.DataFrame({"cell": hidden, "value": values[hidden], "lo": lo_h, "hi": hi_h,
                             "exact_lo": exact_lo[hidden], "exact_hi": exact_hi[hidden],
                             "threshold": t, "status": status})


def _integral(x: np.ndarray) -> bool:
    return bool(np.abs(x - np.round(x)).max(initial=0) <= 1e-6)


class _Program:
    """The attacker's integer program under fixed constraints, minimised for one objective after another.

    HiGHS (the build scipy ships, through its model API) keeps the model between objectives:
    each linear program starts from the last optimal basis (primal simplex: a few steps instead
    of a solve from scratch). When the optimal vertex is integral it is also the integer
    optimum; when it is not, a small integer program over the vertex's fractional variables and
    their neighbours (:meth:`near`) looks for an integer point as good; only then do the same
    constraints with every variable integer go to HiGHS's branch and bound.
    """

    def __init__(self, n: int, eq: tuple, ub: tuple, cap: np.ndarray) -> None:
        blocks, lower, upper = [], [], []
        if eq[0] is not None:
            blocks.append(eq[0])
            lower.append(eq[1])
            upper.append(eq[1])
        if ub[0] is not None:
            blocks.append(ub[0])
            lower.append(np.full(ub[0].shape[0], -highspy.kHighsInf))
            upper.append(ub[1])
        self.n = n
        self.matrix = sp.vstack(blocks).tocsc() if blocks else sp.csc_matrix((0, n))
        self.row_lower = np.concatenate(lower) if blocks else np.zeros(0)
        self.row_upper = np.concatenate(upper) if blocks else np.zeros(0)
        self.cap = cap
        self.columns = np.arange(n, dtype=np.int32)
        self.lp = self._highs(integer=False)
        self.mip = None
        self.by_row = self.matrix.tocsr()  # for :meth:`near`
        self.row_size = np.diff(self.by_row.indptr)
        self._active()

    def set_rows(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """New bounds of ``rows`` (``-inf``/``inf`` frees a row); the model and its basis are kept."""
        lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        changed = (self.row_lower[rows] != lower) | (self.row_upper[rows] != upper)
        for row, low, high in zip(rows[changed], lower[changed], upper[changed], strict=True):
            self.lp.changeRowBounds(int(row), low if np.isfinite(low) else -highspy.kHighsInf,
                                    high if np.isfinite(high) else highspy.kHighsInf)
        self.row_lower[rows], self.row_upper[rows] = lower, upper
        if changed.any():
            self.mip = None  # built again, with the new bounds, if branch and bound is needed
        self._active()

    def add_rows(self, rows: sp.csr_matrix) -> None:
        """Rows added free (no bound yet: see :meth:`set_rows`)."""
        rows = sp.csr_matrix(rows, dtype=np.float64)
        k = rows.shape[0]
        self.lp.addRows(k, np.full(k, -highspy.kHighsInf), np.full(k, highspy.kHighsInf), rows.nnz,
                        rows.indptr[:-1].astype(np.int32), rows.indices.astype(np.int32), rows.data)
        self.matrix = sp.vstack([self.matrix, rows]).tocsc()
        self.by_row = self.matrix.tocsr()
        self.row_size = np.diff(self.by_row.indptr)
        self.row_lower = np.r_[self.row_lower, np.full(k, -np.inf)]
        self.row_upper = np.r_[self.row_upper, np.full(k, np.inf)]
        self.mip = None
        self._active()

    def _active(self) -> None:
        self.active = np.isfinite(self.row_lower) | np.isfinite(self.row_upper)  # free rows bind nothing

    def _highs(self, *, integer: bool):
        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = self.n, self.matrix.shape[0]
        model.col_cost_ = np.zeros(self.n)
        model.col_lower_, model.col_upper_ = np.zeros(self.n), np.broadcast_to(self.cap, self.n).astype(np.float64)
        model.row_lower_ = np.where(np.isfinite(self.row_lower), self.row_lower, -highspy.kHighsInf)
        model.row_upper_ = np.where(np.isfinite(self.row_upper), self.row_upper, highspy.kHighsInf)
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_ = self.matrix.indptr
        model.a_matrix_.index_ = self.matrix.indices
        model.a_matrix_.value_ = self.matrix.data.astype(np.float64)
        if integer:
            model.integrality_ = [highspy.HighsVarType.kInteger] * self.n
        highs = highspy._Highs()
        highs.setOptionValue("output_flag", False)
        if integer:
            highs.setOptionValue("time_limit", SOLVE_SECONDS)
        else:  # a new objective leaves the last basis primal feasible: primal simplex goes on from it
            highs.setOptionValue("simplex_strategy", 4)
        highs.passModel(model)
        return highs

    def _run(self, highs, c: np.ndarray) -> np.ndarray | None:
        highs.changeColsCost(self.n, self.columns, c.astype(np.float64))
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(highs.getSolution().col_value)

    def linear_min(self, c: np.ndarray) -> float | None:
        """The linear program's minimum of ``c @ x`` (a lower bound over every integer solution), or
        ``None`` if it has none; primal simplex from the last basis, so a new objective costs a few steps.
        """
        x = self._run(self.lp, c)
        return None if x is None else float(c @ x)

    def feasible(self, x: np.ndarray) -> bool:
        """Whether the integer point ``x`` meets every constraint exactly (a witness is checked, not trusted)."""
        activity = self.by_row @ x.astype(np.float64)
        return bool((x >= 0).all() and (x <= self.cap + 1e-9).all()
                    and (activity >= self.row_lower - 1e-9).all() and (activity <= self.row_upper + 1e-9).all())

    def reach(self, c: np.ndarray, target: float) -> tuple[np.ndarray | None, float]:
        """An integer solution with ``c @ x <= target`` (``c`` integral), and a bound of ``c @ x``.

        Returns ``(x, bound)``: ``x`` is ``None`` when none was found; ``bound`` is a proven
        lower bound of ``c @ x`` over every integer solution (the linear minimum rounded up, or
        ``target + 1`` when branch and bound proves no solution reaches the target). Unlike
        :meth:`minimise`, branch and bound stops at the first integer point under the target
        instead of proving an optimum.
        """
        x = self._run(self.lp, c)
        if x is None:
            return None, -np.inf
        best = float(c @ x)
        bound = float(np.ceil(best - 1e-6))
        if bound > target:
            return None, bound
        if _integral(x):
            return np.round(x).astype(np.int64), bound
        y = self.near(x, c, target)
        if y is not None:
            return y, bound
        if self.mip is None:
            self.mip = self._highs(integer=True)
        mip = self.mip
        where = np.flatnonzero(c).astype(np.int32)
        mip.addRow(-highspy.kHighsInf, float(target), len(where), where, c[where].astype(np.float64))
        try:
            x = self._run(mip, np.zeros(self.n))  # any point under the target is optimal: the first ends it
            if x is None and mip.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
                return None, float(target) + 1
        finally:
            mip.deleteRows(1, np.array([mip.getNumRow() - 1], dtype=np.int32))
        return (None, bound) if x is None else (np.round(x).astype(np.int64), bound)

    def near(self, x: np.ndarray, c: np.ndarray, target: float) -> np.ndarray | None:
        """An integer point under the target that agrees with ``x`` away from its fractional part.

        A fractional vertex of the linear program is integral but for a few variables. The
        integer point is looked for among those, the cell's own and their neighbours through
        small cells (rows of at most 15, then 20, 30 and 100 variables), every other variable held
        where ``x`` has it. Any point found satisfies every constraint, so it is a witness; the
        small programs solve in milliseconds where the whole one takes seconds.
        """
        start = (np.abs(x - np.round(x)) > 1e-6) | (c != 0)
        for size in NEAR_ROWS:
            rows = np.flatnonzero((self.by_row @ start.astype(np.float64) > 0) & (self.row_size <= size)
                                  & self.active)
            free = start.copy()
            free[self.by_row[rows].indices] = True
            free = np.flatnonzero(free)
            if len(free) > self.n // 2:
                return None
            held = np.round(x)
            held[free] = 0.0
            touched = np.unique(self.matrix[:, free].tocoo().row)
            touched = touched[self.active[touched]]
            part = self.by_row[touched][:, free]
            rest = self.by_row[touched] @ held
            res = milp(np.zeros(len(free)), integrality=np.ones(len(free)),
                       constraints=[LinearConstraint(part, self.row_lower[touched] - rest,
                                                     self.row_upper[touched] - rest),
                                    LinearConstraint(c[free][None, :], -np.inf, target)],
                       bounds=Bounds(0, np.broadcast_to(self.cap, self.n)[free]), options={"time_limit": 2.0})
            if res.x is not None:
                held[free] = np.round(res.x)
                return held.astype(np.int64)
        return None

    def minimise(self, c: np.ndarray, *, prove: bool = True) -> np.ndarray | None:
        """An integer solution minimising ``c @ x`` (``None`` if the solver gives up).

        With ``prove=False`` (a solve for witnesses only) the answer is an integer point at the
        linear optimum rounded up, or ``None``: no branch and bound over the whole model.
        """
        x = self._run(self.lp, c)
        if x is not None and not _integral(x):
            # an integer point beside the vertex that reaches the linear optimum (rounded up) is an
            # integer optimum
            y = self.near(x, c, float(np.ceil(float(c @ x) - 1e-6)))
            if y is not None:
                return y
        if not prove and (x is None or not _integral(x)):
            return None
        if x is None or not _integral(x):
            if self.mip is None:
                self.mip = self._highs(integer=True)
            x = self._run(self.mip, c)
            if x is None:
                return None
        return np.round(x).astype(np.int64)


def table_model(counts: pd.DataFrame, threshold: int) -> AuditModel:
    """The attacker's system for one table and its totals alone (variables = the inner cells).

    Rows follow ``with_totals(counts).stack()``: row-major over the extended table.
    """
    values = counts.to_numpy(dtype=np.int64)
    n_r, n_c = values.shape
    inner = np.arange(n_r * n_c).reshape(n_r, n_c)
    rows_ext, cols_ext = n_r + 1, n_c + 1
    pairs = []
    for i in range(rows_ext):
        for j in range(cols_ext):
            cells = inner[i if i < n_r else slice(None), j if j < n_c else slice(None)]
            pairs.append(np.ravel(cells))
    row_index = np.repeat(np.arange(len(pairs)), [len(p) for p in pairs])
    matrix = sp.csr_matrix((np.ones(len(row_index)), (row_index, np.concatenate(pairs))),
                           shape=(len(pairs), n_r * n_c))
    units = [*map(str, counts.index), TOTAL]
    cats = [*map(str, counts.columns), TOTAL]
    truth = values.ravel()
    rows = pd.DataFrame({"release": 0, "unit_id": np.repeat(units, cols_ext), "category": np.tile(cats, rows_ext),
                         "shown": True, "value": matrix @ truth, "lo": 0.0, "hi": np.inf, "threshold": int(threshold)})
    return AuditModel([], [], matrix, truth, rows)


def _space_and_periods(space_rows: list[sp.csr_matrix], periods: list[np.ndarray], need_space: np.ndarray,
                       need_period: np.ndarray, n_space: int, n_p: int
                       ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, int]:
    """The releases' rows over space variables and, for releases of a period, period variables.

    A release counts the needs of some space variables (its cells' atoms, categories and statuses)
    within some periods (the slices its period covers). Its cells are sums over ``space × periods``:
    ``space_rows[k]`` (cells × space variables) times the periods ``periods[k]`` (booleans).

    Modelling ``x[s, p]`` for every space variable and period multiplies the two. It is not needed:
    a release over all periods sees only ``y[s] = Σp x[s, p]``; a release of a period sees only
    ``T[B, p] = Σ(s in B) x[s, p]``, where the blocks ``B`` are the pieces of space that no such
    release tells apart (in a report of totals per 圏域: 圏域 × status). For any ``y >= 0`` and
    ``T >= 0`` with ``Σ(s in B) y[s] = Σp T[B, p]`` in every block, integers ``x >= 0`` with those
    sums exist (a transportation problem with equal totals: the north-west corner rule fills it).
    So the variables ``y`` and ``T`` with one equation per block (a row always shown, value 0)
    describe exactly what the attacker can know, with ``space + blocks × periods`` variables.

    Returns the matrix (release rows, then one row per block), the true values, how many unknowns
    of the product each variable stands for (``y``: the periods; ``T``: the block's space variables;
    the audit boxes each unknown, not each variable) and the number of block rows.
    """
    truth_y = np.bincount(need_space, minlength=n_space).astype(np.int64)
    timed = [k for k, p in enumerate(periods) if not p.all()]
    if not timed:
        return sp.vstack(space_rows).tocsr(), truth_y, np.ones(n_space), 0
    stacked = sp.vstack([space_rows[k] for k in timed]).tocsc()
    weights = np.random.default_rng(11).random((2, stacked.shape[0]))
    _, block = np.unique(np.round((weights @ stacked).T, 9), axis=0, return_inverse=True)
    block = block.ravel()
    n_block = int(block.max()) + 1
    member = sp.csr_matrix((np.ones(n_space), (np.arange(n_space), block)), shape=(n_space, n_block))
    rows = []
    for k, space in enumerate(space_rows):
        if periods[k].all():
            rows.append(sp.hstack([space, sp.csr_matrix((space.shape[0], n_block * n_p))]))
        else:
            blocks = ((space @ member) > 0).astype(np.float64)
            rows.append(sp.hstack([sp.csr_matrix((space.shape[0], n_space)),
                                   sp.kron(blocks, sp.csr_matrix(periods[k][None, :].astype(np.float64)))]))
    link = sp.hstack([member.T, -sp.kron(sp.identity(n_block), np.ones((1, n_p)))])
    truth_t = np.bincount(block[need_space] * n_p + need_period, minlength=n_block * n_p).astype(np.int64)
    scale = np.r_[np.full(n_space, float(n_p)), np.repeat(np.bincount(block, minlength=n_block), n_p)]
    return sp.vstack([*rows, link]).tocsr(), np.r_[truth_y, truth_t], scale, n_block


def build_model(releases: Sequence[Release], needs: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None,
                blocks: gpd.GeoDataFrame | None = None) -> AuditModel:
    """The attacker's system for ``releases`` over the current needs and areas.

    A release whose shown values the current needs no longer reproduce (the needs changed
    after it was published) or whose units no longer exist is left out and listed in
    ``skipped``; the last release (the one being checked) must fit.
    """
    releases = list(releases)
    systems = list(dict.fromkeys(r.unit_system for r in releases))
    membership, unit_lists, gone = {}, {}, []
    for s in systems:
        try:
            units, of_need = units_and_membership(s, needs, areas, blocks)
        except InputError:  # an earlier release's areas were removed since: left out below
            if s == releases[-1].unit_system:
                raise
            gone.append(s)
            continue
        unit_lists[s] = units
        membership[s] = of_need
    early_skipped = [(r, "集計単位の区域が今のワークスペースにありません(区域が変わった可能性があります)")
                     for r in releases if r.unit_system in gone]
    releases = [r for r in releases if r.unit_system not in gone]
    systems = [s for s in systems if s not in gone]
    samples = _sample_points(needs, areas, unit_lists)
    codes = []
    for s in systems:
        ids = pd.Index(unit_lists[s]["unit_id"].astype(str))
        of_sample = units_and_membership(s, samples, areas, None)[1]
        codes.append(np.r_[ids.get_indexer(of_sample.astype(str)), ids.get_indexer(membership[s].astype(str))])
    codes = np.column_stack(codes) if codes else np.zeros((0, 0), dtype=np.int64)
    atoms, inverse = np.unique(codes, axis=0, return_inverse=True)
    need_atom = inverse.ravel()[len(samples):]

    categories = list(dict.fromkeys(c for r in releases for c in r.categories))
    cat_index = pd.Index(categories)
    statuses = list(NEED_STATUSES)
    # time slices of 受付日 and, when a release counts by it, of the date of the current status: the
    # same slices for both, so that a status dated before the need's own slice is left out (none is)
    by_status_date = any(r.period_field == "status_date" for r in releases)
    every = np.union1d(*(_period_cuts(releases, f) for f in PERIOD_FIELDS))
    cuts = {"recorded_date": every if by_status_date else _period_cuts(releases, "recorded_date"),
            "status_date": every if by_status_date else every[:0]}
    n_a, n_c, n_s = len(atoms), len(categories), len(statuses)
    n_b, n_t = len(cuts["recorded_date"]) + 1, len(cuts["status_date"]) + 1
    # a period: a slice of 受付日 × one of the status date (a status is never dated before its record)
    p_bucket, p_slice = (a.ravel() for a in np.meshgrid(np.arange(n_b), np.arange(n_t), indexing="ij"))
    valid = (p_slice >= p_bucket) if by_status_date else np.ones(len(p_bucket), dtype=bool)
    p_bucket, p_slice = p_bucket[valid], p_slice[valid]
    n_p = len(p_bucket)
    period_of = np.full((n_b, n_t), -1)
    period_of[p_bucket, p_slice] = np.arange(n_p)
    n_space = n_a * n_c * n_s  # a space variable: atom × category × status
    need_cat = cat_index.get_indexer(needs["category"].astype(str))
    need_status = pd.Index(statuses).get_indexer(needs["status"].astype(str))
    need_bucket = np.searchsorted(cuts["recorded_date"], need_dates(needs, "recorded_date"), side="right")
    need_slice = np.searchsorted(cuts["status_date"], need_dates(needs, "status_date"), side="right")
    keep = (need_cat >= 0) & (need_status >= 0)
    need_space = ((need_atom * n_c + need_cat) * n_s + need_status)[keep]
    need_period = period_of[need_bucket, need_slice][keep]

    v = np.arange(n_space)
    v_status = v % n_s
    v_cat = (v // n_s) % n_c if n_c else v * 0
    v_atom = v // (n_s * n_c) if n_c else v * 0
    space_rows, periods, meta, skipped, combined = [], [], [], list(early_skipped), []
    for k, r in enumerate(releases):
        s_pos = systems.index(r.unit_system)
        ids = pd.Index(unit_lists[r.unit_system]["unit_id"].astype(str))
        cells = r.cells.reset_index(drop=True)
        u = ids.get_indexer(cells["unit_id"].astype(str))
        u = np.where(cells["unit_id"] == TOTAL, -2, np.where(cells["unit_id"] == OUTSIDE, -1, u))
        c = np.where(cells["category"] == TOTAL, -1, cat_index.get_indexer(cells["category"].astype(str)))
        known = ((cells["unit_id"].isin([TOTAL, OUTSIDE])) | (u >= 0)) & ((cells["category"] == TOTAL) | (c >= 0))
        if not known.all():
            skipped.append((r, "集計単位または種別が今のワークスペースにありません(区域が変わった可能性があります)"))
            continue
        in_period = (np.isin(p_bucket, _buckets_of(r, cuts["recorded_date"])) if r.period_field == "recorded_date"
                     else np.isin(p_slice, _buckets_of(r, cuts["status_date"])))
        eligible = (np.isin(v_cat, cat_index.get_indexer(list(r.categories)))
                    & np.isin(v_status, pd.Index(statuses).get_indexer(list(r.statuses))))
        ev = v[eligible]
        eu = atoms[v_atom[ev], s_pos] if n_a else np.zeros(0, dtype=np.int64)
        ec = v_cat[ev]
        inside = eu >= 0
        keys_u = np.r_[eu[inside], eu[inside], np.full(inside.sum(), -2), np.full(inside.sum(), -2),
                       np.full((~inside).sum(), -1), np.full((~inside).sum(), -1)]
        keys_c = np.r_[ec[inside], np.full(inside.sum(), -1), ec[inside], np.full(inside.sum(), -1),
                       ec[~inside], np.full((~inside).sum(), -1)]
        key_var = np.r_[ev[inside], ev[inside], ev[inside], ev[inside], ev[~inside], ev[~inside]]
        width = n_c + 1
        cell_key = pd.Index((u + 2) * width + (c + 1))
        pos = cell_key.get_indexer((keys_u + 2) * width + (keys_c + 1))
        hit = pos >= 0
        matrix = sp.csr_matrix((np.ones(hit.sum()), (pos[hit], key_var[hit])), shape=(len(cells), n_space))
        matrix.data[:] = 1.0
        counted = np.bincount(need_space[in_period[need_period]], minlength=n_space)
        computed = np.rint(matrix @ counted).astype(np.int64)
        shown = cells["value"].notna().to_numpy()
        stored = cells["value"].to_numpy(dtype="float64", na_value=np.nan)
        differ = shown & (computed != np.nan_to_num(stored, nan=-1))
        if differ.any() and k < len(releases) - 1:
            skipped.append((r, "公開後にニーズが変わったため組み合わせていません"
                               f"({int(differ.sum())} セルの値が今のデータと違います)"))
            continue
        lo = cells["lo"].to_numpy(dtype=float) if "lo" in cells else np.zeros(len(cells))
        hi = cells["hi"].to_numpy(dtype=float) if "hi" in cells else np.full(len(cells), np.inf)
        space_rows.append(matrix)
        periods.append(in_period)
        meta.append(pd.DataFrame({"release": len(combined), "unit_id": cells["unit_id"].astype(str),
                                  "category": cells["category"].astype(str), "shown": shown,
                                  "value": computed, "lo": np.where(shown, 0, np.nan_to_num(lo, nan=0.0)),
                                  "hi": np.where(shown, np.inf, np.nan_to_num(hi, nan=np.inf, posinf=np.inf)),
                                  "threshold": int(r.threshold)}))
        combined.append(r)
    if not space_rows:
        raise PrivacyError("監査する表がありません。")
    matrix, truth, scale, links = _space_and_periods(space_rows, periods, need_space, need_period, n_space, n_p)
    if links:
        meta.append(pd.DataFrame({"release": -1, "unit_id": "", "category": "", "shown": True, "value": 0,
                                  "lo": 0.0, "hi": np.inf, "threshold": 0}, index=range(links)))
    rows = pd.concat(meta, ignore_index=True)
    return AuditModel(combined, skipped, matrix, truth, rows, scale=scale)


def audit_releases(releases: Sequence[Release], needs: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None,
                   blocks: gpd.GeoDataFrame | None = None, *, exact: bool = False) -> AuditResult:
    """Solve the attacker's problem over ``releases`` (the ledger plus, last, a new table).

    Parameters
    ----------
    releases
        Releases as kept in the ledger (:func:`scgeo.privacy.read_ledger`), the new one last.
    needs, areas, blocks
        The workspace's needs, areas and town blocks (the truth, never published).
    exact
        Solve the exact minimum and maximum of every hidden cell (slower; for tests and
        reports). By default each cell is solved only as far as needed to decide it.

    Returns
    -------
    AuditResult
        Bounds and status of every distinct hidden cell.
    """
    start = time.perf_counter()
    model = build_model(releases, needs, areas, blocks)
    result = model.attack(model.rows["shown"].to_numpy(), exact=exact)
    return _result(model, result, time.perf_counter() - start)


def _result(model: AuditModel, attack: pd.DataFrame, seconds: float) -> AuditResult:
    rows = model.rows
    first = pd.Series(np.arange(len(rows))).groupby(model.group).first()
    where = first.loc[attack["cell"]].to_numpy()
    ids = [r.release_id for r in model.releases]
    cells = pd.DataFrame({
        "release": rows["release"].to_numpy()[where],
        "release_id": [ids[i] for i in rows["release"].to_numpy()[where]],
        "unit_id": rows["unit_id"].to_numpy()[where], "category": rows["category"].to_numpy()[where],
        "value": attack["value"].to_numpy(), "lo": attack["lo"].to_numpy(), "hi": attack["hi"].to_numpy(),
        "status": attack["status"].to_numpy(),
    })
    return AuditResult(cells, model.releases, model.skipped, seconds, int(model.merged.shape[1]), model.n_solves)
