"""ネットワーク構築: organisations, ties, metrics against networkx, Kumu / GraphML, views, CLI."""

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scgeo.analysis.ties import betweenness, network_metrics, propose_ties, tie_changes, tie_graph, ties_by_area
from scgeo.cli import main
from scgeo.io.network_exchange import read_kumu, write_graphml, write_kumu
from scgeo.io.organisations import read_network_table
from scgeo.report.network import area_subgraph, network_summary, workspace_graph
from scgeo.schema import LAYERS, PERSON_NAME_HEADERS


def _ties(pairs, *, started=None, ended=None, status="accepted"):
    n = len(pairs)
    return pd.DataFrame(
        {
            "tie_id": [f"t{i}" for i in range(n)],
            "kind": "partner",
            "source_type": "organisation",
            "source_id": [str(a) for a, _ in pairs],
            "target_type": "organisation",
            "target_id": [str(b) for _, b in pairs],
            "strength": "medium",
            "started": pd.to_datetime(started if started is not None else [pd.NaT] * n),
            "ended": pd.to_datetime(ended if ended is not None else [pd.NaT] * n),
            "status": status,
        }
    )


def _orgs(n):
    return pd.DataFrame(
        {
            "org_id": [str(i) for i in range(n)],
            "name": [f"団体{i}" for i in range(n)],
            "kind": "npo",
            "area_id": None,
            "status": "active",
        }
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 25), st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24)), max_size=70))
def test_metrics_equal_networkx_on_random_graphs(n, raw):
    pairs = [(a % n, b % n) for a, b in raw]
    graph = tie_graph(_ties(pairs), organisations=_orgs(n))
    metrics = network_metrics(graph)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from((a, b) for a, b in pairs if a != b)
    reference = nx.betweenness_centrality(g)
    keys = [f"organisation:{i}" for i in range(n)]
    assert metrics.loc[keys, "degree"].tolist() == [g.degree(i) for i in range(n)]
    np.testing.assert_allclose(
        metrics.loc[keys, "betweenness"].to_numpy(), [reference[i] for i in range(n)], atol=1e-12
    )
    sizes = {i: len(c) for c in nx.connected_components(g) for i in c}
    assert metrics.loc[keys, "component_size"].tolist() == [sizes[i] for i in range(n)]
    assert metrics.loc[keys, "isolated"].tolist() == [g.degree(i) == 0 for i in range(n)]
    # the communities partition the nodes
    assert metrics["community"].notna().all()


def test_betweenness_unnormalised_matches_networkx():
    g = nx.karate_club_graph()
    a = nx.to_scipy_sparse_array(g, nodelist=range(len(g)))
    ours = betweenness(a, normalized=False)
    ref = nx.betweenness_centrality(g, normalized=False)
    np.testing.assert_allclose(ours, [ref[i] for i in range(len(g))], atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.one_of(st.none(), st.integers(0, 40))), min_size=1, max_size=20),
    st.integers(0, 40),
    st.integers(0, 40),
)
def test_change_between_dates_is_exact(spans, d1, d2):
    base = pd.Timestamp("2025-01-01")
    start, end = sorted((base + pd.Timedelta(days=d1), base + pd.Timedelta(days=d2)))
    started = [base + pd.Timedelta(days=s) for s, _ in spans]
    ended = [pd.NaT if e is None else base + pd.Timedelta(days=max(e, s)) for s, e in spans]
    ties = _ties([(0, 1)] * len(spans), started=started, ended=ended)
    changes = tie_changes(ties, start, end)

    def alive(i, day):
        return started[i] <= day and (pd.isna(ended[i]) or ended[i] > day)

    new = {f"t{i}" for i in range(len(spans)) if alive(i, end) and not alive(i, start)}
    lost = {f"t{i}" for i in range(len(spans)) if alive(i, start) and not alive(i, end)}
    assert set(changes["new"]["tie_id"]) == new
    assert set(changes["lost"]["tie_id"]) == lost


