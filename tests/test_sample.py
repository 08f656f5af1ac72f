"""The bundled sample town (架空の「さくら市」): reproducible, consistent and realistic enough.

Most tests read the committed files under ``data/``; the first one regenerates them from the
seed and compares bytes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from scgeo.sample import (
    PLANTED_GAP_BLOCKS,
    REFERENCE_DATE,
    SAMPLE_MUNI_CODE,
    SAMPLE_MUNI_NAME,
    SAMPLE_SEED,
    generate,
)
from scgeo.schema import AREAS, NEEDS, PERSONAL_HEADERS, RESOURCES, TOWN_BLOCKS, load_taxonomy, validate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
METRIC = "EPSG:6691"
KEYS = ("municipality", "living_areas", "jhs_districts", "es_districts", "town_blocks",
        "resources", "needs", "network", "organisations", "ties", "councils", "council_meetings", "helpers",
        "activities", "plans", "resource_changes")
AREA_FILES = {"municipality": "municipality", "living_areas": "living_area",
              "jhs_districts": "jhs_district", "es_districts": "es_district",
              "town_blocks": "town_block"}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def areas() -> dict[str, gpd.GeoDataFrame]:
    return {name: gpd.read_file(DATA / "boundaries" / f"{name}.geojson") for name in AREA_FILES}


@pytest.fixture(scope="module")
def metric(areas) -> dict[str, gpd.GeoDataFrame]:
    return {name: frame.to_crs(METRIC) for name, frame in areas.items()}


@pytest.fixture(scope="module")
def resources() -> pd.DataFrame:
    return pd.read_csv(DATA / "resources" / "resources.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def needs() -> pd.DataFrame:
    return pd.read_csv(DATA / "needs" / "needs.csv", dtype=str, keep_default_na=False)


def _points(frame: pd.DataFrame, crs: str = METRIC) -> gpd.GeoSeries:
    xy = gpd.points_from_xy(frame["lon"].astype(float), frame["lat"].astype(float))
    return gpd.GeoSeries(xy, index=frame.index, crs="EPSG:6668").to_crs(crs)


class Osm:
    """The parsed .osm file: nodes in metres, ways with their tags."""

    def __init__(self, path: Path) -> None:
        self.root = ET.parse(path).getroot()
        nodes = self.root.findall("node")
        self.node_ids = np.array([int(n.get("id")) for n in nodes])
        lonlat = np.array([(float(n.get("lon")), float(n.get("lat"))) for n in nodes])
        self.xy = shapely.get_coordinates(
            gpd.GeoSeries(gpd.points_from_xy(*lonlat.T), crs="EPSG:6668").to_crs(METRIC).values)
        self.index = {node_id: i for i, node_id in enumerate(self.node_ids)}
        self.node_tags = {int(n.get("id")): {t.get("k"): t.get("v") for t in n.findall("tag")}
                          for n in nodes if n.find("tag") is not None}
        self.ways = [([self.index[int(nd.get("ref"))] for nd in w.findall("nd")],
                      {t.get("k"): t.get("v") for t in w.findall("tag")}, int(w.get("id")))
                     for w in self.root.findall("way")]
        self.walk = [(nodes, tags) for nodes, tags, _ in self.ways if "highway" in tags]

    def line(self, nodes: list[int]) -> shapely.LineString:
        return shapely.LineString(self.xy[nodes])

    def barrier(self, key: str) -> shapely.Geometry:
        return shapely.union_all([self.line(n) for n, t, _ in self.ways if key in t])

    def walk_graph(self) -> coo_matrix:
        pairs = np.array([(a, b) for nodes, _ in self.walk for a, b in itertools.pairwise(nodes)])
        length = np.hypot(*(self.xy[pairs[:, 0]] - self.xy[pairs[:, 1]]).T)
        n = len(self.xy)
        return coo_matrix((length, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()

    def walk_nodes(self) -> np.ndarray:
        return np.unique(np.concatenate([nodes for nodes, _ in self.walk]))


@pytest.fixture(scope="module")
def osm() -> Osm:
    return Osm(DATA / "network" / "sakura.osm")


# ---------------------------------------------------------------- reproducibility and API


def test_generate_reproduces_the_committed_files_byte_for_byte(tmp_path):
    paths = generate(tmp_path)
    assert tuple(paths) == KEYS
    for name, path in paths.items():
        relative = path.relative_to(tmp_path)
        assert (DATA / relative).read_bytes() == path.read_bytes(), f"{name}: {relative} differs"


def test_a_different_seed_gives_a_different_but_complete_town(tmp_path):
    paths = generate(tmp_path, seed=SAMPLE_SEED + 1)
    assert paths["town_blocks"].read_bytes() != (DATA / "boundaries" / "town_blocks.geojson").read_bytes()
    blocks = gpd.read_file(paths["town_blocks"])
    assert len(blocks) >= 40
    assert blocks["pop_total"].sum() == pytest.approx(50_000, rel=0.01)


def test_constants():
    assert (SAMPLE_MUNI_CODE, SAMPLE_MUNI_NAME) == ("99201", "さくら市")
    assert REFERENCE_DATE == dt.date(2026, 10, 1)
    assert 2 <= len(PLANTED_GAP_BLOCKS) <= 3


# ---------------------------------------------------------------- areas


def test_boundary_files_have_exactly_the_schema_properties(areas):
    for name, frame in areas.items():
        assert frame.crs.to_epsg() == 6668
        expected = TOWN_BLOCKS.names if name == "town_blocks" else AREAS.names
        assert [c for c in frame.columns if c != "geometry"] == expected
        assert set(frame["level"]) == {AREA_FILES[name]}
        assert frame["area_id"].is_unique
        assert list(frame["area_id"]) == sorted(frame["area_id"])
    municipality = areas["municipality"].iloc[0]
    assert (municipality["area_id"], municipality["name"]) == ("99201", "さくら市")
    lon, lat = shapely.get_coordinates(shapely.centroid(areas["municipality"].geometry.values))[0]
    assert lon == pytest.approx(141.05, abs=0.05) and lat == pytest.approx(35.05, abs=0.05)


def test_area_counts_names_and_codes(areas):
    blocks = areas["town_blocks"]
    assert 40 <= len(blocks) <= 70
    assert len(areas["jhs_districts"]) >= 5
    assert list(areas["living_areas"]["name"]) == ["第1圏域", "第2圏域", "第3圏域"]
    assert list(areas["living_areas"]["area_id"]) == ["LA1", "LA2", "LA3"]
    assert all(n.endswith("中学校区") for n in areas["jhs_districts"]["name"])
    assert all(n.endswith("小学校区") for n in areas["es_districts"]["name"])
    assert all(re.fullmatch(r"J\d\d", i) for i in areas["jhs_districts"]["area_id"])
    assert all(re.fullmatch(r"E\d\d", i) for i in areas["es_districts"]["area_id"])
    assert all(re.fullmatch(r"99201\d{6}", i) for i in blocks["area_id"])
    assert not any(re.search(r"[0-9０-９]", n) for n in blocks["name"])  # 丁目 in kanji
    assert blocks["name"].str.contains("丁目").sum() >= 10
    assert blocks["name"].is_unique


def test_parents_chain_up_to_the_municipality(areas):
    ids = {name: set(frame["area_id"]) for name, frame in areas.items()}
    assert areas["municipality"]["parent_id"].isna().all()
    assert set(areas["living_areas"]["parent_id"]) == ids["municipality"]
    assert set(areas["jhs_districts"]["parent_id"]) == ids["living_areas"]
    assert set(areas["es_districts"]["parent_id"]) == ids["jhs_districts"]
    assert set(areas["town_blocks"]["parent_id"]) == ids["es_districts"]
    assert areas["jhs_districts"]["parent_id"].value_counts().eq(2).all()
    assert areas["es_districts"]["parent_id"].value_counts().between(1, 3).all()


@pytest.mark.parametrize("level", ["living_areas", "jhs_districts", "es_districts", "town_blocks"])
def test_each_level_tiles_the_municipality(metric, level):
    whole = metric["municipality"].geometry.iloc[0]
    parts = metric[level].geometry
    assert 40e6 <= whole.area <= 60e6
    assert parts.union_all().area == pytest.approx(whole.area, rel=1e-6)
    assert parts.area.sum() == pytest.approx(whole.area, rel=1e-6)  # so no overlaps
    assert shapely.symmetric_difference(parts.union_all(), whole).area < 1e-6 * whole.area


@pytest.mark.parametrize("level", ["municipality", "living_areas", "jhs_districts", "es_districts"])
def test_districts_are_contiguous(metric, level):
    assert (shapely.get_num_geometries(metric[level].geometry.values) == 1).all()
    assert metric[level].geometry.is_valid.all()


@pytest.mark.parametrize(("child", "parent"), [("town_blocks", "es_districts"),
                                                ("town_blocks", "jhs_districts"),
                                                ("es_districts", "jhs_districts"),
                                                ("jhs_districts", "living_areas")])
def test_each_area_lies_in_exactly_one_area_of_the_level_above(metric, child, parent):
    small, big = metric[child], metric[parent]
    share = np.array([[shapely.intersection(s, b).area / s.area for b in big.geometry]
                      for s in small.geometry])
    assert (np.sort(share, axis=1)[:, -1] > 1 - 1e-6).all()
    assert (np.sort(share, axis=1)[:, -2] < 1e-6).all()
    if child != "town_blocks" or parent == "es_districts":
        assert list(big["area_id"].to_numpy()[share.argmax(1)]) == list(small["parent_id"])


# ---------------------------------------------------------------- population


def test_population_is_plausible(areas):
    blocks = areas["town_blocks"]
    total, p65, p75, alone = (blocks[c].to_numpy() for c in
                              ("pop_total", "pop_65plus", "pop_75plus", "pop_65plus_alone"))
    assert all(blocks[c].dtype.kind == "i" for c in ("pop_total", "pop_65plus", "pop_75plus", "pop_65plus_alone"))
    assert 40_000 <= total.sum() <= 60_000
    assert ((p75 <= p65) & (p65 <= total) & (alone <= p65) & (total > 0)).all()
    share65 = p65 / total
    assert share65.min() <= 0.21 and share65.max() >= 0.44
    assert ((share65 >= 0.19) & (share65 <= 0.46)).all()
    assert (((p75 / p65) >= 0.43) & ((p75 / p65) <= 0.62)).all()
    assert (((alone / p65) >= 0.18) & ((alone / p65) <= 0.37)).all()


def test_denser_centre_and_older_fringe(metric):
    blocks = metric["town_blocks"]
    centre = metric["municipality"].geometry.iloc[0].centroid
    distance = blocks.geometry.representative_point().distance(centre)
    inner, outer = blocks[distance < distance.median()], blocks[distance >= distance.median()]
    density = lambda b: b["pop_total"].sum() / b.geometry.area.sum()  # noqa: E731
    share = lambda b: b["pop_65plus"].sum() / b["pop_total"].sum()  # noqa: E731
    assert density(inner) > 3 * density(outer)
    assert share(outer) > share(inner) + 0.05
    assert inner.geometry.area.median() < outer.geometry.area.median()


def test_population_sums_agree_by_parent_ids_and_by_geometry(metric):
    blocks = metric["town_blocks"]
    columns = ["pop_total", "pop_65plus", "pop_75plus", "pop_65plus_alone"]
    inside = blocks.geometry.representative_point()
    es_parent = metric["es_districts"].set_index("area_id")["parent_id"]
    jhs_parent = metric["jhs_districts"].set_index("area_id")["parent_id"]
    chain = {"es_districts": blocks["parent_id"]}
    chain["jhs_districts"] = chain["es_districts"].map(es_parent)
    chain["living_areas"] = chain["jhs_districts"].map(jhs_parent)
    chain["municipality"] = pd.Series("99201", index=blocks.index)
    for level, ids in chain.items():
        by_parent = blocks[columns].groupby(ids.to_numpy()).sum().sort_index()
        districts = metric[level]
        where = np.array([districts["area_id"].to_numpy()[districts.contains(p).to_numpy()][0] for p in inside])
        by_geometry = blocks[columns].groupby(where).sum().sort_index()
        pd.testing.assert_frame_equal(by_parent, by_geometry)
        assert by_parent.sum().tolist() == blocks[columns].sum().tolist()
        assert len(by_parent) == len(districts)


def test_town_blocks_validate_against_the_schema(areas):
    accepted, rejected = validate(areas["town_blocks"], "town_blocks")
    assert len(rejected) == 0
    assert len(accepted) == len(areas["town_blocks"])


# ---------------------------------------------------------------- street network


def test_osm_file_is_well_formed(osm):
    root = osm.root
    assert root.tag == "osm" and root.get("version") == "0.6" and root.get("generator") == "scgeo.sample"
    assert root.find("bounds") is not None
    assert (osm.node_ids > 0).all() and (np.diff(osm.node_ids) > 0).all()
    way_ids = np.array([w for _, _, w in osm.ways])
    assert (way_ids > 0).all() and (np.diff(way_ids) > 0).all()
    assert all(len(nodes) >= 2 for nodes, _, _ in osm.ways)
    assert len(osm.node_ids) >= 3000
    kinds = {tags["highway"] for _, tags in osm.walk}
    assert {"primary", "secondary", "tertiary", "residential", "unclassified", "footway", "path"} <= kinds
    named = {tags.get("name", "") for _, tags in osm.walk if tags["highway"] in ("primary", "secondary", "tertiary")}
    assert all(n.startswith(("県道", "市道")) for n in named) and len(named) >= 5


def test_network_is_connected(osm, record_property):
    graph = osm.walk_graph()
    nodes = osm.walk_nodes()
    _, label = connected_components(graph, directed=False)
    share = np.bincount(label[nodes]).max() / len(nodes)
    record_property("largest_component_share", float(share))  # plain float: xdist sends reports over execnet
    print(f"largest connected component: {share:.4f} of {len(nodes)} walkable nodes")
    assert share >= 0.99
    assert len(nodes) >= 3000


def test_network_covers_the_town_and_has_cul_de_sacs(osm, metric):
    graph = osm.walk_graph()
    degree = np.asarray((graph + graph.T).astype(bool).sum(axis=1)).ravel()
    assert (degree[osm.walk_nodes()] == 1).sum() >= 100
    lines = shapely.STRtree([osm.line(n) for n, _ in osm.walk])
    for block in metric["town_blocks"].geometry:
        assert len(lines.query(block, predicate="intersects")) > 0


def test_river_and_rail_are_crossed_only_at_bridges_and_level_crossings(osm):
    river, rail = osm.barrier("waterway"), osm.barrier("railway")
    assert not river.is_empty and not rail.is_empty
    barrier_nodes = {n for nodes, tags, _ in osm.ways if "highway" not in tags for n in nodes}
    assert barrier_nodes.isdisjoint(osm.walk_nodes())  # nothing walks along the river or rails
    bridges = [(nodes, tags) for nodes, tags in osm.walk if tags.get("bridge") == "yes"]
    assert 3 <= len(bridges) <= 5
    for nodes, tags in osm.walk:
        if osm.line(nodes).intersects(river):
            assert tags.get("bridge") == "yes", tags
    crossings = [osm.index[i] for i, tags in osm.node_tags.items() if tags.get("railway") == "level_crossing"]
    assert 2 <= len(crossings) <= 4
    assert all(shapely.Point(osm.xy[c]).distance(rail) < 0.5 for c in crossings)
    for nodes, _ in osm.walk:
        hits = shapely.intersection(osm.line(nodes), rail)
        for point in shapely.get_coordinates(hits):
            assert np.hypot(*(osm.xy[crossings] - point).T).min() < 0.5


def test_walking_across_the_river_is_a_detour(osm):
    river = osm.barrier("waterway")
    nodes = osm.walk_nodes()
    near = nodes[shapely.distance(shapely.points(osm.xy[nodes]), river) < 120.0]
    pairs = cKDTree(osm.xy[near]).query_pairs(200.0, output_type="ndarray")
    a, b = near[pairs[:, 0]], near[pairs[:, 1]]
    across = shapely.intersects(shapely.linestrings(np.stack([osm.xy[a], osm.xy[b]], axis=1)), river)
    a, b = a[across], b[across]
    assert len(a) >= 20
    sample = np.linspace(0, len(a) - 1, 40).astype(int)
    sources, where = np.unique(a[sample], return_inverse=True)
    walked = dijkstra(osm.walk_graph(), directed=False, indices=sources)[where, b[sample]]
    straight = np.hypot(*(osm.xy[a[sample]] - osm.xy[b[sample]]).T)
    ratio = walked / straight
    assert np.median(ratio) > 1.5
    assert ratio.max() > 5


def test_osmnx_loads_only_the_walkable_ways():
    ox = pytest.importorskip("osmnx")
    graph = ox.graph_from_xml(DATA / "network" / "sakura.osm", simplify=True, retain_all=False)
    assert len(graph) > 1000
    assert all("highway" in data for _, _, data in graph.edges(data=True))


# ---------------------------------------------------------------- resources


def test_resources_columns_and_categories(resources):
    typed = [c for c in RESOURCES.names if c not in ("match_level", "matched_address")]  # filled on import
    assert list(resources.columns) == [*typed, "lat", "lon"]
    assert len(resources) >= 200
    taxonomy = load_taxonomy()
    assert set(resources["category"]) == set(taxonomy.categories)
    assert set(resources["provider_type"]) <= set(taxonomy.provider_types)
    assert resources["resource_id"].is_unique and resources["name"].is_unique
    assert resources["contact"].str.contains("0000-").all()


def test_resources_validate_against_the_schema(resources):
    frame = gpd.GeoDataFrame(resources.drop(columns=["lat", "lon"]),
                             geometry=_points(resources, "EPSG:6668").values, crs="EPSG:6668")
    accepted, rejected = validate(frame, "resources")
    assert len(rejected) == 0, rejected["reason"].tolist()[:5]
    assert len(accepted) == len(resources)
    assert accepted["capacity"].notna().sum() > 50


def test_area_served_resources_name_existing_areas(resources, areas):
    ids = set(pd.concat([frame["area_id"] for frame in areas.values()]))
    served = resources[resources["served_area_id"] != ""]
    assert set(served["served_area_id"]) <= ids
    assert set(served["served_area_id"]) & set(areas["jhs_districts"]["area_id"])
    assert set(served["served_area_id"]) & set(areas["living_areas"]["area_id"])
    area_mode = resources["category"].isin(load_taxonomy().area_served())
    assert (resources.loc[area_mode, "served_area_id"] != "").all()
    assert ((resources["category"] == "shopping") & (resources["served_area_id"] != "")).any()


def test_resource_statuses_and_stale_share(resources):
    counts = resources["status"].value_counts()
    assert counts["active"] > 0.8 * len(resources) and counts["paused"] >= 3 and counts["closed"] >= 3
    confirmed = pd.to_datetime(resources["last_confirmed"])
    assert (confirmed < pd.Timestamp(REFERENCE_DATE)).all()
    stale = confirmed < pd.Timestamp(REFERENCE_DATE) - pd.DateOffset(months=12)
    assert 0.15 <= stale.mean() <= 0.25


def test_resources_stand_beside_streets_in_the_block_of_their_address(resources, metric, osm):
    points = _points(resources)
    blocks = metric["town_blocks"]
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=points), blocks, predicate="within", how="left")
    assert joined.index.is_unique and joined["name"].notna().all()
    for address, name in zip(resources["address"], joined["name"], strict=True):
        assert re.match(rf"さくら市{name}\d", address), (address, name)
    walk = shapely.STRtree([osm.line(n) for n, _ in osm.walk])
    _, distance = walk.query_nearest(points.values, return_distance=True, all_matches=False)
    assert distance.max() <= 30.0


# ---------------------------------------------------------------- needs


def test_needs_have_no_personal_columns(needs):
    typed = [c for c in NEEDS.names if not c.startswith("wanted_") and c != "match_level"]
    assert list(needs.columns) == [*typed, "lat", "lon"]
    assert not {h.lower() for h in PERSONAL_HEADERS} & {c.lower() for c in needs.columns}
    assert len(needs) >= 400
    assert needs["need_id"].is_unique
    assert needs["need_id"].str.fullmatch(r"N-[0-9a-f]{6}").all()
    assert list(needs["need_id"]) == sorted(needs["need_id"])


def test_needs_validate_and_have_consistent_dates(needs):
    frame = gpd.GeoDataFrame(needs.drop(columns=["lat", "lon"]),
                             geometry=_points(needs, "EPSG:6668").values, crs="EPSG:6668")
    accepted, rejected = validate(frame, "needs")
    assert len(rejected) == 0
    assert len(accepted) == len(needs)
    recorded = pd.to_datetime(needs["recorded_date"])
    assert recorded.min() >= pd.Timestamp("2025-04-01") and recorded.max() <= pd.Timestamp("2026-09-30")
    open_ = needs["status"] == "open"
    assert open_.mean() > 0.5
    assert (needs.loc[open_, "status_date"] == "").all()
    done = pd.to_datetime(needs.loc[~open_, "status_date"])
    assert (done >= recorded[~open_]).all() and (done <= pd.Timestamp("2026-09-30")).all()
    top = set(needs["category"].value_counts().index[:7])
    assert top <= {"salon", "kayoi_no_ba", "shopping", "mobility", "garbage", "meal_delivery", "watching"}


def test_every_need_lies_in_its_town_block(needs, areas):
    blocks = areas["town_blocks"].set_index("area_id").geometry
    points = _points(needs, "EPSG:6668")
    assert shapely.contains(blocks.loc[needs["town_block_id"]].values, points.values).all()


def test_needs_follow_older_residents(needs, areas):
    blocks = areas["town_blocks"].set_index("area_id")
    counts = needs["town_block_id"].value_counts().reindex(blocks.index, fill_value=0)
    assert np.corrcoef(counts, blocks["pop_65plus"])[0, 1] > 0.5


# ---------------------------------------------------------------- planted gaps


def test_planted_gap_blocks_have_no_salon_or_kayoi_within_1500_m(resources, metric):
    blocks = metric["town_blocks"].set_index("area_id")
    places = resources[resources["category"].isin(["salon", "kayoi_no_ba"])]
    points = _points(places)
    for area_id in PLANTED_GAP_BLOCKS:
        assert points.distance(blocks.geometry[area_id]).min() > 1500.0


def test_planted_gap_blocks_are_old_fringe_blocks_with_needs(metric, needs):
    blocks = metric["town_blocks"].set_index("area_id")
    border = blocks.geometry.boundary.intersection(metric["municipality"].geometry.iloc[0].boundary).length > 100
    fringe_median = blocks.loc[border, "pop_65plus"].median()
    for area_id in PLANTED_GAP_BLOCKS:
        assert border[area_id]
        assert blocks.loc[area_id, "pop_65plus"] > fringe_median
        wanted = needs[(needs["town_block_id"] == area_id)
                       & needs["category"].isin(["salon", "kayoi_no_ba", "shopping"])]
        assert len(wanted) >= 10


def test_readme_names_the_planted_gaps_and_the_right_counts(areas, resources, needs):
    text = (DATA / "README.md").read_text(encoding="utf-8")
    assert "架空" in text and "Planted gaps" in text
    assert text.index("日本語") < text.index("English")
    for count in (len(areas["town_blocks"]), len(resources), len(needs)):
        assert f"| {count} |" in text
    population = f"{areas['town_blocks']['pop_total'].sum():,}"
    assert f"{population}人" in text and f"{population} residents" in text
    names = areas["town_blocks"].set_index("area_id")["name"]
    section = text[text.index("Planted gaps"):]
    for area_id in PLANTED_GAP_BLOCKS:
        assert area_id in section and names[area_id] in section


def test_denser_streets_give_about_the_junctions_asked_for(tmp_path):
    """``scgeo sample --towns N --town-nodes M``: the same land and people, streets dense enough for
    about M junctions (counted by the project's own OSM reader)."""
    from scgeo.io.osm import read_osm
    from scgeo.sample.region import street_density_for

    bundled = len(read_osm(DATA / "network" / "sakura.osm").nodes)
    paths = generate(tmp_path, year=False, street_density=street_density_for(9_000))
    denser = len(read_osm(paths["network"]).nodes)
    assert 0.8 * 9_000 < denser < 1.2 * 9_000 and denser > 2 * bundled
    blocks = gpd.read_file(paths["town_blocks"])
    assert blocks["pop_total"].sum() == gpd.read_file(DATA / "boundaries" / "town_blocks.geojson")["pop_total"].sum()
