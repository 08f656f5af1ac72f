"""国土数値情報 (MLIT): school districts (A32, A27), 行政区域 (N03), 福祉施設 (P14), 医療機関 (P04).

Each reader takes a Shapefile (cp932, with or without ``.cpg``), a GeoJSON, a folder holding
them, or the distributed ``.zip`` directly, and returns an :class:`scgeo.schema.ImportResult`.
Attribute layouts changed between releases (``A32_006…`` in old school-district files,
``A32_001…`` in new ones); the readers recognise a column by what its values look like
(a 5-digit 行政区域コード, a name ending in 学校, a 13-character 学校コード) rather than by its
position, so both layouts read the same way.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from scgeo._errors import InputError
from scgeo._text import normalise_series
from scgeo.crs import WORKSPACE_CRS, to_workspace
from scgeo.io._points import rejected_rows
from scgeo.io._vector import extracted_zip, read_vector
from scgeo.io.areas import _merge_parts, _repair
from scgeo.schema import AREAS, RESOURCES, ImportResult, Layer, Taxonomy, validate

__all__ = [
    "finish_areas",
    "read_ksj",
    "read_ksj_facilities",
    "read_ksj_medical",
    "read_ksj_municipality",
    "read_ksj_school_districts",
]

_CODE = re.compile(r"^\d{5,6}$")
_SCHOOL_CODE = re.compile(r"^[A-H]\d{12}$")
_PREFIX = {"jhs_district": "J", "es_district": "E"}
_LEVEL_BY_DATASET = {"a32": "jhs_district", "a27": "es_district"}


# ---------------------------------------------------------------- reading the files


def read_ksj(path: str | Path, *, layer: str | None = None,
             encoding: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read one 国土数値情報 layer from a file, a folder or the distributed ``.zip``.

    Parameters
    ----------
    path
        ``.shp``, ``.geojson``, ``.zip`` or a folder. A zip or folder holding the same data as
        both Shapefile and GeoJSON is read from the GeoJSON (UTF-8).
    layer
        File stem to read when the zip or folder holds several layers (``A32-21_32`` …); a
        substring of the stem is enough.
    encoding
        Shapefile attribute encoding (default: ``.cpg``, else detected; cp932 for old files).

    Returns
    -------
    tuple
        The GeoDataFrame in EPSG:6668 and notes for the user.
    """
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, path.name, layer=layer, encoding=encoding)
    if path.suffix.lower() == ".zip":
        with extracted_zip(path) as tmp:
            return _read_folder(tmp, path.name, layer=layer, encoding=encoding)
    gdf, messages = read_vector(path, encoding=encoding)
    return to_workspace(gdf, what=path.name), messages


def _read_folder(folder: Path, label: str, *, layer: str | None,
                 encoding: str | None) -> tuple[gpd.GeoDataFrame, list[str]]:
    found = [p for p in folder.rglob("*") if p.suffix.lower() in (".shp", ".geojson")
             and "__MACOSX" not in p.parts]
    if layer:
        found = [p for p in found if layer in p.stem]
    by_stem: dict[str, Path] = {}
    for p in sorted(found, key=lambda p: p.suffix.lower() != ".geojson"):  # GeoJSON first
        by_stem.setdefault(p.stem, p)
    if not by_stem:
        raise InputError(f"{label} の中に国土数値情報の Shapefile (.shp) も GeoJSON もありません"
                         + (f"(layer={layer})。" if layer else "。"))
    if len(by_stem) > 1:
        raise InputError(f"{label} の中に複数のデータ ({', '.join(sorted(by_stem))}) があります。"
                         "読むファイル名の一部を layer に指定してください。")
    chosen = next(iter(by_stem.values()))
    gdf, messages = read_vector(chosen, encoding=encoding)
    return to_workspace(gdf, what=chosen.name), messages


def _attrs(gdf: gpd.GeoDataFrame) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    attrs = attrs.apply(normalise_series)
    attrs.index = pd.RangeIndex(1, len(gdf) + 1, name="source_row")
    geometry = gpd.GeoSeries(shapely.force_2d(gdf.geometry.to_numpy()), index=attrs.index,
                             crs=gdf.crs)
    return attrs, geometry


def _column_where(attrs: pd.DataFrame, test, *, prefix: str = "", share: float = 0.8
                  ) -> str | None:
    """The first column (optionally starting with ``prefix``) whose values pass ``test``."""
    for header in attrs.columns:
        if not str(header).upper().startswith(prefix.upper()):
            continue
        values = attrs[header].dropna().astype(str)
        if len(values) and test(values).mean() >= share:
            return header
    return None


