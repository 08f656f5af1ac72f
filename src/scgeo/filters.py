"""Selecting resources and areas: by category, area, provider, status, confirmation, keyword.

Pure functions on the workspace's GeoDataFrames (no I/O, no UI): the app's filters, the export of
one 日常生活圏域, and a notebook user's ``resources[...]`` all go through the same code. Every
function keeps the input's index, so a selection can be joined back to the full table.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> areas = gpd.GeoDataFrame({"area_id": ["L1"], "name": ["北部"], "level": ["living_area"]},
...                          geometry=[box(140.0, 35.0, 140.1, 35.1)], crs=6668)
>>> resources = gpd.GeoDataFrame(
...     {"resource_id": ["R1", "R2"], "name": ["中央サロン", "南の配食"],
...      "category": ["salon", "meal_delivery"], "status": ["active", "active"]},
...     geometry=[Point(140.05, 35.05), Point(140.5, 35.5)], crs=6668)
>>> filter_resources(resources, areas, area_id="L1")["resource_id"].tolist()
['R1']
>>> filter_resources(resources, keyword="配食")["resource_id"].tolist()
['R2']
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import CRSError, InputError
from scgeo.settings import get_settings

__all__ = ["areas_within", "filter_resources", "is_stale", "resources_in_area"]

KEYWORD_COLUMNS = ("name", "address", "notes")


def _fold(text: pd.Series) -> pd.Series:
    return text.astype("string").fillna("").map(lambda v: unicodedata.normalize("NFKC", v).casefold())


def _area(areas: gpd.GeoDataFrame | None, area_id: str):
    if areas is None:
        raise InputError(f"区域 {area_id} で絞り込むには区域(areas)を渡してください。")
    match = areas[areas["area_id"] == area_id]
    if not len(match):
        raise InputError(f"区域ID {area_id} は区域にありません。")
    return match.geometry.union_all()


def _same_crs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    if a.crs is None or b.crs is None:
        raise CRSError("座標系(CRS)が設定されていないデータがあります。"
                       "ワークスペースから読み込んだデータを使ってください。")
    if not a.crs.equals(b.crs):
        raise CRSError(f"社会資源と区域の座標系が違います(社会資源: {a.crs.to_string()}、区域: {b.crs.to_string()})。"
                       "どちらかを to_crs でそろえてください。")


def is_stale(resources: pd.DataFrame, *, months: int | None = None,
             today: dt.date | None = None) -> pd.Series:
    """Which resources have not been confirmed for ``months`` (never confirmed counts as stale).

    Parameters
    ----------
    resources
        Resources with a ``last_confirmed`` date column.
    months
        Months without confirmation after which an entry is stale (default:
        ``settings.stale_months``).
    today
        Reference date (default: today).

    Returns
    -------
    pandas.Series
        Boolean, on the index of ``resources``, named ``stale``.

    Examples
    --------
    >>> frame = pd.DataFrame({"last_confirmed": pd.to_datetime(["2026-01-10", "2024-01-10", None])})
    >>> is_stale(frame, months=12, today=dt.date(2026, 6, 1)).tolist()
    [False, True, True]
    """
    months = get_settings().stale_months if months is None else months
    cutoff = pd.Timestamp(today or dt.date.today()) - pd.DateOffset(months=months)
    confirmed = pd.to_datetime(resources["last_confirmed"])
    return (confirmed.isna() | (confirmed < cutoff)).rename("stale")


def resources_in_area(resources: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, area_id: str) -> pd.Series:
    """Which resources lie inside (or on the boundary of) the area ``area_id``.

    Returns a boolean Series on the index of ``resources``. Both frames must share a CRS
    (the workspace's EPSG:6668: a point-in-polygon test needs no metric CRS).
    """
    shape = _area(areas, area_id)
    _same_crs(resources, areas)
    inside = resources.geometry.intersects(shape).to_numpy(dtype=bool)
    return pd.Series(inside, index=resources.index, name="inside")


def filter_resources(
    resources: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None = None,
    *,
    categories: Iterable[str] | None = None,
    area_id: str | None = None,
    provider_types: Iterable[str] | None = None,
    statuses: Iterable[str] | None = None,
    confirmed_within_months: int | None = None,
    stale: bool | None = None,
    keyword: str | None = None,
    today: dt.date | None = None,
    states: Iterable[str] | None = None,
    review_flags: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The resources that pass every given filter (a filter left as ``None`` keeps everything).

    Parameters
    ----------
    resources
        Resources of the workspace schema.
    areas
        Areas of the workspace; needed only with ``area_id``.
    categories
        Category codes to keep (``salon``, ``meal_delivery`` …).
    area_id
        Keep resources located inside this area (a 日常生活圏域, 中学校区, 町丁目 …).
    provider_types
        Provider-type codes to keep (``resident``, ``npo`` …).
    statuses
        Statuses to keep (``active``, ``paused``, ``closed``).
    confirmed_within_months
        Keep resources whose ``last_confirmed`` lies within this many months before ``today``.
    stale
        ``True`` keeps only the resources not confirmed for ``settings.stale_months``
        (:func:`is_stale`), ``False`` only the others.
    keyword
        Text searched in name, address and notes (NFKC-folded, case-insensitive; several words
        separated by spaces must all be found).
    today
        Reference date for the confirmation filters (default: today).
    states
        Confirmation states to keep (``confirmed``, ``due``, ``overdue``, ``long_unconfirmed``,
        ``needs_review``: :func:`scgeo.analysis.freshness.freshness`).
    review_flags
        The workspace's ``review_flags`` (for the 要確認 state).

    Returns
    -------
    geopandas.GeoDataFrame
        The selected rows, with their original index and columns.

    Raises
    ------
    InputError
        ``area_id`` is given without ``areas`` or is not in them.
    CRSError
        ``resources`` and ``areas`` are in different CRSs.
    """
    keep = np.ones(len(resources), dtype=bool)
    if categories is not None:
        keep &= resources["category"].isin(list(categories)).to_numpy(dtype=bool)
    if provider_types is not None:
        keep &= resources["provider_type"].isin(list(provider_types)).to_numpy(dtype=bool)
    if statuses is not None:
        keep &= resources["status"].isin(list(statuses)).to_numpy(dtype=bool)
    if confirmed_within_months is not None:
        fresh = ~is_stale(resources, months=confirmed_within_months, today=today)
        keep &= fresh.to_numpy(dtype=bool)
    if stale is not None:
        keep &= (is_stale(resources, today=today) == stale).to_numpy(dtype=bool)
    if states is not None:
        from scgeo.analysis.freshness import freshness

        found = freshness(resources, today=today, flags=review_flags)["state"]
        keep &= found.isin(list(states)).to_numpy(dtype=bool)
    if keyword and keyword.strip():
        folded = unicodedata.normalize("NFKC", keyword).casefold().split()
        columns = [c for c in KEYWORD_COLUMNS if c in resources]
        text = _fold(resources[columns[0]]) if columns else pd.Series("", index=resources.index)
        for column in columns[1:]:
            text = text + "\n" + _fold(resources[column])
        for word in folded:
            keep &= text.str.contains(word, regex=False).to_numpy(dtype=bool)
    if area_id is not None:
        keep &= resources_in_area(resources, areas, area_id).to_numpy(dtype=bool)
    return resources[keep]


def areas_within(areas: gpd.GeoDataFrame, area_id: str) -> gpd.GeoDataFrame:
    """The area ``area_id`` and the areas lying in it (town blocks, districts of a living area).

    An area counts as inside when its representative point (always inside the polygon) falls
    in ``area_id``; the area itself is always kept, areas of the same or higher level are not.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame(
    ...     {"area_id": ["L1", "T1", "T2"], "level": ["living_area", "town_block", "town_block"]},
    ...     geometry=[box(0, 0, 2, 2), box(0, 0, 1, 1), box(3, 3, 4, 4)], crs=6668)
    >>> areas_within(areas, "L1")["area_id"].tolist()
    ['L1', 'T1']
    """
    from scgeo.schema import AREA_LEVELS

    shape = _area(areas, area_id)
    level = areas.loc[areas["area_id"] == area_id, "level"].iloc[0]
    rank = {name: i for i, name in enumerate(AREA_LEVELS)}
    lower = areas["level"].map(rank).fillna(-1).to_numpy() > rank.get(level, -1)
    inside = areas.geometry.representative_point().intersects(shape).to_numpy(dtype=bool)
    itself = (areas["area_id"] == area_id).to_numpy(dtype=bool)
    return areas[itself | (lower & inside)]
