"""Coverage, catchments and blank zones on the sample town, and their invariants."""

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from scgeo.analysis import analyse_coverage, area_membership, blank_zones, catchments, population_points
from scgeo.analysis.coverage import TABLE_COLUMNS, CoverageRules
from scgeo.cli import main
from scgeo.network import WalkNetwork
from scgeo.privacy import INTERNAL_MARK
from scgeo.report.gaps import NEED_COLUMNS
from scgeo.sample import PLANTED_GAP_BLOCKS

TODAY = dt.date(2026, 10, 1)


@pytest.fixture(scope="module")
def layers(sample_workspace):
    ws = sample_workspace
    return {"areas": ws.areas(), "blocks": ws.town_blocks(), "resources": ws.read("resources"),
            "needs": ws.read("needs"), "network": WalkNetwork.from_workspace(ws)}


def _analyse(layers, **kwargs):
    args = {"network": layers["network"], "today": TODAY, **kwargs}
    resources = args.pop("resources", layers["resources"])
    return analyse_coverage(layers["areas"], layers["blocks"], resources, layers["needs"], **args)


@pytest.fixture(scope="module")
def coverage(layers):
    return _analyse(layers)


@pytest.fixture(scope="module")
def table(coverage):
    return coverage.table()


def test_table_shape_and_bounds(table, layers):
    assert list(table.columns) == TABLE_COLUMNS
    n_areas = len(layers["areas"])
    assert len(table) == n_areas * 13
    assert table["coverage_pct"].dropna().between(0, 100).all()
    assert (table["covered_65plus"] <= table["pop_65plus"] + 1e-6).all()
    assert (table["covered_65plus_unconfirmed"] >= -1e-6).all()
    assert (table["covered_65plus_unconfirmed"] <= table["covered_65plus"] + 1e-6).all()
    assert (table["needs_uncovered"] <= table["needs_open"]).all()
    assert set(table["method"]) == {"network"}


def test_totals_over_each_level_equal_the_municipality(table, layers):
    total_65 = layers["blocks"]["pop_65plus"].sum()
    muni = table[table["level"] == "municipality"].set_index("category")
    assert muni["pop_65plus"].round().eq(total_65).all()
    for level, part in table[table["level"] != "municipality"].groupby("level"):
        sums = part.groupby("category")[["pop_65plus", "covered_65plus", "needs_open"]].sum()
        np.testing.assert_allclose(sums["pop_65plus"], muni.loc[sums.index, "pop_65plus"], atol=0.5, err_msg=level)
        np.testing.assert_allclose(sums["covered_65plus"], muni.loc[sums.index, "covered_65plus"], atol=0.5)
        assert sums["needs_open"].tolist() == muni.loc[sums.index, "needs_open"].tolist()


def test_population_points_conserve_totals(layers):
    points = population_points(layers["blocks"], layers["network"])
    for col in ("pop_total", "pop_65plus", "pop_75plus"):
        assert points[col].sum() == pytest.approx(layers["blocks"][col].sum())
    per_block = points.groupby("block_id")["pop_65plus"].sum()
    expected = layers["blocks"].set_index("area_id")["pop_65plus"]
    np.testing.assert_allclose(per_block.loc[expected.index], expected, rtol=1e-9)
    assert not points["too_far"].any()


def test_planted_gaps_are_blank_for_salons(table):
    blocks = table[(table["level"] == "town_block") & table["area_id"].isin(PLANTED_GAP_BLOCKS)]
    for code in ("salon", "kayoi_no_ba"):
        rows = blocks[blocks["category"] == code]
        assert len(rows) == len(PLANTED_GAP_BLOCKS)
        assert (rows["coverage_pct"] == 0).all() and (rows["status"] == "空白").all()
        assert (rows["pop_65plus"] > 250).all()


