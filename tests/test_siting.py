"""Siting models: exact = brute force on small instances, = spopt on the same cost matrix, invariants."""

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from scgeo.analysis.siting import (
    SitingProblem,
    evaluate,
    greedy_mclp,
    merge_rows,
    solve_lscp,
    solve_mclp,
    solve_pmedian,
)

LIMIT = 10.0


@st.composite
def instances(draw, *, capacity=False):
    n_dem = draw(st.integers(1, 9))
    n_ex = draw(st.integers(0, 2))
    n_cand = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 2 * LIMIT, size=(n_dem, n_ex + n_cand)).round(1)
    if draw(st.booleans()):  # duplicated demand rows: merged by the solver
        cost = np.vstack([cost, cost[: max(1, n_dem // 2)]])
    weights = rng.integers(0, 30, size=len(cost)).astype(float)
    cap = None
    if capacity:
        cap = rng.integers(1, 40, size=n_ex + n_cand).astype(float)
        cap[rng.random(len(cap)) < 0.3] = np.inf
    k = draw(st.integers(1, n_cand))
    problem = SitingProblem.from_cost_matrix(cost, weights, n_existing=n_ex, max_minutes=LIMIT, capacity=cap)
    return problem, cost, k


def _combos(problem, k):
    return [np.array(c, dtype=np.int64) for size in range(k + 1)
            for c in itertools.combinations(range(problem.n_candidates), size)]


def _coverage(cost, weights, n_ex, chosen):
    open_cols = np.r_[np.arange(n_ex), n_ex + chosen].astype(int)
    return float(weights[(cost[:, open_cols] <= LIMIT).any(axis=1)].sum()) if len(open_cols) else 0.0


def _capacitated_value(cost, weights, cap, n_ex, chosen):
    """Independent max-flow LP: people of each point to open facilities within reach, capacities kept."""
    open_cols = np.r_[np.arange(n_ex), n_ex + chosen].astype(int)
    pairs = [(i, j) for i in range(len(cost)) for j in open_cols if cost[i, j] <= LIMIT]
    if not pairs:
        return 0.0
    a_ub, b_ub = [], []
    for i in range(len(cost)):
        a_ub.append([1.0 if p[0] == i else 0.0 for p in pairs])
        b_ub.append(weights[i])
    for j in open_cols:
        if np.isfinite(cap[j]):
            a_ub.append([1.0 if p[1] == j else 0.0 for p in pairs])
            b_ub.append(cap[j])
    res = linprog(-np.ones(len(pairs)), A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=(0, None), method="highs")
    return -res.fun


@settings(max_examples=40, deadline=None)
@given(instances())
def test_mclp_equals_brute_force(inst):
    problem, cost, k = inst
    sol = solve_mclp(problem, k)
    best = max(_coverage(cost, problem.weights, problem.n_existing, c) for c in _combos(problem, k))
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.optimal and len(sol.chosen) <= k
    assert _coverage(cost, problem.weights, problem.n_existing, sol.chosen) == pytest.approx(sol.objective)
    # greedy is a feasible solution: never better than the optimum; its gap is reported
    assert sol.greedy_objective <= sol.objective + 1e-6
    assert sol.gap_pct >= 0
    # invariants: existing always open, covered ≤ demand, adding a site never lowers coverage
    before = _coverage(cost, problem.weights, problem.n_existing, np.array([], dtype=int))
    assert before - 1e-9 <= sol.objective <= problem.weights.sum() + 1e-9
    assert (sol.covered <= problem.weights + 1e-9).all()
    for extra in range(problem.n_candidates):
        more = np.union1d(sol.chosen, [extra])
        assert evaluate(problem, more)[0] >= sol.objective - 1e-9


@settings(max_examples=25, deadline=None)
@given(instances(capacity=True))
def test_capacitated_mclp_equals_brute_force(inst):
    problem, cost, k = inst
    sol = solve_mclp(problem, k)
    best = max(_capacitated_value(cost, problem.weights, problem.capacity, problem.n_existing, c)
               for c in _combos(problem, k))
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert (sol.covered <= problem.weights + 1e-6).all()
    value, _ = evaluate(problem, sol.chosen)
    assert value == pytest.approx(sol.objective, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(instances())
def test_pmedian_equals_brute_force(inst):
    problem, cost, k = inst
    sol = solve_pmedian(problem, k)
    capped = np.minimum(cost, LIMIT)

    def total(chosen):
        open_cols = np.r_[np.arange(problem.n_existing), problem.n_existing + chosen].astype(int)
        if not len(open_cols):
            return float(problem.weights.sum() * LIMIT)
        return float(problem.weights @ capped[:, open_cols].min(axis=1))

    best = min(total(c) for c in _combos(problem, k))
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.greedy_objective >= sol.objective - 1e-6


@settings(max_examples=30, deadline=None)
@given(instances(), st.sampled_from([0.3, 0.6, 0.9, 1.0]))
def test_lscp_equals_brute_force(inst, share):
    problem, cost, _ = inst
    sol = solve_lscp(problem, share)
    total = problem.weights.sum()
    combos = _combos(problem, problem.n_candidates)
    reach = [(len(c), _coverage(cost, problem.weights, problem.n_existing, c)) for c in combos]
    best_cover = max(v for _, v in reach)
    target = min(share * total, best_cover)
    fewest = min(n for n, v in reach if v >= target - 1e-7 * max(1.0, total))
    assert len(sol.chosen) == fewest
    assert sol.objective >= target - 1e-6 * max(1.0, total)
    # among the smallest sets, the one covering most
    assert sol.objective == pytest.approx(max(v for n, v in reach if n == fewest), abs=1e-6)
    assert sol.status == ("optimal" if share * total <= best_cover + 1e-9 else "target_unreachable")


def test_merge_rows_is_exact_and_keeps_weights():
    rng = np.random.default_rng(3)
    pattern = rng.random((200, 12)) < 0.3
    pattern = np.vstack([pattern, pattern[:50]])
    row, col = np.nonzero(pattern)
    weights = rng.random(len(pattern))
    rows = np.unique(row)
    merged = merge_rows(rows, row, col, weights)
    assert merged.weights.sum() == pytest.approx(weights[rows].sum())
    # every row's columns are those of its merged row
    for r, g in zip(merged.rows[:80], merged.group[:80], strict=True):
        assert set(col[row == r]) == set(merged.col[merged.row == g])
    # distinct patterns stay apart
    keys = {tuple(np.flatnonzero(pattern[r])) for r in rows}
    assert merged.n_rows == len(keys)


def test_greedy_ties_are_broken_by_candidate_position():
    cost = np.array([[1.0, 1.0, 1.0], [20.0, 20.0, 20.0]])
    problem = SitingProblem.from_cost_matrix(cost, [5, 5], n_existing=0, max_minutes=LIMIT)
    assert greedy_mclp(problem, 1).tolist() == [0]
    assert solve_mclp(problem, 1).objective == 5


def _spopt_instance(seed):
    rng = np.random.default_rng(seed)
    n_dem, n_ex, n_cand = 60, 3, 25
    cost = rng.uniform(0, 30, size=(n_dem, n_ex + n_cand))
    weights = rng.integers(1, 50, size=n_dem).astype(float)
    return cost, weights, n_ex


SPOPT_WARNINGS = pytest.mark.filterwarnings("ignore:.*PuLP 4:DeprecationWarning")  # spopt's use of PuLP


@SPOPT_WARNINGS
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mclp_objective_equals_spopt(seed):
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    cost, weights, n_ex = _spopt_instance(seed)
    k = 4
    predefined = np.r_[np.ones(n_ex), np.zeros(cost.shape[1] - n_ex)].astype(int)
    model = locate.MCLP.from_cost_matrix(cost, weights, service_radius=LIMIT, p_facilities=n_ex + k,
                                         predefined_facilities_arr=predefined, name="mclp")
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    ours = solve_mclp(SitingProblem.from_cost_matrix(cost, weights, n_existing=n_ex, max_minutes=LIMIT), k)
    assert ours.objective == pytest.approx(pulp.value(model.problem.objective), abs=1e-6)


@SPOPT_WARNINGS
@pytest.mark.parametrize("seed", [0, 1])
def test_pmedian_objective_equals_spopt(seed):
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    cost, weights, n_ex = _spopt_instance(seed)
    k = 3
    predefined = np.r_[np.ones(n_ex), np.zeros(cost.shape[1] - n_ex)].astype(int)
    model = locate.PMedian.from_cost_matrix(cost, weights, p_facilities=n_ex + k,
                                            predefined_facilities_arr=predefined, name="pmedian")
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    # the whole matrix is within the search limit: our capped p-median is the classic one
    problem = SitingProblem.from_cost_matrix(cost, weights, n_existing=n_ex, max_minutes=cost.max() + 1)
    ours = solve_pmedian(problem, k)
    assert ours.objective == pytest.approx(pulp.value(model.problem.objective), rel=1e-9)


# ------------------------------------------------------------------ on the sample town


@pytest.fixture(scope="module")
def town(sample_workspace):
    from scgeo.network import WalkNetwork

    ws = sample_workspace
    return {"network": WalkNetwork.from_workspace(ws), "blocks": ws.town_blocks(), "resources": ws.read("resources"),
            "areas": ws.areas()}


@pytest.fixture(scope="module")
def grid(town):
    from scgeo.analysis.siting import grid_candidates

    return grid_candidates(town["network"], spacing_m=300)


def test_plan_sites_on_the_sample_agrees_with_coverage(town, grid):
    from scgeo.analysis import analyse_coverage
    from scgeo.analysis.siting import SITE_COLUMNS, plan_sites

    res = plan_sites(town["network"], town["blocks"], town["resources"], grid, category="kayoi_no_ba", k_new=3,
                     areas=town["areas"])
    s = res.summary
    cov = analyse_coverage(town["areas"], town["blocks"], town["resources"], network=town["network"],
                           categories=["kayoi_no_ba"]).table(["municipality"])
    assert s["covered_before"] == pytest.approx(cov["covered_65plus"].iloc[0], abs=1.0)
    assert s["demand_total"] == pytest.approx(town["blocks"]["pop_65plus"].sum(), abs=0.5)
    assert s["optimal"] and s["model"] == "mclp"
    assert list(res.sites.columns[:len(SITE_COLUMNS)]) == SITE_COLUMNS
    assert res.sites["rank"].tolist() == [1, 2, 3]
    assert res.sites["gain_65plus"].is_monotonic_decreasing  # marginal gains in order
    assert res.sites["gain_65plus"].sum() == pytest.approx(s["covered_after"] - s["covered_before"], abs=0.5)
    assert s["covered_before"] < s["covered_after"] <= s["demand_total"]
    assert s["greedy_gap_pct"] >= 0
    muni = res.by_area[res.by_area["level"] == "municipality"].iloc[0]
    assert muni["gain"] == pytest.approx(s["covered_after"] - s["covered_before"], abs=0.5)
    jhs = res.by_area[res.by_area["level"] == "jhs_district"]
    assert jhs["gain"].sum() == pytest.approx(muni["gain"], abs=0.5)
    # a rerun gives the same sites
    again = plan_sites(town["network"], town["blocks"], town["resources"], grid, category="kayoi_no_ba", k_new=3,
                       areas=town["areas"])
    assert again.sites["candidate_id"].tolist() == res.sites["candidate_id"].tolist()


def test_total_population_fallback_is_said(town, grid):
    from scgeo.analysis.siting import plan_sites

    blocks = town["blocks"].assign(pop_65plus=pd.NA, pop_75plus=pd.NA)
    res = plan_sites(town["network"], blocks, town["resources"], grid, category="salon", k_new=1)
    assert res.summary["demand"] == "total"
    assert "総人口" in res.summary["note"]
    assert res.summary["demand_total"] == pytest.approx(town["blocks"]["pop_total"].sum(), abs=0.5)
    assert res.sites["gain_65plus"].isna().all() and (res.sites["gain_demand"] > 0).all()


def test_closure_loss_and_replacement(town, grid):
    from scgeo.analysis.siting import closure_impact

    res = town["resources"]
    ids = res[(res["category"] == "kayoi_no_ba") & (res["status"] == "active")]["resource_id"].tolist()[:2]
    out = closure_impact(town["network"], town["blocks"], res, grid, category="kayoi_no_ba", close=ids)
    assert out["loss"] >= 0
    assert out["covered_after_closure"] == pytest.approx(out["covered_before"] - out["loss"], abs=0.2)
    if out["replacement"]:
        assert out["covered_with_replacement"] >= out["covered_after_closure"]


def test_cli_site_json_and_csv(sample_workspace, tmp_path, capsys):
    import json

    from scgeo.cli import main

    out = tmp_path / "sites.csv"
    assert main(["site", str(sample_workspace.path), "--category", "kayoi_no_ba", "--new", "2",
                 "--candidates", "grid:300", "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("sites", "covered_before", "covered_after", "demand_total", "model", "optimal", "seconds"):
        assert key in data
    assert len(data["sites"]) == 2 and data["optimal"] is True
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert list(table.columns[:6]) == ["rank", "candidate_id", "name", "lat", "lon", "gain_65plus"]
    assert table["candidate_id"].tolist() == [s["candidate_id"] for s in data["sites"]]


@pytest.mark.parametrize("argv, message", [
    (["--category", "配食"], "候補地選び"),
    (["--category", "nothing"], "種別"),
    (["--category", "salon", "--candidates", "grid:abc"], "格子"),
    (["--category", "salon", "--candidates", "missing.csv"], "使えません"),
    (["--category", "salon", "--new", "0"], "1〜200"),
])
def test_cli_site_input_errors(sample_workspace, capsys, argv, message):
    from scgeo.cli import main

    assert main(["site", str(sample_workspace.path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# ------------------------------------------------------------------ scenarios, planned resources, map, PDF


def test_scenarios_saved_compared_planned_and_printed(sample_copy, tmp_path):
    from scgeo.analysis import analyse_coverage
    from scgeo.maps import council_map, offline_html
    from scgeo.maps.siting_print import scenario_pdf
    from scgeo.report import site_report
    from scgeo.report.scenarios import compare_scenarios, delete_scenario, plan_from_scenario, save_scenario, scenarios

    ws = sample_copy
    a = site_report(ws, category="kayoi_no_ba", k_new=2, candidates="grid:300")
    b = site_report(ws, category="kayoi_no_ba", k_new=2, candidates="grid:300", demand="75plus")
    sa = save_scenario(ws, a, name="通いの場 2か所", author="テスト")
    sb = save_scenario(ws, b, name="=HYPERLINK(\"x\")", author="テスト")
    assert (sa, sb) == ("S0001", "S0002")
    listed = scenarios(ws)
    assert list(listed["scenario_id"]) == ["S0002", "S0001"]
    assert listed.set_index("scenario_id").loc[sa, "covered_after"] == pytest.approx(a.summary["covered_after"])
    table = compare_scenarios(ws, [sa, sb])
    assert {f"after_{sa}", f"after_{sb}", "covered_before"} <= set(table.columns)
    assert table[f"gain_{sa}"].sum() == pytest.approx(a.summary["covered_after"] - a.summary["covered_before"], abs=1)
    # planned resources: excluded from coverage unless asked, shown apart on the map
    assert plan_from_scenario(ws, sa, user="テスト") == 2
    assert plan_from_scenario(ws, sa) == 0  # not twice
    res = ws.read("resources")
    planned = res[res["status"] == "planned"]
    assert len(planned) == 2 and set(planned["category"]) == {"kayoi_no_ba"}
    args = (ws.areas(), ws.town_blocks(), res)
    from scgeo.network import WalkNetwork

    net = WalkNetwork.from_workspace(ws)
    base = analyse_coverage(*args, network=net, categories=["kayoi_no_ba"]).table(["municipality"])
    more = analyse_coverage(*args, network=net, categories=["kayoi_no_ba"], include_planned=True)
    more = more.table(["municipality"])
    assert base["covered_65plus"].iloc[0] == pytest.approx(a.summary["covered_before"], abs=1)
    assert more["covered_65plus"].iloc[0] == pytest.approx(a.summary["covered_after"], abs=1)
    html = offline_html(council_map(ws, proposed=a.sites))
    assert "候補地(案)" in html and "計画中(案)" in html
    pdf = scenario_pdf(ws, sb, tmp_path / "scenario.pdf")
    assert pdf.read_bytes()[:4] == b"%PDF"
    delete_scenario(ws, sb)
    assert list(scenarios(ws)["scenario_id"]) == [sa]
    assert any(e == "siting_scenarios" for e in ws.edits()["layer"])


def test_app_page_runs_saves_and_compares(sample_copy):
    pytest.importorskip("streamlit")
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=300)
    at.session_state["workspace_path"] = str(sample_copy.path)
    at.session_state["site_grid"] = 400
    at.run()
    at.switch_page("app_pages/siting_page.py")
    at.run()
    assert not at.exception
    assert at.title[0].value == "資源開発(候補地の検討)"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["候補地の数"] == "3 か所"
    at.text_input(key="site_scenario_name").input("通いの場 3か所")
    at.button(key="site_save").click().run()
    assert not at.exception
    assert list(sample_copy.read("siting_scenarios")["name"]) == ["通いの場 3か所"]


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_candidates_from_a_file_and_the_cli(sample_workspace, tmp_path, capsys):
    import json

    from scgeo.cli import main
    from scgeo.network import WalkNetwork

    net = WalkNetwork.from_workspace(sample_workspace)
    nodes = gpd.GeoSeries(shapely.points(net.node_xy[[100, 900, 1800]]), crs=net.crs).to_crs(4326)
    rows = ["名称,住所,緯度,経度,定員"] + [f"{n},さくら市{i}番地,{p.y:.6f},{p.x:.6f},{20 + i}"
                                      for i, (n, p) in enumerate(zip(["東公民館", "=CMD()", "集会所"], nodes,
                                                                     strict=True))]
    rows.append("住所だけの会場,さくら市どこか,,,")
    path = tmp_path / "kouho.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    out = tmp_path / "sites.csv"
    assert main(["site", str(sample_workspace.path), "--category", "salon", "--new", "2", "--candidates", str(path),
                 "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["n_candidates"] == 3 and "使えない行 1 件" in captured.err
    assert (tmp_path / "kouho_rejected.csv").is_file()
    assert {s["name"] for s in data["sites"]} <= {"東公民館", "=CMD()", "集会所"}
    written = out.read_text(encoding="utf-8-sig")
    assert ",=CMD()" not in written  # a formula in a name never reaches a spreadsheet as one


@pytest.mark.skipif(not (SHARED / "takamatsu").is_dir(), reason="real data not present")
def test_takamatsu_community_centres_as_candidates(tmp_path):
    from scgeo import Workspace
    from scgeo.report import siting_candidates

    ws = Workspace.create(tmp_path / "t.gpkg", muni_code="37201")
    cands = siting_candidates(ws, str(SHARED / "takamatsu" / "community_center" / "data.xlsx"), network=None)
    assert len(cands) == 52 and len(cands.attrs["rejected"]) == 0
    assert cands["name"].str.contains("コミュニティセンター").all()
    assert cands.geometry.y.between(34.0, 34.6).all() and cands.geometry.x.between(133.8, 134.4).all()


def test_venues_layer_as_candidates(sample_copy, capsys):
    import json

    from scgeo.cli import main
    from scgeo.network import WalkNetwork

    ws = sample_copy
    net = WalkNetwork.from_workspace(ws)
    pts = gpd.GeoSeries(shapely.points(net.node_xy[[300, 1200, 2500]]), crs=net.crs).to_crs(6668)
    venues = gpd.GeoDataFrame({"venue_id": ["V1", "V2", "V3"], "name": ["北公民館", "南集会所", "東交流センター"],
                               "kind": None, "address": "さくら市", "capacity": [30, 20, 40]},
                              geometry=pts.to_numpy(), crs=6668)
    with ws.transaction() as tx:
        tx.write("venues", venues)
    assert main(["site", str(ws.path), "--category", "salon", "--new", "2", "--candidates", "venues", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_candidates"] == 3
    assert {s["candidate_id"] for s in data["sites"]} <= {"V1", "V2", "V3"}