def test_graph_on_a_day_leaves_out_proposals_ended_ties_and_closed_ends():
    orgs = _orgs(4)
    orgs.loc[3, "status"] = "closed"
    ties = pd.concat(
        [
            _ties([(0, 1)]),
            _ties([(1, 2)], ended=["2025-01-01"]),
            _ties([(0, 2)], status="proposed"),
            _ties([(0, 3)]),
            _ties([(0, 9)]),
        ],
        ignore_index=True,
    ).assign(tie_id=lambda f: [f"t{i}" for i in range(len(f))])
    graph = tie_graph(ties, organisations=orgs, on="2026-01-01")
    assert graph.edges["tie_id"].tolist() == ["t0"]
    assert graph.closed_ties == 1  # the tie to the closed organisation
    assert graph.dangling["target"].tolist() == ["organisation:9"]  # an unknown id is reported, not dropped
    assert len(tie_graph(ties, organisations=orgs, on="2026-01-01", include_proposed=True).edges) == 2


def test_proposals_come_from_shared_meetings_and_skip_existing_ties():
    meetings = pd.DataFrame(
        {
            "meeting_id": ["M1", "M2"],
            "council_id": "K1",
            "date": pd.to_datetime(["2026-04-01", "2026-06-01"]),
            "attendees": ["A;B;C", "B;C"],
        }
    )
    proposals = propose_ties(meetings, _ties([("A", "B")]))
    assert sorted(zip(proposals["source_id"], proposals["target_id"], strict=True)) == [("A", "C"), ("B", "C")]
    bc = proposals[proposals["source_id"] == "B"].iloc[0]
    assert bc["status"] == "proposed" and "M1,M2" in bc["origin"] and bc["started"] == pd.Timestamp("2026-04-01")
    assert len(propose_ties(meetings, _ties([("A", "B")]), min_meetings=2)) == 1


def test_import_drops_person_names_and_reads_japanese_words():
    rows = pd.DataFrame(
        {
            "団体名": ["東町内会", "謎の会"],
            "種別": ["町内会", "秘密結社"],
            "代表者": ["山田太郎", "佐藤花子"],
            "担当者名": ["鈴木", "田中"],
        }
    )
    accepted, rejected = read_network_table(rows, "organisations")
    assert accepted["kind"].tolist() == ["jichikai"]
    assert "一覧にありません" in rejected["reason"].iloc[0]
    assert not {"代表者", "担当者名"} & set(rejected.columns) and not {"代表者", "担当者名"} & set(accepted.columns)
    ties = pd.DataFrame(
        {"起点ID": ["O1"], "終点ID": ["O2"], "種類": ["連携"], "強さ": ["強"], "開始日": ["令和7年4月1日"]}
    )
    accepted, rejected = read_network_table(ties, "ties")
    row = accepted.iloc[0]
    assert (row["kind"], row["strength"], row["started"], row["source_type"]) == (
        "partner",
        "strong",
        pd.Timestamp("2025-04-01"),
        "organisation",
    )


def test_no_layer_of_the_network_has_a_person_name_column():
    names = {h.lower() for h in PERSON_NAME_HEADERS}
    for layer in ("organisations", "ties", "councils", "council_meetings", "helpers"):
        for column in LAYERS[layer].columns:
            assert column.name.lower() not in names and column.label not in PERSON_NAME_HEADERS


def test_sample_network_in_the_demo_workspace(sample_workspace):
    ws = sample_workspace
    assert ws.count("organisations") >= 50 and ws.count("councils") == 4 and ws.count("ties") >= 150
    graph = workspace_graph(ws, on="2026-10-01")
    assert graph.dangling.empty
    metrics = network_metrics(graph)
    orgs = metrics[metrics["node_type"] == "organisation"]
    assert orgs["isolated"].sum() >= 2  # the bank and the newspaper shop planted as isolates
    assert "社会福祉法人さくら市社会福祉協議会" in set(metrics.loc[metrics["broker"], "name"])
    operated = ws.read("resources")["operator_id"].dropna()
    assert len(operated) > 50 and operated.isin(ws.ids("organisations")).all()
    summary = network_summary(ws, on="2026-10-01", since="2025-10-01")
    assert summary["lost_ties"] >= 1 and summary["ties"] == len(graph.edges)
    by_area = ties_by_area(graph, ws.areas(), level="living_area")
    assert by_area["ties"].sum() == len(graph.edges)
    sub = area_subgraph(graph, ws.areas(), "LA1")
    assert 0 < len(sub.nodes) < len(graph.nodes)


