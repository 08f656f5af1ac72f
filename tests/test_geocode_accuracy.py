"""Accuracy on real lists no one wrote for us: addresses geocoded offline against published
coordinates (高松市 facility lists with the 町 points of its population table; 出雲市 AED, nurseries
and schools with the Geolonia 町丁目 file; e-Stat 小地域 points of 大牟田市・枚方市・出雲市).

Floors and ceilings are what a gazetteer of 町 / 町丁目 representative points honestly gives:
the rows are placed at the centre of their 町, so the error is the size of a 町 (hundreds of
metres), not of a building. ``benchmarks/geocode_accuracy.py`` prints the full table.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scgeo.geocode import Gazetteer, geocode
from scgeo.geocode.evaluate import distances_m, evaluate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import geocode_accuracy as cases

pytestmark = pytest.mark.skipif(not cases.DATA.is_dir(), reason="shared data (../shared/data) is not available")


def test_distances_agree_with_a_plane_rectangular_projection():
    """GRS80 geodesic vs JGD2011 zone IV (EPSG:6672) over a few km in 高松市: within 0.1 %."""
    from pyproj import Transformer

    lat1, lon1 = np.array([34.34, 34.30, 34.35]), np.array([134.04, 134.10, 133.99])
    lat2, lon2 = lat1 + np.array([0.01, -0.02, 0.003]), lon1 + np.array([0.02, 0.005, -0.01])
    to = Transformer.from_crs(4326, 6672, always_xy=True)
    x1, y1 = to.transform(lon1, lat1)
    x2, y2 = to.transform(lon2, lat2)
    assert distances_m(lat1, lon1, lat2, lon2) == pytest.approx(np.hypot(x2 - x1, y2 - y1), rel=1e-3)


def test_takamatsu_facility_lists():
    table = cases.takamatsu_lists()
    gaz = cases.takamatsu_gazetteer()
    assert gaz.n_places == 235 and len(table) == 147
    found = geocode(table["address"].tolist(), gaz)
    report = evaluate(found, table["lat"], table["lon"])
    assert report["placed_share"] >= 0.97
    assert report["median_m"] <= 400 and report["p90_m"] <= 1500
    assert set(report["levels"]) <= {"大字", "町丁目", "市区町村", "失敗"}
    # the 町 found is the one written in the address: 「高松市番町二丁目3-5」 → 番町２丁目
    row = table.index[table["address"] == "高松市番町二丁目3-5"][0]
    assert found.loc[row, "matched"] == "番町２丁目"


def test_izumo_lists_with_the_geolonia_file():
    table = cases.izumo_lists()
    assert len(table) == 405 and set(table["source"]) == {"AED", "nursery", "elementary", "middle"}
    gaz = Gazetteer.from_file(cases.DATA / "geolonia_addresses" / "島根県_出雲市.json")
    found = geocode(table["address"].tolist(), gaz)
    report = evaluate(found, table["lat"], table["lon"])
    assert report["placed_share"] >= 0.97
    assert report["median_m"] <= 900 and report["p90_m"] <= 2500


@pytest.mark.parametrize(("city", "share", "median_m"), [("大牟田市", 0.99, 50), ("枚方市", 0.98, 50),
                                                         ("出雲市", 0.98, 100)])
def test_estat_small_area_points_against_geolonia(city, share, median_m):
    table = cases.estat_names(city)
    gaz = Gazetteer.from_file(cases.DATA / "geolonia_addresses" / cases.ESTAT[city][1])
    found = geocode(table["address"].tolist(), gaz)
    report = evaluate(found, table["lat"], table["lon"])
    assert report["placed_share"] >= share
    assert report["median_m"] <= median_m


def test_the_import_places_the_takamatsu_lists_as_the_published_positions(tmp_path):
    """Through the importer: coordinates stripped from the xlsx, positions from the 町 points."""
    from scgeo import io

    source = pd.read_excel(cases.DATA / "takamatsu" / "middle_school" / "data.xlsx")
    stripped = source.drop(columns=["latitude", "longitude"]).assign(種別="相談窓口")
    path = tmp_path / "中学校.xlsx"
    stripped.to_excel(path, index=False)
    result = io.read_resources(path, mapping={"category": "種別"}, geocoder=cases.takamatsu_gazetteer())
    assert len(result.accepted) + len(result.unplaced) == len(source) and not len(result.rejected)
    placed = result.accepted.set_index("name")
    truth = source.set_index("name").loc[placed.index]
    dist = distances_m(placed.geometry.y, placed.geometry.x, truth["latitude"], truth["longitude"])
    assert np.median(dist) <= 600
    assert set(placed["match_level"]) <= {"oaza", "chome"}
