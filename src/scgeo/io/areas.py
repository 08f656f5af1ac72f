"""Importing area boundaries: GeoJSON, Shapefile (also zipped) and GeoPackage.

Reads 国土数値情報 school districts (A32 中学校区, A27 小学校区), e-Stat 小地域 (町丁・字) and
any polygon layer whose headers match :data:`scgeo.schema.AREAS`. The encoding of a Shapefile
is taken from its ``.cpg`` or detected from its ``.dbf``; the CRS is read from the file (or
given with ``crs=``) and the polygons are reprojected to the workspace CRS (EPSG:6668).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from scgeo._errors import CRSError, InputError
from scgeo._text import normalise_header, normalise_series
from scgeo.crs import to_workspace
from scgeo.io._mapping import match_columns
from scgeo.io._points import rejected_rows, require_columns
from scgeo.io._vector import read_vector
from scgeo.location import Expected
from scgeo.schema import (
    AREA_LEVEL_ALIASES,
    AREA_LEVEL_LABELS,
    AREAS,
    TOWN_BLOCKS,
    ImportResult,
    Layer,
    resolve_level,
    validate,
)

__all__ = ["read_areas", "read_town_blocks"]

_ID_PREFIX = {"municipality": "M", "living_area": "L", "jhs_district": "J", "es_district": "E",
              "community": "C",
              "town_block": "T"}
# 国土数値情報: 中学校区 (A32) and 小学校区 (A27); their attribute layout differs by release year.
_KSJ_LEVELS = {"a32": "jhs_district", "a27": "es_district"}
_POPULATION = ("pop_total", "pop_65plus", "pop_75plus", "pop_65plus_alone")


def read_areas(path: str | Path, *, level: str | None = None, crs: object = None,
               mapping: Mapping[str, str] | None = None, layer: str | None = None,
               encoding: str | None = None, row_filter: dict | None = None,
               expect: Expected | None = None) -> ImportResult:
    """Read area polygons (市町村, 日常生活圏域, 中学校区, 小学校区, 町丁目).

    Parameters
    ----------
    path
        ``.geojson``, ``.shp``, a ``.zip`` holding a Shapefile, or ``.gpkg``.
    level
        The kind of every area: ``municipality``, ``living_area``, ``jhs_district``,
        ``es_district`` or ``town_block`` (or its Japanese label, ``中学校区`` …). Required
        when the file has no level column and is not a 国土数値情報 school-district file.
    crs
        The CRS of the file (``"EPSG:2450"`` …) when it has none (no ``.prj``), or to
        override a wrong one.
    mapping
        ``{column: header}`` overriding the automatic recognition of headers.
    layer
        GeoPackage layer, or the file to read in a ``.zip`` holding several.
    encoding
        Text encoding of a Shapefile's attributes (default: ``.cpg``, else detected).
    row_filter
        Keep one municipality's features of a wider layer (a recipe's ``filter``:
        ``{"column", "kind", "value"}``, see :func:`scgeo.io._inspect.filter_rows`).
    expect
        Where the layer must lie (:class:`scgeo.location.Expected`: near the municipality's
        役場, overlapping the workspace's areas); ``Expected.for_workspace(ws)`` for an import.
        Without it only impossible coordinates (metres under a geographic CRS) are refused.

    Returns
    -------
    ImportResult
        ``accepted``: a GeoDataFrame in EPSG:6668 with the AREAS columns and MultiPolygon
        geometry; ``rejected``: the features' original attributes, geometry as WKT in
        EPSG:6668, ``source_row`` (1-based feature number) and ``reason``; ``messages``: repaired
        polygons, merged multi-part areas, detected encodings, generated ids.

    Raises
    ------
    InputError
        Unreadable or unsupported file, no way to know the level, a missing required column.
    CRSError
        The file has no CRS and ``crs`` was not given, or the layer does not lie where it must:
        the message lists the CRSs that would put it there.
    """
    return _read(path, AREAS, level=level, crs=crs, mapping=mapping, layer=layer,
                 encoding=encoding, row_filter=row_filter, expect=expect)


def read_town_blocks(path: str | Path, *, crs: object = None,
                     mapping: Mapping[str, str] | None = None, layer: str | None = None,
                     encoding: str | None = None, row_filter: dict | None = None,
                     expect: Expected | None = None) -> ImportResult:
    """Read 町丁目 polygons with their population (:data:`scgeo.schema.TOWN_BLOCKS`).

    Like :func:`read_areas` with ``level="town_block"`` (also ``row_filter`` and ``expect``); the
    file must also carry the total population (``pop_total``; headers such as ``総人口``,
    ``JINKO``) and may carry 65+ and 75+ (``pop_65plus``, ``pop_75plus``; ``65歳以上人口``,
    ``75歳以上人口``): left out, they are null (unknown) and analyses run on the total population
    and say so. An area stored as several features with the same id and name (e-Stat does this)
    becomes one MultiPolygon whose population is the sum of the parts.
    """
    return _read(path, TOWN_BLOCKS, level="town_block", crs=crs, mapping=mapping, layer=layer,
                 encoding=encoding, row_filter=row_filter, expect=expect)


def _read(path: str | Path, schema: Layer, *, level: str | None, crs: object,
          mapping: Mapping[str, str] | None, layer: str | None,
          encoding: str | None, row_filter: dict | None = None,
          expect: Expected | None = None) -> ImportResult:
    from scgeo.io._inspect import filter_rows

    path = Path(path)
    gdf, messages = read_vector(path, layer=layer, encoding=encoding)
    gdf, note = filter_rows(gdf, row_filter)
    messages += [note] if note else []
    gdf = to_workspace(_with_crs(gdf, crs, messages), what=path.name, expect=expect)
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    attrs.index = pd.RangeIndex(1, len(gdf) + 1, name="source_row")
    geometry = gpd.GeoSeries(shapely.force_2d(gdf.geometry.to_numpy()), index=attrs.index,
                             crs=gdf.crs)

    matched = match_columns(attrs.columns, schema, mapping=mapping)
    ksj = _ksj_name(attrs) if "name" not in matched else None
    if ksj:
        matched["name"] = ksj
    frame = pd.DataFrame({name: attrs[header] for name, header in matched.items()},
                         index=attrs.index)
    level = _level(frame, level, ksj, path, messages)
    require_columns(matched, schema, attrs.columns, path, optional=("area_id", "level"))
    if "area_id" not in frame:
        prefix = _ID_PREFIX.get(level or "", "A")
        frame["area_id"] = [f"{prefix}{i:04d}" for i in range(1, len(frame) + 1)]
        messages.append(f"区域ID の列がないため {prefix}0001 形式の ID を付けました。")
    geometry, notes = _repair(geometry, frame)
    messages += notes
    frame, geometry, notes = _merge_parts(frame, geometry)
    messages += notes

    work = gpd.GeoDataFrame(frame, geometry=geometry, crs=geometry.crs)
    work["source_row"] = frame.index.to_numpy()
    result = validate(work.reset_index(drop=True), schema)
    original = attrs.assign(geometry=gdf.geometry.to_wkt().to_numpy())
    rejected = rejected_rows(original, result.rejected.set_index("source_row")["reason"])
    return ImportResult(result.accepted.reset_index(drop=True), rejected, messages)


def _with_crs(gdf: gpd.GeoDataFrame, crs: object, messages: list[str]) -> gpd.GeoDataFrame:
    if crs is None:
        return gdf
    try:
        given = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"座標参照系 {crs} が分かりません。EPSG:6668 (緯度経度) や EPSG:2450 "
                       "(平面直角座標系) のように EPSG コードで指定してください。") from exc
    if gdf.crs is not None and not given.equals(gdf.crs):
        messages.append(f"ファイルの座標参照系 {gdf.crs.name} ではなく、指定された {given.name} "
                        "として読みました。")
    return gdf.set_crs(given, allow_override=True)


def _level(frame: pd.DataFrame, level: str | None, ksj: str | None, path: Path,
           messages: list[str]) -> str | None:
    """Fill ``frame["level"]`` (codes); return the single level when there is one."""
    if level is None and ksj:
        level = _KSJ_LEVELS[ksj[:3].lower()]
        messages.append(f"国土数値情報の{AREA_LEVEL_LABELS[level]}データとして読みました"
                        f"(名称の列 {ksj})。")
    if level is not None:
        code = resolve_level(level)
        if "level" in frame and (_level_codes(frame["level"]) != code).any():
            messages.append(f"ファイルの区域の種類の列ではなく、指定された {code} を使いました。")
        frame["level"] = code
        return code
    if "level" not in frame:
        raise InputError(f"{path.name} に区域の種類の列がありません。"
                         "level='jhs_district' (中学校区) のように区域の種類を指定してください。"
                         f"使える種類: {', '.join(AREA_LEVEL_LABELS)}")
    frame["level"] = _level_codes(frame["level"])
    return None


def _level_codes(values: pd.Series) -> pd.Series:
    """Level codes for codes or Japanese labels (anything else is left for validation)."""
    values = normalise_series(values.astype(object))
    return values.map(lambda v: AREA_LEVEL_ALIASES.get(normalise_header(v), v), na_action="ignore")


def _ksj_name(attrs: pd.DataFrame) -> str | None:
    """The school-name column of a 国土数値情報 A32/A27 file: the one whose values end in 学校."""
    for header in attrs.columns:
        if normalise_header(header)[:3] in _KSJ_LEVELS:
            values = attrs[header].dropna().astype(str)
            if len(values) and values.str.endswith("学校").mean() > 0.8:
                return header
    return None


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal parts of a geometry collection (the geometry itself when there are none)."""
    if geom is None or geom.geom_type != "GeometryCollection":
        return geom
    parts = [p for p in shapely.get_parts(shapely.get_parts(geom))
             if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts) if parts else geom


def _repair(geometry: gpd.GeoSeries, frame: pd.DataFrame) -> tuple[gpd.GeoSeries, list[str]]:
    values = geometry.to_numpy()
    invalid = np.flatnonzero(~shapely.is_valid(values) & ~shapely.is_missing(values))
    messages = []
    for pos in invalid:
        why = shapely.is_valid_reason(values[pos])
        values[pos] = _polygonal(shapely.make_valid(values[pos]))
        row = frame.index[pos]
        what = f"{row}番目の図形(区域ID {frame['area_id'].iloc[pos]}"
        what += f"、{frame['name'].iloc[pos]})" if "name" in frame else ")"
        if values[pos].geom_type in ("Polygon", "MultiPolygon"):
            messages.append(f"{what}は形が不正だったため修復しました({why})。")
        else:
            messages.append(f"{what}は形が不正で、面として修復できませんでした({why})。")
    collections = np.flatnonzero(shapely.get_type_id(values) == 7)
    values[collections] = [_polygonal(g) for g in values[collections]]
    return gpd.GeoSeries(values, index=geometry.index, crs=geometry.crs), messages


def _merge_parts(frame: pd.DataFrame, geometry: gpd.GeoSeries
                 ) -> tuple[pd.DataFrame, gpd.GeoSeries, list[str]]:
    """One feature per area: parts with the same id and name become one MultiPolygon."""
    ids = normalise_series(frame["area_id"].astype(object))
    names = normalise_series(frame["name"].astype(object)) if "name" in frame else ids
    parts = ids.notna() & ids.duplicated(keep=False)
    if not parts.any():
        return frame, geometry, []
    groups = pd.DataFrame({"id": ids[parts], "name": names[parts]})
    same = groups.groupby("id")["name"].transform("nunique", dropna=False) == 1
    frame, values = frame.copy(), geometry.copy()
    drop, messages = [], []
    for area_id, rows in groups[same].groupby("id").groups.items():
        first, rest = rows[0], list(rows[1:])
        values[first] = shapely.union_all(values[rows].to_numpy())
        for col in (c for c in _POPULATION if c in frame):
            numbers = pd.to_numeric(normalise_series(frame.loc[rows, col].astype(object)),
                                    errors="coerce")
            if numbers.notna().all():
                frame[col] = frame[col].astype(object)
                frame.loc[first, col] = int(numbers.sum())
        drop += rest
        shown = ", ".join(map(str, rows))
        messages.append(f"区域ID {area_id} の図形 {len(rows)} 個({shown}番目)を"
                        "1つの区域にまとめました。")
    return frame.drop(index=drop), values.drop(index=drop), messages
