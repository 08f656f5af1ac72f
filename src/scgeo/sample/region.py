"""A fictional region of neighbouring sample towns, for batches across municipalities.

:func:`generate_region` builds ``towns`` sample towns (:func:`scgeo.sample.generate`, one seed
each), lays them side by side on a grid of the plane (each shifted by the widest town's width,
so that they lie side by side like neighbouring municipalities), gives each its own municipality code in the
non-existent prefecture 99 (``99201``, ``99202`` …), writes each town's inputs (boundaries,
population, resources, needs) under ``DIR/towns/<code>/``, all their streets as ONE regional
``DIR/region.osm.pbf`` (written with pyosmium; node and way ids kept apart per town), and
``DIR/manifest.toml``, which ``scgeo batch`` takes as it is.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo.sample import SAMPLE_MUNI_CODE, SAMPLE_SEED, generate

__all__ = ["BASE_TOWN_NODES", "MAX_TOWNS", "TOWN_NODES_RANGE", "generate_region", "street_density_for"]

MAX_TOWNS = 99
BASE_TOWN_NODES = 3000  # junctions of a sample town at street density 1 (2,996 with the bundled seed)
TOWN_NODES_RANGE = (1_000, 200_000)
_NODES_EXPONENT = 1.57  # junctions grow as density ** this (measured: 3.0k, 8.4k, 23.8k, 49.5k at 1, 2, 4, 6)
_ID_STRIDE = 10**8  # OSM ids of town i start at i × this
_INPUTS = ("boundaries/municipality.geojson", "boundaries/living_areas.geojson",
           "boundaries/jhs_districts.geojson", "boundaries/es_districts.geojson",
           "boundaries/town_blocks.geojson", "resources/resources.csv", "needs/needs.csv")
_CODE_COLUMNS = ("area_id", "parent_id", "served_area_id", "town_block_id")


def _code(i: int) -> str:
    return f"992{i + 1:02d}"


def _recode(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    """Replace the sample's municipality code at the start of every area id by ``code``."""
    for col in _CODE_COLUMNS:
        if col in frame:
            values = frame[col]
            frame[col] = values.where(values.isna(), values.astype(str).str.replace(
                f"^{SAMPLE_MUNI_CODE}", code, regex=True))
    return frame


def _shift_town(src: Path, dst: Path, code: str, name: str, dlon: float, dlat: float) -> None:
    for relative in _INPUTS:
        target = dst / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative.endswith(".geojson"):
            frame = _recode(gpd.read_file(src / relative), code)
            frame["geometry"] = shapely.transform(frame.geometry.to_numpy(), lambda xy: xy + np.array([dlon, dlat]))
            if relative.endswith("municipality.geojson"):
                frame["name"] = name
            frame.to_file(target, driver="GeoJSON")
        else:
            frame = _recode(pd.read_csv(src / relative, dtype=str, keep_default_na=False, na_values=[""]), code)
            frame["lat"] = (frame["lat"].astype(float) + dlat).map(lambda v: f"{v:.7f}")
            frame["lon"] = (frame["lon"].astype(float) + dlon).map(lambda v: f"{v:.7f}")
            frame.to_csv(target, index=False, encoding="utf-8", lineterminator="\n")


def _read_osm_xml(path: Path):
    import osmium

    nodes, ways = [], []
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
        if obj.is_node():
            nodes.append((obj.id, obj.location.lon, obj.location.lat, dict(obj.tags)))
        elif obj.is_way():
            ways.append((obj.id, [n.ref for n in obj.nodes], dict(obj.tags)))
    return nodes, ways


