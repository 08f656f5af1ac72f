"""The venues layer (活動の場): kinds from text or names, import, storage apart from resources."""

from pathlib import Path

import pytest

from scgeo import Workspace
from scgeo.cli import main
from scgeo.io import read_venues
from scgeo.schema import VENUE_KINDS, VENUES, resolve_venue_kind

TAKAMATSU = Path(__file__).resolve().parents[2] / "shared" / "data" / "takamatsu"


def test_layer_contract():
    assert VENUES.name == "venues" and VENUES.label == "活動の場(会場)"
    assert VENUES.geometry == "Point" and VENUES.id_column == "venue_id"
    assert VENUES.names == ["venue_id", "name", "kind", "address", "capacity", "opening_hours",
                            "contact", "area_id", "notes", "source"]
    assert [c.name for c in VENUES.columns if c.required] == ["venue_id", "name"]


@pytest.mark.parametrize(("texts", "kind"), [
    (("公民館",), "kominkan"), ((None, "西部地区公民館"), "kominkan"),
    (("", "北地区老人福祉センター"), "fukushi_kaikan"), (("福祉会館",), "fukushi_kaikan"),
    ((None, "一宮コミュニティセンター"), "koryu_center"), ((None, "東町集会所"), "shukaijo"),
    (("shukaijo",), "shukaijo"), ((None, "市立体育館"), "other"), ((None, None), "other"),
])
def test_kind_from_text(texts, kind):
    assert resolve_venue_kind(*texts) == kind
    assert kind in VENUE_KINDS


def test_import_into_workspace(tmp_path):
    csv = tmp_path / "venues.csv"
    csv.write_text("会場名,種別,緯度,経度,収容人数,利用時間\n"
                   "中央公民館,,35.1,133.2,80,9:00-21:00\n"
                   "東町集会所,集会所,35.11,133.21,30人,\n"
                   "座標なし会館,,,,,\n", encoding="cp932")
    accepted, rejected = read_venues(csv)
    assert accepted["kind"].tolist() == ["kominkan", "shukaijo"]
    assert accepted["capacity"].tolist() == [80, 30]
    assert accepted["source"].tolist() == ["venues.csv", "venues.csv"]
    assert rejected["source_row"].tolist() == [3]
    ws = Workspace.create(tmp_path / "ws.gpkg", muni_code="99201")
    assert ws.read("venues").empty and ws.ids("venues") == set()
    assert main(["import", str(ws.path), str(csv), "--layer", "venues"]) == 0
    assert ws.count("venues") == 2 and ws.count("resources") == 0
    assert set(ws.read("venues")["name"]) == {"中央公民館", "東町集会所"}


@pytest.mark.skipif(not TAKAMATSU.is_dir(), reason="../shared/data absent")
def test_takamatsu_community_centres():
    accepted, rejected = read_venues(TAKAMATSU / "community_center" / "data.xlsx")
    assert len(accepted) + len(rejected) >= 40
    assert len(accepted) >= 40
    assert (accepted["kind"] == "koryu_center").mean() > 0.8
