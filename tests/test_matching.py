"""Matching: k nearest against brute force, assignment against an independent exact solver."""

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

import scgeo.privacy
from scgeo.analysis.matching import REASONS, _solve_transport, assign_needs, candidate_pairs, nearest_resources
from scgeo.cli import main
from scgeo.network import WalkNetwork
from scgeo.schema import load_taxonomy


@pytest.fixture(scope="module")
def town(sample_workspace):
    ws = sample_workspace
    return {"needs": ws.read("needs"), "resources": ws.read("resources"), "network": WalkNetwork.from_workspace(ws),
            "blocks": ws.town_blocks(), "areas": ws.areas()}


@pytest.fixture(scope="module")
def pairs(town):
    return candidate_pairs(town["needs"], town["resources"], network=town["network"], max_minutes=20,
                           blocks=town["blocks"], areas=town["areas"])


def test_k_nearest_equals_brute_force_on_sampled_needs(town, pairs):
    net, needs, res = town["network"], town["needs"], town["resources"]
    walkers = res[(res["status"] == "active") & res["served_area_id"].isna()]
    nearest = nearest_resources(needs, res, k=3, max_minutes=20, pairs=pairs)
    open_needs = needs[needs["status"] == "open"]
    checked = 0
    for _, need in open_needs.sample(40, random_state=3).iterrows():
        codes = load_taxonomy().resource_categories_for_need(need["category"])
        cands = walkers[walkers["category"].isin(codes)]
        target = net.snap(gpd.GeoSeries([need.geometry], crs=needs.crs))
        # one single-source run per resource: a different code path from pairs_within
        dist = np.array([net.distance_to_nearest(net.snap(cands.iloc[[i]]), target)[0] for i in range(len(cands))])
        minutes = dist / 60.0
        expected = sorted(m for m in minutes if m <= 20)[:3]
        got = nearest[(nearest["need_id"] == need["need_id"]) & (nearest["mode"] == "walk")]["minutes"].tolist()
        walk_ranked = pairs[(pairs["need_id"] == need["need_id"]) & (pairs["mode"] == "walk")]
        got_all = sorted(walk_ranked["minutes"])[:3]
        np.testing.assert_allclose(got_all, expected, atol=1e-6)
        assert all(g in np.round(expected, 1) for g in got)
        checked += len(expected)
    assert checked > 10


def test_area_served_resources_match_needs_in_their_area(town, pairs):
    res = town["resources"]
    area = pairs[pairs["mode"] == "area"]
    assert len(area) and (area["minutes"] == 0).all()
    served = res.set_index("resource_id").loc[area["resource_id"], "served_area_id"]
    assert served.notna().all()


def test_assignment_respects_capacity_and_reasons(town, pairs):
    res = town["resources"].copy()
    res["capacity"] = pd.array([1] * len(res), dtype="Int64")  # make resources scarce
    assigned = assign_needs(town["needs"], res, pairs, max_minutes=20)
    load = assigned.dropna(subset=["resource_id"]).groupby("resource_id").size()
    assert (load <= 1).all()
    assert (assigned["reason"] == REASONS["all_full"]).any()
    assert set(assigned["reason"]) <= {"", REASONS["all_full"], REASONS["no_resource"],
                                       REASONS["none_within"].format(minutes=20)}
    assert (assigned["resource_id"].isna() == (assigned["reason"] != "")).all()


@st.composite
def transport_problems(draw):
    n_needs, n_res = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    capacity = np.array(draw(st.lists(st.integers(0, 3), min_size=n_res, max_size=n_res)), dtype=float)
    cells = [(i, j) for i in range(n_needs) for j in range(n_res)]
    keep = draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells)))
    pairs = [c for c, k in zip(cells, keep, strict=True) if k]
    cost = np.array(draw(st.lists(st.integers(0, 30), min_size=len(pairs), max_size=len(pairs))), dtype=float)
    return n_needs, capacity, pairs, cost


