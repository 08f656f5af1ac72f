"""Geocoding accuracy on real lists that publish both addresses and coordinates.

The coordinates are set aside, the addresses geocoded offline with a gazetteer of 町 / 町丁目
representative points, and the result compared with the published positions:

- 高松市: six facility lists (community centres, welfare facilities, schools, 包括 …) against a
  gazetteer built from the 町 points of ``population/0066_202602.xlsx`` (235 町);
- 出雲市: AED sites, nurseries, elementary and middle schools against the Geolonia 町丁目 file;
- 大牟田市 / 枚方市 / 出雲市: the e-Stat 小地域 names with their representative points
  (``X_CODE``/``Y_CODE``) against the Geolonia file of the same city (two sources of 町丁目
  points compared with each other).

Run: ``.venv/bin/python benchmarks/geocode_accuracy.py`` (needs ``../shared/data``). The tests
(``tests/test_geocode_accuracy.py``) assert floors and ceilings on the same figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from scgeo.geocode import Gazetteer, geocode
from scgeo.geocode.evaluate import evaluate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TAKAMATSU_LISTS = ("community_center", "elderly_welfare_center", "elderly_welfare_facility",
                   "middle_school", "nursing_home", "regional_comprehensive_support_center")
ESTAT = {"大牟田市": ("omuta_40202.csv", "福岡県_大牟田市.json"),
         "枚方市": ("hirakata_27210.csv", "大阪府_枚方市.json"),
         "出雲市": ("izumo_32203.csv", "島根県_出雲市.json")}


def takamatsu_gazetteer() -> Gazetteer:
    """高松市's 町 points (``location`` = ``lat,lon``) from the 町丁別人口 table."""
    table = pd.read_excel(DATA / "takamatsu" / "population" / "0066_202602.xlsx")
    lat, lon = table["location"].str.split(",", expand=True).astype(float).T.to_numpy()
    return Gazetteer(pd.DataFrame({"city": table["cityName"], "town": table["regionName"],
                                   "lat": lat, "lon": lon}))


def takamatsu_lists() -> pd.DataFrame:
    """The facility lists: ``source, name, address, lat, lon``."""
    frames = []
    for name in TAKAMATSU_LISTS:
        table = pd.read_excel(DATA / "takamatsu" / name / "data.xlsx")
        frames.append(pd.DataFrame({"source": name, "name": table["name"], "address": table["address"],
                                    "lat": table["latitude"], "lon": table["longitude"]}))
    return pd.concat(frames, ignore_index=True)


def _features(path: Path) -> pd.DataFrame:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    return pd.DataFrame([f["properties"] for f in data["features"]])


def izumo_lists() -> pd.DataFrame:
    """出雲市's lists with addresses and points: AED (出雲市 rows), nurseries, schools."""
    folder = DATA / "izumo"
    aed = pd.DataFrame(json.loads((folder / "shimane_AED.geojson").read_text(encoding="utf-8-sig")))
    aed = aed[aed["City"] == "出雲市"]
    nursery = _features(folder / "nurseryFacilities.geojson")
    elementary = _features(folder / "Elementary_loc.geojson")
    middle = _features(folder / "MiddleSchool_loc.geojson")
    return pd.concat([
        pd.DataFrame({"source": "AED", "name": aed["LocationName"], "address": aed["City"] + aed["AddressArea"],
                      "lat": aed["Latitude"], "lon": aed["Longitude"]}),
        pd.DataFrame({"source": "nursery", "name": nursery["Name"], "address": nursery["Add1"] + nursery["Add2"],
                      "lat": nursery["Y"], "lon": nursery["X"]}),
        pd.DataFrame({"source": "elementary", "name": elementary["A27_007"], "address": elementary["A27_008"],
                      "lat": elementary["y"], "lon": elementary["x"]}),
        pd.DataFrame({"source": "middle", "name": middle["A32_003"], "address": middle["address"],
                      "lat": middle["y"], "lon": middle["x"]}),
    ], ignore_index=True)


def estat_names(city: str) -> pd.DataFrame:
    """e-Stat 小地域 names of ``city`` with their representative points (water areas left out)."""
    table = pd.read_csv(DATA / "estat_chome2015" / "subsets" / ESTAT[city][0], dtype=str)
    table = table[(table["HCODE"] == "8101") & table["MOJI"].notna()]
    return pd.DataFrame({"source": "e-Stat 小地域", "name": table["MOJI"],
                         "address": table["GST_NAME"] + table["MOJI"],
                         "lat": table["Y_CODE"].astype(float), "lon": table["X_CODE"].astype(float)})


def run() -> list[dict]:
    """Every case as ``{case, gazetteer, n, placed_share, levels, median_m, p90_m …}``."""
    cases = [("高松市 施設一覧 6種", takamatsu_gazetteer(), takamatsu_lists(), "0066_202602.xlsx の町 235 点")]
    izumo = Gazetteer.from_file(DATA / "geolonia_addresses" / "島根県_出雲市.json")
    cases.append(("出雲市 AED・保育所・小中学校", izumo, izumo_lists(), "Geolonia 出雲市 224 点"))
    for city, (_, gazetteer) in ESTAT.items():
        gaz = Gazetteer.from_file(DATA / "geolonia_addresses" / gazetteer)
        cases.append((f"{city} e-Stat 小地域の代表点", gaz, estat_names(city), f"Geolonia {city}"))
    rows = []
    for case, gaz, table, source in cases:
        found = geocode(table["address"].tolist(), gaz)
        rows.append({"case": case, "gazetteer": source, **evaluate(found, table["lat"], table["lon"])})
    return rows


def main() -> int:
    if not DATA.is_dir():
        print(f"{DATA} がありません", file=sys.stderr)
        return 1
    print(f"{'case':<28} {'n':>4} {'placed':>7} {'median m':>9} {'p90 m':>8} {'≤500 m':>7}  levels")
    for r in run():
        levels = ", ".join(f"{k} {v}" for k, v in r["levels"].items())
        print(f"{r['case']:<28} {r['n']:>4} {r['placed_share']:>7.1%} {r['median_m']:>9.0f} "
              f"{r['p90_m']:>8.0f} {r['within_500m_share']:>7.1%}  {levels}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
