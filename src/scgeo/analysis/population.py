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
    metric = blocks.to_crs(network.crs)
    lengths = network.edges["length_m"].to_numpy()
    mids = shapely.line_interpolate_point(network.edges.geometry.to_numpy(), 0.5, normalized=True)
    hits = gpd.sjoin(gpd.GeoDataFrame({"edge": np.arange(len(mids))}, geometry=mids, crs=network.crs),
                     metric[["area_id", "geometry"]], predicate="within", how="inner")
    hits = hits.drop_duplicates("edge")  # a midpoint exactly on a shared boundary goes to one block
    hits["length_m"] = lengths[hits["edge"].to_numpy()]
    hits["weight"] = hits["length_m"] / hits.groupby("area_id")["length_m"].transform("sum")
    on_streets = hits.merge(pops, on="area_id")
    for col in POP_COLUMNS:
        on_streets[col] = on_streets[col] * on_streets["weight"]
    street_points = gpd.GeoDataFrame({
        "block_id": on_streets["area_id"].to_numpy(),
        **{col: on_streets[col].to_numpy() for col in POP_COLUMNS},
        "edge": on_streets["edge"].to_numpy(),
        "along_m": lengths[on_streets["edge"].to_numpy()] / 2,
        "snap_m": 0.0, "too_far": False,
    }, geometry=mids[on_streets["edge"].to_numpy()], crs=network.crs)

    lonely = metric[~metric["area_id"].isin(hits["area_id"])]
    lonely_pops = pops.set_index("area_id").loc[lonely["area_id"]].reset_index()
    reps = gpd.GeoSeries(lonely.representative_point().to_numpy(), crs=network.crs)
    snap = network.snap(reps)
    lonely_points = gpd.GeoDataFrame({
        "block_id": lonely_pops["area_id"].to_numpy(),
        **{col: lonely_pops[col].to_numpy() for col in POP_COLUMNS},
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