def _exact_by_hungarian(n_needs, capacity, pairs, cost, max_minutes):
    """Independent exact solver: Hungarian algorithm on a matrix with one column per capacity slot."""
    penalty = 10.0 * (max_minutes + 1.0) * max(n_needs, 1)
    slots = [j for j, c in enumerate(capacity) for _ in range(int(c))]
    matrix = np.full((n_needs, len(slots) + n_needs), 1e12)
    matrix[np.arange(n_needs), len(slots) + np.arange(n_needs)] = penalty  # stay unassigned
    for (i, j), c in zip(pairs, cost, strict=True):
        for s, owner in enumerate(slots):
            if owner == j:
                matrix[i, s] = c
    rows, cols = linear_sum_assignment(matrix)
    return matrix[rows, cols].sum()


@settings(max_examples=80, deadline=None)
@given(problem=transport_problems())
def test_assignment_is_optimal_and_within_capacity(problem):
    n_needs, capacity, pairs, cost = problem
    need_idx = np.array([p[0] for p in pairs], dtype=int)
    res_idx = np.array([p[1] for p in pairs], dtype=int)
    chosen = _solve_transport(need_idx, res_idx, cost, n_needs, capacity, 30.0)
    assert np.bincount(need_idx[chosen], minlength=n_needs).max(initial=0) <= 1
    assert (np.bincount(res_idx[chosen], minlength=len(capacity)) <= capacity).all()
    penalty = 10.0 * 31.0 * n_needs
    ours = cost[chosen].sum() + penalty * (n_needs - chosen.sum())
    assert ours == pytest.approx(_exact_by_hungarian(n_needs, capacity, pairs, cost, 30.0))


def test_assignment_matches_brute_force_enumeration():
    # 3 needs, 2 resources of capacity 1 and 1: the cheapest full assignment by enumeration
    cost = {(0, 0): 5, (0, 1): 6, (1, 0): 1, (1, 1): 9, (2, 1): 2}
    pairs = list(cost)
    values = np.array([cost[p] for p in pairs], dtype=float)
    chosen = _solve_transport(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]), values, 3,
                              np.array([1.0, 1.0]), 30.0)
    best = min((sum(cost[(i, r)] for i, r in enumerate(choice) if r is not None), choice)
               for choice in itertools.product([0, 1, None], repeat=3)
               if all(r is None or (i, r) in cost for i, r in enumerate(choice))
               and all(sum(1 for r in choice if r == j) <= 1 for j in (0, 1))
               and sum(r is not None for r in choice) == 2)
    assert values[chosen].sum() == best[0] == 3  # need 1 → R0 (1) and need 2 → R1 (2); need 0 waits


def test_straight_line_fallback(town):
    pairs = candidate_pairs(town["needs"], town["resources"], network=None, max_minutes=20)
    assert set(pairs["method"]) == {"straight_line×1.3"}
    assert (pairs["minutes"] <= 20 + 1e-9).all()


def test_match_command_writes_no_coordinates(sample_workspace, tmp_path, capsys):
    out = tmp_path / "matches_内部資料.csv"
    assert main(["match", str(sample_workspace.path), "--assign", "--out", str(tmp_path / "matches.csv")]) == 0
    text = capsys.readouterr().out
    assert "割り当て" in text and str(out) in text and "内部資料 — 個人情報を含む" in text
    assert not (tmp_path / "matches.csv").exists()  # the name says what it is
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert list(table.columns) == ["注意", "need_id", "category", "category_label", "resource_ids", "minutes",
                                   "assigned_resource_id", "assigned_minutes", "reason"]
    assert (table["注意"] == "内部資料 — 個人情報を含む").all()
    needs = sample_workspace.read("needs")
    assert len(table) == (needs["status"] == "open").sum()
    raw = out.read_text(encoding="utf-8-sig")
    for geom in needs.geometry.head(50):
        assert f"{geom.y:.4f}" not in raw and f"{geom.x:.4f}" not in raw
    assert main(["match", str(sample_workspace.path), "--provider", "宇宙人"]) == 2


