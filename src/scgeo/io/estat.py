"""e-Stat 国勢調査 小地域 (町丁・字等): boundaries, representative points and age tables.

The boundary Shapefile carries ``KEY_CODE`` (the key of every 小地域 table), the name
(``S_NAME`` in 2020, ``MOJI`` in 2015), ``JINKO``, ``SETAI`` and ``HCODE`` (8101 町丁・字,
8154 水面). The age tables (``年齢（5歳階級、4区分）別、男女別人口``) are CSVs in cp932 with
two header rows: codes (``KEY_CODE, HYOSYO, CITYNAME, NAME, HTKSYORI, HTKSAKI, GASSAN,
T000849001 …``) then Japanese labels (``総数、年齢「不詳」含む``, ``0～4歳`` … ``100歳以上``).
Suppressed cells are ``X`` (秘匿: the numbers are included in the area named by ``HTKSAKI``)
and ``-`` (none).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo._errors import InputError
from scgeo._text import normalise_series
from scgeo.crs import WORKSPACE_CRS, to_workspace
from scgeo.io._encoding import detect_encoding
from scgeo.io._tables import _read_csv
from scgeo.io._vector import read_vector
from scgeo.io.kokudo import finish_areas
from scgeo.schema import AREAS, TOWN_BLOCKS, ImportResult

__all__ = ["WATER_HCODE", "read_estat_age_table", "read_estat_points", "read_estat_town_blocks",
           "town_blocks_from_points", "voronoi_cells"]

WATER_HCODE = 8154
_BAND = re.compile(r"^(\d+)\s*[~～〜\-]\s*(\d+)歳$")
_OVER = re.compile(r"^(\d+)歳以上$")
_NAME_COLUMNS = ("S_NAME", "MOJI")


def read_estat_age_table(path: str | Path, *, encoding: str | None = None
                         ) -> tuple[pd.DataFrame, list[str]]:
    """Read an e-Stat 小地域 年齢（5歳階級）別人口 CSV.

    Returns
    -------
    tuple
        A frame indexed by ``KEY_CODE`` with ``pop_total``, ``pop_65plus``, ``pop_75plus``
        (the 総数 section; 男/女 sections are ignored), ``name`` and ``suppressed`` (bool),
        and notes for the user. 65+ and 75+ are sums of the 5-year bands from 65 and 75
        (``100歳以上`` included); ``-`` counts as 0; a suppressed (``X``) area gets 0 and is
        listed in the notes with the area its people are counted in (``HTKSAKI``).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"ファイル {path} が見つかりません。")
    data = path.read_bytes()
    grid = _read_csv(path, encoding or detect_encoding(data[:1_000_000]), sep=",")
    if len(grid) < 3 or "KEY_CODE" not in set(grid.iloc[0].astype(str)):
        raise InputError(f"{path.name} は e-Stat 小地域の集計表ではありません"
                         "(1行目に KEY_CODE の見出しがありません)。")
    codes = grid.iloc[0].astype(str).tolist()
    labels = [unicodedata.normalize("NFKC", str(v or "")).strip() for v in grid.iloc[1]]
    body = grid.iloc[2:].set_axis(codes, axis=1).reset_index(drop=True)
    body = body[body["KEY_CODE"].notna()]
    value_cols = [c for c in codes if re.fullmatch(r"T\d{9}", c)]
    section = [(c, lab) for c, lab in zip(codes, labels, strict=True)
               if c in value_cols and not re.match(r"^(男|女)", lab)]
    total_col = next((c for c, lab in section if lab.startswith("総数")), None)
    bands = {}
    for col, lab in section:
        if "再掲" in lab:  # (再掲)65歳以上 … repeat the bands: not added twice
            continue
        text = re.sub(r"^総数\s*(?=\d)", "", lab)
        if m := _BAND.match(text) or _OVER.match(text):
            bands[col] = int(m.group(1))
    if total_col is None or not any(start >= 65 for start in bands.values()):
        raise InputError(f"{path.name} に総数と5歳階級(65～69歳 … 100歳以上)の列が見つかりません。"
                         f"2行目の見出し: {', '.join(labels[:12])} …")
    raw = body[value_cols].apply(lambda s: s.astype(str).str.strip().str.replace(",", ""))
    suppressed = raw.isin(["X", "x", "…", "***"]).any(axis=1)
    values = raw.replace({"-": "0", "X": np.nan, "x": np.nan, "…": np.nan, "***": np.nan})
    values = values.apply(pd.to_numeric, errors="coerce").fillna(0).astype(int)
    out = pd.DataFrame({
        "name": body["NAME"] if "NAME" in body else None,
        "pop_total": values[total_col],
        "pop_65plus": values[[c for c, s in bands.items() if s >= 65]].sum(axis=1),
        "pop_75plus": values[[c for c, s in bands.items() if s >= 75]].sum(axis=1),
        "suppressed": suppressed,
    })
    out.index = pd.Index(body["KEY_CODE"].astype(str).str.strip(), name="KEY_CODE")
    messages = []
    if suppressed.any():
        target = body.loc[suppressed, "HTKSAKI"] if "HTKSAKI" in body else None
        shown = ", ".join(f"{k}→{t}" if isinstance(t, str) else str(k) for k, t in
                          zip(out.index[suppressed.to_numpy()][:10],
                              target if target is not None else [None] * 10, strict=False))
        messages.append(f"秘匿された小地域 {int(suppressed.sum())} 件は人口 0 として読みました"
                        f"(人数は合算先の地域に含まれています: {shown})。")
    return out[~out.index.duplicated()], messages


