"""Looking inside a city's files: attributes, geometry type, CRS, encoding, telling columns.

Used by :mod:`scgeo.io.recipe` to guess what each file is. Everything here reads, nothing
writes; the guesses are made from the content (values ending in 中学校, codes of the
municipality, coordinate columns, age bands), not only from headers, because cities publish
layers with headers such as ``item1 … item5``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors

from scgeo._errors import InputError
from scgeo._text import normalise_header
from scgeo.io._encoding import cpg_encoding, dbf_encoding, detect_encoding
from scgeo.io._mapping import COORDINATE_ALIASES
from scgeo.io._tables import TABLE_SUFFIXES, read_table
from scgeo.io._vector import extracted_zip

__all__ = ["FileSample", "age_band_columns", "code_filter", "coordinate_columns", "filter_rows",
           "inspect_file", "level_by_content", "looks_like_degrees", "name_column", "numbers",
           "population_columns", "read_rows"]

MAX_ROWS = 200_000
NETWORK_SUFFIXES = (".osm", ".pbf", ".graphml")
SIDECAR_SUFFIXES = (".shx", ".prj", ".cpg", ".qmd", ".sbn", ".sbx", ".qix", ".fix", ".aux",
                    ".xml", ".lock")
_VECTOR = (".geojson", ".shp", ".gpkg")

# Suffixes of names that tell the level of a district layer (longest first).
_LEVEL_SUFFIXES = (
    ("jhs_district", ("中学校区", "中学校", "中学", "中校区")),
    ("es_district", ("小学校区", "小学校", "小学", "小校区")),
    ("living_area", ("日常生活圏域", "生活圏域", "圏域")),
    ("community", ("自治会", "町内会", "地区", "校区", "区会", "町会")),
)
_CODE_HEADERS = ("全国地方公共団体コード", "地方公共団体コード", "団体コード", "市区町村コード",
                 "市町村コード", "行政区域コード", "lgcode", "prefcode", "citycode", "n03007",
                 "a32001", "a32006", "a27001", "a27005", "code")
_BAND = re.compile(r"^(?:(男|女|man|male|woman|female|m|f)[_\s]?)?(\d{1,3})\s*(?:[~～〜\-]\s*\d{1,3})?"
                   r"\s*歳(?:以上)?(?:[_\s]?(男|女))?$")
_STANDARD_BAND = re.compile(r"^(man|woman)(\d{1,2})$")


@dataclass
class FileSample:
    """What :func:`inspect_file` found in a file.

    ``frame`` holds the attributes (every row, up to ``MAX_ROWS``) as text; for an e-Stat
    table with two header rows the second (Japanese labels) is in ``labels``.
    """

    path: Path
    kind: str  # "vector", "table", "network", "other"
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    geometry_type: str | None = None
    crs: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    encoding: str | None = None
    layer: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def columns(self) -> list[str]:
        """Headers as in the file."""
        return [str(c) for c in self.frame.columns]


def inspect_file(path: str | Path) -> FileSample:
    """Read what is needed to classify ``path`` (never raises on a bad file: see ``error``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in NETWORK_SUFFIXES:
            return FileSample(path, "network")
        if suffix == ".geojson" and _starts_with_array(path):
            return _json(path)
        if suffix in _VECTOR:
            return _vector(path, path)
        if suffix == ".zip":
            return _zip(path)
        if suffix == ".json":
            return _json(path)
        if suffix == ".dbf":
            return _dbf(path)
        if suffix in TABLE_SUFFIXES:
            return _table(path)
    except InputError as exc:
        return FileSample(path, "other", error=str(exc))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError,
            UnicodeDecodeError, OSError) as exc:
        return FileSample(path, "other", error=f"{path.name} を読めません({exc})")
    return FileSample(path, "other")


def _starts_with_array(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


def _vector(path: Path, shown: Path, *, layer: str | None = None) -> FileSample:
    encoding, notes = None, []
    if path.suffix.lower() == ".shp":
        encoding = cpg_encoding(path)
        if encoding is None:
            encoding = dbf_encoding(path)
            if encoding == "cp932":
                notes.append("文字コードの指定 (.cpg) がないため、属性を Shift_JIS (cp932) と判定")
    if path.suffix.lower() == ".gpkg" and layer is None:
        layers = pyogrio.list_layers(path)
        spatial = [str(n) for n, kind in layers if kind]
        layer = spatial[0] if spatial else None
        if len(spatial) > 1:
            notes.append(f"レイヤが複数 ({', '.join(spatial)}) あるため最初の {layer} を見ました")
    info = pyogrio.read_info(path, layer=layer, encoding=encoding, force_total_bounds=True)
    frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, read_geometry=False,
                                   max_features=MAX_ROWS)
    crs = info.get("crs")
    bounds = info.get("total_bounds")
    return FileSample(shown, "vector", _as_text(pd.DataFrame(frame)),
                      geometry_type=str(info.get("geometry_type") or "") or None, crs=crs,
                      bounds=tuple(float(b) for b in bounds) if bounds is not None else None,
                      encoding=encoding,
                      layer=layer, notes=notes)