def test_kumu_round_trip(sample_workspace, tmp_path):
    ws = sample_workspace
    graph = workspace_graph(ws, on="2026-10-01", with_resources=True)
    ties = ws.read("ties")
    path = write_kumu(graph.nodes, ties[ties["tie_id"].isin(graph.edges["tie_id"])], tmp_path / "kumu.xlsx")
    known = {
        n: k for n, k in zip(graph.nodes["name"], graph.nodes["node"], strict=True) if not k.startswith("organisation:")
    }
    results = read_kumu(path, known_nodes=known)
    orgs = results["organisations"].accepted
    assert len(results["organisations"].rejected) == 0
    assert set(orgs["org_id"]) == set(ws.read("organisations")["org_id"])
    back = results["ties"].accepted.set_index("tie_id")
    original = ties.set_index("tie_id").loc[back.index]
    assert len(results["ties"].rejected) == 0 and len(back) == len(graph.edges)
    for col in ("kind", "source_type", "source_id", "target_type", "target_id", "strength", "started"):
        assert back[col].tolist() == original[col].tolist(), col


def test_kumu_connection_to_an_unknown_element_is_rejected(tmp_path):
    path = tmp_path / "k.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"Label": ["東町内会", "さくらNPO"], "Type": ["町内会", "NPO"]}).to_excel(
            writer, sheet_name="Elements", index=False
        )
        pd.DataFrame(
            {"From": ["東町内会", "東町内会"], "To": ["さくらNPO", "どこか"], "Type": ["連携", "連携"]}
        ).to_excel(writer, sheet_name="Connections", index=False)
    results = read_kumu(path)
    assert len(results["organisations"].accepted) == 2 and len(results["ties"].accepted) == 1
    assert "「どこか」は要素" in results["ties"].rejected["reason"].iloc[0]


def test_graphml_reads_back_in_networkx(sample_workspace, tmp_path):
    graph = workspace_graph(sample_workspace, on="2026-10-01")
    path = write_graphml(graph.nodes, graph.edges, tmp_path / "net.graphml")
    g = nx.read_graphml(path)
    assert g.number_of_nodes() == len(graph.nodes)
    assert g.number_of_edges() == len(set(map(frozenset, graph.edges[["source", "target"]].to_numpy().tolist())))
    assert g.nodes["organisation:G001"]["name"] == "社会福祉法人さくら市社会福祉協議会"


