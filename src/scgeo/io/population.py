"""Population tables as cities have them, read into one shape: per town block, total and 65+/75+.

A recipe's ``population`` input is one of

- ``estat_age``: the e-Stat 小地域 年齢(5歳階級)別人口 CSV (two header rows), keyed by ``KEY_CODE``;
- ``estat_points``: the e-Stat 小地域 attribute table (``KEY_CODE``, ``JINKO``, ``X_CODE``/``Y_CODE``):
  total population only, and representative points;
- ``age_bands``: a 町丁目 × 5歳階級 table (住民基本台帳 町丁別, e.g. 高松市 ``0066_*.xlsx``: sex ×
  5-year bands), keyed by town name, maybe with a point per town;
- ``plain``: a table of total and/or 65+ / 75+ per town block, keyed by ``KEY_CODE`` or name.

:func:`read_population` returns a :class:`PopulationTable`; 65+ and 75+ stay missing (``NA``)
when the table does not tell them — they are never invented here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo.crs import WORKSPACE_CRS
from scgeo.geocode.normalise import normalise_address
from scgeo.io import _inspect as look

__all__ = ["PopulationTable", "name_key", "read_population"]

_POP = ("pop_total", "pop_65plus", "pop_75plus")


@dataclass
class PopulationTable:
    """Rows of a population table in one shape.

    ``frame``: indexed by the 1-based source row, with ``key`` (``KEY_CODE`` or normalised town
    name, see ``key_kind``), ``name``, ``pop_total``, ``pop_65plus``, ``pop_75plus`` (nullable
    integers) and, when the table has them, ``lat`` / ``lon``.
    """

    frame: pd.DataFrame
    key_kind: str  # "code" or "name"
    has_ages: bool
    messages: list[str] = field(default_factory=list)
    rows: int = 0
    point_rows: pd.DataFrame | None = None

    def points(self) -> gpd.GeoDataFrame | None:
        """The representative points in EPSG:6668 (several per key for multi-part areas), or ``None``."""
        frame = self.point_rows if self.point_rows is not None else self.frame
        if "lat" not in frame:
            return None
        frame = frame[frame["lat"].notna() & frame["lon"].notna() & frame["key"].notna()]
        return gpd.GeoDataFrame(frame[["key", "name"]].reset_index(drop=True),
                                geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                                crs=WORKSPACE_CRS)


def name_key(names: pd.Series) -> pd.Series:
    """Town names folded for joining (NFKC, 丁目 numerals, spaces): ``塩上町１丁目`` = ``塩上町一丁目``."""
    return names.map(lambda v: normalise_address(str(v)) if isinstance(v, str) and v.strip() else None)


def read_population(path: str | Path, *, options: dict, muni_code: str | None = None
                    ) -> PopulationTable:
    """Read a population input of a recipe (``options``: the recipe entry without path/role)."""
    path = Path(path)
    kind = options.get("format", "plain")
    if kind == "estat_age":
        from scgeo.io.estat import read_estat_age_table

        ages, messages = read_estat_age_table(path, encoding=options.get("encoding"))
        if muni_code:
            ages = ages[ages.index.str[:5] == str(muni_code)[:5]]
        frame = pd.DataFrame({"key": ages.index.to_numpy(), "name": ages["name"].to_numpy(),
                              **{c: ages[c].to_numpy() for c in _POP}})
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="source_row")
        return PopulationTable(_ints(frame), "code", True, messages, len(frame))
    raw = look.read_rows(path, sheet=options.get("sheet"), encoding=options.get("encoding"))
    raw, note = look.filter_rows(raw, options.get("filter"))
    messages = [note] if note else []
    if kind == "estat_points":
        return _estat_points(raw, messages)
    if kind in ("age_bands", "plain"):
        return _town_table(raw, options, kind, messages, path)
    raise InputError(f"人口の表の format「{kind}」は使えません(estat_age, estat_points, age_bands, plain)。")


def _estat_points(raw: pd.DataFrame, messages: list[str]) -> PopulationTable:
    from scgeo.io.estat import WATER_HCODE

    if "HCODE" in raw:
        water = look.numbers(raw, "HCODE") == WATER_HCODE
        if water.any():
            messages.append(f"水面 (HCODE 8154) の行 {int(water.sum())} 件を除きました。")
        raw = raw[~water]
    name = next((c for c in ("MOJI", "S_NAME") if c in raw), "KEY_CODE")
    frame = pd.DataFrame({"key": raw["KEY_CODE"].astype(str).str.strip(), "name": raw[name],
                          "pop_total": look.numbers(raw, "JINKO") if "JINKO" in raw else np.nan,
                          "pop_65plus": np.nan, "pop_75plus": np.nan,
                          "lat": look.numbers(raw, "Y_CODE"), "lon": look.numbers(raw, "X_CODE")},
                         index=raw.index)
    points = frame[["key", "name", "lat", "lon"]].copy()
    parts = frame["key"].duplicated(keep=False)
    if parts.any():  # one row per boundary part: add the people, keep the first point
        totals = frame.groupby("key")["pop_total"].sum(min_count=1)
        frame = frame[~frame["key"].duplicated()].copy()
        frame["pop_total"] = frame["key"].map(totals)
        messages.append(f"同じ KEY_CODE の行 {int(parts.sum())} 件を小地域ごとにまとめました。")
    messages.append("年齢別の人口がない表です(総人口 JINKO のみ)。")
    return PopulationTable(_ints(frame), "code", False, messages, len(frame), points)


def _town_table(raw: pd.DataFrame, options: dict, kind: str, messages: list[str],
                path: Path) -> PopulationTable:
    columns = [str(c) for c in raw.columns]
    named = dict(options.get("columns", {}))
    named = named or look.population_columns(columns)
    key_column = next((c for c in columns if c.upper() == "KEY_CODE"), None)
    name_column = options.get("name_column") or key_column
    if name_column is None or name_column not in raw:
        raise InputError(f"{path.name} に町丁目の名前の列がありません。レシピに name_column を書いてください。")
    frame = pd.DataFrame({"key": raw[key_column].astype(str).str.strip() if key_column
                          else name_key(raw[name_column]), "name": raw[name_column]}, index=raw.index)
    for col in _POP:
        frame[col] = look.numbers(raw, named[col]) if named.get(col) in raw else np.nan
    has_ages = frame["pop_65plus"].notna().any()
    if kind == "age_bands":
        bands = look.age_band_columns(options.get("age_columns") or columns)
        if not bands:
            raise InputError(f"{path.name} に5歳階級の人口の列(65～69歳 … / man1 … man18)が見つかりません。")
        values = pd.DataFrame({c: look.numbers(raw, c) for c in bands}, index=raw.index)
        starts = pd.Series(bands)
        frame["pop_65plus"] = values[starts.index[starts >= 65]].sum(axis=1, min_count=1)
        frame["pop_75plus"] = values[starts.index[starts >= 75]].sum(axis=1, min_count=1)
        if frame["pop_total"].isna().all():
            frame["pop_total"] = values.sum(axis=1, min_count=1)
        has_ages = True
        messages.append(f"5歳階級の {len(bands)} 列から 65歳以上・75歳以上の人口を合計しました"
                        f"(65歳以上: {', '.join(sorted(starts.index[starts >= 65])[:6])} …)。")
    points = options.get("points")
    if isinstance(points, dict) and points:
        lat, lon = _points(raw, points)
        frame["lat"], frame["lon"] = lat, lon
    missing = frame["key"].isna()
    if missing.any():
        messages.append(f"町丁目の名前が空の行 {int(missing.sum())} 件は使いません。")
    return PopulationTable(_ints(frame), "code" if key_column else "name", has_ages, messages, len(frame))


def _points(raw: pd.DataFrame, spec: dict) -> tuple[pd.Series, pd.Series]:
    if "latlon" in spec:
        parts = raw[spec["latlon"]].astype(str).str.split(r"[,\s、]+", n=1, expand=True, regex=True)
        lat = pd.to_numeric(parts[0], errors="coerce")
        lon = pd.to_numeric(parts[1], errors="coerce") if 1 in parts else pd.Series(np.nan, index=raw.index)
        return lat.astype(float), lon.astype(float)
    return look.numbers(raw, spec["lat"]), look.numbers(raw, spec["lon"])


def _ints(frame: pd.DataFrame) -> pd.DataFrame:
    for col in _POP:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").round().astype("Int64")
    return frame
