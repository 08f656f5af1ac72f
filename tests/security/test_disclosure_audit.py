"""The integer-program attack over every table the CLI publishes, and the audit against brute force."""

import itertools

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from scgeo.cli import main
from scgeo.privacy import TOTAL, Release, audit_releases, read_ledger
from scgeo.privacy._audit import AuditModel

# every area table `scgeo needs` can publish, open needs and all statuses (the mesh and hexagon
# tables, every cell of the town listed, are audited too but take minutes: benchmarks/bench_privacy.py)
SURFACE = [["--level", lv] for lv in ("jhs_district", "es_district", "town_block", "living_area", "municipality")]


def release_from_files(path) -> Release:
    """What an attacker holding the published CSV and its manifest knows."""
    import json

    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    manifest = json.loads(path.with_name(path.name + ".manifest.json").read_text(encoding="utf-8"))
    value = pd.to_numeric(table["count"], errors="coerce").astype("Int64")
    cells = pd.DataFrame({"unit_id": table["unit_id"], "category": table["category"], "value": value})
    if manifest["outside"]["n_needs"] is not None:
        cells.loc[len(cells)] = ["区域外", TOTAL, manifest["outside"]["n_needs"]]
    return Release(unit_system=manifest["level"], categories=tuple(manifest["categories"]),
                   statuses=tuple(manifest["statuses"]), threshold=manifest["threshold"], cells=cells,
                   period=(manifest["period"]["start"], manifest["period"]["end"]))


def test_every_table_the_cli_publishes_pins_nothing(sample_copy, tmp_path, capsys):
    ws = sample_copy
    files = []
    for k, options in enumerate(SURFACE):
        for statuses in ([], ["--all-statuses"]):
            out = tmp_path / f"needs_{k}_{len(statuses)}.csv"
            assert main(["needs", str(ws.path), "--out", str(out), *options, *statuses]) == 0
            files.append(out)
    text = capsys.readouterr().out
    assert text.count("組み合わせて監査しました") == len(files)
    releases = [release_from_files(f) for f in files]
    ledger = read_ledger(ws)
    # the demo's map and pack are the same tables, not recorded twice; its two reports add 3 tables each
    assert len(ledger) == len(files) + 6
    for file_release in releases:  # the ledger holds what was shown
        kept = [r for r in ledger if (r.unit_system, r.statuses, r.period)
                == (file_release.unit_system, file_release.statuses, file_release.period)]
        assert len(kept) == 1
        hidden = kept[0].cells["value"].isna().sum(), file_release.cells["value"].isna().sum()
        assert kept[0].same_table(file_release) or hidden[0] == hidden[1]
    needs, areas, blocks = ws.read("needs"), ws.areas(), ws.town_blocks()
    audit = audit_releases(releases, needs, areas, blocks)
    assert not audit.skipped
    assert len(audit.cells) > 1000
    assert audit.ok, audit.failing.head()
    # nothing published lies in 0..4, and every grid table lists the cells holding no need
    for release in releases:
        shown = release.cells["value"].dropna()
        assert not shown.between(0, 4).any()


def test_audit_finds_what_per_table_suppression_leaves(sample_copy):
    """Positive control: two area tables suppressed on their own are undone by the attack."""
    from scgeo.privacy import aggregate_needs, release_of

    ws = sample_copy
    needs, areas, blocks = ws.read("needs"), ws.areas(), ws.town_blocks()
    tables = [release_of(aggregate_needs(needs, areas, level=lv, blocks=blocks))
              for lv in ("jhs_district", "es_district", "living_area")]
    audit = audit_releases(tables, needs, areas, blocks)
    assert not audit.ok and (audit.failing["status"] == "pinned").any()
    # a pinned cell's bound is its true value
    pinned = audit.failing[audit.failing["status"] == "pinned"]
    assert (pinned["lo"] == pinned["value"]).all() and (pinned["hi"] == pinned["value"]).all()


# ---------------------------------------------------------------- the audit against brute force