def _join_ages(frame: pd.DataFrame, ages: pd.DataFrame | None, messages: list[str]) -> pd.DataFrame:
    if ages is None:
        return frame
    joined = frame.merge(ages[["pop_total", "pop_65plus", "pop_75plus"]], how="left",
                         left_on="area_id", right_index=True)
    missing = joined["pop_65plus"].isna()
    if missing.any():
        messages.append(f"年齢別人口の表に KEY_CODE がない小地域 {int(missing.sum())} 件は"
                        "除外一覧に入れました(例: "
                        + ", ".join(joined.loc[missing, "area_id"].astype(str)[:5]) + ")。")
    return joined


def read_estat_town_blocks(path: str | Path, *, ages: str | Path | pd.DataFrame | None = None,
                           muni_code: str | None = None, encoding: str | None = None,
                           keep_water: bool = False) -> ImportResult:
    """Read e-Stat 小地域 boundaries, joined to an age table, as town blocks.

    Parameters
    ----------
    path
        The boundary Shapefile (``.shp`` or ``.zip``; cp932 without ``.cpg`` is detected).
    ages
        The 年齢（5歳階級）別人口 CSV (or the frame of :func:`read_estat_age_table`). Without
        it the result holds town blocks with the boundary file's total population
        (``JINKO``; 65+ and 75+ null = unknown), or areas of level ``town_block`` without
        population when the file has no ``JINKO``.
    muni_code
        Keep one municipality (the first 5 digits of ``KEY_CODE``).
    keep_water
        Keep 水面 polygons (``HCODE`` 8154); by default they are left out with a note.

    Returns
    -------
    ImportResult
        One row per ``KEY_CODE`` (parts dissolved), ``area_id`` = ``KEY_CODE``, ``name`` =
        ``S_NAME``/``MOJI``.
    """
    path = Path(path)
    gdf, messages = read_vector(path, encoding=encoding)
    gdf = to_workspace(gdf, what=path.name)
    if "KEY_CODE" not in gdf:
        raise InputError(f"{path.name} は e-Stat 小地域の境界データではありません(KEY_CODE の列がありません)。")
    name_col = next((c for c in _NAME_COLUMNS if c in gdf), None)
    if name_col is None:
        raise InputError(f"{path.name} に町丁・字の名称の列 (S_NAME または MOJI) がありません。")
    gdf["KEY_CODE"] = gdf["KEY_CODE"].astype(str).str.strip()
    if muni_code:
        keep = gdf["KEY_CODE"].str[:5] == str(muni_code)[:5]
        if not keep.any():
            raise InputError(f"{path.name} に市町村コード {muni_code} の小地域がありません。")
        messages.append(f"市町村コード {muni_code} の {int(keep.sum())} 図形を読みました"
                        f"(他の {int((~keep).sum())} 図形は対象外)。")
        gdf = gdf[keep]
    if "HCODE" in gdf and not keep_water:
        water = pd.to_numeric(gdf["HCODE"], errors="coerce") == WATER_HCODE
        if water.any():
            names = ", ".join(gdf.loc[water, name_col].fillna("(名称なし)").astype(str)[:5])
            messages.append(f"水面 (HCODE 8154) のポリゴン {int(water.sum())} 件は町丁目では"
                            f"ないため除きました({names})。")
            gdf = gdf[~water]
    age_table = None
    if ages is not None:
        if isinstance(ages, pd.DataFrame):
            age_table = ages
        else:
            age_table, notes = read_estat_age_table(ages)
            messages += notes
    return _blocks(gdf, name_col, age_table, messages)


