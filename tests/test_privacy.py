"""scgeo.privacy: counts, suppression that totals cannot undo, public files without individuals."""

import doctest
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linprog

import scgeo
from scgeo.crs import to_metric
from scgeo.privacy import (
    INTERNAL_MARK,
    OUTSIDE,
    PUBLIC_MARK,
    PrivacyError,
    aggregate_needs,
    export_needs,
    suppress,
    suppression_plan,
    with_totals,
    write_aggregate,
)
from scgeo.privacy import _suppress as suppress_module

LEVELS = ("town_block", "es_district", "jhs_district", "living_area", "municipality")


@pytest.fixture(scope="module")
def sample(sample_workspace):
    return sample_workspace.read("needs"), sample_workspace.areas(), sample_workspace.town_blocks()


# ---------------------------------------------------------------- helpers


def lp_ranges(values: np.ndarray, hidden: np.ndarray) -> list[tuple[float, float]]:
    """Min and max of each hidden cell of an extended table (last row/column = totals), by LP."""
    n_rows, n_cols = values.shape
    n = n_rows * n_cols
    index = np.arange(n).reshape(n_rows, n_cols)
    equations = []
    for i in range(n_rows):
        row = np.zeros(n)
        row[index[i, :-1]] = 1
        row[index[i, -1]] = -1
        equations.append(row)
    for j in range(n_cols):
        col = np.zeros(n)
        col[index[:-1, j]] = 1
        col[index[-1, j]] = -1
        equations.append(col)
    a_eq, b_eq = np.array(equations), np.zeros(len(equations))
    flat_v, flat_h = values.ravel().astype(float), hidden.ravel()
    bounds = [(0, None) if h else (v, v) for v, h in zip(flat_v, flat_h, strict=True)]
    out = []
    for k in np.flatnonzero(flat_h):
        c = np.zeros(n)
        c[k] = 1
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0
        out.append((low.fun, np.inf if high.status == 3 else -high.fun))
    return out


def assert_protected(counts: pd.DataFrame, threshold: int) -> pd.DataFrame:
    mask = suppress(counts, threshold)
    values = with_totals(counts).to_numpy()
    hidden = mask.to_numpy()
    assert mask.shape == (counts.shape[0] + 1, counts.shape[1] + 1)
    # primary: nothing published between 1 and threshold - 1
    published = values[~hidden]
    assert not ((published >= 1) & (published < threshold)).any()
    # complementary (a): no line with exactly one hidden cell
    assert not (hidden.sum(axis=0) == 1).any()
    assert not (hidden.sum(axis=1) == 1).any()
    # complementary (b): no hidden cell pinned by the published cells and the totals
    for (low, high), value in zip(lp_ranges(values, hidden), values[hidden], strict=True):
        assert low <= value <= high
        assert high - low > 0.5
    return mask


tables = st.integers(1, 6).flatmap(lambda r: st.integers(1, 5).flatmap(
    lambda c: arrays(np.int64, (r, c), elements=st.one_of(
        st.integers(0, 30), st.sampled_from([0, 0, 1, 2, 3, 5, 6, 8, 12, 20])))))

# a table where the line rule alone leaves a hidden cell that the totals reveal (a bridge)
BRIDGE_TABLE = [[8, 0, 2], [6, 5, 0], [6, 5, 20], [6, 12, 20], [0, 0, 5], [3, 5, 8]]


# ---------------------------------------------------------------- the suppression core


@settings(max_examples=40, deadline=None)
@given(tables, st.integers(2, 8))
@example(np.array(BRIDGE_TABLE), 5)
def test_suppression_leaves_no_small_cell_and_no_recoverable_cell(values, threshold):
    counts = pd.DataFrame(values, index=[f"u{i}" for i in range(values.shape[0])],
                          columns=[f"c{j}" for j in range(values.shape[1])])
    assert_protected(counts, threshold)


