"""The merge method: small units joined to a neighbour, as 国勢調査 does for 秘匿地域."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["merge_units"]


def _neighbours(units: gpd.GeoDataFrame) -> dict[str, set[str]]:
    """Units sharing a boundary line (a common corner alone does not count)."""
    ids = units["unit_id"].to_numpy()
    geoms = units.geometry.to_numpy()
    left, right = units.sindex.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right]))
    touching = shapely.length(shared) > 0
    out: dict[str, set[str]] = {i: set() for i in ids}
    for a, b in zip(ids[left[touching]], ids[right[touching]], strict=True):
        out[a].add(b)
        out[b].add(a)
    return out


def merge_units(units: gpd.GeoDataFrame, counts: pd.DataFrame,
                threshold: int) -> tuple[gpd.GeoDataFrame, pd.DataFrame, list[dict]]:
    """Merge small units into neighbours until no mergeable unit has a count ``1 .. threshold-1``.

    A unit is *small* when its total, or one of its cells in a category whose city-wide total
    reaches ``threshold``, lies in ``1 .. threshold - 1`` (a category rare in the whole table
    cannot be fixed by merging and is left to suppression). The smallest small unit (by total)
    is merged into the neighbour sharing a boundary with the smallest total, and so on. Units
    with no neighbour stay as they are; suppression then handles what is left.

    Returns
    -------
    tuple
        The merged units (``unit_id`` joined with ``+``, ``unit_name`` with ``・``), their counts,
        and one record per merged unit (``unit_id``, ``unit_name``, ``members``).
    """
    neighbours = _neighbours(units)
    geoms = dict(zip(units["unit_id"], units.geometry, strict=True))
    names = dict(zip(units["unit_id"], units["unit_name"], strict=True))
    members = {i: [i] for i in units["unit_id"]}
    table = counts.copy()
    fixable = table.sum(axis=0).to_numpy() >= threshold
    stuck: set[str] = set()
    while True:
        values = table.to_numpy()
        total = values.sum(axis=1)
        small_cell = ((values >= 1) & (values < threshold) & fixable).any(axis=1)
        small = (small_cell | ((total >= 1) & (total < threshold))) & ~table.index.isin(list(stuck))
        if not small.any():
            break
        order = np.lexsort((table.index.to_numpy().astype(str), total))
        unit = next(str(table.index[k]) for k in order if small[k])
        options = sorted(neighbours[unit], key=lambda n: (int(table.loc[n].sum()), str(n)))
        if not options:
            stuck.add(unit)
            continue
        other = options[0]
        new = f"{other}+{unit}"
        table.loc[new] = table.loc[other] + table.loc[unit]
        table = table.drop(index=[unit, other])
        geoms[new] = shapely.union(geoms.pop(other), geoms.pop(unit))
        names[new] = f"{names.pop(other)}・{names.pop(unit)}"
        members[new] = members.pop(other) + members.pop(unit)
        neighbours[new] = (neighbours.pop(other) | neighbours.pop(unit)) - {unit, other}
        for n in neighbours[new]:
            neighbours[n] = (neighbours[n] - {unit, other}) | {new}
    ids = list(table.index)
    merged_units = gpd.GeoDataFrame({"unit_id": ids, "unit_name": [names[i] for i in ids]},
                                    geometry=[geoms[i] for i in ids], crs=units.crs)
    records = [{"unit_id": i, "unit_name": names[i], "members": members[i]} for i in ids if len(members[i]) > 1]
    return merged_units, table.astype(np.int64), records
