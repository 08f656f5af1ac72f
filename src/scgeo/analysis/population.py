"""Population at risk: town-block population spread onto the walking network.

Coverage is counted in people, not in area. Each town block's population (total, 65+, 75+) is
allocated to the midpoints of the street segments inside the block, in proportion to segment
length (street-length-weighted allocation: people live along streets, and a long street lined
with houses holds more of them than a short one). A block with no street inside gets one point
at its representative point. Totals are conserved exactly.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo.crs import to_metric
from scgeo.network import WalkNetwork

__all__ = ["POP_COLUMNS", "area_membership", "population_points"]

POP_COLUMNS = ("pop_total", "pop_65plus", "pop_75plus")


def population_points(blocks: gpd.GeoDataFrame, network: WalkNetwork | None = None) -> gpd.GeoDataFrame:
    """Population points of the town blocks, on the network when there is one.

    Parameters
    ----------
    blocks
        Town blocks with ``area_id`` and the population columns (``Workspace.town_blocks()``).
    network
        The walking network; ``None`` puts one point per block at its representative point.

    Returns
    -------
    GeoDataFrame
        One row per point in the network's metric CRS (or the blocks' metric CRS): ``block_id``,
        ``pop_total``, ``pop_65plus``, ``pop_75plus`` (fractional people), and, with a network,
        the snap of each point (``edge``, ``along_m``, ``snap_m``, ``too_far``).
    """
    pops = blocks[["area_id", *POP_COLUMNS]].copy()
    pops[list(POP_COLUMNS)] = pops[list(POP_COLUMNS)].astype("float64").fillna(0.0)
    if network is None:
        metric = to_metric(blocks)
        return gpd.GeoDataFrame(pops.rename(columns={"area_id": "block_id"}).reset_index(drop=True),
                                geometry=metric.representative_point().to_numpy(), crs=metric.crs)
    metric = blocks.to_crs(network.crs).reset_index(drop=True)
    pops = pops.reset_index(drop=True)
    lengths = network.edges["length_m"].to_numpy()
    mids = shapely.line_interpolate_point(network.edges.geometry.to_numpy(), 0.5, normalized=True)
    # which block each street midpoint lies in, by position (no string keys: integer codes throughout)
    hit_mid, hit_block = shapely.STRtree(metric.geometry.to_numpy()).query(mids, predicate="within")
    first = np.unique(hit_mid, return_index=True)[1]  # a midpoint exactly on a shared boundary goes to one block
    edge, block = hit_mid[first], hit_block[first]
    weight = lengths[edge] / np.bincount(block, weights=lengths[edge], minlength=len(metric))[block]
    values = pops[list(POP_COLUMNS)].to_numpy()
    street_points = gpd.GeoDataFrame({
        "block_id": pops["area_id"].to_numpy()[block],
        **{col: values[block, i] * weight for i, col in enumerate(POP_COLUMNS)},
        "edge": edge,
        "along_m": lengths[edge] / 2,
        "snap_m": 0.0, "too_far": False,
    }, geometry=mids[edge], crs=network.crs)

    alone = np.ones(len(metric), dtype=bool)
    alone[block] = False
    reps = gpd.GeoSeries(metric.geometry.to_numpy()[alone], crs=network.crs).representative_point()
    snap = network.snap(reps)
    lonely_points = gpd.GeoDataFrame({
        "block_id": pops["area_id"].to_numpy()[alone],
        **{col: values[alone, i] for i, col in enumerate(POP_COLUMNS)},
        "edge": snap.edge, "along_m": snap.along_m, "snap_m": snap.snap_m, "too_far": snap.too_far,
    }, geometry=reps.to_numpy(), crs=network.crs)
    points = pd.concat([street_points, lonely_points], ignore_index=True)
    return gpd.GeoDataFrame(points, geometry="geometry", crs=network.crs)


def area_membership(blocks: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Which area of each level every town block belongs to.

    Decided by the block's representative point (strictly inside it), so a block on a shared
    boundary belongs to exactly one area per level; this does not rely on ``parent_id``.

    Returns
    -------
    DataFrame
        ``block_id``, ``level``, ``area_id`` (one row per block and level that covers it, the
        block itself included at level ``town_block``).
    """
    reps = gpd.GeoDataFrame({"block_id": blocks["area_id"].to_numpy()},
                            geometry=blocks.representative_point().to_numpy(), crs=blocks.crs)
    others = areas[areas["level"] != "town_block"].to_crs(blocks.crs)
    joined = gpd.sjoin(reps, others[["area_id", "level", "geometry"]], predicate="within")
    joined = joined.drop_duplicates(["block_id", "level"])[["block_id", "level", "area_id"]]
    own = pd.DataFrame({"block_id": blocks["area_id"].to_numpy(), "level": "town_block",
                        "area_id": blocks["area_id"].to_numpy()})
    return pd.concat([joined, own], ignore_index=True)