def test_line_rule_alone_would_leave_a_recoverable_cell(monkeypatch):
    counts = pd.DataFrame(BRIDGE_TABLE)
    monkeypatch.setattr(suppress_module, "_bridge_fix", lambda values, hidden: None)
    mask = suppression_plan(counts, 5, hide_zeros=False).mask
    assert not (mask.sum(axis=0) == 1).any() and not (mask.sum(axis=1) == 1).any()
    ranges = lp_ranges(with_totals(counts).to_numpy(), mask.to_numpy())
    assert min(high - low for low, high in ranges) < 1e-9  # the LP audit catches it
    monkeypatch.undo()
    assert_protected(counts, 5)


@settings(max_examples=60, deadline=None)
@given(tables)
def test_threshold_one_publishes_everything(values):
    assert not suppress(pd.DataFrame(values), 1).to_numpy().any()


def test_zeros_hidden_by_default_and_complementary_reasons():
    counts = pd.DataFrame({"a": [3, 9, 0], "b": [8, 7, 0]}, index=["x", "y", "z"])
    assert suppression_plan(counts, 5).mask.loc["z"].all()  # the band 「5未満」 holds the zeros
    plan = suppression_plan(counts, 5, hide_zeros=False)
    assert plan.mask.loc["z"].tolist() == [False, False, False]
    assert plan.mask.loc["x", "a"] and plan.mask.loc["x", "b"]
    assert plan.mask.to_numpy().sum() == 4
    reasons = plan.reasons.set_index(["row", "column"])
    assert reasons.loc[("x", "a"), "kind"] == "primary"
    assert reasons.loc[("x", "b"), "kind"] == "complementary"
    assert (reasons.loc[("x", "b"), "protects_row"], reasons.loc[("x", "b"), "protects_column"]) == ("x", "a")
    assert reasons.loc[("x", "b"), "line"] == "row"


def test_total_suppressed_when_it_must_be():
    # one unit, one small cell: the only other cells of its row are zeros, so the row total goes
    mask = suppress(pd.DataFrame({"a": [2, 9], "b": [0, 6]}, index=["x", "y"]), 5)
    assert mask.loc["x", "total"]


def test_bridge_between_two_hidden_cycles_is_closed():
    values = np.full((5, 5), 20)
    hidden = np.zeros((5, 5), dtype=bool)
    hidden[np.ix_([0, 1], [0, 1])] = True  # a cycle
    hidden[np.ix_([2, 3], [2, 3])] = True  # another cycle
    hidden[0, 2] = True  # the bridge between them: every line has 0 or >= 2 hidden cells
    assert not (hidden.sum(axis=0) == 1).any() and not (hidden.sum(axis=1) == 1).any()
    bridge, extra = suppress_module._bridge_fix(values, hidden)
    assert bridge == (0, 2)
    rows_a, cols_b = {0, 1}, {2, 3}
    assert (extra[0] in rows_a and extra[1] in cols_b) or (extra[0] in cols_b and extra[1] in {0, 1})
    hidden[extra] = True
    assert suppress_module._bridge_fix(values, hidden) is None


def test_suppression_core_rejects_bad_tables():
    with pytest.raises(scgeo.InputError, match="負"):
        suppress(pd.DataFrame({"a": [-1]}), 5)
    with pytest.raises(scgeo.InputError, match="threshold"):
        suppress(pd.DataFrame({"a": [1]}), 0)


# ---------------------------------------------------------------- counts on the sample town


def brute_force(needs, units):
    """Unit of each need by testing its point against every unit polygon (first that covers it)."""
    points = needs.geometry.to_numpy()
    covers = shapely.covers(units.geometry.to_numpy()[:, None], points[None, :])
    first = np.where(covers.any(axis=0), covers.argmax(axis=0), -1)
    return pd.Series(np.where(first >= 0, units["unit_id"].to_numpy()[first], OUTSIDE), index=needs.index)