@st.composite
def instances(draw):
    n_vars = draw(st.integers(2, 4))
    truth = np.array(draw(st.lists(st.integers(0, 6), min_size=n_vars, max_size=n_vars)))
    n_rows = draw(st.integers(2, 6))
    rows = [draw(st.lists(st.booleans(), min_size=n_vars, max_size=n_vars).filter(any)) for _ in range(n_rows)]
    shown = draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows))
    threshold = draw(st.integers(2, 5))
    return truth, np.array(rows, dtype=float), np.array(shown), threshold


def brute_force(truth, rows, shown, cap):
    """Min and max of every row over all integer points 0..cap satisfying the shown rows."""
    grid = np.array(list(itertools.product(range(int(cap) + 1), repeat=len(truth))))
    values = grid @ rows.T
    fits = (values[:, shown] == (rows[shown] @ truth)).all(axis=1)
    feasible = values[fits]
    return feasible.min(axis=0), feasible.max(axis=0)


@settings(max_examples=60, deadline=None)
@given(instances())
def test_audit_bounds_equal_brute_force(instance):
    truth, rows, shown, threshold = instance
    n_rows = len(rows)
    frame = pd.DataFrame({"release": 0, "unit_id": [f"u{i}" for i in range(n_rows)], "category": "c",
                          "shown": shown, "value": rows @ truth, "lo": 0.0, "hi": np.inf, "threshold": threshold})
    model = AuditModel([], [], sp.csr_matrix(rows), truth.astype(np.int64), frame)
    exact = model.attack(shown, exact=True)
    fast = AuditModel([], [], sp.csr_matrix(rows), truth.astype(np.int64), frame).attack(shown)
    values = rows @ truth
    cap = max(threshold, int(values.max(initial=0))) + 1  # the audit's box on each unknown
    low, high = brute_force(truth, rows, shown, cap)
    first = pd.Series(np.arange(n_rows)).groupby(model.group).first()
    for r in exact.itertuples():
        row = first[r.cell]
        assert r.lo == low[row]
        # the audit boxes each unknown (merged ones too) by ``cap``: at or past it, "unbounded"
        assert r.hi == high[row] or (r.hi >= cap and high[row] >= cap)
        pinned = low[row] == high[row]
        small = low[row] >= 1 and high[row] <= threshold - 1
        assert r.status == ("pinned" if pinned else "small" if small else "ok")
    assert fast.set_index("cell")["status"].to_dict() == exact.set_index("cell")["status"].to_dict()


@settings(max_examples=60, deadline=None)
@given(instances(), st.integers(0, 12), st.booleans())
def test_reach_finds_a_witness_exactly_when_one_exists(instance, target, upward):
    """``_Program.reach`` (the audit's decision solve): a feasible integer point with the cell at or
    under the target when any exists (brute force), else a bound that proves there is none."""
    from scgeo.privacy._audit import _Program

    truth, rows, shown, threshold = instance
    values = rows @ truth
    cap = max(threshold, int(values.max(initial=0))) + 1
    matrix = sp.csr_matrix(rows)
    program = _Program(rows.shape[1], (matrix[shown], values[shown]) if shown.any() else (None, None),
                       (None, None), np.full(rows.shape[1], float(cap)))
    low, high = brute_force(truth, rows, shown, cap)
    for row in np.flatnonzero(~shown):
        c = (-1.0 if upward else 1.0) * rows[row]
        goal = -float(target) if upward else float(target)
        best = -high[row] if upward else low[row]  # the least c @ x over every integer point
        x, bound = program.reach(c, goal)
        assert bound <= best
        if best <= goal:
            assert x is not None and program.feasible(x) and c @ x <= goal
            assert (matrix[shown] @ x == values[shown]).all()
        else:
            assert x is None