def _blocks(gdf: gpd.GeoDataFrame, name_col: str, ages: pd.DataFrame | None,
            messages: list[str]) -> ImportResult:
    gdf = gdf.copy()
    gdf[name_col] = normalise_series(gdf[name_col].astype(object))
    agg = {name_col: "first"} | ({"JINKO": "sum"} if "JINKO" in gdf else {})
    dissolved = gdf[["KEY_CODE", *agg, gdf.geometry.name]].dissolve(by="KEY_CODE", aggfunc=agg,
                                                                   sort=False)
    parts = int(len(gdf) - len(dissolved))
    if parts:
        messages.append(f"同じ KEY_CODE の図形 {parts} 個を同じ小地域にまとめました。")
    frame = pd.DataFrame({"area_id": dissolved.index.astype(str),
                          "name": dissolved[name_col].to_numpy(), "level": "town_block"})
    frame = _join_ages(frame, ages, messages)
    total_only = ages is None and "JINKO" in dissolved
    if total_only:  # the boundary file's own total: 65+ and 75+ stay unknown (null)
        frame["pop_total"] = pd.to_numeric(dissolved["JINKO"], errors="coerce").to_numpy()
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="source_row")
    geometry = gpd.GeoSeries(shapely.force_2d(dissolved.geometry.to_numpy()), index=frame.index,
                             crs=dissolved.crs)
    original = pd.DataFrame(dissolved.drop(columns=dissolved.geometry.name)).reset_index()
    original.index = frame.index
    original["geometry"] = geometry.to_wkt()
    schema = TOWN_BLOCKS if ages is not None or total_only else AREAS
    if total_only:
        messages.append("年齢別人口の表が指定されていないため、総人口 (JINKO) だけの町丁目として読みました"
                        "(65歳以上・75歳以上の人口は不明)。")
    elif ages is None:
        messages.append("年齢別人口の表が指定されていないため、人口なしの町丁目(区域)として読みました。")
    keep = [c for c in frame.columns if c in schema.names]
    result = finish_areas(frame[keep], geometry, original, schema)
    result.messages[:0] = messages
    return result