def _muni_filter(attrs: pd.DataFrame, code_col: str | None, muni_code: str | None,
                 label: str) -> tuple[pd.Series, list[str]]:
    keep = pd.Series(True, index=attrs.index)
    if muni_code is None:
        return keep, []
    if code_col is None:
        raise InputError(f"{label} に行政区域コードの列がないため、市町村コード {muni_code} で"
                         "絞り込めません。muni_code を外すか within= で範囲を指定してください。")
    keep = attrs[code_col].astype(str).str[:5] == str(muni_code)[:5]
    if not keep.any():
        raise InputError(f"{label} に市町村コード {muni_code} の地物がありません。"
                         f"含まれるコード: {', '.join(sorted(attrs[code_col].dropna().unique())[:10])}")
    return keep, [f"市町村コード {muni_code} の {int(keep.sum())} 件を読み、"
                  f"ほかの {int((~keep).sum())} 件は対象外として読み飛ばしました。"]


def finish_areas(frame: pd.DataFrame, geometry: gpd.GeoSeries, original: pd.DataFrame,
                 schema: Layer = AREAS) -> ImportResult:
    """Repair polygons, merge multi-part areas and validate (shared by the public readers).

    ``frame`` carries schema columns indexed by the 1-based source row; ``original`` is the
    file's attributes under the same index, kept for the rejected rows.
    """
    geometry, messages = _repair(geometry, frame)
    frame, geometry, notes = _merge_parts(frame, geometry)
    work = gpd.GeoDataFrame(frame, geometry=geometry, crs=geometry.crs)
    work["source_row"] = frame.index.to_numpy()
    result = validate(work.reset_index(drop=True), schema)
    rejected = rejected_rows(original, result.rejected.set_index("source_row")["reason"])
    return ImportResult(result.accepted.reset_index(drop=True), rejected, messages + notes)


# ---------------------------------------------------------------- A32 / A27 school districts


def read_ksj_school_districts(path: str | Path, *, muni_code: str | None = None,
                              level: str | None = None, layer: str | None = None,
                              encoding: str | None = None) -> ImportResult:
    """Read 国土数値情報 A32 中学校区 or A27 小学校区 polygons as areas.

    Both attribute layouts are recognised: the old one (``A32_006`` 行政区域コード,
    ``A32_007`` 設置者, ``A32_008`` 名称, ``A32_009`` 所在地) and the new one (``A32_001``
    行政区域コード, ``A32_002`` 設置主体, ``A32_003`` 学校コード, ``A32_004`` 名称 …).

    Parameters
    ----------
    path
        File, folder or distributed zip (see :func:`read_ksj`).
    muni_code
        Keep only the districts of this municipality (行政区域コード).
    level
        ``jhs_district`` or ``es_district``; by default from the attribute prefix (A32 / A27).
    layer, encoding
        See :func:`read_ksj`.

    Returns
    -------
    ImportResult
        Areas with ``area_id`` = 学校コード when the file has one, else
        ``J``/``E`` + 行政区域コード + ``-`` + school name (stable across releases);
        ``name`` = school name; ``parent_id`` empty.
    """
    gdf, messages = read_ksj(path, layer=layer, encoding=encoding)
    attrs, geometry = _attrs(gdf)
    dataset = next((str(c)[:3].lower() for c in attrs.columns
                    if str(c)[:3].lower() in _LEVEL_BY_DATASET), None)
    if dataset is None and level is None:
        raise InputError(f"{Path(path).name} は国土数値情報の学校区 (A32_… / A27_… の列) では"
                         "ありません。level= で区域の種類を指定してください。")
    level = level or _LEVEL_BY_DATASET[dataset]
    prefix = (dataset or "").upper()
    name_col = _column_where(attrs, lambda v: v.str.endswith("学校"), prefix=prefix)
    code_col = _column_where(attrs, lambda v: v.str.match(_CODE), prefix=prefix)
    school_col = _column_where(attrs, lambda v: v.str.match(_SCHOOL_CODE), prefix=prefix)
    if name_col is None:
        raise InputError(f"{Path(path).name} に学校名(〜学校)の列が見つかりません。"
                         f"列: {', '.join(map(str, attrs.columns))}")
    layout = "新しい" if school_col or (code_col and code_col.endswith("_001")) else "古い"
    messages.append(f"国土数値情報 {prefix or level} の{layout}属性形式として読みました"
                    f"(名称 {name_col}、行政区域コード {code_col or 'なし'}、"
                    f"学校コード {school_col or 'なし'})。")
    keep, notes = _muni_filter(attrs, code_col, muni_code, Path(path).name)
    messages += notes
    attrs, geometry = attrs[keep], geometry[keep]
    if school_col:
        ids = attrs[school_col].astype(str)
    else:
        code = attrs[code_col].astype(str) if code_col else pd.Series("", index=attrs.index)
        ids = _PREFIX.get(level, "A") + code + "-" + attrs[name_col].astype(str)
    frame = pd.DataFrame({"area_id": ids, "name": attrs[name_col], "level": level},
                         index=attrs.index)
    original = attrs.assign(geometry=geometry.to_wkt())
    result = finish_areas(frame, geometry, original)
    result.messages[:0] = messages
    return result