@pytest.mark.parametrize("level", LEVELS)
def test_counts_equal_brute_force(sample, level):
    needs, areas, blocks = sample
    result = aggregate_needs(needs, areas, level=level, blocks=blocks, statuses=None, threshold=1)
    units = areas[areas["level"] == level].rename(columns={"area_id": "unit_id"})
    unit_of = brute_force(needs, units)
    expected = pd.crosstab(unit_of, needs["category"])
    table = result.table
    assert not table["suppressed"].any()
    inner = table[(table["unit_id"] != "total") & (table["category"] != "total")]
    got = inner.pivot(index="unit_id", columns="category", values="count").astype(int)
    expected = expected.reindex(index=got.index, columns=got.columns, fill_value=0)
    pd.testing.assert_frame_equal(got, expected, check_names=False)
    assert len(got) == (areas["level"] == level).sum()
    grand = table[(table["unit_id"] == "total") & (table["category"] == "total")]["count"].iloc[0]
    assert grand == len(needs) == result.manifest["n_needs"] == 465
    row_totals = table[(table["category"] == "total") & (table["unit_id"] != "total")]
    assert row_totals.set_index("unit_id")["count"].astype(int).to_dict() == got.sum(axis=1).to_dict()
    col_totals = table[(table["unit_id"] == "total") & (table["category"] != "total")]
    assert col_totals.set_index("category")["count"].astype(int).to_dict() == got.sum(axis=0).to_dict()


def test_open_needs_by_default_and_table_layout(sample):
    needs, areas, blocks = sample
    result = aggregate_needs(needs, areas, level="jhs_district", blocks=blocks)
    n_open = int((needs["status"] == "open").sum())
    assert result.manifest["n_needs"] == n_open == 269
    assert result.manifest["statuses"] == ["open"]
    table = result.table
    assert list(table.columns) == ["unit_id", "unit_name", "level", "category", "category_label", "count",
                                   "suppressed", "display"]
    assert str(table["count"].dtype) == "Int64"
    assert table.loc[table["suppressed"], "count"].isna().all()
    assert (table.loc[table["suppressed"], "display"] == "秘匿").all()
    shown = table[~table["suppressed"]]
    assert (shown["display"] == shown["count"].astype(int).astype(str)).all()
    assert len(table) == 7 * (len(result.manifest["categories"]) + 1)
    assert set(table.loc[table["unit_id"] == "total", "unit_name"]) == {"合計"}
    assert result.geometry.crs.to_epsg() == 6668
    assert str(result.geometry["count"].dtype) == "Int64"
    totals = table[(table["category"] == "total") & (table["unit_id"] != "total")].set_index("unit_id")
    assert result.geometry.set_index("unit_id")["suppressed"].to_dict() == totals["suppressed"].to_dict()
    assert len(result.geometry) == 6


@pytest.mark.parametrize("level", ["es_district", "jhs_district"])
def test_sample_town_cells_cannot_be_recovered(sample, level):
    needs, areas, blocks = sample
    result = aggregate_needs(needs, areas, level=level, blocks=blocks)
    categories = result.manifest["categories"]
    full = aggregate_needs(needs, areas, level=level, blocks=blocks, threshold=1).table
    counts = full[(full["unit_id"] != "total") & (full["category"] != "total")].pivot(
        index="unit_id", columns="category", values="count").astype(int)
    counts = counts.loc[result.geometry["unit_id"], categories]
    assert_protected(counts, 5)  # the audited suppression of the table alone
    mask = suppression_plan(counts, 5).mask  # aggregate_needs: the plan; publish_needs audits it
    hidden = result.table.set_index(["unit_id", "category"])["suppressed"]
    assert mask.stack().sort_index().to_numpy().tolist() == hidden.sort_index().to_numpy().tolist()
    # the public manifest says how many cells are hidden and by which rules, not which cell is which
    suppressed = result.manifest["suppressed"]
    assert suppressed["cells"] == int(hidden.sum()) and suppressed["of"] == len(hidden)
    assert "primary" not in json.dumps(result.manifest) and "complementary" not in json.dumps(result.manifest)