def test_sample_points_on_a_shared_boundary_make_no_atom():
    """A point on the edge two 町丁目 share is put on one side by each unit system on its own, which
    would join a 町丁目 to the neighbouring 小学校区; such points are no samples (nested areas stay nested)."""
    import geopandas as gpd
    import shapely

    from scgeo.privacy._audit import EDGE_DEGREES, _off_edges

    left, right = shapely.box(141.0, 35.0, 141.01, 35.01), shapely.box(141.01, 35.0, 141.02, 35.01)
    blocks = gpd.GeoDataFrame({"unit_id": ["T1", "T2"]}, geometry=[left, right], crs=6668)
    schools = gpd.GeoDataFrame({"unit_id": ["E1", "E2"]}, geometry=[left, right], crs=6668)
    points = shapely.points([141.005, 141.01, 141.01 + EDGE_DEGREES / 2, 141.01 + 3 * EDGE_DEGREES, 141.015],
                            [35.005] * 5)
    keep = _off_edges(points, {"town_block": blocks, "es_district": schools})
    assert keep.tolist() == [True, False, False, True, True]


def test_off_edges_equals_the_distance_to_every_boundary():
    """Brute force: a point is dropped exactly when some unit's boundary (holes and parts too) is
    within EDGE_DEGREES of it."""
    import geopandas as gpd
    import shapely

    from scgeo.privacy._audit import EDGE_DEGREES, _off_edges

    rng = np.random.default_rng(3)
    ring = shapely.Point(141.01, 35.01).buffer(0.008).difference(shapely.Point(141.01, 35.01).buffer(0.003))
    parts = shapely.MultiPolygon([shapely.box(141.0, 35.0, 141.004, 35.004), shapely.box(141.016, 35.0, 141.02, 35.02)])
    units = {"a": gpd.GeoDataFrame(geometry=[ring, parts], crs=6668),
             "b": gpd.GeoDataFrame(geometry=[shapely.box(141.0, 35.0, 141.01, 35.02)], crs=6668)}
    points = shapely.points(rng.uniform(140.998, 141.022, 4000), rng.uniform(34.998, 35.022, 4000))
    on = shapely.line_interpolate_point(shapely.boundary(ring), rng.uniform(0, 1, 200), normalized=True)
    points = np.concatenate([points, on, shapely.transform(on, lambda c: c + EDGE_DEGREES * 0.7)])
    edges = [shapely.boundary(g) for frame in units.values() for g in frame.geometry]
    near = np.min([shapely.distance(points, e) for e in edges], axis=0) <= EDGE_DEGREES
    keep = _off_edges(points, units)
    assert near.sum() > 200 and (keep == ~near).all()


def test_a_table_showing_nothing_new_attacks_only_its_new_hidden_cells(sample_copy):
    """A re-release, or the city's totals already shown in every table, tells nothing new: no solve
    is spent on the earlier releases' hidden cells, and the ledger as a whole stays safe."""
    from scgeo.privacy import publish_needs

    first = publish_needs(sample_copy, level="es_district")
    assert not first.manifest["audit"]["nothing_new_shown"] or len(read_ledger(sample_copy)) > 1
    again = publish_needs(sample_copy, level="es_district")
    assert again.manifest["audit"]["nothing_new_shown"] and again.audit.n_solves == 0
    assert again.table["count"].equals(first.table["count"])
    city = publish_needs(sample_copy, level="municipality")
    assert city.manifest["audit"]["nothing_new_shown"]
    finer = publish_needs(sample_copy, level="town_block")
    assert not finer.manifest["audit"]["nothing_new_shown"] and finer.audit.n_solves > 0
    audit = audit_releases(read_ledger(sample_copy), sample_copy.read("needs"), sample_copy.areas(),
                           sample_copy.town_blocks())
    assert not audit.skipped and audit.ok