def test_filters_weekday_and_provider(town):
    pairs = candidate_pairs(town["needs"], town["resources"], network=town["network"], max_minutes=20,
                            weekday="水", provider_types=["resident"])
    from scgeo.analysis.schedule import parse_schedule

    def open_on_wednesday(frame):  # read from the schedule text (随時 counts), else the weekday column
        return [parse_schedule(t if isinstance(t, str) else None, d if isinstance(d, str) else None).is_open("水")
                for t, d in zip(frame["schedule"], frame["days_of_week"], strict=True)]

    usable = pairs[pairs["open_then"]]
    res = town["resources"].set_index("resource_id").loc[usable["resource_id"]]
    assert all(open_on_wednesday(res)) and (res["provider_type"] == "resident").all()
    assert res["days_of_week"].fillna("").str.contains("水").mean() > 0.9
    closed = town["resources"].set_index("resource_id").loc[pairs.loc[~pairs["open_then"], "resource_id"]]
    assert len(closed) and not any(open_on_wednesday(closed))


def _wish_town(schedules, wanted_days=None, wanted_time=None):
    pts = gpd.GeoSeries(shapely.points([[141.0, 35.0]]), crs=4326)
    needs = gpd.GeoDataFrame({"need_id": ["N1"], "category": ["salon"], "status": "open", "town_block_id": None,
                              "wanted_days": [wanted_days], "wanted_time": [wanted_time]}, geometry=pts, crs=4326)
    n = len(schedules)
    res = gpd.GeoDataFrame({"resource_id": [f"R{i}" for i in range(n)], "name": "サロン", "category": "salon",
                            "status": "active", "provider_type": None, "schedule": schedules, "days_of_week": None,
                            "capacity": pd.array([5] * n, dtype="Int64"), "last_confirmed": pd.NaT,
                            "served_area_id": None},
                           geometry=shapely.points([[141.0005 + i / 10000, 35.0] for i in range(n)]), crs=4326)
    return needs, res


def test_a_need_matches_only_resources_open_when_it_asks():
    needs, res = _wish_town(["毎週水曜 13:30-15:30", "毎月第2木曜 10:00-12:00"], wanted_days="水",
                            wanted_time="10:00-12:00")
    near = nearest_resources(needs, res, k=3, max_minutes=20)
    assert near["rank"].tolist() == [0]
    assert near["reason"].iloc[0] == "水曜 10:00-12:00に開いている資源が20分以内にありません"
    assigned = assign_needs(needs, res, candidate_pairs(needs, res, max_minutes=20), max_minutes=20)
    assert assigned["reason"].iloc[0] == near["reason"].iloc[0] and assigned["resource_id"].isna().all()
    needs, res = _wish_town(["毎週水曜 13:30-15:30", "毎週水曜 9:30-11:00", "第1・第3水曜 10:00-12:00"],
                            wanted_days="水", wanted_time="10:00-12:00")
    near = nearest_resources(needs, res, k=3, max_minutes=20)
    assert near["resource_id"].tolist() == ["R1", "R2"] and (near["reason"] == "").all()
    # the run's own weekday replaces the need's wish
    near = nearest_resources(needs, res, k=3, max_minutes=20, weekday="木")
    assert near["reason"].iloc[0] == "木曜 10:00-12:00に開いている資源が20分以内にありません"


def test_unreachable_and_missing_categories_get_reasons():
    pts = gpd.GeoSeries(shapely.points([[141.0, 35.0], [141.2, 35.2]]), crs=4326)
    needs = gpd.GeoDataFrame({"need_id": ["N1", "N2"], "category": ["salon", "medical"], "status": "open",
                              "town_block_id": None}, geometry=pts, crs=4326)
    res = gpd.GeoDataFrame({"resource_id": ["R1"], "name": ["サロン"], "category": ["salon"], "status": ["active"],
                            "provider_type": None, "schedule": None, "days_of_week": None,
                            "capacity": pd.array([5], dtype="Int64"), "last_confirmed": pd.NaT,
                            "served_area_id": None}, geometry=shapely.points([[141.3, 35.3]]), crs=4326)
    near = nearest_resources(needs, res, k=2, max_minutes=20)
    reasons = dict(zip(near["need_id"], near["reason"], strict=True))
    assert reasons == {"N1": "20分以内に資源がありません", "N2": "該当する種別の資源がありません"}


