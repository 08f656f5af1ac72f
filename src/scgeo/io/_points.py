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
from scgeo.io._geocoding import locate, unplaced_rows
from scgeo.io._mapping import COORDINATE_ALIASES, match_columns, personal_headers
from scgeo.schema import RESOURCES, ImportResult, Layer, Taxonomy, validate
from scgeo.settings import get_settings

__all__ = ["parse_coordinate", "read_points", "rejected_rows", "require_columns"]

_MAX_ROW_MESSAGES = 20
_NO_GEOMETRY = "座標(位置)がありません"
_NUM = r"(\d+(?:\.\d+)?)"
_DMS = re.compile(rf"^{_NUM}[°度:](?:{_NUM}['′分:]?(?:{_NUM}[\"″秒]?)?)?$")


def read_points(path: str | Path, layer: Layer, *, mapping: Mapping[str, str] | None,
                sheet: str | int | None, encoding: str | None, taxonomy: Taxonomy | None,
                existing_ids: set[str] | None, id_prefix: str,
                drop_personal: bool = False, row_filter: dict | None = None, geocoder=None,
                geocode_cache=None, progress=None, as_of=None) -> ImportResult:
    """Read a table of points into ``layer`` (see :func:`scgeo.io.read_resources`).

    CSV/TSV/xlsx, a JSON array or a point layer (:func:`scgeo.io._inspect.read_rows`);
    ``row_filter`` keeps one municipality's rows (:func:`scgeo.io._inspect.filter_rows`).
    """
    from scgeo.io._inspect import filter_rows, read_rows

    raw = read_rows(path, sheet=sheet, encoding=encoding)
    header_row = raw.attrs.get("header_row", 1)
    messages: list[str] = []
    raw, note = filter_rows(raw, row_filter)
    if note:
        messages.append(note)
    address_header = _address_header(raw.columns, mapping) if geocoder is not None else None
    address_raw = raw[address_header] if address_header else None
    headers = list(raw.columns)
    personal: list[str] = []
    if drop_personal:
        personal = [h for h in personal_headers(raw.columns) if h not in (mapping or {}).values()]
        if personal:
            raw = raw.drop(columns=personal)
            used = "(住所は位置を求めるためだけに使い、保存していません)" if address_header in personal else ""
            messages.append(f"個人を特定できる列 {', '.join(personal)} は取り込まずに除きました。{used}")
    matched = match_columns(raw.columns, layer, mapping=mapping, extra=COORDINATE_ALIASES)
    if address_raw is None and "address" in matched and geocoder is not None:
        address_raw = raw[matched["address"]]
    coordinates = [f"「{label}」({key})" for key, label in (("lat", "緯度"), ("lon", "経度"))
                   if key not in matched]
    if coordinates and address_raw is not None:
        coordinates = []  # positions come from the addresses
    require_columns(matched, layer, headers, path, optional={layer.id_column},
                    also=coordinates, address=address_header or matched.get("address"), personal=personal)
    unused = [h for h in raw.columns if h not in matched.values() and h != address_header]
    if unused:
        messages.append(f"使わなかった列: {', '.join(map(str, unused))}")

    frame = pd.DataFrame({name: raw[header] for name, header in matched.items()
                          if name not in COORDINATE_ALIASES}, index=raw.index)
    if layer.id_column not in frame:
        frame[layer.id_column] = _new_ids(len(frame), id_prefix, existing_ids)
        messages.append(f"ID の列がないため {id_prefix}0001 形式の ID を付けました。")
    none = pd.Series(None, index=raw.index, dtype=object)
    lat, lat_error = parse_coordinate(raw[matched["lat"]] if "lat" in matched else none, "緯度")
    lon, lon_error = parse_coordinate(raw[matched["lon"]] if "lon" in matched else none, "経度")
    lat, lon, swapped = _unswap(lat, lon)
    messages += _swap_messages(raw.index[swapped] + header_row, lat[swapped], lon[swapped])
    one_missing = lat.isna() != lon.isna()
    errors = lat_error.fillna(lon_error).mask(one_missing & lat_error.isna() & lon_error.isna(),
                                              "緯度と経度の一方だけが入力されています")
    located = locate(lat.where(errors.isna()), lon.where(errors.isna()), address_raw, geocoder,
                     cache=geocode_cache, progress=progress)
    messages += located.messages
    lat, lon = located.lat, located.lon
    if "match_level" in layer.names:
        frame["match_level"] = located.match_level
    if "matched_address" in layer.names:
        frame["matched_address"] = located.matched.where(~located.unplaced, None)
    if as_of is not None and "last_confirmed" in layer.names:
        given = frame["last_confirmed"] if "last_confirmed" in frame else none
        frame["last_confirmed"] = given.where(given.notna(), str(pd.Timestamp(as_of).date()))

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
    accepted = result.accepted
    rows = raw.index[accepted.index]  # validate kept the positions of the rows it accepted
    away = located.unplaced.loc[rows].to_numpy()
    unplaced = None
    if geocoder is not None:
        pending = accepted[away]
        at = rows[away]
        shown_address = address_raw.loc[at] if address_raw is not None else none.loc[at]
        unplaced = unplaced_rows(pending, layer, address=shown_address,
                                 found_level=located.found_level.loc[at], matched=located.matched.loc[at],
                                 file_row=pd.Series(at + header_row), source=Path(path).name)
    accepted = accepted[~away].reset_index(drop=True)
    rejected = rejected_rows(raw, reasons, header_row=header_row)
    return ImportResult(accepted, rejected, [*messages, *result.messages], unplaced=unplaced)