def read_estat_points(path: str | Path, *, muni_code: str | None = None,
                      encoding: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read an e-Stat 小地域 attribute table with representative points (``X_CODE``/``Y_CODE``).

    Returns the rows (one per boundary part) as points in EPSG:6668 with ``KEY_CODE``, the
    name (``MOJI``/``S_NAME``), ``JINKO``, ``SETAI``, ``HCODE``; water rows are left out.
    The coordinates are JGD2000 degrees (EPSG:4612), which equal JGD2011 to well under a
    metre outside the 東北 earthquake zone.
    """
    path = Path(path)
    grid = _read_csv(path, encoding or detect_encoding(path.read_bytes()[:1_000_000]), sep=",")
    table = grid.iloc[1:].set_axis(grid.iloc[0].astype(str).tolist(), axis=1)
    needed = {"KEY_CODE", "X_CODE", "Y_CODE"}
    if not needed <= set(table.columns):
        raise InputError(f"{path.name} に {', '.join(sorted(needed - set(table.columns)))} の列がありません。")
    messages: list[str] = []
    if muni_code:
        inside = table["KEY_CODE"].astype(str).str[:5] == str(muni_code)[:5]
        if (~inside).any():
            shown = ", ".join(table.loc[~inside, "KEY_CODE"].astype(str)[:5])
            messages.append(f"KEY_CODE が市町村コード {muni_code} で始まらない {int((~inside).sum())} 行"
                            f"({shown})は対象外として除きました。")
        table = table[inside]
    if "HCODE" in table:
        water = pd.to_numeric(table["HCODE"], errors="coerce") == WATER_HCODE
        if water.any():
            messages.append(f"水面 (HCODE 8154) の行 {int(water.sum())} 件を除きました。")
        table = table[~water]
    x = pd.to_numeric(table["X_CODE"], errors="coerce")
    y = pd.to_numeric(table["Y_CODE"], errors="coerce")
    points = gpd.points_from_xy(x, y, crs="EPSG:4612")
    gdf = gpd.GeoDataFrame(table.reset_index(drop=True), geometry=points, crs="EPSG:4612")
    for col in ("JINKO", "SETAI"):
        if col in gdf:
            gdf[col] = pd.to_numeric(gdf[col], errors="coerce").fillna(0).astype(int)
    return gdf.to_crs(WORKSPACE_CRS), messages


def town_blocks_from_points(path: str | Path, *, clip: object,
                            ages: str | Path | pd.DataFrame | None = None,
                            muni_code: str | None = None, encoding: str | None = None
                            ) -> ImportResult:
    """Approximate town-block polygons from e-Stat representative points (Voronoi cells).

    When only the attribute table with ``X_CODE``/``Y_CODE`` is at hand, each 小地域 gets the
    Voronoi cells of its points, clipped to ``clip`` (the municipality: a polygon or a
    GeoDataFrame in EPSG:6668). The result says in its messages that the boundaries are
    approximate; use the boundary Shapefile (:func:`read_estat_town_blocks`) when you have it.
    """
    points, messages = read_estat_points(path, muni_code=muni_code, encoding=encoding)
    points = points[points.geometry.notna() & ~points.geometry.is_empty]
    name_col = next((c for c in _NAME_COLUMNS if c in points), "KEY_CODE")
    pts = points.set_geometry(voronoi_cells(points, clip, muni_code=muni_code))
    messages.append(f"{Path(path).name} の代表点 {len(pts)} 点から、ボロノイ分割で町丁目の"
                    "おおよその境界を作りました(正確な境界は e-Stat の境界データで置き換えてください)。")
    ages_table = ages
    if ages is not None and not isinstance(ages, pd.DataFrame):
        ages_table, notes = read_estat_age_table(ages)
        messages += notes
    return _blocks(pts, name_col, ages_table, messages)


def voronoi_cells(points: gpd.GeoDataFrame, clip: object, *, muni_code: str | None = None
                  ) -> gpd.GeoSeries:
    """The Voronoi cell of each point, clipped to ``clip`` (a polygon or frame in EPSG:6668).

    Computed in metres (the prefecture's plane zone); the cells tile ``clip`` without gaps or
    overlaps. Returned in EPSG:6668, aligned with ``points``.
    """
    from scgeo.crs import metric_crs

    area = clip.union_all() if hasattr(clip, "union_all") else clip
    metric = metric_crs(points, muni_code=muni_code)
    pts = points.to_crs(metric)
    area_m = gpd.GeoSeries([area], crs=WORKSPACE_CRS).to_crs(metric).iloc[0]
    frame = shapely.box(*np.add(area_m.bounds, [-1000, -1000, 1000, 1000]))
    cells = shapely.voronoi_polygons(shapely.MultiPoint(pts.geometry.to_numpy()), extend_to=frame,
                                     ordered=True)
    cells = shapely.intersection(np.asarray(shapely.get_parts(cells)), area_m)
    return gpd.GeoSeries(cells, index=pts.index, crs=metric).to_crs(WORKSPACE_CRS)
