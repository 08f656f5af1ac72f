"""Addresses to points during an import: match levels, and the 位置未確定 rows set apart."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scgeo.schema import UNPLACED, Layer, coerce

__all__ = ["Located", "locate", "unplaced_rows"]

# Geocoder levels that place a row; 市区町村 and 失敗 leave it 位置未確定.
_PLACED = {"番地": "banchi", "街区": "gaiku", "町丁目": "chome", "大字": "oaza"}
# A point inside Japan used only so that an unplaced row passes validation; never written.
_NOWHERE = (139.0, 36.0)


@dataclass
class Located:
    """Coordinates after geocoding, with ``match_level`` / ``matched`` per row and the rows to
    set apart as 位置未確定 (``unplaced``: a boolean mask).
    """

    lat: pd.Series
    lon: pd.Series
    match_level: pd.Series
    matched: pd.Series
    unplaced: pd.Series
    found_level: pd.Series
    messages: list[str]


def locate(lat: pd.Series, lon: pd.Series, address: pd.Series | None, geocoder, *,
           cache=None, progress=None) -> Located:
    """Fill missing coordinates from addresses.

    Rows with coordinates get ``match_level = "source"``. Rows without coordinates and with an
    address are geocoded; found at 番地 / 街区 / 町丁目 / 大字 level they are placed, found only
    at 市区町村 level or not found they are marked ``unplaced`` (and given a placeholder
    point only so that their other fields can be validated).
    """
    index = lat.index
    level = pd.Series(None, index=index, dtype=object)
    matched = pd.Series(None, index=index, dtype=object)
    found_level = pd.Series(None, index=index, dtype=object)
    unplaced = pd.Series(False, index=index)
    has_xy = lat.notna() & lon.notna()
    level[has_xy] = "source"
    messages: list[str] = []
    if geocoder is None or address is None:
        return Located(lat, lon, level, matched, unplaced, found_level, messages)
    text = address.astype(object).where(address.notna(), "").astype(str).str.strip()
    todo = ~has_xy & (text != "")
    if not todo.any():
        return Located(lat, lon, level, matched, unplaced, found_level, messages)
    from scgeo.geocode import geocode

    found = geocode(text[todo].tolist(), geocoder, cache=cache, progress=progress)
    found.index = index[todo.to_numpy()]
    placed = found["level"].isin(list(_PLACED))
    rows = found.index[placed.to_numpy()]
    lat, lon = lat.copy(), lon.copy()
    lat[rows], lon[rows] = found.loc[rows, "lat"], found.loc[rows, "lon"]
    level[rows] = found.loc[rows, "level"].map(_PLACED)
    matched[rows] = found.loc[rows, "matched"]
    found_level[found.index] = found["level"]
    away = found.index[~placed.to_numpy()]
    unplaced[away] = True
    matched[away] = found.loc[away, "matched"]
    lon[away], lat[away] = _NOWHERE
    counts = found["level"].value_counts()
    shown = "、".join(f"{k} {int(counts[k])} 件" for k in ("番地", "街区", "町丁目", "大字")
                     if k in counts)
    messages.append(f"座標のない {int(todo.sum())} 件の位置を住所から求めました({geocoder.name}: "
                    f"{shown or '0 件'})。")
    if len(away):
        messages.append(f"{len(away)} 件は住所から位置を決められなかったため(市区町村まで "
                        f"{int(counts.get('市区町村', 0))} 件、見つからない "
                        f"{int(counts.get('失敗', 0))} 件)、地図に載せずに「位置未確定」の一覧に"
                        "入れました。アプリのデータ取込で地図をクリックするか町丁目を選んで配置できます。")
    return Located(lat, lon, level, matched, unplaced, found_level, messages)


def _json_value(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def unplaced_rows(accepted: pd.DataFrame, layer: Layer, *, address: pd.Series,
                  found_level: pd.Series, matched: pd.Series, file_row: pd.Series,
                  source: str) -> pd.DataFrame:
    """The 位置未確定 list rows (:data:`scgeo.schema.UNPLACED`) for accepted rows without a place.

    ``address``, ``found_level``, ``matched`` and ``file_row`` are aligned with ``accepted``.
    """
    names = [c for c in layer.names if c not in ("match_level", "matched_address")]
    values = [json.dumps({k: _json_value(v) for k, v in row.items()}, ensure_ascii=False)
              for row in accepted[names].to_dict("records")]
    codes = found_level.map({"市区町村": "municipality"})
    now = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
    frame = pd.DataFrame({
        "unplaced_id": [f"U{uuid.uuid4().hex[:10]}" for _ in range(len(accepted))],
        "layer": layer.name,
        "feature_id": accepted[layer.id_column].astype(str).to_numpy(),
        "name": accepted["name"].to_numpy() if "name" in accepted else None,
        "category": accepted["category"].to_numpy() if "category" in accepted else None,
        "address": address.to_numpy(),
        "match_level": codes.to_numpy(),
        "matched_address": matched.to_numpy(),
        "source": source,
        "file_row": file_row.to_numpy(),
        "row_values": values,
        "added_at": now,
    })
    return coerce(frame, UNPLACED)
