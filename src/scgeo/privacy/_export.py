"""Writing aggregated counts (public) and, only when asked for, individual needs (internal)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from scgeo._errors import InputError, ScgeoError
from scgeo.crs import WORKSPACE_CRS
from scgeo.privacy._aggregate import SUPPRESSED_TEXT, AggregateResult
from scgeo.sheets import write_csv

__all__ = ["INTERNAL_MARK", "PrivacyError", "export_needs", "write_aggregate"]

INTERNAL_MARK = "内部資料 — 個人情報を含む"
# columns of the public CSV, in order; ``count`` holds the display text (a number or 秘匿)
PUBLIC_COLUMNS = ("unit_id", "unit_name", "level", "category", "category_label", "count", "suppressed")


class PrivacyError(ScgeoError):
    """An output would reveal individual needs (要配慮個人情報) without the internal mode."""


def write_aggregate(result: AggregateResult, path_csv: str | Path) -> Path:
    """Write the aggregated table as CSV (UTF-8 with BOM) and its manifest next to it.

    Suppressed cells are written as ``秘匿``, never as their number. The manifest goes to
    ``<path>.manifest.json`` (``needs_by_area.csv`` → ``needs_by_area.csv.manifest.json``).

    Returns
    -------
    Path
        The CSV written.
    """
    path = Path(path_csv)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = result.table
    out = pd.DataFrame({name: table[name] for name in PUBLIC_COLUMNS if name != "count"})
    out.insert(PUBLIC_COLUMNS.index("count"), "count", table["display"].astype(str))
    if table["suppressed"].any() and out.loc[table["suppressed"].to_numpy(), "count"].ne(SUPPRESSED_TEXT).any():
        raise PrivacyError("秘匿すべきセルに数値が残っています。出力を中止しました。")
    write_csv(out, path)
    manifest = path.with_name(path.name + ".manifest.json")
    manifest.write_text(json.dumps(result.manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def export_needs(needs: gpd.GeoDataFrame, path: str | Path, *, internal: bool = False) -> Path:
    """Write individual needs, marked 「内部資料 — 個人情報を含む」; only with ``internal=True``.

    ``.csv``: UTF-8 with BOM, a first column ``注意`` holding the mark on every row, then the
    needs' columns and ``longitude``/``latitude`` (EPSG:6668). ``.geojson``/``.json``: a
    FeatureCollection whose top-level ``name`` and ``description`` hold the mark.

    Raises
    ------
    PrivacyError
        When ``internal`` is not ``True``: use :func:`aggregate_needs` for anything shared.
    """
    if internal is not True:
        raise PrivacyError(
            "ニーズは要配慮個人情報のため、1件ずつの出力は内部資料として明示した場合だけできます"
            "(Python: export_needs(..., internal=True))。協議体や公開用には、町丁目・メッシュ・六角形で"
            "集計し少数を秘匿した集計表(aggregate_needs と write_aggregate)を使ってください。")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".geojson", ".json"):
        raise InputError(f"ニーズの内部出力は .csv か .geojson です(指定: {path.name})。")
    path.parent.mkdir(parents=True, exist_ok=True)
    gdf = needs.to_crs(WORKSPACE_CRS) if needs.crs is not None else needs.copy()
    for name in gdf.columns:
        if name != gdf.geometry.name and pd.api.types.is_datetime64_any_dtype(gdf[name]):
            gdf[name] = gdf[name].dt.strftime("%Y-%m-%d").astype(object)
    if suffix == ".csv":
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        valid = ~gdf.geometry.isna() & ~gdf.geometry.is_empty
        frame["longitude"] = gdf.geometry.x.where(valid)
        frame["latitude"] = gdf.geometry.y.where(valid)
        frame.insert(0, "注意", INTERNAL_MARK)
        write_csv(frame, path)
    else:
        collection = json.loads(gdf.to_json(drop_id=True, to_wgs84=False))
        collection = {"type": "FeatureCollection", "name": INTERNAL_MARK, "description": INTERNAL_MARK,
                      **{k: v for k, v in collection.items() if k != "type"}}
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path