def test_needs_counted_by_the_date_of_their_status_are_audited_with_the_rest(sample_copy):
    """「この期間につないだ」 tables (status_date), as the reports make them: the year so far, the year
    to the month before, and the month. Suppressed one by one, the first two pin the month's hidden
    cells by difference; through the ledger they do not, and every cell is modelled."""
    from scgeo.privacy import aggregate_needs, publish_needs, release_of

    needs, areas, blocks = sample_copy.read("needs"), sample_copy.areas(), sample_copy.town_blocks()
    periods = [("2026-04-01", "2026-07-31"), ("2026-04-01", "2026-06-30"), ("2026-07-01", "2026-07-31")]
    alone = [release_of(aggregate_needs(needs, areas, level="municipality", blocks=blocks, statuses=("matched",),
                                        period=p, period_field="status_date")) for p in periods]
    matched = needs[(needs["status"] == "matched")]
    dates = pd.to_datetime(matched["status_date"])
    for release, (start, end) in zip(alone, periods, strict=True):  # the model's cells are the true counts
        inside = matched[(dates >= start) & (dates <= end)]
        total = release.cells.set_index(["unit_id", "category"]).loc[(TOTAL, TOTAL), "value"]
        assert (total == len(inside)) if len(inside) >= 5 else pd.isna(total)
        assert release.period_field == "status_date"
    naive = audit_releases(alone, needs, areas, blocks)
    assert not naive.skipped and not naive.ok  # July's hidden cells, by difference of the other two
    assert set(naive.failing["release"]) == {2}
    for p in (periods[1], periods[2], periods[0]):  # the order of the reports: to June, July, then to July
        publish_needs(sample_copy, level="municipality", statuses=("matched",), period=p, period_field="status_date")
    ledger = read_ledger(sample_copy)
    assert [r.period_field for r in ledger[-3:]] == ["status_date"] * 3
    # the same period of 受付日 is another table: the ledger keeps them apart
    publish_needs(sample_copy, level="municipality", statuses=("matched",), period=periods[0])
    audit = audit_releases(read_ledger(sample_copy), needs, areas, blocks)
    assert not audit.skipped and audit.ok
    assert read_ledger(sample_copy)[-1].period_field == "recorded_date"


def test_a_table_of_totals_only_shows_no_category_and_is_audited(sample_copy):
    """by_category=False: a report's column of counts per area — only the units' totals and the grand
    total are shown or recorded, they equal the per-category table's totals, and the ledger stays safe."""
    from scgeo.privacy import publish_needs

    full = publish_needs(sample_copy, level="living_area", statuses=None, record=False)
    totals = publish_needs(sample_copy, level="living_area", statuses=None, by_category=False,
                           period=("2026-04-01", "2026-09-30"), period_field="status_date")
    assert set(totals.table["category"]) == {TOTAL} and totals.manifest["by_category"] is False
    assert set(read_ledger(sample_copy)[-1].cells["category"]) == {TOTAL}
    assert list(totals.manifest["categories"]) == list(full.manifest["categories"])
    shown = totals.table[~totals.table["suppressed"]]
    assert (shown["count"] >= 5).all()
    audit = audit_releases(read_ledger(sample_copy), sample_copy.read("needs"), sample_copy.areas(),
                           sample_copy.town_blocks())
    assert not audit.skipped and audit.ok


@st.composite
def timed_instances(draw):
    """Needs over space × periods; releases over all periods (sums over space) or of some periods."""
    n_space = draw(st.integers(1, 2))
    n_p = 2 if n_space == 2 else 3  # at most 4 unknowns for the brute force
    truth = np.array(draw(st.lists(st.integers(0, 2), min_size=n_space * n_p, max_size=n_space * n_p)))
    releases = []
    for _ in range(draw(st.integers(1, 3))):
        periods = np.array(draw(st.lists(st.booleans(), min_size=n_p, max_size=n_p).filter(any)))
        cells = [draw(st.lists(st.booleans(), min_size=n_space, max_size=n_space).filter(any))
                 for _ in range(draw(st.integers(1, 3)))]
        releases.append((np.array(cells, dtype=float), periods))
    n_rows = sum(len(c) for c, _ in releases)
    shown = np.array(draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows)))
    return truth.reshape(n_space, n_p), releases, shown, draw(st.integers(2, 5))