def _zip(path: Path) -> FileSample:
    with extracted_zip(path) as tmp:
        found = sorted(p for p in tmp.rglob("*") if p.suffix.lower() in _VECTOR
                       and "__MACOSX" not in p.parts)
        by_stem: dict[str, Path] = {}
        for p in sorted(found, key=lambda p: p.suffix.lower() != ".geojson"):
            by_stem.setdefault(p.stem, p)
        if not by_stem:
            return FileSample(path, "other", error=f"{path.name} の中に Shapefile も GeoJSON も"
                                                   "GeoPackage もありません")
        chosen = next(iter(by_stem.values()))
        sample = _vector(chosen, path)
        if len(by_stem) > 1:
            sample.notes.append(f"zip の中に複数のデータ ({', '.join(sorted(by_stem))}) があり、"
                                f"{chosen.stem} を見ました")
        sample.layer = chosen.stem if len(by_stem) > 1 else None
        return sample


def _json(path: Path) -> FileSample:
    raw = path.read_bytes()
    text = raw.decode(detect_encoding(raw[:100_000]), errors="replace").lstrip("\ufeff")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path.name} は JSON として読めません({exc})") from exc
    if isinstance(data, dict) and data.get("type") in ("FeatureCollection", "Feature"):
        return _vector(path, path)
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data[:100]):
        frame = pd.DataFrame(data[:MAX_ROWS])
        flat = frame.loc[:, [not frame[c].map(lambda v: isinstance(v, dict | list)).any()
                             for c in frame.columns]]
        return FileSample(path, "table", _as_text(flat),
                          notes=["GeoJSON ではなく、行の並んだ JSON (配列)"])
    raise InputError(f"{path.name} は GeoJSON でも行の並んだ JSON でもありません")


def _dbf(path: Path) -> FileSample:
    encoding = cpg_encoding(path) or dbf_encoding(path)
    frame = pyogrio.read_dataframe(path, encoding=encoding, read_geometry=False,
                                   max_features=MAX_ROWS)
    return FileSample(path, "table", _as_text(pd.DataFrame(frame)), encoding=encoding)


def _table(path: Path) -> FileSample:
    encoding = None
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        encoding = detect_encoding(path.read_bytes()[:1_000_000])
    frame = read_table(path, encoding=encoding)
    labels: dict[str, str] = {}
    columns = [str(c) for c in frame.columns]
    if "KEY_CODE" in columns and len(frame) and any(re.fullmatch(r"T\d{9}", c) for c in columns):
        first = frame.iloc[0]  # e-Stat: a second header row of Japanese labels
        labels = {c: unicodedata.normalize("NFKC", str(first[c] or "")).strip() for c in columns}
        frame = frame.iloc[1:]
    return FileSample(path, "table", frame.head(MAX_ROWS), encoding=encoding, labels=labels)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.astype(object).where(frame.notna(), None)
    return out.map(lambda v: v if v is None or isinstance(v, str) else _number_text(v))


def _number_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- telling columns


def _text_values(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column].dropna().astype(str).str.strip()
    return values[values != ""].map(lambda s: unicodedata.normalize("NFKC", s))


def level_by_content(frame: pd.DataFrame) -> tuple[str | None, str | None, float]:
    """The column whose values name districts, and the level they tell.

    Values ending in 中学校(区) tell ``jhs_district``, 小学校(区) ``es_district``, 圏域
    ``living_area``, 地区 / 自治会 / 校区 ``community``. Returns ``(column, level, share)``
    for the best column, or ``(None, None, 0)``.
    """
    best: tuple[str | None, str | None, float] = (None, None, 0.0)
    for column in frame.columns:
        values = _text_values(frame, column)
        if not len(values) or values.str.fullmatch(r"[\d.\-]+").mean() > 0.5:
            continue
        for level, suffixes in _LEVEL_SUFFIXES:
            share = float(values.str.endswith(suffixes).mean())
            if share > best[2] + 1e-9 and share >= 0.6:
                best = (str(column), level, share)
    return best