def test_need_without_point_falls_back_to_its_block_and_outside_is_reported(sample):
    needs, areas, blocks = sample
    needs = needs[needs["status"] == "open"].copy()
    moved = needs.index[:3]
    block_of = dict(zip(blocks["area_id"], blocks.geometry, strict=True))
    needs.loc[moved[0], "geometry"] = None  # no point: its town_block_id decides
    needs.loc[moved[1], "geometry"] = shapely.Point(139.0, 36.0)  # far outside the town
    needs.loc[moved[2], "geometry"] = None
    needs.loc[moved[2], "town_block_id"] = "no-such-block"
    result = aggregate_needs(needs, areas, level="jhs_district", blocks=blocks, threshold=1)
    assert result.manifest["outside"]["n_needs"] == 2
    assert result.manifest["n_needs"] == len(needs) - 2
    grand = result.table.query("unit_id == 'total' and category == 'total'")["count"].iloc[0]
    assert grand == len(needs) - 2
    # the need without a point is counted where its block's representative point lies
    block = block_of[needs.loc[moved[0], "town_block_id"]]
    jhs = areas[(areas["level"] == "jhs_district") & areas.covers(block.representative_point())]["area_id"].iloc[0]
    with_point = aggregate_needs(needs.drop(index=moved), areas, level="jhs_district", blocks=blocks, threshold=1)
    key = ["unit_id", "category"]
    diff = (result.table.set_index(key)["count"] - with_point.table.set_index(key)["count"])
    assert diff.loc[(jhs, needs.loc[moved[0], "category"])] == 1
    assert int(diff.sum()) == 4  # the cell, its row total, its column total, the grand total


# ---------------------------------------------------------------- mesh and hexagons


@pytest.mark.parametrize("options", [{"mesh": 250}, {"mesh": 500}, {"hex_size_m": 300}, {"hex_size_m": 750}])
def test_mesh_and_hexagons_count_every_need_inside_its_polygon(sample, options):
    needs, areas, _ = sample
    result = aggregate_needs(needs, areas, statuses=None, threshold=1, **options)
    assert result.manifest["n_needs"] == len(needs)
    table = result.table
    inner = table[(table["unit_id"] != "total") & (table["category"] != "total")]
    assert int(inner["count"].sum()) == len(needs)
    # every cell of the town is listed, occupied or not: an empty cell is not told by its absence
    totals = table.query("category == 'total' and unit_id != 'total'")["count"]
    assert (totals == 0).any() and (totals > 0).any()
    town = areas[areas["level"] == "municipality"].union_all()
    assert town.difference(result.geometry.union_all()).area < 1e-9 * town.area
    units = result.geometry
    if "hex_size_m" in options:  # hexagons are straight in metres: test there
        units, needs = to_metric(units), needs.to_crs(to_metric(units).crs)
        area = units.area.to_numpy()
        size = options["hex_size_m"]
        assert np.allclose(area, 3 * np.sqrt(3) / 2 * size**2, rtol=1e-6)
        assert not units.geometry.overlaps(units.geometry.shift()).fillna(False).any()
    unit_of = brute_force(needs, units)
    assert (unit_of != OUTSIDE).all()
    got = pd.crosstab(unit_of, needs["category"]).stack()
    expected = inner.set_index(["unit_id", "category"])["count"].astype(int)
    assert got.reindex(expected.index, fill_value=0).tolist() == expected.tolist()


def test_mesh_codes_and_cell_size(sample):
    needs, _, _ = sample
    result = aggregate_needs(needs, None, mesh=500)
    codes = result.geometry["unit_id"]
    assert codes.str.fullmatch(r"\d{9}").all()
    width = result.geometry.bounds["maxx"] - result.geometry.bounds["minx"]
    height = result.geometry.bounds["maxy"] - result.geometry.bounds["miny"]
    assert np.allclose(width, 22.5 / 3600) and np.allclose(height, 15 / 3600)  # 500 m: 15" x 22.5"
    with pytest.raises(scgeo.InputError, match="mesh"):
        aggregate_needs(needs, None, mesh=100)


# ---------------------------------------------------------------- merging


def test_merge_method_publishes_no_small_count(sample):
    needs, areas, blocks = sample
    result = aggregate_needs(needs, areas, level="es_district", blocks=blocks, statuses=None, method="merge")
    table = result.table
    shown = table.loc[~table["suppressed"], "count"].astype(int)
    assert not ((shown >= 1) & (shown < 5)).any()
    assert result.manifest["method"] == "merge"
    members = [m for rec in result.manifest["merged"] for m in rec["members"]]
    assert len(members) == len(set(members))
    es = areas[areas["level"] == "es_district"]
    assert result.geometry.union_all().symmetric_difference(es.union_all()).area < 1e-9
    merged_total = table.query("unit_id == 'total' and category == 'total'")["count"].iloc[0]
    assert merged_total == len(needs)