@settings(max_examples=100, deadline=None)
@given(timed_instances())
def test_space_and_period_variables_give_the_bounds_of_every_need_in_every_period(instance):
    """Modelled as space variables plus period variables per block (no product of the two), the
    audit's exact bounds equal a brute force over every need's space variable and period."""
    from scgeo.privacy._audit import _space_and_periods

    x, releases, shown, threshold = instance
    n_space, n_p = x.shape
    # the product: one unknown per space variable and period
    rows_x = np.vstack([np.kron(cells, periods.astype(float)) for cells, periods in releases])
    need_space, need_period = np.nonzero(x)
    need_space, need_period = np.repeat(need_space, x[x > 0]), np.repeat(need_period, x[x > 0])
    matrix, truth, scale, links = _space_and_periods([sp.csr_matrix(c) for c, _ in releases], [p for _, p in releases],
                                              need_space, need_period, n_space, n_p)
    n_rows = len(rows_x)
    assert np.array_equal(matrix[:n_rows] @ truth, rows_x @ x.ravel())
    frame = pd.DataFrame({"release": 0, "unit_id": [f"u{i}" for i in range(n_rows + links)], "category": "c",
                          "shown": np.r_[shown, np.ones(links, dtype=bool)], "value": matrix @ truth,
                          "lo": 0.0, "hi": np.inf, "threshold": threshold})
    model = AuditModel([], [], matrix, truth.astype(np.int64), frame, scale=scale)
    exact = model.attack(frame["shown"].to_numpy(), exact=True)
    values = rows_x @ x.ravel()
    cap = max(threshold, int(values.max(initial=0))) + 1
    low, high = brute_force(x.ravel(), rows_x, shown, cap)
    first = pd.Series(np.arange(n_rows + links)).groupby(model.group).first()
    for r in exact.itertuples():
        row = first[r.cell]
        assert row < n_rows  # a block's equation is always shown
        assert r.lo == low[row]
        assert r.hi == high[row] or (r.hi >= cap and high[row] >= cap)


@st.composite
def grids(draw):
    """Needs by (town block, grid cell, category) under a grid listing every cell of a town: each
    block's total and each region's total per category shown, every (grid cell, category) hidden —
    mostly empty. A block holds two grid cells, some shared with a neighbouring block."""
    n_blocks, n_cats = draw(st.integers(4, 7)), draw(st.integers(3, 4))
    truth = np.array(draw(st.lists(st.sampled_from([0, 0, 0, 0, 0, 1, 2]), min_size=2 * n_blocks * n_cats,
                                   max_size=2 * n_blocks * n_cats)))
    shared = np.array(draw(st.lists(st.booleans(), min_size=n_blocks, max_size=n_blocks)))
    # block b's cells: 2b and 2b + 1, the second one that of block b + 1 where shared
    mesh = np.c_[2 * np.arange(n_blocks), 2 * np.arange(n_blocks) + 1 + shared]
    region = np.array(draw(st.lists(st.integers(0, 1), min_size=n_blocks, max_size=n_blocks)))
    return truth.reshape(n_blocks, 2, n_cats), mesh, region, draw(st.integers(2, 5))