def name_column(frame: pd.DataFrame) -> str | None:
    """The text column most likely to hold names: mostly text, mostly distinct."""
    best, score = None, 0.0
    for column in frame.columns:
        values = _text_values(frame, column)
        if len(values) < max(1, 0.5 * len(frame)):
            continue
        texty = float(values.str.contains(r"[^\x00-\x7f]").mean())
        if texty < 0.8 or values.str.len().mean() > 40:
            continue
        distinct = values.nunique() / len(values)
        if distinct * texty > score:
            best, score = str(column), distinct * texty
    return best if score >= 0.5 else None


def code_filter(frame: pd.DataFrame, muni_code: str) -> dict | None:
    """How to keep the municipality's rows of a prefecture-wide (or national) table.

    Looks for e-Stat ``KEY_CODE`` (first 5 digits), ``KEN`` + ``CITY``, ``PREF`` + ``CITY``, a
    column named as a 全国地方公共団体コード, or any column of 5–6 digit codes holding the
    municipality's code. Returns ``{"column", "kind", "matched", "total"}`` (``kind``:
    ``prefix`` or ``ken_city``) or ``None`` when no column carries codes.
    """
    code = str(muni_code)[:5]
    columns = {normalise_header(c): str(c) for c in frame.columns}
    total = len(frame)

    def result(column: str, kind: str, keep: pd.Series) -> dict:
        return {"column": column, "kind": kind, "matched": int(keep.sum()), "total": total}

    if "keycode" in columns:
        key = frame[columns["keycode"]].astype(str).str.strip()
        return result(columns["keycode"], "prefix", key.str[:5] == code)
    for pref in ("ken", "pref"):
        if pref in columns and "city" in columns:
            ken = frame[columns[pref]].astype(str).str.strip().str.zfill(2)
            city = frame[columns["city"]].astype(str).str.strip().str.zfill(3)
            if (ken + city).str.fullmatch(r"\d{5}").mean() > 0.9:
                column = f"{columns[pref]}+{columns['city']}"
                return result(column, "ken_city", (ken + city) == code)
    named = [columns[h] for h in map(normalise_header, _CODE_HEADERS) if h in columns]
    others = [str(c) for c in frame.columns if str(c) not in named]
    for column in [*named, *others]:
        values = frame[column].astype(str).str.strip()
        digits = values.str.fullmatch(r"\d{5,6}")
        if digits.mean() < 0.9 or not (values.str[:2] == code[:2]).any():
            continue
        keep = values.str[:5] == code
        if keep.any() or column in named:
            return result(column, "prefix", keep)
    return None


def coordinate_columns(columns: list[str]) -> dict[str, str]:
    """``{"lat": header, "lon": header}``, or ``{"latlon": header}`` for one ``lat,lon`` column."""
    folded = {normalise_header(c): c for c in reversed(columns)}
    found = {}
    for key, aliases in COORDINATE_ALIASES.items():
        header = next((folded[normalise_header(a)] for a in aliases
                       if normalise_header(a) in folded), None)
        if header is not None:
            found[key] = header
    if len(found) == 2:
        return found
    for name in ("location", "位置", "緯度経度", "座標", "latlon", "latlng"):
        if normalise_header(name) in folded:
            return {"latlon": folded[normalise_header(name)]}
    return {}


def population_columns(columns: list[str]) -> dict[str, str]:
    """Headers of the total, 65+ and 75+ population (``pop_total``/``pop_65plus``/``pop_75plus``)."""
    from scgeo.schema import POPULATION

    folded = {normalise_header(c): c for c in reversed(columns)}
    extra = {"pop_total": ("totalpopulation", "人口総数", "総人口", "人口計", "人口(総数)", "人口",
                           "jinko", "総数", "計", "合計"),
             "pop_65plus": ("65歳以上人口", "65歳以上", "高齢者人口", "老年人口", "pop65"),
             "pop_75plus": ("75歳以上人口", "75歳以上", "後期高齢者人口", "pop75")}
    out = {}
    for column in POPULATION.columns:
        if column.name not in extra:
            continue
        for alias in (*column.aliases, *extra[column.name]):
            header = folded.get(normalise_header(alias))
            if header is not None and header not in out.values():
                out[column.name] = header
                break
    return out


