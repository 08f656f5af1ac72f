"""The sample town's land: outline, river and railway, town blocks, school districts, people.

Town blocks are the faces of a Voronoi diagram of jittered seeds (closer together near the
centre) cut by the river and the railway and clipped to the outline, so that blocks never
straddle the river. Districts are unions of whole blocks: 中学校区 by weighted nearest seed,
小学校区 by halving each 中学校区 along its long axis, 日常生活圏域 as pairs of 中学校区. Every
district is made contiguous. All geometry here is metric (EPSG:6691).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely import LineString, MultiPoint, Point, Polygon

from scgeo.sample._geom import METRIC_CRS, at, local_km

__all__ = ["Town", "make_town", "remoteness"]

MUNI_CODE = "99201"
MUNI_NAME = "さくら市"

OUTLINE_SEMI_AXES_KM = (4.6, 3.5)
OUTLINE_AREA_KM2 = 48.0
TOTAL_POPULATION = 50_000
MIN_BLOCK_SHARE = 0.3  # a face under this share of a typical block there is merged
URBAN_REMOTENESS = 0.6  # blocks nearer the centre than this are 市街地 (street grids, 丁目)
ESTATE_RESIDENTS = 1800  # extra residents of an old housing estate (団地)
OLD_VILLAGE_FACTOR = 2.0  # a planted-gap village has this many times the usual residents
GAP_COUNT = 3  # planted gaps wanted (at least two are required)
GAP_FROM_TOWN_M = 500.0  # a planted gap lies at least this far from the built-up area if it can
GAP_SEPARATION_M = 3000.0  # and this far from another planted gap

# 中学校区: id, name, seed (km from the centre), weight (smaller = smaller district), 日常生活圏域.
_JHS = (
    ("J01", "さくら中学校区", (-0.1, 0.2), 0.55, "LA1"),
    ("J02", "北中学校区", (-0.5, 2.5), 1.0, "LA1"),
    ("J03", "東中学校区", (3.0, 1.3), 1.0, "LA2"),
    ("J04", "桜ヶ丘中学校区", (2.8, -1.9), 1.0, "LA2"),
    ("J05", "南中学校区", (-0.9, -2.3), 1.0, "LA3"),
    ("J06", "西中学校区", (-3.4, 0.2), 1.0, "LA3"),
)
_CENTRAL_SCHOOL = "さくら小学校区"  # the 小学校区 at the very centre; the others take a 町 name
_LIVING_AREAS = (("LA1", "第1圏域"), ("LA2", "第2圏域"), ("LA3", "第3圏域"))

# 町 names of the built-up area, with the km position each name belongs near; the list order
# fixes the 4-digit 町 code (本町 = 0010, 駅前 = 0020, …), as e-Stat KEY_CODEs do.
_URBAN_NAMES = (
    ("本町", (0.0, 0.3)), ("駅前", (0.1, -0.7)), ("中央", (-0.8, 0.2)), ("栄町", (0.6, 0.7)),
    ("川端町", (1.1, 0.0)), ("緑町", (-0.6, 1.2)), ("旭町", (0.5, 1.5)), ("寿町", (-1.5, -0.3)),
    ("若葉", (-1.6, 1.0)), ("桜ヶ丘", (2.8, -1.6)), ("東町", (2.2, 0.6)), ("川向", (1.9, -0.6)),
    ("南台", (-0.3, -1.8)), ("新田", (-2.2, -1.2)), ("松原", (-2.4, 0.5)), ("北町", (0.0, 2.3)),
    ("宮下", (-1.0, 2.4)), ("千代田町", (1.0, -1.3)), ("日の出町", (3.2, 0.3)),
    ("青葉台", (2.0, 2.2)), ("西町", (-2.8, -0.1)), ("港町", (3.6, -0.6)), ("末広町", (-1.6, -1.8)),
    ("住吉町", (1.6, 1.2)), ("幸町", (-0.4, -1.0)), ("花園", (1.2, 1.9)), ("昭和町", (-1.2, -0.9)),
    ("富士見", (-1.8, 0.2)), ("錦町", (0.8, -0.6)), ("双葉町", (2.5, -0.3)), ("春日", (-0.9, 1.7)),
)
# 大字 of the rural fringe (one block each, no 丁目); their 町 codes start at 0500.
_RURAL_NAMES = (
    ("北山", (-0.2, 3.4)), ("上野", (1.8, 3.2)), ("東原", (4.2, 1.4)), ("大原", (4.3, -1.0)),
    ("小谷", (3.4, -2.8)), ("下野", (0.8, -3.0)), ("南沢", (-1.8, -3.0)), ("西浦", (-4.2, -1.2)),
    ("谷津", (-4.4, 0.9)), ("高根", (-3.0, 2.4)), ("入野", (-3.6, -2.6)), ("中島", (1.4, -2.4)),
    ("岩井", (4.8, 0.0)), ("清水", (-2.0, 3.2)), ("長沼", (3.0, 2.8)), ("福田", (-4.8, -0.2)),
    ("坂下", (0.6, 3.8)), ("石田", (-1.0, -3.6)), ("平沢", (2.4, -3.4)), ("柏木", (-3.4, 1.8)),
    ("宮原", (4.4, 2.4)), ("原田", (-2.6, -2.6)), ("大森", (3.9, -2.0)), ("野田", (-4.2, 2.0)),
    ("竹内", (2.4, 3.6)), ("戸川", (-0.4, -3.2)), ("松ヶ崎", (-4.0, -2.0)), ("梅田", (1.2, 3.6)),
    ("杉山", (-2.6, 3.0)), ("東谷", (4.6, 1.8)), ("桑原", (3.6, 3.2)), ("馬場", (-4.6, 1.4)),
    ("芝原", (2.0, -3.0)), ("堀内", (-3.0, -3.2)), ("本郷", (-1.4, 3.8)), ("新井", (4.0, -2.8)),
    ("岡田", (-4.8, -1.0)), ("八幡", (0.2, -3.8)),
)
RURAL_CODE_START = 500
_CENTRE_SPOT_KM = (0.0, 0.15)  # the block nearest this is 本町 (name 0)
_STATION_SPOT_KM = (0.0, -0.7)  # and this one 駅前 (name 1)
_DANCHI_TOWNS = ("桜ヶ丘", "青葉台")  # their outermost 丁目 is an old public housing estate
_KANJI_DIGITS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Town:
    """The land of the sample town, in metres (EPSG:6691).

    Attributes
    ----------
    outline, river, rail, station
        The municipality polygon, the river and railway centre lines (longer than the town,
        crossing it) and the station.
    blocks
        Town blocks: ``area_id, name, level, parent_id``, the population columns and helper
        columns ``es_id, jhs_id, la_id, town, remoteness, urban, danchi, planted_gap``, geometry.
    districts
        Every other level (municipality, living areas, 中学校区, 小学校区): ``area_id, name,
        level, parent_id``; geometry is the union of their blocks.
    gap_blocks
        Area ids of the blocks where gaps are planted (old villages on the border).
    """

    outline: Polygon
    river: LineString
    rail: LineString
    station: Point
    blocks: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    gap_blocks: tuple[str, ...]


def remoteness(xy: np.ndarray) -> np.ndarray:
    """Elliptic distance from the centre: 0 at the centre, about 1 at the municipal border."""
    km = local_km(xy)
    a, b = OUTLINE_SEMI_AXES_KM
    return np.hypot(km[:, 0] / a, km[:, 1] / b)


# ---------------------------------------------------------------- outline, river, railway


def _outline(rng: np.random.Generator) -> Polygon:
    """A smooth, irregular municipality: an ellipse with random harmonics, OUTLINE_AREA_KM2."""
    theta = np.linspace(0.0, 2 * np.pi, 256, endpoint=False)
    a, b = OUTLINE_SEMI_AXES_KM
    radius = a * b / np.hypot(b * np.cos(theta), a * np.sin(theta))
    harmonics = np.arange(2, 9)
    amplitude = rng.uniform(0.03, 0.08, len(harmonics)) / np.sqrt(harmonics - 1)
    phase = rng.uniform(0.0, 2 * np.pi, len(harmonics))
    radius = radius * (1 + (amplitude[:, None] * np.cos(np.outer(harmonics, theta) + phase[:, None])).sum(0))
    x_km, y_km = 0.25 + radius * np.cos(theta), -0.1 + radius * np.sin(theta)
    shape = Polygon(at(x_km, y_km))
    scale = np.sqrt(OUTLINE_AREA_KM2 * 1e6 / shape.area)
    centre = at(0.25, -0.1)[0]
    return Polygon(centre + (shapely.get_coordinates(shape.exterior)[:-1] - centre) * scale)


def _river(rng: np.random.Generator) -> LineString:
    """さくら川: meanders north to south about 1.3 km east of the centre."""
    y_km = np.arange(-6.0, 6.0001, 0.05)
    phase = rng.uniform(-0.4, 0.4, 2)
    x_km = 1.3 + 0.3 * np.sin(1.1 * y_km + phase[0]) + 0.12 * np.sin(2.9 * y_km + phase[1])
    return LineString(at(x_km, y_km))


def _rail() -> LineString:
    """さくら線: runs west to east through the station 400 m south of the centre."""
    x_km = np.arange(-7.0, 7.0001, 0.05)
    y_km = -0.4 + 0.06 * x_km + 0.12 * np.sin(0.5 * x_km)
    return LineString(at(x_km, y_km))


# ---------------------------------------------------------------- town blocks


def _seed_spacing_m(xy: np.ndarray) -> np.ndarray:
    """Distance between block seeds: 320 m at the centre, about 1.3 km at the border."""
    return 320.0 + 950.0 * remoteness(xy)


def _block_seeds(outline: Polygon, rng: np.random.Generator) -> np.ndarray:
    """Dart throwing with :func:`_seed_spacing_m` between seeds."""
    xmin, ymin, xmax, ymax = outline.bounds
    candidates = np.column_stack([rng.uniform(xmin, xmax, 6000), rng.uniform(ymin, ymax, 6000)])
    candidates = candidates[shapely.contains_xy(outline, candidates[:, 0], candidates[:, 1])]
    spacing_m = _seed_spacing_m(candidates)
    seeds = np.empty((0, 2))
    for point, spacing in zip(candidates, spacing_m, strict=True):
        if not len(seeds) or np.hypot(*(seeds - point).T).min() >= spacing:
            seeds = np.vstack([seeds, point])
    return seeds


def _faces(outline: Polygon, seeds: np.ndarray, barriers: list[LineString]) -> list[Polygon]:
    """Voronoi cells of ``seeds`` cut by ``barriers`` and the outline: faces inside the town."""
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline.buffer(3000)))
    linework = shapely.union_all([*shapely.boundary(cells), outline.exterior, *barriers])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    inside = shapely.contains(outline, shapely.point_on_surface(faces))
    return list(faces[inside])


def _shared_lengths(polys: list[Polygon], barrier_zone: Polygon | None = None) -> np.ndarray:
    """(n, n) lengths of shared boundary, leaving out stretches inside ``barrier_zone``."""
    geoms = np.asarray(polys, dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    common = shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right]))
    if barrier_zone is not None:
        common = shapely.difference(common, barrier_zone)
    lengths = np.zeros((len(polys), len(polys)))
    lengths[left, right] = shapely.length(common)
    return lengths + lengths.T


def _merge_small(faces: list[Polygon], barrier_zone: Polygon) -> list[Polygon]:
    """Merge faces much smaller than their neighbourhood's blocks into a neighbour.

    Slivers cut off by the river, the railway or the border go to the neighbour they share
    most street (not river or railway) with.
    """
    faces = list(faces)
    while True:
        geoms = np.asarray(faces, dtype=object)
        spacing = _seed_spacing_m(shapely.get_coordinates(shapely.point_on_surface(geoms)))
        shortfall = shapely.area(geoms) / (MIN_BLOCK_SHARE * spacing**2)
        small = int(np.argmin(shortfall))
        if shortfall[small] >= 1.0:
            return faces
        shared = _shared_lengths(faces, barrier_zone)[small]
        if shared.max() <= 0:  # cut off by the river or railway: join across it
            shared = _shared_lengths(faces)[small]
        target = int(np.argmax(shared))
        faces[target] = shapely.union(faces[target], faces[small])
        del faces[small]


# ---------------------------------------------------------------- districts


def _components(members: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    sub = coo_matrix(adjacency[np.ix_(members, members)] > 1.0)
    return connected_components(sub, directed=False)[1]


def _make_contiguous(labels: np.ndarray, adjacency: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Move detached pieces of a district to the neighbouring district they share most edge with."""
    labels = labels.copy()
    for _ in range(200):
        for label in np.unique(labels):
            members = np.flatnonzero(labels == label)
            parts = _components(members, adjacency)
            if parts.max() == 0:
                continue
            sizes = np.bincount(parts, weights=areas[members])
            stray = members[parts != np.argmax(sizes)]
            border = adjacency[stray].sum(0)
            border[labels == label] = 0.0
            candidates = np.unique(labels[border > 0])
            if not len(candidates):
                continue
            totals = np.array([border[labels == c].sum() for c in candidates])
            labels[stray] = candidates[np.argmax(totals)]
            break
        else:
            return labels
    raise RuntimeError("could not make the districts contiguous")