@settings(max_examples=40, deadline=None)
@given(grids())
def test_empty_cells_decided_by_group_rounds_agree_with_the_exact_bounds(instance):
    """The witnesses above 0 for cells seen only at 0 (found a group of variables at a time, a
    need moved along a chain of changes through the shown totals) make exactly the cells safe that
    the exact bounds of every cell make safe; a cell held at 0 by the totals stays pinned."""
    from hypothesis import assume

    x, mesh, region, threshold = instance
    n_blocks, _, n_cats = x.shape
    block, cat = np.indices(x.shape)[0].ravel(), np.indices(x.shape)[2].ravel()
    cell = mesh[block, np.indices(x.shape)[1].ravel()]
    rows, shown = [], []
    for b in range(n_blocks):  # the block totals, shown
        rows.append(block == b)
        shown.append(True)
    for r in (0, 1):  # each region's total per category, shown
        for k in range(n_cats):
            rows.append(np.isin(block, np.flatnonzero(region == r)) & (cat == k))
            shown.append(True)
    for m in np.unique(mesh):  # the grid cells, hidden
        for k in range(n_cats):
            rows.append((cell == m) & (cat == k))
            shown.append(False)
    rows, shown = np.array(rows, dtype=float), np.array(shown)
    keep = rows.any(axis=1)
    rows, shown = rows[keep], shown[keep]
    truth = x.ravel().astype(np.int64)
    frame = pd.DataFrame({"release": 0, "unit_id": [f"u{i}" for i in range(len(rows))], "category": "c",
                          "shown": shown, "value": rows @ truth, "lo": 0.0, "hi": np.inf, "threshold": threshold})
    fast = AuditModel([], [], sp.csr_matrix(rows), truth, frame)
    hidden = ~fast.cell_shown(shown)
    assume(int((hidden & (fast.merged @ fast.merged_truth == 0)).sum()) >= 16)
    calls, after_step = [], []
    group_rounds = fast._empty_witnesses

    def step(program, cells, witness):
        calls.append(cells)
        zero = group_rounds(program, cells, witness)
        after_step.append((fast.witness_hi[cells].copy(), zero))
        return zero

    fast._empty_witnesses = step
    got = fast.attack(shown).set_index("cell")
    assume(calls)  # enough cells seen only at 0 for the group rounds
    exact = AuditModel([], [], sp.csr_matrix(rows), truth, frame).attack(shown, exact=True).set_index("cell")
    assert got["status"].to_dict() == exact["status"].to_dict()
    # the step itself (rounds, loans, then a group at a time) decides every cell that can hold a
    # need: none is left to the cells' own solves
    can_hold = exact.loc[calls[0], "hi"].to_numpy() >= 1
    assert (after_step[0][0][can_hold] >= 1).all()
    # and those it proves held at 0 are: no solution puts a need there
    assert (exact.loc[calls[0][after_step[0][1]], "hi"] == 0).all()
    # every witness is a value some solution gives: within the exact bounds
    assert (got["hi"] <= exact["hi"]).all() and (got["lo"] >= exact["lo"]).all()
    # the groups: variables lying in exactly the same shown rows, with the same coefficients
    fixed = fast.merged[fast.cell_shown(shown)].toarray()
    group = AuditModel._groups(sp.csr_matrix(fixed))
    for v, w in itertools.combinations(range(fixed.shape[1]), 2):
        assert (group[v] == group[w]) == np.array_equal(fixed[:, v], fixed[:, w])
    # a grid cell lying only in blocks without a need is held at 0 by their shown totals
    first = pd.Series(np.arange(len(rows))).groupby(fast.group).first()
    empty_blocks = np.flatnonzero(x.sum(axis=(1, 2)) == 0)
    held = [c for c in got.index if not shown[first[c]] and np.isin(block[rows[first[c]] > 0], empty_blocks).all()]
    assert (got.loc[held, "status"] == "pinned").all()


def test_needs_lent_between_grid_cells_of_a_block_decide_its_empty_cells_without_a_solve():
    """Each town block's total is shown and its grid cells were published as 「5未満」 (0 to 4):
    the block's one need can lie in any of its cells, so every empty cell of an occupied block can
    hold it. Lending the need from cell to cell (the same shown totals; only cells known as 0 to 4
    change) finds all those witnesses with no solve at all; the cells of an empty block stay at 0."""
    n_blocks, per_block = 9, 3
    block = np.repeat(np.arange(n_blocks), per_block)
    truth = np.zeros(n_blocks * per_block, dtype=np.int64)
    truth[np.arange(n_blocks - 1) * per_block + np.arange(n_blocks - 1) % per_block] = 1  # the last block: none
    rows = np.r_[np.eye(n_blocks)[block].T, np.eye(len(truth))]  # block totals, then the grid cells
    shown = np.r_[np.ones(n_blocks, dtype=bool), np.zeros(len(truth), dtype=bool)]
    frame = pd.DataFrame({"release": 0, "unit_id": [f"u{i}" for i in range(len(rows))], "category": "c",
                          "shown": shown, "value": rows @ truth, "lo": 0.0,
                          "hi": np.where(shown, np.inf, 4.0), "threshold": 5})
    model = AuditModel([], [], sp.csr_matrix(rows), truth, frame)
    got = model.attack(shown).set_index("cell")
    exact = AuditModel([], [], sp.csr_matrix(rows), truth, frame).attack(shown, exact=True).set_index("cell")
    assert got["status"].to_dict() == exact["status"].to_dict()
    # no round: the only solves are those proving the empty block's cells held at 0, one per
    # group (the proof is the cell's: no cell's own solve after it)
    assert model.n_solves == per_block
    cell_of = pd.Series(np.arange(len(rows))).groupby(model.group).first()
    status = got["status"].groupby(block[cell_of[got.index].to_numpy() - n_blocks]).agg(set)
    assert status.iloc[:-1].map(lambda s: s == {"ok"}).all()
    assert status.iloc[-1] == {"pinned"}


