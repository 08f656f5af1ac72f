"""地域メッシュ (JIS X 0410) population: mesh polygons and areal interpolation onto areas.

Mesh codes of 8 (1 km, 3次メッシュ), 9 (500 m), 10 (250 m) or 11 digits (125 m) are turned
into polygons with ``jismesh`` (vectorised over arrays). Population by mesh is moved onto any
area layer by area weighting in a metric CRS: each mesh gives every area the share of its
population equal to the share of its surface lying in that area, so totals are conserved
wherever the areas cover the meshes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo._errors import InputError
from scgeo._text import normalise_header
from scgeo.crs import WORKSPACE_CRS, to_metric
from scgeo.io._encoding import detect_encoding
from scgeo.io._tables import _read_csv, read_table

__all__ = ["MESH_LEVELS", "interpolate_population", "mesh_polygons", "read_mesh_population",
           "round_preserving_total"]

# digits of a mesh code → (jismesh level, size label)
MESH_LEVELS = {8: (3, "1km"), 9: (4, "500m"), 10: (5, "250m"), 11: (6, "125m")}
POPULATION_COLUMNS = ("pop_total", "pop_65plus", "pop_75plus")
_PATTERNS = {
    "mesh_code": re.compile(r"^(key_?code|メッシュコード|meshcode|mesh_code|mesh)$"),
    "pop_total": re.compile(r"^(pop_total|人口\(?総数\)?|総人口|人口総数|人口)$"),
    "pop_65plus": re.compile(r"^(pop_65plus|65歳以上人口(総数)?|65歳以上)$"),
    "pop_75plus": re.compile(r"^(pop_75plus|75歳以上人口(総数)?|75歳以上)$"),
}


def mesh_polygons(codes: Sequence[str | int]) -> gpd.GeoSeries:
    """The polygons (EPSG:6668) of JIS X 0410 mesh codes, vectorised.

    Examples
    --------
    >>> g = mesh_polygons(["53393599"])
    >>> [round(float(v), 6) for v in g.total_bounds]
    [139.7375, 35.658333, 139.75, 35.666667]
    """
    import jismesh.utils as ju

    text = pd.Series(codes, dtype=object).astype(str).str.strip()
    lengths = text.str.len()
    bad = ~text.str.fullmatch(r"\d+") | ~lengths.isin(list(MESH_LEVELS))
    if bad.any():
        raise InputError(f"メッシュコード {', '.join(text[bad][:5])} は地域メッシュのコード "
                         "(1km: 8桁、500m: 9桁、250m: 10桁、125m: 11桁) ではありません。")
    values = text.astype(np.int64).to_numpy()
    if len(values) == 0:
        return gpd.GeoSeries([], crs=WORKSPACE_CRS)
    # jismesh calls the removed np.asscalar on arrays of one element: pad, then drop the pad
    padded = np.r_[values, values[:1]] if len(values) == 1 else values
    lat0, lon0 = ju.to_meshpoint(padded, 0, 0)
    lat1, lon1 = ju.to_meshpoint(padded, 1, 1)
    boxes = shapely.box(lon0, lat0, lon1, lat1)[: len(values)]
    return gpd.GeoSeries(boxes, crs=WORKSPACE_CRS)


def _label_headers(path: Path) -> pd.DataFrame:
    """A mesh CSV with either one header row or e-Stat's two (codes, then Japanese labels)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_table(path)
    grid = _read_csv(path, detect_encoding(path.read_bytes()[:1_000_000]), sep=",")
    first = grid.iloc[0].astype(str).tolist()
    if "KEY_CODE" in first and len(grid) > 1 and grid.iloc[1, 0] in (None, ""):
        labels = [lab if isinstance(lab, str) and lab else code
                  for code, lab in zip(first, grid.iloc[1], strict=True)]
        return grid.iloc[2:].set_axis(labels, axis=1).reset_index(drop=True)
    return grid.iloc[1:].set_axis(first, axis=1).reset_index(drop=True)