def _write_region(path: Path, towns: list[tuple[Path, float, float]]) -> None:
    """All towns' streets as one ``.osm.pbf`` (nodes first, then ways, each sorted by id)."""
    import osmium

    path.unlink(missing_ok=True)
    read = [(i, _read_osm_xml(osm), dlon, dlat) for i, (osm, dlon, dlat) in enumerate(towns)]
    writer = osmium.SimpleWriter(str(path))
    try:
        for i, (nodes, _), dlon, dlat in read:
            for node_id, lon, lat, tags in nodes:
                writer.add_node(osmium.osm.mutable.Node(id=i * _ID_STRIDE + node_id, version=1,
                                                        location=(lon + dlon, lat + dlat), tags=tags))
        for i, (_, ways), _, _ in read:
            for way_id, refs, tags in ways:
                writer.add_way(osmium.osm.mutable.Way(id=i * _ID_STRIDE + way_id, version=1,
                                                      nodes=[i * _ID_STRIDE + r for r in refs], tags=tags))
    finally:
        writer.close()


def _manifest(towns: list[tuple[str, str]]) -> str:
    lines = ["# scgeo batch の入力: 市町村ごとのファイルと、地域の OpenStreetMap (scgeo sample --towns が作成)",
             'region_pbf = "region.osm.pbf"', "minutes = 15.0", ""]
    for code, name in towns:
        lines += ["[[municipality]]", f'muni_code = "{code}"', f'name = "{name}"', f'dir = "towns/{code}"', ""]
    return "\n".join(lines)


def street_density_for(town_nodes: int) -> float:
    """The street density (:func:`scgeo.sample.generate`) that gives about ``town_nodes`` junctions."""
    low, high = TOWN_NODES_RANGE
    if not low <= town_nodes <= high:
        raise ValueError(f"town_nodes must be between {low:,} and {high:,}")
    return (town_nodes / BASE_TOWN_NODES) ** (1.0 / _NODES_EXPONENT)


def generate_region(out_dir: str | Path, *, towns: int, seed: int = SAMPLE_SEED,
                    town_nodes: int | None = None) -> Path:
    """Write ``towns`` neighbouring fictional municipalities and their manifest; returns its path.

    Parameters
    ----------
    out_dir
        Folder to write ``manifest.toml``, ``region.osm.pbf`` and ``towns/<code>/`` into.
    towns
        How many municipalities (1 – :data:`MAX_TOWNS`).
    seed
        Seed of the first town; town ``i`` uses ``seed + i``.
    town_nodes
        About how many walking-network junctions each town has (within about 15 %): the sample
        town's land and 50,000 people with streets as dense as that takes (:func:`street_density_for`).
        ``None``: the sample town's own streets (about 3,000 junctions).
    """
    if not 1 <= towns <= MAX_TOWNS:
        raise ValueError(f"towns must be between 1 and {MAX_TOWNS}")
    density = 1.0 if town_nodes is None else street_density_for(town_nodes)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    columns = math.ceil(math.sqrt(towns))
    made, osm_files = [], []
    with tempfile.TemporaryDirectory(prefix="scgeo-region-") as scratch:
        generated = [generate(Path(scratch) / f"t{i}", seed=seed + i, year=False,
                              street_density=density) for i in range(towns)]
        bounds = np.array([gpd.read_file(p["municipality"]).total_bounds for p in generated])
        # the grid step: the widest and tallest town, so that neighbours touch but never overlap
        step = (bounds[:, 2] - bounds[:, 0]).max() * 1.01, (bounds[:, 3] - bounds[:, 1]).max() * 1.01
        for i, paths in enumerate(generated):
            dlon, dlat = (i % columns) * step[0], (i // columns) * step[1]
            code, name = _code(i), f"架空{i + 1}市"
            shutil.rmtree(out / "towns" / code, ignore_errors=True)
            _shift_town(paths["municipality"].parents[1], out / "towns" / code, code, name, dlon, dlat)
            made.append((code, name))
            osm_files.append((paths["network"], dlon, dlat))
        _write_region(out / "region.osm.pbf", osm_files)
    manifest = out / "manifest.toml"
    manifest.write_text(_manifest(made), encoding="utf-8")
    return manifest