def test_planted_gaps_fall_inside_salon_blank_zones(coverage, layers):
    zones = blank_zones(coverage)
    salon = zones[zones["category"] == "salon"]
    assert salon["pop_65plus"].is_monotonic_decreasing
    blocks = layers["blocks"].to_crs(zones.crs).set_index("area_id")
    for block in PLANTED_GAP_BLOCKS:
        point = blocks.loc[block].geometry.representative_point()
        assert salon.distance(point).min() < 200, block
    uncovered = coverage.points.loc[~coverage.points["cov_salon"], "pop_65plus"].sum()
    assert salon["pop_65plus"].sum() == pytest.approx(uncovered, rel=1e-3)
    assert salon["area_name"].notna().all()


def test_independent_check_of_block_coverage(coverage, layers):
    """Recompute the salon coverage of every town block from the per-point minutes."""
    pts = coverage.points
    salons = layers["resources"]
    assert not (salons[(salons["category"] == "salon")]["served_area_id"].notna().any())
    covered = pts["min_salon"] <= 15
    expected = (pts["pop_65plus"] * covered).groupby(pts["block_id"]).sum()
    pop = pts.groupby("block_id")["pop_65plus"].sum()
    rows = coverage.table(["town_block"]).query("category == 'salon'").set_index("area_id")
    np.testing.assert_allclose(rows.loc[expected.index, "coverage_pct"],
                               (100 * expected / pop).round(1).fillna(0).where(pop > 0), atol=0.051)


def test_paused_and_closed_resources_do_not_count(layers):
    res = layers["resources"].copy()
    res.loc[res["category"] == "salon", "status"] = "paused"
    table = _analyse(layers, resources=res, categories=["salon"]).table(["municipality"])
    row = table.iloc[0]
    assert row["covered_65plus"] == 0 and row["n_resources"] == 0 and row["status"] == "空白"


def test_area_served_resources_cover_their_area(layers, table):
    res = layers["resources"]
    served = res[(res["category"] == "meal_delivery") & (res["status"] == "active") & res["served_area_id"].notna()]
    assert len(served)
    member = area_membership(layers["blocks"], layers["areas"])
    blocks = set(member[member["area_id"].isin(served["served_area_id"])]["block_id"])
    rows = table[(table["level"] == "town_block") & (table["category"] == "meal_delivery")]
    inside = rows[rows["area_id"].isin(blocks) & (rows["pop_65plus"] > 0)]
    outside = rows[~rows["area_id"].isin(blocks) & (rows["pop_65plus"] > 0)]
    assert (inside["coverage_pct"] == 100).all()
    assert (outside["coverage_pct"] == 0).all()  # 配食 has no walking catchment


def test_stale_resources_are_reported_separately(layers):
    res = layers["resources"].copy()
    res.loc[res["category"] == "salon", "last_confirmed"] = pd.Timestamp("2020-01-01")
    row = _analyse(layers, resources=res, categories=["salon"]).table(["municipality"]).iloc[0]
    assert row["covered_65plus"] > 0
    assert row["covered_65plus_unconfirmed"] == pytest.approx(row["covered_65plus"])
    assert row["n_resources_unconfirmed"] == row["n_resources"]


def test_straight_line_fallback_says_so(layers):
    cov = _analyse(layers, network=None, categories=["salon"])
    table = cov.table(["jhs_district"])
    assert set(table["method"]) == {"straight_line×1.3"}
    assert table["coverage_pct"].between(0, 100).all()


def test_status_rules_are_configurable():
    pct = pd.Series([95.0, 50.0, 10.0, np.nan])
    assert CoverageRules().status(pct).tolist() == ["充足", "不足", "空白", "対象者なし"]
    assert CoverageRules(sufficient_pct=40, blank_pct=5).status(pct).tolist() == ["充足", "充足", "不足", "対象者なし"]