def test_a_cell_where_no_resident_can_be_is_not_counted_as_pinned():
    """A grid cell without a variable (no sample point in it) is 0 whatever is published: the
    attack leaves it out instead of calling it pinned, which would refuse every grid table of a
    city with open water or slivers at its edge."""
    truth = np.array([3, 4], dtype=np.int64)
    rows = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=float)  # total, two cells, an empty square
    shown = np.array([True, False, False, False])
    frame = pd.DataFrame({"release": 0, "unit_id": ["t", "a", "b", "w"], "category": "c", "shown": shown,
                          "value": rows @ truth, "lo": 0.0, "hi": np.inf, "threshold": 5})
    for exact in (False, True):
        model = AuditModel([], [], sp.csr_matrix(rows), truth, frame)
        got = model.attack(shown, exact=exact)
        cell_of = pd.Series(np.arange(len(rows))).groupby(model.group).first()
        assert sorted(frame["unit_id"].to_numpy()[cell_of[got["cell"]].to_numpy()]) == ["a", "b"]
        assert set(got["status"]) == {"ok"}


def test_a_cell_given_away_by_earlier_releases_alone_does_not_hold_the_new_table_back():
    """Two earlier tables whose totals differ by a strip (a 中学校区 layer not covering a sliver of the
    小学校区 one) tell that the strip holds no need. A grid cell lying in the strip alone is then
    pinned at 0 whatever the new table hides: it is marked 「earlier」 and the table is published;
    a cell the new table itself gives away still makes it hide more, or refuse."""
    from scgeo.privacy._audit import AuditResult
    from scgeo.privacy._publish import complete_suppression

    truth = np.array([3, 4, 0, 2, 3], dtype=np.int64)  # two districts' needs, the strip, a third district
    rows = np.array([
        [1, 1, 0, 1, 1],  # release 0: the 中学校区 total (the strip outside it)
        [1, 1, 1, 1, 1],  # release 1: the 小学校区 total (the strip inside)
        [1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1],  # release 2: grid
        [1, 1, 1, 1, 1],  # release 2's total
    ], dtype=float)
    release = np.array([0, 1, 2, 2, 2, 2, 2, 2])
    shown = np.array([True, True, False, False, False, False, False, True])
    frame = pd.DataFrame({"release": release, "unit_id": [f"u{i}" for i in range(len(rows))], "category": "c",
                          "shown": shown, "value": rows @ truth, "lo": 0.0, "hi": np.inf, "threshold": 5})
    model = AuditModel([], [], sp.csr_matrix(rows), truth, frame)
    refused = []
    out, attack = complete_suppression(model, release == 2, shown, refuse=lambda cell: refused.append(cell)
                                       or AssertionError(cell))
    strip = model.group[4]
    assert not refused
    assert attack.set_index("cell").loc[strip, "status"] == "earlier"
    result = AuditResult(attack, [])
    assert result.ok and result.summary()["earlier"] == 1
    assert set(attack["status"]) <= {"ok", "earlier"}
    # the 小学校区 total hidden, the strip is given away by the new table's own cells: hidden more
    shown = np.array([True, False, True, True, False, True, True, True])
    model = AuditModel([], [], sp.csr_matrix(rows), truth, frame.assign(shown=shown))
    out, attack = complete_suppression(model, release == 2, shown, refuse=lambda cell: AssertionError(cell))
    assert set(attack["status"]) == {"ok"} and (out[2:] < shown[2:]).any()
