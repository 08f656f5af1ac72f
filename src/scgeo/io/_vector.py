"""Reading vector files (GeoJSON, Shapefile, zipped Shapefile, GeoPackage) with pyogrio."""

from __future__ import annotations

import contextlib
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pyogrio
import pyogrio.errors

from scgeo._errors import InputError
from scgeo.io._encoding import cpg_encoding, dbf_encoding
from scgeo.io._limits import InputLimitError, extract_zip
from scgeo.settings import get_settings

__all__ = ["VECTOR_SUFFIXES", "read_vector"]

VECTOR_SUFFIXES = (".geojson", ".json", ".shp", ".gpkg", ".zip")
_POLYGONAL = ("Polygon", "MultiPolygon", "Polygon Z", "MultiPolygon Z")


def read_vector(path: str | Path, *, layer: str | None = None, encoding: str | None = None,
                max_features: int | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a vector file as a GeoDataFrame, with notes for the user.

    A ``.zip`` is unpacked to a temporary folder and the Shapefile (or GeoJSON, GeoPackage)
    inside it is read; with several, ``layer`` names the file (stem) to read. A Shapefile's
    encoding comes from ``encoding``, else its ``.cpg``, else the bytes of its ``.dbf``
    (GeoJSON and GeoPackage are UTF-8: ``encoding`` is ignored for them).
    A GeoPackage with several layers needs ``layer`` unless exactly one layer is polygonal.
    ``max_features`` reads only the first features (previews); a file with more features than
    ``settings.max_rows`` is refused before it is read. A ring that is not closed is closed
    (and said in the notes); a geometry that cannot be repaired comes back empty.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"ファイル {path} が見つかりません。")
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise InputError(f"{path.name} は区域の形式として読めません。GeoJSON (.geojson)、"
                         "Shapefile (.shp または .shp 一式の .zip)、GeoPackage (.gpkg) の"
                         "いずれかにしてください。")
    if suffix == ".zip":
        return _read_zip(path, layer=layer, encoding=encoding, max_features=max_features)
    messages: list[str] = []
    if suffix == ".shp":
        encoding, messages = _shapefile_encoding(path, encoding)
        layer = None
    else:  # GeoJSON is UTF-8 by definition; a GeoPackage stores UTF-8
        encoding = None
        layer = _gpkg_layer(path, layer) if suffix == ".gpkg" else None
    try:
        count = pyogrio.read_info(path, layer=layer, encoding=encoding)["features"]
        if max_features is None and count > get_settings().max_rows:
            raise InputLimitError(f"{path.name} には図形が {count:,} 個あります(上限 {get_settings().max_rows:,} 個、"
                                  "設定 max_rows)。ファイルを分けるか、設定ファイル scgeo.toml の max_rows を"
                                  "大きくしてください。")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            gdf = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, on_invalid="fix",
                                         max_features=max_features)
        if any("closed ring" in str(w.message) for w in caught):
            messages.append(f"{path.name} に閉じていない輪(ポリゴンの外周・穴)があったため、閉じて読みました。")
        for w in caught:
            if "closed ring" not in str(w.message):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} の文字を {encoding} として読めません。encoding に cp932 "
                         f"(Shift_JIS) か utf-8 を指定してください。({exc})") from exc
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"{path.name} を読めません。ファイルが壊れていないか、Shapefile なら "
                         ".shp .shx .dbf (.prj) がそろっているか確認してください。"
                         f"({exc})") from exc
    if len(gdf) == 0:
        raise InputError(f"{path.name} に図形(地物)が1つもありません。")
    return gdf, messages


@contextlib.contextmanager
def extracted_zip(path: Path) -> Iterator[Path]:
    """Unpack a zip into a temporary folder (removed afterwards) and yield the folder.

    The zip is checked against the limits of the settings first (unpacked size, ratio, number
    of files: ``InputLimitError``); ``extractall`` drops absolute paths and ``..`` parts, so
    nothing lands outside the folder.
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path.name} は zip ファイルとして読めません。({exc})") from exc
    with archive, tempfile.TemporaryDirectory(prefix="scgeo-") as tmp:
        extract_zip(archive, path.name, Path(tmp))
        yield Path(tmp)


def _read_zip(path: Path, *, layer: str | None, encoding: str | None, max_features: int | None
              ) -> tuple[gpd.GeoDataFrame, list[str]]:
    with extracted_zip(path) as tmp:
        found = sorted(p for p in tmp.rglob("*")
                       if p.suffix.lower() in (".shp", ".geojson", ".gpkg")
                       and "__MACOSX" not in p.parts)
        if layer is not None and len(found) > 1:
            found = [p for p in found if p.stem == layer] or found
            layer = None if found[0].suffix.lower() != ".gpkg" else layer
        if not found:
            raise InputError(f"{path.name} の中に Shapefile (.shp)、GeoJSON、GeoPackage が"
                             "ありません。")
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise InputError(f"{path.name} の中に複数のファイル ({names}) があります。"
                             "読むファイル名(拡張子なし)を layer に指定してください。")
        gdf, messages = read_vector(found[0], layer=layer, encoding=encoding, max_features=max_features)
        return gdf, messages


def _shapefile_encoding(path: Path, encoding: str | None) -> tuple[str | None, list[str]]:
    if encoding:
        return encoding, []
    declared = cpg_encoding(path)
    if declared:
        return declared, []
    detected = dbf_encoding(path)
    if detected == "cp932":
        return detected, [f"{path.name} には文字コードの指定 (.cpg) がないため、属性の文字を "
                          "Shift_JIS (cp932) と判定して読みました。"]
    return detected, []


def _gpkg_layer(path: Path, layer: str | None) -> str | None:
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"{path.name} を GeoPackage として読めません。({exc})") from exc
    names = [str(name) for name, _ in layers]
    if layer is not None:
        if layer not in names:
            raise InputError(f"{path.name} にレイヤ「{layer}」がありません。"
                             f"レイヤ: {', '.join(names)}")
        return layer
    if len(names) <= 1:
        return names[0] if names else None
    polygonal = [str(name) for name, kind in layers if kind in _POLYGONAL]
    if len(polygonal) == 1:
        return polygonal[0]
    raise InputError(f"{path.name} には複数のレイヤ ({', '.join(names)}) があります。"
                     "読むレイヤを layer に指定してください。")
