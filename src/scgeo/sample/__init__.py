"""The bundled sample town: 架空の「さくら市」, a fictional municipality of about 50,000 people.

:func:`generate` builds it from a fixed seed and writes the files under ``data/``: boundaries
of every area level (GeoJSON), town blocks with population, community resources and needs
(CSV with ``lat``/``lon``), and a walking street network (OSM XML). The same seed always gives
the same bytes. The town lies at sea east of 房総 (lon 141.05, lat 35.05) and its municipality
code is in prefecture 99, which does not exist, so that it cannot be taken for a real place.

Examples
--------
>>> import tempfile
>>> paths = generate(tempfile.mkdtemp())
>>> sorted(paths)  # doctest: +NORMALIZE_WHITESPACE
['activities', 'council_meetings', 'councils', 'es_districts', 'helpers', 'jhs_districts', 'living_areas',
 'municipality', 'needs', 'network', 'organisations', 'plans', 'resource_changes', 'resources', 'ties',
 'town_blocks']
>>> paths["network"].name
'sakura.osm'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from scgeo.sample._areas import MUNI_CODE, MUNI_NAME, Town, make_town
from scgeo.sample._geom import GRID_DEG, to_lonlat
from scgeo.sample._network import NETWORK_FILES, make_network_tables
from scgeo.sample._places import REFERENCE_DATE, make_needs, make_resources
from scgeo.sample._streets import make_network
from scgeo.sample._write import write_csv, write_geojson, write_osm
from scgeo.sample._year import YEAR_FILES, YEAR_MONTHS, make_year
from scgeo.schema import AREAS, NEEDS, RESOURCES, TOWN_BLOCKS

__all__ = [
    "PLANTED_GAP_BLOCKS",
    "REFERENCE_DATE",
    "SAMPLE_MUNI_CODE",
    "SAMPLE_MUNI_NAME",
    "SAMPLE_SEED",
    "YEAR_MONTHS",
    "generate",
]

SAMPLE_SEED = 20261001
SAMPLE_MUNI_CODE = MUNI_CODE
SAMPLE_MUNI_NAME = MUNI_NAME
#: Town blocks (area_id) where gaps were planted with :data:`SAMPLE_SEED`: many older residents,
#: no salon or 通いの場 within 1.5 km, extra needs for salon, 通いの場 and shopping.
PLANTED_GAP_BLOCKS: tuple[str, ...] = ("99201056000", "99201059000", "99201079000")

_FILES = {
    "municipality": "boundaries/municipality.geojson",
    "living_areas": "boundaries/living_areas.geojson",
    "jhs_districts": "boundaries/jhs_districts.geojson",
    "es_districts": "boundaries/es_districts.geojson",
    "town_blocks": "boundaries/town_blocks.geojson",
    "resources": "resources/resources.csv",
    "needs": "needs/needs.csv",
    "network": "network/sakura.osm",
    **NETWORK_FILES,
    **YEAR_FILES,
}
_LEVEL_OF = {"municipality": "municipality", "living_areas": "living_area",
             "jhs_districts": "jhs_district", "es_districts": "es_district"}


def generate(out_dir: str | Path, *, seed: int = SAMPLE_SEED, year: bool = True,
             street_density: float = 1.0) -> dict[str, Path]:
    """Build the sample town from ``seed`` and write its files under ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into; ``boundaries/``, ``resources/``, ``needs/`` and ``network/`` are
        created in it. Existing files of the same names are replaced.
    seed
        Seed of ``numpy.random.default_rng``. :data:`SAMPLE_SEED` gives the bundled ``data/``.
    year
        Also the sample year's files (``plans``, ``activities``, ``resource_changes``); a
        region's towns (:mod:`scgeo.sample.region`) leave them out. The other files are the
        same either way (the year has its own random stream).
    street_density
        Divides the spacing of the generated streets (street grids of the built-up blocks,
        country roads): the same land and people with about ``street_density ** 1.57`` times the
        junctions (1.0, the bundled town: about 3,000; 6.0: about 50,000). The points stand
        beside other streets then, so resources and needs move too.

    Returns
    -------
    dict[str, Path]
        The path of each file by logical name: ``municipality``, ``living_areas``,
        ``jhs_districts``, ``es_districts``, ``town_blocks`` (GeoJSON, EPSG:6668), ``resources``,
        ``needs`` (CSV with ``lat``/``lon``), ``network`` (OSM XML), and the coordinator's network of
        organisations: ``organisations``, ``ties``, ``councils``, ``council_meetings``, ``helpers``
        (CSV); the sample year (2026年度, April–September): ``plans``, ``activities`` and
        ``resource_changes`` (which resources opened or closed in the year, for the demo's snapshots).
    """
    out = Path(out_dir)
    # The sixth stream (the year) was added later: spawning keeps the first five streams as they were.
    town_rng, street_rng, resource_rng, need_rng, network_rng, year_rng = np.random.default_rng(seed).spawn(6)
    town = make_town(town_rng)
    network = make_network(town, street_rng, density=street_density)
    resources = make_resources(town, network, town.gap_blocks, resource_rng)
    needs = make_needs(town, network, town.gap_blocks, need_rng)
    tables, operators = make_network_tables(town, resources, _lonlat, network_rng)
    resources = resources.assign(operator_id=operators.to_numpy())
    if year:
        tables |= make_year(town, resources, needs, tables, year_rng)

    paths = {name: out / relative for name, relative in _FILES.items() if year or name not in YEAR_FILES}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    blocks, block_geoms = _blocks_lonlat(town)
    write_geojson(paths["town_blocks"], "town_blocks", blocks, block_geoms)
    for name, level in _LEVEL_OF.items():
        frame, geoms = _districts_lonlat(town, blocks, block_geoms, level)
        write_geojson(paths[name], name, frame, geoms)
    write_csv(paths["resources"], _with_lonlat(resources, [*_typed(RESOURCES), "lat", "lon"]))
    write_csv(paths["needs"], _with_lonlat(needs, [*SAMPLE_NEED_COLUMNS, "lat", "lon"]))
    write_osm(paths["network"], _lonlat(network.node_xy), network.node_tags, network.ways)
    for name, frame in tables.items():
        write_csv(paths[name], frame)
    return paths


def _typed(layer) -> list[str]:
    """The columns a town's own list has: not those an import fills (how each point was placed)."""
    return [c for c in layer.names if c not in ("match_level", "matched_address")]


# The sample's needs carry no weekday or time wishes (optional columns of the needs layer).
SAMPLE_NEED_COLUMNS = [c for c in _typed(NEEDS) if c not in ("wanted_days", "wanted_time")]


def _lonlat(xy: np.ndarray) -> np.ndarray:
    return shapely.get_coordinates(to_lonlat(shapely.points(xy)))


def _with_lonlat(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    lonlat = _lonlat(frame[["x", "y"]].to_numpy())
    out = frame.assign(lat=[f"{v:.7f}" for v in lonlat[:, 1]], lon=[f"{v:.7f}" for v in lonlat[:, 0]])
    return out[columns]


def _blocks_lonlat(town: Town) -> tuple[pd.DataFrame, np.ndarray]:
    blocks = town.blocks
    return pd.DataFrame(blocks[TOWN_BLOCKS.names]), to_lonlat(blocks.geometry.to_numpy())


def _districts_lonlat(town: Town, blocks: pd.DataFrame, block_geoms: np.ndarray,
                      level: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Areas of ``level`` with geometry the exact union of their blocks' written geometry."""
    districts = town.districts[town.districts["level"] == level].sort_values("area_id")
    column = {"municipality": None, "living_area": "la_id", "jhs_district": "jhs_id",
              "es_district": "es_id"}[level]
    geoms = []
    for area_id in districts["area_id"]:
        members = np.ones(len(blocks), dtype=bool) if column is None else \
            (town.blocks[column] == area_id).to_numpy()
        geoms.append(shapely.union_all(block_geoms[members], grid_size=GRID_DEG))
    return pd.DataFrame(districts[AREAS.names]).reset_index(drop=True), np.array(geoms, dtype=object)
