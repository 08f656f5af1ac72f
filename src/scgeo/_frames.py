"""Small helpers on frames shared by the workspace and its confirmation store."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from scgeo._errors import InputError
from scgeo.schema import Layer, validate

__all__ = ["apply_changes", "concat_frames", "text_of"]


def text_of(value: object) -> str | None:
    """A value as text for the history (dates as ISO dates; None for missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def apply_changes(frame: pd.DataFrame, layer: Layer, changes: Mapping[str, Mapping[str, object]],
             ) -> tuple[pd.DataFrame, list[dict]]:
    """``frame`` with ``{feature_id: {column: value}}`` applied and validated, and the history rows."""
    frame = frame.copy()
    history = []
    for feature_id, fields in changes.items():
        match = frame.index[frame[layer.id_column] == feature_id]
        if not len(match):
            raise InputError(f"ID {feature_id} は{layer.label}にありません。")
        unknown = set(fields) - {*layer.names, "geometry"} - {layer.id_column}
        if unknown or layer.id_column in fields:
            raise InputError(f"変更できない項目です: {', '.join(sorted(unknown | {layer.id_column} & set(fields)))}")
        row = frame.loc[[match[0]]].copy()
        for key, value in fields.items():
            row[key] = pd.Series([value], index=row.index, dtype=object)
        checked = validate(row, layer)
        if len(checked.rejected):
            raise InputError(checked.rejected["reason"].iloc[0])
        old, new = frame.loc[match[0]], checked.accepted.iloc[0]
        for key in fields:
            if text_of(old[key]) != text_of(new[key]):
                history.append({"feature_id": feature_id, "field": key, "old": old[key], "new": new[key]})
        frame = concat_frames(frame.drop(index=match[0]), checked.accepted)
    return frame, history


def concat_frames(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    if not len(a):
        return b.reset_index(drop=True)
    if not len(b):
        return a.reset_index(drop=True)
    out = pd.concat([a, b], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=a.crs) if "geometry" in out else out