def age_band_columns(columns: list[str], labels: dict[str, str] | None = None
                     ) -> dict[str, int]:
    """Headers of 5-year age bands with the first age of each band.

    Recognises ``65～69歳``, ``男65～69歳``, ``100歳以上``, the 自治体標準オープンデータ layout
    ``man1 … man18`` / ``woman1 … woman18`` (band *i* starts at 5(*i*-1); 18 = 85 and over) and
    e-Stat columns by their Japanese ``labels`` (the 総数 section only; 男/女 sections and
    再掲 columns are left out). When a table has bands by sex and also without, only the
    bands without sex are returned (so nobody is counted twice).
    """
    labels = labels or {}
    by_sex: dict[str, int] = {}
    plain: dict[str, int] = {}
    for column in columns:
        if labels:
            text = labels.get(column, "")
            if "再掲" in text or re.match(r"^(男|女)", text):
                continue
            text = re.sub(r"^総数\s*(?=\d)", "", text)
        else:
            text = unicodedata.normalize("NFKC", column).strip().lower().replace(" ", "")
        if m := _STANDARD_BAND.match(text):
            if 1 <= int(m.group(2)) <= 18:
                by_sex[column] = 5 * (int(m.group(2)) - 1)
            continue
        if m := _BAND.match(text):
            target = by_sex if (m.group(1) or m.group(3)) else plain
            target[column] = int(m.group(2))
    chosen = plain or by_sex
    starts = sorted(set(chosen.values()))
    return chosen if len(starts) >= 4 and any(s >= 65 for s in starts) else {}


def numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as numbers (``NaN`` where blank or not a number)."""
    text = frame[column].astype(object).where(frame[column].notna(), None).astype("str")
    return pd.to_numeric(text.str.replace(",", "").str.strip(), errors="coerce").astype(float)


def looks_like_degrees(bounds: tuple[float, float, float, float] | None) -> bool:
    """Whether bounds could be longitudes/latitudes in and around Japan."""
    if bounds is None:
        return False
    x0, y0, x1, y1 = bounds
    return bool(np.all(np.isfinite(bounds))) and 120 <= x0 <= x1 <= 155 and 20 <= y0 <= y1 <= 47


# ---------------------------------------------------------------- reading rows for the importers


def read_rows(path: str | Path, *, sheet: str | int | None = None, encoding: str | None = None,
              layer: str | None = None) -> pd.DataFrame:
    """Any list of rows as text: CSV/TSV/xlsx, a JSON array, a .dbf, or a point layer.

    A point layer (GeoJSON, Shapefile, GeoPackage) gives its attributes plus ``緯度`` / ``経度``
    from the points (EPSG:6668) when it has no coordinate columns of its own. The index is the
    1-based source row.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".dbf", *_VECTOR, ".zip"):  # tables, and the errors for other kinds
        return read_table(path, sheet=sheet, encoding=encoding)
    sample = _json(path) if suffix == ".json" or (suffix == ".geojson" and _starts_with_array(path)) else None
    if sample is not None and sample.kind == "table":
        frame = sample.frame
    elif suffix == ".dbf":
        frame = _dbf(path).frame
    else:
        from scgeo.crs import to_workspace
        from scgeo.io._vector import read_vector

        gdf, _ = read_vector(path, layer=layer, encoding=encoding)
        gdf = to_workspace(gdf, what=path.name)
        frame = _as_text(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
        if not coordinate_columns([str(c) for c in frame.columns]):
            points = gdf.geometry.representative_point()
            frame["緯度"] = points.y.where(~gdf.geometry.is_empty).to_numpy()
            frame["経度"] = points.x.where(~gdf.geometry.is_empty).to_numpy()
    frame = frame.reset_index(drop=True)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="source_row")
    return frame


def filter_rows(frame: pd.DataFrame, spec: dict | None) -> tuple[pd.DataFrame, str | None]:
    """Keep the rows of one municipality (a recipe's ``filter``); returns the rows and a note.

    ``spec``: ``{"column", "kind", "value"}`` with ``kind`` ``prefix`` (the column's first 5
    digits equal the code), ``ken_city`` (``KEN+CITY`` columns joined) or ``name`` (equal text).
    """
    if not spec:
        return frame, None
    column, kind, value = spec.get("column", ""), spec.get("kind", "prefix"), str(spec.get("value", ""))
    if kind == "ken_city":
        ken, _, city = column.partition("+")
        missing = [c for c in (ken, city) if c not in frame]
        if missing:
            raise InputError(f"絞り込みの列 {', '.join(missing)} がありません。")
        key = (frame[ken].astype(str).str.strip().str.zfill(2)
               + frame[city].astype(str).str.strip().str.zfill(3))
        keep = key == value[:5]
    else:
        if column not in frame:
            raise InputError(f"絞り込みの列 {column} がありません。列: {', '.join(map(str, frame.columns))}")
        text = frame[column].astype(str).str.strip()
        keep = (text.map(normalise_header) == normalise_header(value) if kind == "name"
                else text.str[:5] == value[:5])
    if not keep.any():
        raise InputError(f"列 {column} に {value} の行がありません。")
    note = (f"列 {column} が {value} の {int(keep.sum())} 行を使い、ほかの {int((~keep).sum())} 行は"
            "対象外として読み飛ばしました。")
    return frame[keep], note