def test_catchments_are_nested_concave_and_contain_their_resources(coverage, layers):
    catch = catchments(coverage, categories=["salon", "meal_delivery"])
    salon = catch[catch["category"] == "salon"].set_index("minutes")
    assert list(salon.index) == [5, 10, 15]
    assert salon.loc[5].geometry.difference(salon.loc[10].geometry).area < 1.0
    assert salon.loc[10].geometry.difference(salon.loc[15].geometry).area < 1.0
    geom = salon.loc[15].geometry
    assert geom.area < 0.9 * geom.convex_hull.area
    res = layers["resources"]
    active = res[(res["category"] == "salon") & (res["status"] == "active")].to_crs(catch.crs)
    assert active.within(salon.loc[5].geometry.buffer(1)).all()
    assert not len(catch[catch["category"] == "meal_delivery"])  # area-served only


@settings(max_examples=5, deadline=None)
@given(minutes=st.floats(1, 40))
def test_more_minutes_never_cover_fewer(layers, minutes):
    small = _analyse(layers, categories=["kayoi_no_ba"], minutes=minutes).table(["municipality"]).iloc[0]
    large = _analyse(layers, categories=["kayoi_no_ba"], minutes=minutes + 5).table(["municipality"]).iloc[0]
    assert large["covered_65plus"] >= small["covered_65plus"] - 1e-9


def test_membership_is_one_area_per_level(layers):
    member = area_membership(layers["blocks"], layers["areas"])
    counts = member.groupby(["block_id", "level"]).size()
    assert (counts == 1).all()
    assert set(member["level"]) == {"municipality", "living_area", "jhs_district", "es_district", "town_block"}


def test_gaps_command_writes_tables(sample_workspace, tmp_path, capsys):
    out = tmp_path / "gaps.csv"
    code = main(["gaps", str(sample_workspace.path), "--category", "サロン", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "歩行ネットワーク" in text and "居場所・サロン" in text
    table = pd.read_csv(out, encoding="utf-8-sig")
    public_columns = [c for c in TABLE_COLUMNS if c not in NEED_COLUMNS]
    assert set(table["category"]) == {"salon"} and list(table.columns) == public_columns
    internal = tmp_path / "internal.csv"
    assert main(["gaps", str(sample_workspace.path), "--category", "サロン", "--out", str(internal), "--internal"]) == 0
    marked = pd.read_csv(tmp_path / "internal_内部資料.csv", encoding="utf-8-sig")  # marked in its name too
    assert {"needs_open", "needs_uncovered"} <= set(marked.columns) and (marked["注意"] == INTERNAL_MARK).all()
    geo = tmp_path / "gaps.geojson"
    assert main(["gaps", str(sample_workspace.path), "--minutes", "10", "--out", str(geo)]) == 0
    assert len(gpd.read_file(geo)) == len(sample_workspace.areas()) * 13
    assert main(["gaps", str(sample_workspace.path), "--category", "宇宙旅行"]) == 2
    assert "宇宙旅行" in capsys.readouterr().err


def test_demo_wrote_gap_outputs(demo_outputs):
    table = pd.read_csv(demo_outputs["gaps"], encoding="utf-8-sig")
    assert list(table.columns) == [c for c in TABLE_COLUMNS if c not in NEED_COLUMNS]  # public: no need counts
    zones = gpd.read_file(demo_outputs["blank_zones"])
    assert len(zones) and zones.crs.to_epsg() == 4326
    assert shapely.union_all(zones.geometry).is_valid


def test_no_needs_and_no_resources_still_give_a_table(layers):
    empty = layers["resources"].iloc[0:0]
    cov = analyse_coverage(layers["areas"], layers["blocks"], empty, None, network=layers["network"],
                           categories=["salon"], today=TODAY)
    table = cov.table(["jhs_district"])
    # nothing registered: the coverage is unknown (データなし), not 0 % (空白)
    assert len(table) == 6 and table["covered_65plus"].isna().all() and (table["status"] == "データなし").all()
    assert (table["needs_open"] == 0).all() and (table["n_resources"] == 0).all()
    assert cov.no_data == ("salon",) and not len(blank_zones(cov))