def read_mesh_population(path: str | Path) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read mesh population (地域メッシュ統計 CSV or any table of mesh code + population).

    Headers recognised (after NFKC, without spaces): ``KEY_CODE`` / ``メッシュコード``;
    ``人口（総数）`` / ``総人口`` / ``pop_total``; ``65歳以上人口 総数`` / ``pop_65plus``;
    ``75歳以上人口 総数`` / ``pop_75plus``. e-Stat's second header row of labels is used
    when present. Secret cells (``*``, ``X``) and ``-`` count as 0 (noted).

    Returns
    -------
    tuple
        GeoDataFrame (EPSG:6668) with ``mesh_code``, the population columns found and mesh
        polygons; notes for the user.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"ファイル {path} が見つかりません。")
    table = _label_headers(path)
    found: dict[str, str] = {}
    for header in table.columns:
        key = normalise_header(unicodedata.normalize("NFKC", str(header)))
        for name, pattern in _PATTERNS.items():
            if name not in found and pattern.match(key):
                found[name] = header
    if "mesh_code" not in found or "pop_total" not in found:
        raise InputError(f"{path.name} にメッシュコードと人口総数の列が見つかりません。"
                         f"見出し: {', '.join(map(str, table.columns[:12]))}")
    messages: list[str] = []
    out = pd.DataFrame({"mesh_code": table[found["mesh_code"]].astype(str).str.strip()})
    for name in POPULATION_COLUMNS:
        if name in found:
            raw = table[found[name]].astype(str).str.strip().str.replace(",", "")
            secret = raw.isin(["*", "X", "x", "-", "…"])
            if secret.any():
                messages.append(f"{found[name]} の秘匿・該当なしのセル {int(secret.sum())} 件を 0 としました。")
            out[name] = pd.to_numeric(raw.mask(secret, "0"), errors="coerce").fillna(0)
    levels = out["mesh_code"].str.len().map(lambda n: MESH_LEVELS.get(n, (0, "?"))[1])
    messages.append(f"{path.name}: {len(out)} メッシュ ({', '.join(sorted(set(levels)))})。")
    return gpd.GeoDataFrame(out, geometry=mesh_polygons(out["mesh_code"]).values,
                            crs=WORKSPACE_CRS), messages


def interpolate_population(meshes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
                           columns: Sequence[str] = POPULATION_COLUMNS,
                           muni_code: str | None = None) -> pd.DataFrame:
    """Area-weighted interpolation of mesh values onto areas (totals conserved).

    Parameters
    ----------
    meshes
        Polygons with the value columns (e.g. from :func:`read_mesh_population`).
    areas
        Target polygons (town blocks, districts …); they should not overlap.
    columns
        Value columns of ``meshes`` to move (those absent are skipped).
    muni_code
        Chooses the plane-rectangular zone of the metric CRS (else UTM by longitude).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``areas``: the estimated values (floats) and ``mesh_share``, the share of
        the area covered by meshes (1.0 = fully covered).
    """
    columns = [c for c in columns if c in meshes]
    mesh_m = to_metric(meshes, muni_code=muni_code)
    area_m = to_metric(areas, crs=mesh_m.crs)
    m_geoms, a_geoms = mesh_m.geometry.to_numpy(), area_m.geometry.to_numpy()
    tree = shapely.STRtree(a_geoms)
    left, right = tree.query(m_geoms, predicate="intersects")
    pieces = shapely.area(shapely.intersection(m_geoms[left], a_geoms[right]))
    share = pieces / shapely.area(m_geoms[left])
    out = pd.DataFrame(index=areas.index)
    for col in columns:
        values = mesh_m[col].to_numpy(dtype=float)[left] * share
        out[col] = np.bincount(right, weights=values, minlength=len(areas))
    covered = np.bincount(right, weights=pieces, minlength=len(areas))
    out["mesh_share"] = covered / np.maximum(shapely.area(a_geoms), 1e-9)
    return out


def round_preserving_total(values: pd.Series) -> pd.Series:
    """Round to integers so that the sum equals the rounded sum (largest remainder).

    Examples
    --------
    >>> round_preserving_total(pd.Series([0.4, 0.4, 0.2])).tolist()
    [1, 0, 0]
    """
    floor = np.floor(values.to_numpy(dtype=float))
    remainder = values.to_numpy(dtype=float) - floor
    missing = round(float(values.sum() - floor.sum()))
    order = np.argsort(-remainder, kind="stable")[:missing]
    floor[order] += 1
    return pd.Series(floor.astype(int), index=values.index, name=values.name)