def _address_header(headers, mapping: Mapping[str, str] | None) -> str | None:
    """The header of the address column (the resources' aliases: 住所, 所在地 …)."""
    found = match_columns(headers, RESOURCES, mapping={k: v for k, v in (mapping or {}).items()
                                                       if k == "address"})
    return found.get("address")


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


def rejected_rows(raw: pd.DataFrame, reasons: pd.Series, *, header_row: int | None = None) -> pd.DataFrame:
    """The raw rows named by ``reasons`` (indexed by source row) with their ``reason``.

    ``file_row`` is the row number as the file shows it (Excel's row number, the header row
    and any title rows above it counted): ``source_row + header_row``.
    """
    header_row = raw.attrs.get("header_row", 1) if header_row is None else header_row
    rows = reasons.index.sort_values()
    out = raw.loc[rows].astype(object)
    out = out.where(out.notna(), None)
    out["source_row"] = rows.to_numpy(dtype=int)
    out["file_row"] = rows.to_numpy(dtype=int) + int(header_row)
    out["reason"] = reasons.loc[rows].to_numpy(dtype=object)
    return out.reset_index(drop=True)


def require_columns(matched: Mapping[str, str], layer: Layer, headers: Iterable[str],
                    path: str | Path, *, optional: Iterable[str | None] = (),
                    also: Iterable[str] = (), address: str | None = None,
                    personal: Iterable[str] = ()) -> None:
    """Raise ``InputError`` naming the required columns not found in the file.

    ``also`` lists more missing columns, already worded (``「緯度」(lat)``); ``address`` is the
    file's address header, when it has one (the message then suggests geocoding); ``personal``
    the headers set aside as naming a person, which were not looked at (``相談内容種別`` holds
    ``相談内容``): the message names them, since one of them may be the column missing.
    """
    skip = set(optional)
    missing = [c for c in layer.columns if c.required and c.name not in matched and c.name not in skip]
    worded = [f"「{c.label}」({c.name})" for c in missing] + list(also)
    if worded:
        example = ",".join(f"{c.name}={c.label}" for c in missing[:2]) or "lat=緯度,lon=経度"
        personal = [str(h) for h in personal if h != address]
        set_aside = (f"(うち {', '.join(personal)} は個人を特定できる列の名前を含むため読んでいません。"
                     "必須の列なら --mapping で指定すれば使えます)" if personal else "")
        hint = (f"住所の列「{address}」から位置を求めるには --geocode town-blocks "
                "(または gazetteer:FILE など) を付けてください(アプリでは「住所から位置を求める」)。"
                if address and also else "")
        raise InputError(f"{Path(path).name} に{layer.label}の必須の列 {'、'.join(worded)} が"
                         f"見つかりません。{hint}見出しを直すか、列の対応を "
                         f"--mapping {example} のように指定してください(アプリでは「列の対応」で選べます)。"
                         f"ファイルの見出し: {', '.join(map(str, headers))}" + set_aside)


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