def test_views_escape_names_and_need_no_network(sample_copy, tmp_path):
    ws = sample_copy
    ws.add_feature("organisations", {"org_id": "X1", "name": "<img src=x onerror=alert(1)>会", "kind": "npo"})
    graph = workspace_graph(ws, on="2026-10-01")
    from scgeo.maps.network_view import network_html, save_network_view

    page = network_html(graph, title="<b>t</b>")
    assert "<img src=x" not in page and "&lt;img src=x" in page and "&lt;b&gt;t&lt;/b&gt;" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    pdf = save_network_view(graph, tmp_path / "eco.pdf", title="エコマップ", focus="organisation:G017", depth=2)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_cli_org_ties_and_views(sample_copy, tmp_path, capsys):
    path = str(sample_copy.path)
    assert main(["org", "add", path, "--name", "さくら商店会", "--kind", "商店", "--area", "LA2"]) == 0
    assert main(["org", "add", path, "--name", "x", "--kind", "秘密結社"]) == 2
    capsys.readouterr()
    assert main(["org", "list", path, "--kind", "business", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert "さくら商店会" in {r["name"] for r in listed}
    assert main(["ties", "report", path, "--on", "2026-10-01", "--since", "2025-10-01", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"brokers", "isolated", "new_ties", "lost_ties", "by_area"} <= set(report)
    assert "さくら商店会" in report["isolated"]
    before = sample_copy.count("ties")
    assert main(["ties", "propose", path, "--min-meetings", "2"]) == 0
    proposed = sample_copy.read("ties").query("status == 'proposed'")
    assert sample_copy.count("ties") == before + len(proposed) and len(proposed) > 0
    for out in ("net.html", "net.pdf"):
        assert main(["ties", "view", path, "--area", "LA1", "--out", str(tmp_path / out)]) == 0
    assert main(["ties", "view", path, "--focus", "G017", "--depth", "2", "--out", str(tmp_path / "eco.html")]) == 0
    assert "エコマップ" in (tmp_path / "eco.html").read_text(encoding="utf-8")
    assert main(["ties", "export", path, "--out", str(tmp_path / "k.xlsx")]) == 0
    assert main(["ties", "export", path, "--out", str(tmp_path / "k.graphml")]) == 0
    # a Kumu workbook imports into another workspace through the same command
    other = tmp_path / "other.gpkg"
    assert main(["init", str(other), "--muni-code", "99201"]) == 0
    assert main(["org", "import", str(other), str(tmp_path / "k.xlsx")]) == 0
    from scgeo import Workspace

    assert Workspace.open(other).count("organisations") == sample_copy.count("organisations")


def test_helpers_are_counts_not_people(sample_workspace):
    helpers = sample_workspace.read("helpers")
    assert len(helpers) > 5 and (helpers["active"] <= helpers["trained"]).all()
    assert set(helpers.columns) == set(LAYERS["helpers"].names)


@pytest.mark.parametrize("layer", ["organisations", "ties", "councils", "council_meetings", "helpers"])
def test_empty_workspace_reads_the_network_layers_empty(tmp_path, layer):
    from scgeo import Workspace

    ws = Workspace.create(tmp_path / "w.gpkg", muni_code="99201")
    assert ws.read(layer).empty and list(ws.read(layer).columns) == LAYERS[layer].names


def test_helpers_beside_suppressed_needs(sample_workspace, capsys):
    from scgeo.analysis.helpers import helpers_vs_needs
    from scgeo.privacy import aggregate_needs

    ws = sample_workspace
    areas = ws.areas()
    needs = aggregate_needs(ws.read("needs"), areas, level="living_area", blocks=ws.town_blocks())
    table = helpers_vs_needs(ws.read("helpers"), needs.table, areas=areas, organisations=ws.read("organisations"))
    helpers = ws.read("helpers")
    # independent recomputation: helpers' area_id is a living area in the sample, or their organisation's
    org_area = ws.read("organisations").set_index("org_id")["area_id"]
    parents = areas.set_index("area_id")["parent_id"]

    def living(a):
        while isinstance(a, str) and not a.startswith("LA"):
            a = parents.get(a)
        return a

    where = helpers["area_id"].fillna(helpers["org_id"].map(org_area)).map(living)
    expected = helpers.assign(area_id=where).groupby(["area_id", "activity"])["active"].sum()
    got = table[table["active"] > 0].set_index(["area_id", "activity"])["active"]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    assert set(table["activity"]) == set(helpers["activity"])
    published = needs.table.set_index(["unit_id", "category"])["display"]
    for row in table.itertuples():
        assert row.needs == str(published.get((row.area_id, row.activity), "0"))
    assert main(["org", "helpers", str(ws.path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(table) and "needs_count" not in rows[0]


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 8), st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=20),
       st.lists(st.booleans(), min_size=8, max_size=8))
def test_tie_lines_are_exactly_the_located_ties(n, raw, located):
    """A line per tie whose two (distinct) ends have a location, from source to target; the rest counted."""
    import shapely

    from scgeo.analysis.ties import tie_lines

    orgs = _orgs(n).assign(lon=[140.0 + i / 100 if located[i] else np.nan for i in range(n)],
                           lat=[35.0 + i / 200 if located[i] else np.nan for i in range(n)])
    pairs = [(a % n, b % n) for a, b in raw if a % n != b % n]
    graph = tie_graph(_ties(pairs), organisations=orgs)
    lines, not_drawn = tie_lines(graph)
    expected = [(f"t{i}", a, b) for i, (a, b) in enumerate(pairs) if located[a] and located[b]]
    assert lines["tie_id"].tolist() == [t for t, _, _ in expected]
    assert not_drawn == len(pairs) - len(expected)
    assert lines.crs.to_epsg() == 4326
    for geom, (_, a, b) in zip(lines.geometry, expected, strict=True):
        np.testing.assert_allclose(shapely.get_coordinates(geom),
                                   [[140.0 + a / 100, 35.0 + a / 200], [140.0 + b / 100, 35.0 + b / 200]])
    assert lines["source_name"].tolist() == [f"団体{a}" for _, a, _ in expected]


def test_ties_on_the_council_map(sample_copy, tmp_path):
    """The council map has the 関係者のつながり layer, off at first, names escaped, the unplaced counted."""
    from scgeo.analysis.ties import tie_lines
    from scgeo.report.council import export_council

    graph = workspace_graph(sample_copy)
    lines, not_drawn = tie_lines(graph)
    assert len(lines) > 20 and not_drawn > 0
    html = export_council(sample_copy, tmp_path / "council.html").read_text(encoding="utf-8")
    assert '"関係者のつながり"' in html or "関係者のつながり" in html
    assert f"位置のない相手とのつながり {not_drawn:,}本は描いていません" in html
    first = lines.iloc[0]
    assert f"{first.source_name} ― {first.target_name}" in html