# ---------------------------------------------------------------- files


def test_public_files_hold_no_need_id_nor_coordinates(sample, tmp_path):
    needs, areas, blocks = sample
    paths = []
    for options in ({"level": "town_block"}, {"level": "jhs_district"}, {"mesh": 250}, {"hex_size_m": 300}):
        result = aggregate_needs(needs, areas, blocks=blocks, statuses=None, **options)
        name = "_".join(map(str, options.values()))
        paths.append(write_aggregate(result, tmp_path / f"needs_{name}.csv"))
    texts = [p.read_text(encoding="utf-8-sig") for p in paths]
    texts += [p.with_name(p.name + ".manifest.json").read_text(encoding="utf-8") for p in paths]
    blob = "\n".join(texts)
    assert not [i for i in needs["need_id"] if i in blob]
    xs, ys = needs.geometry.x.to_numpy(), needs.geometry.y.to_numpy()
    for digits in (4, 5, 6):
        coords = {f"{v:.{digits}f}" for v in np.r_[xs, ys]}
        assert not [c for c in coords if c in blob]
    # and no number with 4+ decimals at all (coordinates truncated rather than rounded)
    assert not re.findall(r"\d+\.\d{4,}", blob)
    assert "need_id" not in blob


def test_write_aggregate_writes_hidden_cells_as_hikitoku(sample, tmp_path):
    needs, areas, blocks = sample
    result = aggregate_needs(needs, areas, level="jhs_district", blocks=blocks)
    path = write_aggregate(result, tmp_path / "out" / "needs_by_area.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    written = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    assert list(written.columns) == ["unit_id", "unit_name", "level", "category", "category_label", "count",
                                     "suppressed"]
    hidden = written["suppressed"] == "True"
    assert hidden.sum() == result.table["suppressed"].sum() > 0
    assert (written.loc[hidden, "count"] == "秘匿").all()
    assert written.loc[~hidden, "count"].str.fullmatch(r"\d+").all()
    values = written.loc[~hidden, "count"].astype(int)
    assert not (values < 5).any()  # zeros are inside the band too
    manifest = json.loads((tmp_path / "out" / "needs_by_area.csv.manifest.json").read_text(encoding="utf-8"))
    assert manifest["mark"] == PUBLIC_MARK
    assert manifest["threshold"] == 5
    assert manifest["suppressed"]["cells"] == hidden.sum()
    assert manifest["outside"]["n_needs"] is None  # 0 needs outside: a zero, hidden like any other
    assert {"generated_at", "level", "statuses", "n_needs"} <= set(manifest)


def test_export_needs_requires_internal_mode(sample, tmp_path):
    needs, _, _ = sample
    with pytest.raises(PrivacyError, match="要配慮個人情報") as info:
        export_needs(needs, tmp_path / "needs.csv")
    assert isinstance(info.value, scgeo.ScgeoError)
    assert "internal=True" in str(info.value) and "集計" in str(info.value)
    with pytest.raises(PrivacyError):
        export_needs(needs, tmp_path / "needs.csv", internal="yes")
    assert not (tmp_path / "needs.csv").exists()


def test_export_needs_internal_is_marked(sample, tmp_path):
    needs, _, _ = sample
    csv = export_needs(needs, tmp_path / "needs.csv", internal=True)
    written = pd.read_csv(csv, encoding="utf-8-sig", dtype=str)
    assert written.columns[0] == "注意"
    assert (written["注意"] == INTERNAL_MARK).all()
    assert len(written) == len(needs)
    assert np.allclose(written["longitude"].astype(float), needs.geometry.x)
    geojson = export_needs(needs, tmp_path / "needs.geojson", internal=True)
    data = json.loads(geojson.read_text(encoding="utf-8"))
    assert data["name"] == INTERNAL_MARK == data["description"]
    assert len(data["features"]) == len(needs)
    back = gpd.read_file(geojson)
    assert len(back) == len(needs)


def test_docstring_examples():
    import scgeo.privacy as privacy
    from scgeo.privacy import _aggregate, _export, _merge, _units

    for module in (privacy, suppress_module, _aggregate, _export, _merge, _units):
        failed, _ = doctest.testmod(module)
        assert failed == 0