def test_needs_command_publishes_only_suppressed_aggregates(sample_copy, tmp_path, capsys):
    sample_workspace = sample_copy  # publishing writes the ledger
    out = tmp_path / "needs.csv"
    assert main(["needs", str(sample_workspace.path), "--out", str(out), "--level", "jhs_district"]) == 0
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    published = pd.to_numeric(table["count"], errors="coerce")
    assert not published.between(0, 4).any()
    assert (table.loc[table["suppressed"] == "True", "count"] == "秘匿").all()
    before = len(scgeo.privacy.read_ledger(sample_workspace))
    assert main(["needs", str(sample_workspace.path), "--out", str(out), "--level", "jhs_district"]) == 0
    assert len(scgeo.privacy.read_ledger(sample_workspace)) == before  # the same table again: one release
    raw = out.read_text(encoding="utf-8-sig") + (tmp_path / "needs.csv.manifest.json").read_text(encoding="utf-8")
    for need_id in sample_workspace.read("needs")["need_id"]:
        assert need_id not in raw
    internal = tmp_path / "internal.csv"
    assert main(["needs", str(sample_workspace.path), "--out", str(internal), "--internal"]) == 0
    assert "内部資料 — 個人情報を含む" in (tmp_path / "internal_内部資料.csv").read_text(encoding="utf-8-sig")
    capsys.readouterr()


def test_demo_wrote_matches_and_needs_by_area(demo_outputs, sample_workspace):
    matches = pd.read_csv(demo_outputs["matches"], encoding="utf-8-sig")
    assert len(matches) == (sample_workspace.read("needs")["status"] == "open").sum()
    assert matches["assigned_resource_id"].notna().sum() > 0
    assert demo_outputs["matches"].parent.name == "internal" and "内部資料" in demo_outputs["matches"].name
    by_area = pd.read_csv(demo_outputs["needs_by_area"], encoding="utf-8-sig", dtype=str)
    assert set(by_area["level"]) == {"jhs_district"}
    assert not pd.to_numeric(by_area["count"], errors="coerce").between(0, 4).any()
    ledger = scgeo.privacy.read_ledger(sample_workspace)
    # the table and the map are one release; the monthly and annual reports add three 圏域 tables each
    # (受付・つなぎ・解決 of their period); the pack adds its 圏域's own row (a 圏域 table of open needs)
    assert [r.unit_system for r in ledger] == ["jhs_district"] + ["living_area"] * 7
    assert [r.period_field for r in ledger[1:7]] == ["recorded_date", "status_date", "status_date"] * 2
    assert ledger[-1].period == (None, None) and ledger[-1].statuses == ("open",)


def test_assignment_prefers_the_confirmed_weekly_resource_unless_much_further():
    needs, res = _wish_town(["毎週水曜 10:00-12:00", "毎週水曜 10:00-12:00"])
    pairs = candidate_pairs(needs, res, max_minutes=20)
    assert pairs.sort_values("minutes")["resource_id"].iloc[0] == "R0"  # R0 is the nearer one
    plain = assign_needs(needs, res, pairs, max_minutes=20)
    assert plain["resource_id"].tolist() == ["R0"]
    weighted = assign_needs(needs, res, pairs, max_minutes=20, weights=pd.Series({"R0": 0.23, "R1": 1.0}))
    assert weighted["resource_id"].tolist() == ["R1"]
    unit = assign_needs(needs, res, pairs, max_minutes=20, weights=pd.Series({"R0": 1.0, "R1": 1.0}))
    assert unit["resource_id"].tolist() == ["R0"] and unit["minutes"].tolist() == plain["minutes"].tolist()
