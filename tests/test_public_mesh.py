"""地域メッシュ population: polygons from codes, reading tables, areal interpolation."""

from pathlib import Path

import geopandas as gpd
import jismesh.utils as ju
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from scgeo import InputError
from scgeo.crs import to_metric
from scgeo.io.mesh import (
    interpolate_population,
    mesh_polygons,
    read_mesh_population,
    round_preserving_total,
)

# 1 km meshes over 出雲市 (first-order mesh 5332)
CENTRE = (35.367, 132.755)


def _codes(level: int, n: int = 3) -> list[str]:
    base_lat, base_lon = CENTRE
    step = {3: (30 / 3600, 45 / 3600), 4: (15 / 3600, 22.5 / 3600), 5: (7.5 / 3600, 11.25 / 3600)}[level]
    lats = base_lat + step[0] * np.arange(n)
    lons = base_lon + step[1] * np.arange(n)
    grid = np.array(np.meshgrid(lats, lons)).reshape(2, -1)
    return sorted({str(c) for c in ju.to_meshcode(grid[0], grid[1], level)})


@pytest.mark.parametrize("level,digits,size_m", [(3, 8, 1000), (4, 9, 500), (5, 10, 250)])
def test_mesh_polygons_sizes(level, digits, size_m):
    codes = _codes(level)
    assert all(len(c) == digits for c in codes)
    polys = gpd.GeoDataFrame(geometry=mesh_polygons(codes))
    metric = to_metric(polys, muni_code="32203")
    side = np.sqrt(metric.area.to_numpy())
    assert np.allclose(side, size_m, rtol=0.15)  # a mesh is about its nominal size
    # each polygon contains the point the code was computed from (its own centre)
    lat, lon = ju.to_meshpoint(np.array(codes, dtype=np.int64), 0.5, 0.5)
    assert shapely.contains_xy(polys.geometry.to_numpy(), lon, lat).all()
    # neighbouring meshes tile without overlap
    assert metric.union_all().area == pytest.approx(metric.area.sum(), rel=1e-9)


def test_bad_codes_are_rejected():
    with pytest.raises(InputError, match="メッシュコード"):
        mesh_polygons(["1234", "abcdefgh"])


def _estat_mesh_csv(path: Path, codes: list[str], values: list[tuple]) -> None:
    header = "KEY_CODE,HTKSYORI,HTKSAKI,GASSAN,T001142001,T001142002,T001142003,T001142004"
    labels = ",,,,人口（総数）,０～１４歳人口　総数,６５歳以上人口　総数,７５歳以上人口　総数"
    rows = [f"{c},0,,,{t},{y},{o},{v}" for c, (t, y, o, v) in zip(codes, values, strict=True)]
    path.write_bytes("\n".join([header, labels, *rows]).encode("cp932"))


def test_read_estat_mesh_table_with_secret_cells(tmp_path):
    codes = _codes(3, 2)
    path = tmp_path / "tblT001142Q5332.txt.csv"
    values = [(100, 10, 30, 12), (50, 5, "*", "*"), (0, "-", "-", "-"), (7, 1, 2, 1)][: len(codes)]
    _estat_mesh_csv(path, codes, values)
    meshes, messages = read_mesh_population(path)
    assert list(meshes["mesh_code"]) == codes
    assert meshes["pop_total"].tolist() == [v[0] for v in values]
    assert meshes["pop_65plus"].iloc[0] == 30 and meshes["pop_75plus"].iloc[0] == 12
    assert any("0 としました" in m for m in messages)


def test_interpolation_exact_on_halves():
    code = _codes(3, 2)[0]
    mesh = gpd.GeoDataFrame({"pop_total": [100.0], "pop_65plus": [40.0]},
                            geometry=mesh_polygons([code]).values, crs=6668)
    x0, y0, x1, y1 = mesh.total_bounds
    xm = (x0 + x1) / 2
    halves = gpd.GeoDataFrame({"name": ["west", "east", "outside"]},
                              geometry=[shapely.box(x0, y0, xm, y1), shapely.box(xm, y0, x1, y1),
                                        shapely.box(x1 + 0.01, y0, x1 + 0.02, y1)], crs=6668)
    out = interpolate_population(mesh, halves, muni_code="32203")
    # the halves' edges are straight in degrees, the mesh's in metres: 1e-5 apart
    assert out["pop_total"].tolist() == pytest.approx([50, 50, 0], abs=0.01)
    assert out["pop_65plus"].sum() == pytest.approx(40, rel=1e-4)
    assert out["mesh_share"].tolist() == pytest.approx([1, 1, 0], abs=1e-4)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_areas=st.integers(1, 25), level=st.sampled_from([3, 4, 5]))
def test_totals_conserved_on_random_partitions(seed, n_areas, level):
    rng = np.random.default_rng(seed)
    codes = _codes(level, 4)
    meshes = gpd.GeoDataFrame({"pop_total": rng.integers(0, 500, len(codes)).astype(float),
                               "pop_65plus": rng.integers(0, 200, len(codes)).astype(float)},
                              geometry=mesh_polygons(codes).values, crs=6668)
    x0, y0, x1, y1 = meshes.total_bounds
    frame = shapely.box(x0 - 0.001, y0 - 0.001, x1 + 0.001, y1 + 0.001)
    points = shapely.points(rng.uniform(x0, x1, n_areas + 2), rng.uniform(y0, y1, n_areas + 2))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(points), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    areas = gpd.GeoDataFrame(geometry=cells, crs=6668)
    out = interpolate_population(meshes, areas, muni_code="32203")
    assert out["pop_total"].sum() == pytest.approx(meshes["pop_total"].sum(), rel=1e-9, abs=1e-6)
    assert out["pop_65plus"].sum() == pytest.approx(meshes["pop_65plus"].sum(), rel=1e-9, abs=1e-6)
    assert (out[["pop_total", "pop_65plus"]] >= 0).all().all()
    rounded = round_preserving_total(out["pop_total"])
    assert rounded.sum() == round(meshes["pop_total"].sum())


def test_round_preserving_total():
    values = pd.Series([1.2, 2.5, 3.3, 0.0])
    assert round_preserving_total(values).tolist() == [1, 3, 3, 0]


def test_single_and_empty_code_lists():
    assert len(mesh_polygons(["53393599"])) == 1  # jismesh alone fails on one code
    assert len(mesh_polygons([])) == 0