# ---------------------------------------------------------------- N03 行政区域


def read_ksj_municipality(path: str | Path, *, muni_code: str | None = None,
                          layer: str | None = None, encoding: str | None = None) -> ImportResult:
    """Read 国土数値情報 N03 行政区域, dissolved to one polygon per municipality.

    ``N03_001`` 都道府県名, ``N03_003`` 郡・政令市名, ``N03_004`` 市区町村名, ``N03_007``
    行政区域コード. Islands and parts of one municipality become one MultiPolygon whose
    ``area_id`` is the 行政区域コード; a 政令市's ward is named ``市名 + 区名``. Polygons
    without a code (所属未定地) are rejected with the reason.
    """
    gdf, messages = read_ksj(path, layer=layer, encoding=encoding)
    attrs, geometry = _attrs(gdf)
    if "N03_007" not in attrs or "N03_004" not in attrs:
        raise InputError(f"{Path(path).name} は国土数値情報 N03 行政区域ではありません"
                         f"(N03_004, N03_007 の列がありません)。")
    keep, notes = _muni_filter(attrs, "N03_007", muni_code, Path(path).name)
    messages += notes
    attrs, geometry = attrs[keep], geometry[keep]
    city = attrs["N03_004"].fillna("")
    if "N03_003" in attrs:
        seirei = attrs["N03_003"].fillna("").str.endswith("市") & city.str.endswith("区")
        city = city.mask(seirei, attrs["N03_003"].fillna("") + city)
    code = attrs["N03_007"]
    has_code = code.notna()
    frame = pd.DataFrame({"area_id": code, "name": city.replace("", None),
                          "level": "municipality"}, index=attrs.index)
    # dissolve: one row per code (first row keeps the union), the others are merged away
    first = ~code.duplicated() & has_code
    unions = geometry[has_code].groupby(code[has_code]).agg(
        lambda g: shapely.union_all(g.to_numpy()))
    merged = geometry.copy()
    merged[first] = unions.loc[code[first]].to_numpy()
    n_parts = code[has_code].value_counts()
    if (n_parts > 1).any():
        messages.append(f"{int((n_parts > 1).sum())} 市区町村の {int(n_parts[n_parts > 1].sum())} "
                        "個のポリゴン(島など)をそれぞれ1つの区域にまとめました。")
    rows = first | ~has_code
    original = attrs.assign(geometry=geometry.to_wkt())
    result = finish_areas(frame[rows], merged[rows], original)
    result.messages[:0] = messages
    return result


# ---------------------------------------------------------------- P14 福祉施設, P04 医療機関


def _facility_config(path: str | Path | None) -> dict:
    text = (Path(path).read_text(encoding="utf-8") if path
            else files("scgeo").joinpath("data/ksj_facilities.toml").read_text("utf-8"))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"施設の分類対応ファイル {path} を読めません: {exc}") from exc