def _assign_jhs(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    seeds = at(*np.array([j[2] for j in _JHS]).T) + rng.normal(0.0, 150.0, (len(_JHS), 2))
    weights = np.array([j[3] for j in _JHS])
    distance = np.hypot(*(points[:, None, :] - seeds[None, :, :]).transpose(2, 0, 1))
    return np.argmin(distance / weights, axis=1)


def _grow_halves(along: np.ndarray, weight: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """Split connected blocks into two contiguous halves of similar ``weight``.

    Two regions grow from the blocks at either end of ``along``; the lighter one takes its
    neighbouring free block lying furthest towards its own end.
    """
    if len(along) < 2:
        raise RuntimeError("a 中学校区 of one block cannot hold two 小学校区")
    half = np.full(len(along), -1)
    half[np.argmin(along)], half[np.argmax(along)] = 0, 1
    sign = np.array([1.0, -1.0])  # region 0 prefers small ``along``, region 1 large
    while (half < 0).any():
        totals = np.array([weight[half == h].sum() for h in (0, 1)])
        for h in np.argsort(totals, kind="stable"):
            free = np.flatnonzero((half < 0) & (adjacency[half == h] > 1.0).any(0))
            if len(free):
                half[free[np.argmin(sign[h] * along[free])]] = h
                break
        else:
            raise RuntimeError("blocks of a 中学校区 are not connected")
    return half


def _split_es(points: np.ndarray, people: np.ndarray, jhs: np.ndarray, adjacency: np.ndarray,
              areas: np.ndarray) -> np.ndarray:
    """小学校区 index (0..11): each 中学校区 halved across its long axis, inner half first.

    The halves balance a mix of residents (``people``, expected) and land.
    """
    es = np.empty(len(points), dtype=int)
    centre = at(0.0, 0.0)[0]
    for j in range(len(_JHS)):
        members = np.flatnonzero(jhs == j)
        xy = points[members]
        mean = np.average(xy, axis=0, weights=areas[members])
        _, _, axes = np.linalg.svd((xy - mean) * np.sqrt(areas[members])[:, None], full_matrices=False)
        axis = axes[0] * (1.0 if (axes[0][0], axes[0][1]) >= (0.0, 0.0) else -1.0)  # fixed sign
        along = (xy - mean) @ axis
        weight = people[members] / people[members].sum() + areas[members] / areas[members].sum()
        local = _grow_halves(along, weight, adjacency[np.ix_(members, members)])
        inner_first = [np.hypot(*(xy[local == h].mean(0) - centre)) for h in (0, 1)]
        es[members] = 2 * j + (local if inner_first[0] <= inner_first[1] else 1 - local)
    return es


# ---------------------------------------------------------------- names and codes


def _town_groups(points: np.ndarray, urban: np.ndarray, es: np.ndarray, street_adjacency: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Group neighbouring built-up blocks of one 小学校区 into 町 of 1–4 丁目 (-1: rural)."""
    group = np.full(len(points), -1)
    centre = at(0.0, 0.0)[0]
    order = np.argsort(np.hypot(*(points - centre).T), kind="stable")
    next_group = 0
    for start in order:
        if not urban[start] or group[start] >= 0:
            continue
        size = int(rng.choice([1, 2, 2, 3, 3, 3, 4]))
        members = [start]
        group[start] = next_group
        while len(members) < size:
            touching = (street_adjacency[members] > 1.0).any(0)
            free = np.flatnonzero(touching & urban & (group < 0) & (es == es[start]))
            if not len(free):
                break
            nearest = free[np.argmin(np.hypot(*(points[free] - points[start]).T))]
            members.append(nearest)
            group[nearest] = next_group
        next_group += 1
    return group


def _match_names(points: np.ndarray, names: tuple) -> np.ndarray:
    """Index of the name for each point: nearest anchors, each name used once."""
    if len(points) > len(names):
        raise RuntimeError(f"{len(points)} places to name but only {len(names)} names")
    anchors = at(*np.array([a for _, a in names]).T)
    cost = np.hypot(*(points[:, None, :] - anchors[None, :, :]).transpose(2, 0, 1))
    rows, cols = linear_sum_assignment(cost)
    out = np.empty(len(points), dtype=int)
    out[rows] = cols
    return out


def _group_names(group_xy: np.ndarray, fixed: dict[int, int], estate_groups: np.ndarray) -> np.ndarray:
    """Index into _URBAN_NAMES for each group.

    ``fixed`` maps groups to names decided beforehand (本町 at the centre, 駅前 at the
    station); estates get the estate names; the other groups the nearest remaining names.
    """
    out = np.full(len(group_xy), -1)
    for g, name in fixed.items():
        out[g] = name
    estate_names = np.array([i for i, (n, _) in enumerate(_URBAN_NAMES) if n in _DANCHI_TOWNS])
    other_names = np.setdiff1d(np.arange(len(_URBAN_NAMES)), [*estate_names, *fixed.values()])
    free = out < 0
    for groups, pool in ((free & estate_groups, estate_names), (free & ~estate_groups, other_names)):
        out[groups] = pool[_match_names(group_xy[groups], tuple(_URBAN_NAMES[i] for i in pool))]
    return out


def _names_and_codes(points: np.ndarray, group: np.ndarray,
                     danchi: np.ndarray) -> tuple[list[str], list[str], list[str]]:
    """Block names (本町一丁目 …), their 町 names, and e-Stat style KEY_CODEs."""
    centre = at(0.0, 0.0)[0]
    names, towns, codes = [""] * len(points), [""] * len(points), [""] * len(points)
    n_groups = group.max() + 1
    group_xy = np.array([points[group == g].mean(0) for g in range(n_groups)])
    estate_groups = np.array([danchi[group == g].any() for g in range(n_groups)])
    fixed: dict[int, int] = {}
    for name_index, spot in ((0, _CENTRE_SPOT_KM), (1, _STATION_SPOT_KM)):
        g = group[np.argmin(np.hypot(*(points - at(*spot)[0]).T))]
        if g >= 0 and g not in fixed and not estate_groups[g]:
            fixed[g] = name_index
    urban_name = _group_names(group_xy, fixed, estate_groups)
    for g in range(n_groups):
        members = np.flatnonzero(group == g)
        town, _ = _URBAN_NAMES[urban_name[g]]
        members = members[np.argsort(np.hypot(*(points[members] - centre).T), kind="stable")]
        for rank, i in enumerate(members, start=1):
            chome = rank if len(members) > 1 else 0
            names[i] = f"{town}{_KANJI_DIGITS[rank - 1]}丁目" if chome else town
            towns[i] = town
            codes[i] = f"{MUNI_CODE}{10 * (urban_name[g] + 1):04d}{chome:02d}"
    rural = np.flatnonzero(group < 0)
    rural_name = _match_names(points[rural], _RURAL_NAMES)
    for i, k in zip(rural, rural_name, strict=True):
        names[i] = towns[i] = _RURAL_NAMES[k][0]
        codes[i] = f"{MUNI_CODE}{RURAL_CODE_START + 10 * k:04d}00"
    return names, towns, codes


# ---------------------------------------------------------------- population


def _density_per_km2(rho: np.ndarray) -> np.ndarray:
    """Expected residents per km² at remoteness ``rho``: about 6,700 at the centre, 300 at the edge."""
    return 180.0 + 6500.0 * np.exp(-rho / 0.25)


def _population(area_km2: np.ndarray, rho: np.ndarray, danchi: np.ndarray, village: np.ndarray,
                rng: np.random.Generator) -> pd.DataFrame:
    """Residents by age per block.

    A dense young centre, older fringes, two old housing estates (団地) and the old villages
    of the planted gaps.
    """
    n = len(rho)
    people = area_km2 * _density_per_km2(rho) * rng.lognormal(0.0, 0.2, n)
    people = people * np.where(village, OLD_VILLAGE_FACTOR, 1.0) + np.where(danchi, ESTATE_RESIDENTS, 0)
    total = np.round(people * TOTAL_POPULATION / people.sum()).astype(int)
    share65 = np.clip(0.20 + 0.24 * rho + rng.normal(0.0, 0.02, n), 0.20, 0.44)
    share75 = np.clip(0.47 + 0.10 * rho + rng.normal(0.0, 0.02, n), 0.45, 0.60)
    alone = np.clip(0.30 - 0.08 * rho + rng.normal(0.0, 0.02, n), 0.20, 0.35)
    share65, share75, alone = (np.where(danchi, v, s) for s, v in
                               ((share65, 0.45), (share75, 0.59), (alone, 0.35)))
    share65, share75 = (np.where(village, v, s) for s, v in ((share65, 0.44), (share75, 0.58)))
    pop65 = np.round(total * share65).astype(int)
    return pd.DataFrame({
        "pop_total": total,
        "pop_65plus": pop65,
        "pop_75plus": np.round(pop65 * share75).astype(int),
        "pop_65plus_alone": np.round(pop65 * alone).astype(int),
    })


# ---------------------------------------------------------------- assembly


def make_town(rng: np.random.Generator) -> Town:
    """Build the town's land and people from ``rng``."""
    outline = _outline(rng)
    river, rail = _river(rng), _rail()
    barrier_zone = shapely.union_all([river.buffer(0.5), rail.buffer(0.5)])
    faces = _merge_small(_faces(outline, _block_seeds(outline, rng), [river, rail]), barrier_zone)
    geoms = np.asarray(faces, dtype=object)
    points = shapely.get_coordinates(shapely.point_on_surface(geoms))
    areas = shapely.area(geoms)
    rho = remoteness(points)
    adjacency = _shared_lengths(faces)
    street_adjacency = _shared_lengths(faces, barrier_zone)

    jhs = _make_contiguous(_assign_jhs(points, rng), adjacency, areas)
    es = _split_es(points, areas * _density_per_km2(rho), jhs, adjacency, areas)
    urban = rho < URBAN_REMOTENESS
    danchi = _danchi(points, rho, areas)
    group = _town_groups(points, urban, es, street_adjacency, rng)
    names, towns, codes = _names_and_codes(points, group, danchi)
    village = _planted_gaps(geoms, outline, urban, rho, jhs, areas)
    population = _population(areas / 1e6, rho, danchi, village, rng)

    blocks = gpd.GeoDataFrame({
        "area_id": codes,
        "name": names,
        "level": "town_block",
        "parent_id": [f"E{e + 1:02d}" for e in es],
        **{c: population[c].to_numpy() for c in population.columns},
        "es_id": [f"E{e + 1:02d}" for e in es],
        "jhs_id": [_JHS[j][0] for j in jhs],
        "la_id": [_JHS[j][4] for j in jhs],
        "town": towns,
        "remoteness": rho,
        "urban": urban,
        "danchi": danchi,
        "planted_gap": village,
    }, geometry=list(geoms), crs=METRIC_CRS)
    blocks = blocks.sort_values("area_id", kind="stable").reset_index(drop=True)
    gaps = tuple(blocks["area_id"][blocks["planted_gap"]])
    return Town(outline, river, rail, Point(at(0.0, -0.4)[0]), blocks, _districts(blocks), gaps)


def _planted_gaps(geoms: np.ndarray, outline: Polygon, urban: np.ndarray, rho: np.ndarray,
                  jhs: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Old villages on the municipal border, away from the built-up area: the planted gaps.

    Countryside blocks on the border at least GAP_FROM_TOWN_M from any built-up block are taken
    by falling expected number of residents, one per 中学校区, GAP_SEPARATION_M apart.
    """
    built_up = shapely.union_all(geoms[urban])
    on_border = shapely.length(shapely.intersection(shapely.boundary(geoms), outline.exterior)) > 100.0
    from_town = shapely.distance(geoms, built_up)
    expected = areas * _density_per_km2(rho)
    for min_from_town in (GAP_FROM_TOWN_M, GAP_FROM_TOWN_M / 2, 0.0):  # relaxed if need be
        eligible = on_border & ~urban & (from_town >= min_from_town)
        chosen: list[int] = []
        for i in np.argsort(-np.where(eligible, expected, -1.0), kind="stable")[: eligible.sum()]:
            apart = all(shapely.distance(geoms[i], geoms[j]) >= GAP_SEPARATION_M for j in chosen)
            if apart and jhs[i] not in jhs[chosen]:
                chosen.append(int(i))
            if len(chosen) == GAP_COUNT:
                break
        if len(chosen) >= 2:
            mask = np.zeros(len(geoms), dtype=bool)
            mask[chosen] = True
            return mask
    raise RuntimeError("fewer than two fringe blocks can hold a planted gap")


def _danchi(points: np.ndarray, rho: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Two old housing estates: outer built-up blocks (not the largest) nearest the estate
    towns' anchors.
    """
    outer = (rho >= 0.35) & (rho < URBAN_REMOTENESS)
    candidates = np.flatnonzero(outer & (areas <= np.median(areas[outer])))
    anchors = at(*np.array([a for n, a in _URBAN_NAMES if n in _DANCHI_TOWNS]).T)
    cost = np.hypot(*(points[candidates][:, None, :] - anchors[None, :, :]).transpose(2, 0, 1))
    rows, _ = linear_sum_assignment(cost)
    flags = np.zeros(len(points), dtype=bool)
    flags[candidates[rows]] = True
    return flags


def _school_names(blocks: gpd.GeoDataFrame) -> dict[str, str]:
    """小学校区 names: the central one is さくら小学校区, the others bear their largest 町."""
    names = {"E01": _CENTRAL_SCHOOL}
    used = {_CENTRAL_SCHOOL}
    for es_id in sorted(set(blocks["es_id"]) - {"E01"}):
        residents = blocks[blocks["es_id"] == es_id].groupby("town")["pop_total"].sum()
        ranked = residents.sort_values(ascending=False, kind="stable").index
        name = next((f"{t}小学校区" for t in ranked if f"{t}小学校区" not in used), f"{es_id}小学校区")
        names[es_id] = name
        used.add(name)
    return names


def _districts(blocks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = [{"area_id": MUNI_CODE, "name": MUNI_NAME, "level": "municipality", "parent_id": None,
             "geometry": shapely.union_all(blocks.geometry.to_numpy())}]
    for la_id, la_name in _LIVING_AREAS:
        rows.append({"area_id": la_id, "name": la_name, "level": "living_area", "parent_id": MUNI_CODE,
                     "geometry": shapely.union_all(blocks.geometry[blocks["la_id"] == la_id].to_numpy())})
    es_names = _school_names(blocks)
    for j, (jhs_id, jhs_name, _, _, la_id) in enumerate(_JHS):
        rows.append({"area_id": jhs_id, "name": jhs_name, "level": "jhs_district", "parent_id": la_id,
                     "geometry": shapely.union_all(blocks.geometry[blocks["jhs_id"] == jhs_id].to_numpy())})
        for h in range(2):
            es_id = f"E{2 * j + h + 1:02d}"
            rows.append({"area_id": es_id, "name": es_names[es_id], "level": "es_district",
                         "parent_id": jhs_id,
                         "geometry": shapely.union_all(blocks.geometry[blocks["es_id"] == es_id].to_numpy())})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_CRS)
