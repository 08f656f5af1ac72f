"""The common path of point tables (resources, needs): columns, coordinates, validation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo.crs import WORKSPACE_CRS
from scgeo.io._mapping import COORDINATE_ALIASES, match_columns, personal_headers
from scgeo.schema import ImportResult, Layer, Taxonomy, validate
from scgeo.settings import get_settings

__all__ = ["parse_coordinate", "read_points", "rejected_rows", "require_columns"]

_MAX_ROW_MESSAGES = 20
_NO_GEOMETRY = "座標(位置)がありません"
_NUM = r"(\d+(?:\.\d+)?)"
_DMS = re.compile(rf"^{_NUM}[°度:](?:{_NUM}['′分:]?(?:{_NUM}[\"″秒]?)?)?$")


def read_points(path: str | Path, layer: Layer, *, mapping: Mapping[str, str] | None,
                sheet: str | int | None, encoding: str | None, taxonomy: Taxonomy | None,
                existing_ids: set[str] | None, id_prefix: str,
                drop_personal: bool = False, row_filter: dict | None = None) -> ImportResult:
    """Read a table of points into ``layer`` (see :func:`scgeo.io.read_resources`).

    CSV/TSV/xlsx, a JSON array or a point layer (:func:`scgeo.io._inspect.read_rows`);
    ``row_filter`` keeps one municipality's rows (:func:`scgeo.io._inspect.filter_rows`).
    """
    from scgeo.io._inspect import filter_rows, read_rows

    raw = read_rows(path, sheet=sheet, encoding=encoding)
    messages: list[str] = []
    raw, note = filter_rows(raw, row_filter)
    if note:
        messages.append(note)
    if drop_personal:
        personal = [h for h in personal_headers(raw.columns) if h not in (mapping or {}).values()]
        if personal:
            raw = raw.drop(columns=personal)
            messages.append(f"個人を特定できる列 {', '.join(personal)} は取り込まずに除きました。")
    matched = match_columns(raw.columns, layer, mapping=mapping, extra=COORDINATE_ALIASES)
    coordinates = [f"「{label}」({key})" for key, label in (("lat", "緯度"), ("lon", "経度"))
                   if key not in matched]
    require_columns(matched, layer, raw.columns, path, optional={layer.id_column},
                    also=coordinates)
    unused = [h for h in raw.columns if h not in matched.values()]
    if unused:
        messages.append(f"使わなかった列: {', '.join(map(str, unused))}")

    frame = pd.DataFrame({name: raw[header] for name, header in matched.items()
                          if name not in COORDINATE_ALIASES}, index=raw.index)
    if layer.id_column not in frame:
        frame[layer.id_column] = _new_ids(len(frame), id_prefix, existing_ids)
        messages.append(f"ID の列がないため {id_prefix}0001 形式の ID を付けました。")
    lat, lat_error = parse_coordinate(raw[matched["lat"]], "緯度")
    lon, lon_error = parse_coordinate(raw[matched["lon"]], "経度")
    lat, lon, swapped = _unswap(lat, lon)
    messages += _swap_messages(raw.index[swapped], lat[swapped], lon[swapped])
    one_missing = lat.isna() != lon.isna()
    errors = lat_error.fillna(lon_error).mask(one_missing & lat_error.isna() & lon_error.isna(),
                                              "緯度と経度の一方だけが入力されています")

    points = gpd.points_from_xy(lon.fillna(0.0), lat.fillna(0.0), crs=WORKSPACE_CRS)
    geometry = gpd.GeoSeries(points, index=frame.index).where(lat.notna() & lon.notna(), None)
    gdf = gpd.GeoDataFrame(frame, geometry=geometry, crs=WORKSPACE_CRS)
    gdf["source_row"] = raw.index.to_numpy()
    result = validate(gdf.reset_index(drop=True), layer, taxonomy=taxonomy,
                      existing_ids=existing_ids)
    reasons = result.rejected.set_index("source_row")["reason"]
    own = errors.dropna()
    reasons = reasons.reindex(reasons.index.union(own.index))
    reasons.loc[own.index] = [_merge_reason(mine, reasons.get(row, ""))
                              for row, mine in own.items()]
    accepted = result.accepted.reset_index(drop=True)
    return ImportResult(accepted, rejected_rows(raw, reasons), [*messages, *result.messages])


def parse_coordinate(values: pd.Series, label: str) -> tuple[pd.Series, pd.Series]:
    """Parse a column of coordinates typed by people, vectorised.

    Full-width digits, spaces and line breaks, ``°``/``度`` marks, ``北緯``/``東経`` and
    degrees-minutes-seconds (``35°12'30"``, ``35度12分30秒``) are accepted.

    Returns
    -------
    tuple of pandas.Series
        The decimal degrees (``NaN`` when blank or unreadable) and, for unreadable cells, the
        Japanese reason (``None`` elsewhere).
    """
    text = (values.astype(object).where(values.notna(), None).astype("str").str.normalize("NFKC")
            .str.replace(r"\s+|北緯|東経|[NEne]$", "", regex=True)
            .str.replace("−", "-", regex=False).str.rstrip("°度"))
    text = text.where(text.str.len() > 0)
    number = pd.to_numeric(text, errors="coerce")
    dms = text.str.extract(_DMS).astype(float)
    number = number.fillna(dms[0] + dms[1].fillna(0) / 60 + dms[2].fillna(0) / 3600)
    number = number.where(np.isfinite(number))
    bad = text.notna() & number.isna()
    reason = pd.Series(None, index=values.index, dtype=object)
    reason[bad] = f"{label}「" + values[bad].astype(str) + "」を数値として読めません"
    return number.astype(float), reason


def rejected_rows(raw: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """The raw rows named by ``reasons`` (indexed by source row) with their ``reason``."""
    rows = reasons.index.sort_values()
    out = raw.loc[rows].astype(object)
    out = out.where(out.notna(), None)
    out["source_row"] = rows.to_numpy(dtype=int)
    out["reason"] = reasons.loc[rows].to_numpy(dtype=object)
    return out.reset_index(drop=True)


def require_columns(matched: Mapping[str, str], layer: Layer, headers: Iterable[str],
                    path: str | Path, *, optional: Iterable[str | None] = (),
                    also: Iterable[str] = ()) -> None:
    """Raise ``InputError`` naming the required columns not found in the file.

    ``also`` lists more missing columns, already worded (``「緯度」(lat)``).
    """
    skip = set(optional)
    missing = [f"「{c.label}」({c.name})" for c in layer.columns
               if c.required and c.name not in matched and c.name not in skip]
    missing += list(also)
    if missing:
        raise InputError(f"{Path(path).name} に{layer.label}の必須の列 {'、'.join(missing)} が"
                         "見つかりません。見出しを直すか、列の対応 (mapping) で "
                         "{'name': '施設名', 'lat': '緯度'} のように指定してください。"
                         f"ファイルの見出し: {', '.join(map(str, headers))}")


def _merge_reason(mine: str, theirs: str) -> str:
    others = [r for r in str(theirs).split("; ") if r and r != _NO_GEOMETRY]
    return "; ".join([mine, *others])


def _unswap(lat: pd.Series, lon: pd.Series) -> tuple[pd.Series, pd.Series, np.ndarray]:
    min_lon, min_lat, max_lon, max_lat = get_settings().japan_bbox
    swapped = ((~lat.between(min_lat, max_lat) & lat.between(min_lon, max_lon))
               & (~lon.between(min_lon, max_lon) & lon.between(min_lat, max_lat))).to_numpy()
    return lat.mask(swapped, lon), lon.mask(swapped, lat), swapped


def _swap_messages(rows: pd.Index, lat: pd.Series, lon: pd.Series) -> list[str]:
    if len(rows) > _MAX_ROW_MESSAGES:
        shown = ", ".join(map(str, rows[:_MAX_ROW_MESSAGES]))
        return [f"{len(rows)} 行で緯度と経度が入れ替わっていたため入れ替えて取り込みました"
                f"({shown} 行目ほか)。"]
    return [f"{row}行目: 緯度と経度が入れ替わっていたため入れ替えて取り込みました"
            f"(緯度 {y:.6f}, 経度 {x:.6f})。" for row, y, x in zip(rows, lat, lon, strict=True)]


def _new_ids(n: int, prefix: str, existing: set[str] | None) -> list[str]:
    taken = [int(m.group(1)) for i in (existing or ()) if (m := re.fullmatch(rf"{prefix}(\d+)", i))]
    start = max(taken, default=0) + 1
    width = max(4, len(str(start + n)))
    return [f"{prefix}{i:0{width}d}" for i in range(start, start + n)]