def _points(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    pts = geometry.where(geometry.geom_type == "Point", geometry.representative_point())
    return gpd.GeoSeries(pts, index=geometry.index, crs=geometry.crs)


def _facilities(path: str | Path, dataset: str, *, muni_code: str | None, within: object,
                layer: str | None, encoding: str | None, config: str | Path | None,
                taxonomy: Taxonomy | None, id_prefix: str) -> ImportResult:
    spec = _facility_config(config)[dataset]
    gdf, messages = read_ksj(path, layer=layer, encoding=encoding)
    attrs, geometry = _attrs(gdf)
    fields: Mapping[str, str] = spec["fields"]
    missing = [f for f in fields.values() if f not in attrs]
    if missing:
        raise InputError(f"{Path(path).name} に {dataset} の列 {', '.join(missing)} がありません。"
                         f"列: {', '.join(map(str, attrs.columns))}。分類対応ファイル (config=) の "
                         "[fields] で列名を指定してください。")
    code_col = fields.get("muni_code")
    keep, notes = _muni_filter(attrs, code_col, muni_code, Path(path).name)
    messages += notes
    if within is not None:
        area = within.union_all() if hasattr(within, "union_all") else within
        inside = pd.Series(shapely.contains(area, _points(geometry).to_numpy()),
                           index=attrs.index) | shapely.intersects(area, geometry.to_numpy())
        messages.append(f"範囲内の {int((keep & inside).sum())} 件を読み、範囲外の "
                        f"{int((keep & ~inside).sum())} 件は読み飛ばしました。")
        keep &= inside
    attrs, geometry = attrs[keep], geometry[keep]
    kind = attrs[fields["kind"]].astype(str).str.replace(r"\.0$", "", regex=True)
    table = {str(k): v for k, v in spec["categories"].items()}
    by_major = {str(k): v for k, v in spec.get("major_categories", {}).items()}
    category = kind.map(table)
    labels = {str(k): v for k, v in spec.get("labels", {}).items()}
    kind_label = kind.map(labels)
    if "major" in fields:
        major = attrs[fields["major"]].astype(str).str.replace(r"\.0$", "", regex=True)
        category = category.fillna(major.map(by_major))
        kind_label = kind_label.fillna(major.map(labels))
    kind_label = kind_label.fillna(kind)
    frame = pd.DataFrame({
        "name": attrs[fields["name"]],
        "category": category.where(category.notna(), "対象外: " + kind_label),
        "address": attrs[fields["address"]] if "address" in fields else None,
        "capacity": attrs[fields["capacity"]] if "capacity" in fields else None,
        "target": kind_label,
        "source": f"国土数値情報 {dataset}",
    }, index=attrs.index)
    if "capacity" in frame:
        frame["capacity"] = frame["capacity"].where(
            pd.to_numeric(frame["capacity"], errors="coerce").fillna(0) > 0, None)
    frame["resource_id"] = [f"{id_prefix}{i:05d}" for i in range(1, len(frame) + 1)]
    work = gpd.GeoDataFrame(frame, geometry=_points(geometry), crs=WORKSPACE_CRS)
    work["source_row"] = frame.index.to_numpy()
    result = validate(work.reset_index(drop=True), RESOURCES, taxonomy=taxonomy)
    out_of_scope = int(category.isna().sum())
    if out_of_scope:
        messages.append(f"分類が対象外の施設 {out_of_scope} 件は除外一覧に入れました"
                        "(分類対応ファイルで対象にできます)。")
    reasons = result.rejected.set_index("source_row")["reason"]
    for row in attrs.index[category.isna().to_numpy()]:
        reasons[row] = (f"施設の種類「{kind_label[row]}」({kind[row]}) は地域資源のカテゴリの"
                        "対象外です(分類対応ファイル config= で対象にできます)")
    original = attrs.assign(geometry=geometry.to_wkt())
    rejected = rejected_rows(original, reasons.sort_index())
    return ImportResult(result.accepted.reset_index(drop=True), rejected, messages)


def read_ksj_facilities(path: str | Path, *, muni_code: str | None = None, within: object = None,
                        layer: str | None = None, encoding: str | None = None,
                        config: str | Path | None = None,
                        taxonomy: Taxonomy | None = None) -> ImportResult:
    """Read 国土数値情報 P14 福祉施設 points as resources.

    The 福祉施設小分類 (falling back to 大分類) code is mapped to a category by the bundled
    ``data/ksj_facilities.toml`` (or ``config=``, same layout): 老人福祉施設 become
    ``care_service``, 老人介護支援センター ``consultation``; facilities outside the
    taxonomy (児童福祉施設 …) are rejected with the reason. ``定員`` becomes ``capacity``;
    the facility type's label is kept in ``target``.

    Parameters
    ----------
    muni_code
        Keep one municipality (行政区域コード column).
    within
        A polygon (or GeoDataFrame/GeoSeries) in EPSG:6668: keep facilities inside it.
    """
    return _facilities(path, "P14", muni_code=muni_code, within=within, layer=layer,
                       encoding=encoding, config=config, taxonomy=taxonomy, id_prefix="P14-")


def read_ksj_medical(path: str | Path, *, muni_code: str | None = None, within: object = None,
                     layer: str | None = None, encoding: str | None = None,
                     config: str | Path | None = None,
                     taxonomy: Taxonomy | None = None) -> ImportResult:
    """Read 国土数値情報 P04 医療機関 points as resources of category ``medical``.

    ``P04_001`` 医療機関分類 (1 病院, 2 診療所, 3 歯科診療所; kept in ``target``),
    ``P04_002`` 施設名称, ``P04_003`` 所在地, ``P04_008`` 病床数 (not a capacity for
    visitors: kept out of ``capacity``). P04 carries no 行政区域コード: filter with ``within=``
    (e.g. the municipality polygon); ``muni_code`` keeps rows whose address starts with
    the municipality's name only when a code column is configured.
    """
    return _facilities(path, "P04", muni_code=muni_code, within=within, layer=layer,
                       encoding=encoding, config=config, taxonomy=taxonomy, id_prefix="P04-")
