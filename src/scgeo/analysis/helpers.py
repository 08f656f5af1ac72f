"""担い手 (helpers) against needs, area by area: "東谷 has 6 open ゴミ出し needs and 2 active helpers".

Helpers are kept as counts per organisation or area and activity (the ``helpers`` layer), never as
people. A helper count is placed in an area of the chosen level through its own ``area_id``, else
its organisation's ``area_id``, else the organisation's position; need counts come in already
aggregated (and, for anything published, suppressed) as the tidy table of
:func:`scgeo.privacy.aggregate_needs`, so this function never sees a need.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

__all__ = ["helpers_vs_needs"]


def _area_of(ids: pd.Series, areas: gpd.GeoDataFrame, level: str) -> pd.Series:
    parent = dict(zip(areas["area_id"], areas["parent_id"], strict=True))
    wanted = set(areas.loc[areas["level"] == level, "area_id"])

    def climb(area_id):
        for _ in range(10):
            if not isinstance(area_id, str) or area_id in wanted:
                break
            area_id = parent.get(area_id)
        return area_id if area_id in wanted else None

    return ids.map(climb)


def helpers_vs_needs(helpers: pd.DataFrame, need_table: pd.DataFrame, *, areas: gpd.GeoDataFrame,
                     organisations: pd.DataFrame | None = None, level: str = "living_area",
                     as_of: object = None) -> pd.DataFrame:
    """Active and trained 担い手 beside open needs, per area of ``level`` × activity.

    Parameters
    ----------
    helpers
        The ``helpers`` layer. With ``as_of``, the latest count per organisation/area and activity
        on or before that day is used; otherwise the latest of each.
    need_table
        ``aggregate_needs(..., level=level).table`` (``unit_id``, ``category``, ``count``,
        ``suppressed``, ``display``): suppressed cells stay 「秘匿」.
    areas
        The workspace's areas (names, and the parents an ``area_id`` climbs).
    organisations
        The ``organisations`` layer, for helpers recorded per organisation.

    Returns
    -------
    pandas.DataFrame
        ``area_id``, ``area_name``, ``activity``, ``active``, ``trained``, ``needs`` (the published
        text: a number or 「秘匿」; 0 where no need of that kind is recorded), ``needs_count`` (the
        number, missing where suppressed) and ``needs_per_active`` (missing where suppressed or no
        helper), sorted by area and activity, for the activities some 担い手 can take: areas with
        helpers and no needs of that kind, and needs with no helper, are both listed.
    """
    counts = helpers.copy()
    if as_of is not None and len(counts):
        counts = counts[pd.to_datetime(counts["as_of"]).fillna(pd.Timestamp.min) <= pd.Timestamp(as_of)]
    if len(counts):
        key = counts["org_id"].fillna("") + "|" + counts["area_id"].fillna("") + "|" + counts["activity"]
        counts = counts.assign(_key=key, _day=pd.to_datetime(counts["as_of"]))
        counts = counts.sort_values("_day", na_position="first").drop_duplicates("_key", keep="last")
    area = _area_of(counts["area_id"], areas, level) if len(counts) else pd.Series(dtype=object)
    if organisations is not None and len(counts):
        org_area = dict(zip(organisations["org_id"], organisations["area_id"], strict=True))
        fallback = _area_of(counts["org_id"].map(org_area), areas, level)
        area = area.where(area.notna(), fallback)
        located = organisations.dropna(subset=["lat", "lon"])
        missing = area.isna() & counts["org_id"].isin(located["org_id"])
        if missing.any():
            level_areas = areas[areas["level"] == level]
            pts = located.set_index("org_id").loc[counts.loc[missing, "org_id"]]
            gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(pts["lon"], pts["lat"]), crs=4326,
                                   index=counts.index[missing]).to_crs(level_areas.crs)
            hit = gpd.sjoin(gdf, level_areas[["area_id", "geometry"]], predicate="within", how="left")
            area.loc[missing] = hit[~hit.index.duplicated()]["area_id"].to_numpy()
    supply = (counts.assign(area_id=area.to_numpy()).dropna(subset=["area_id"])
              .groupby(["area_id", "activity"], as_index=False)[["active", "trained"]].sum()
              if len(counts) else pd.DataFrame(columns=["area_id", "activity", "active", "trained"]))
    demand = need_table.rename(columns={"unit_id": "area_id", "category": "activity"})[
        ["area_id", "activity", "count", "suppressed", "display"]]
    demand = demand[demand["activity"].isin(set(supply["activity"]))]  # activities some 担い手 can take
    table = supply.merge(demand, on=["area_id", "activity"], how="outer")
    table = table[table["area_id"].isin(set(areas.loc[areas["level"] == level, "area_id"]))]
    table["active"] = table["active"].fillna(0).astype(int)
    table["trained"] = table["trained"].fillna(0).astype(int)
    suppressed = table["suppressed"].fillna(False).astype(bool)
    table["needs_count"] = pd.to_numeric(table["count"], errors="coerce").where(~suppressed).fillna(
        pd.Series(0, index=table.index).where(table["display"].isna()))
    table["needs"] = table["display"].fillna("0").astype(str)
    table["needs_per_active"] = (table["needs_count"] / table["active"].where(table["active"] > 0)).round(2)
    names = dict(zip(areas["area_id"], areas["name"], strict=True))
    table["area_name"] = table["area_id"].map(names)
    return table.sort_values(["area_id", "activity"]).reset_index(drop=True)[
        ["area_id", "area_name", "activity", "active", "trained", "needs", "needs_count", "needs_per_active"]]
