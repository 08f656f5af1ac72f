"""The confirmations layer: derived last_confirmed, findings, flags, migration, refresh imports."""

import datetime as dt
import sqlite3

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from scgeo import InputError, Workspace, validate
from scgeo.analysis.freshness import freshness


def _resources(n, source="さくら市社協 サロン一覧", dates=None):
    frame = gpd.GeoDataFrame(
        {"resource_id": [f"R{i}" for i in range(n)], "name": [f"サロン{i}" for i in range(n)], "category": "サロン",
         "provider_type": "自治会", "source": source,
         "last_confirmed": dates or ["2026-01-10"] * n},
        geometry=[shapely.Point(141 + i / 1000, 35) for i in range(n)], crs=6668)
    return validate(frame, "resources")


@pytest.fixture
def ws(tmp_path):
    ws = Workspace.create(tmp_path / "c.gpkg", muni_code="99201")
    ws.import_result("resources", _resources(3), source="salons.csv")
    return ws


def test_import_dates_become_confirmations(ws):
    conf = ws.confirmations()
    assert conf["resource_id"].tolist() == ["R0", "R1", "R2"]
    assert set(conf["method"]) == {"prior_record"} and set(conf["found"]) == {"unchanged"}
    assert set(conf["source"]) == {"salons.csv"}


def test_confirming_updates_state_and_history(ws):
    ws.record_confirmations([
        {"resource_id": "R0", "confirmed_on": "2026-11-20", "method": "電話", "found": "変わりなし",
         "confirmed_by": "山田"},
        {"resource_id": "R1", "confirmed_on": "2026-11-21", "method": "書面", "found": "廃止"},
        {"resource_id": "R2", "confirmed_on": "2026-11-22", "method": "訪問", "found": "内容変更"},
    ], corrections={"R2": {"schedule": "毎月第2水曜 10:00-12:00"}}, user="山田", source="返送 2026-11")
    res = ws.read("resources").set_index("resource_id")
    assert res.loc["R0", "last_confirmed"] == pd.Timestamp("2026-11-20")
    assert res.loc["R1", "status"] == "closed" and res.loc["R2", "schedule"] == "毎月第2水曜 10:00-12:00"
    edits = ws.edits()
    confirm = edits[edits["action"] == "confirm"]
    assert confirm["feature_id"].tolist() == ["R0", "R1", "R2"]
    assert confirm["note"].tolist() == ["電話 / 変わりなし", "書面 / 廃止", "訪問 / 内容変更"]
    assert confirm.iloc[0]["old_value"] == "2026-01-10" and confirm.iloc[0]["new_value"] == "2026-11-20"
    fields = set(edits.loc[edits["action"] == "update", "field"])
    assert fields == {"status", "schedule"}
    states = freshness(ws.read("resources"), today=dt.date(2026, 12, 1))
    assert states["state"].tolist() == ["confirmed", "confirmed", "confirmed"]
    assert len(ws.confirmations()) == 6


def test_unreachable_confirms_nothing_and_flags(ws):
    ws.confirm_resource("R0", on=dt.date(2026, 11, 1), method="電話", found="連絡つかず", user="山田")
    res = ws.read("resources").set_index("resource_id")
    assert res.loc["R0", "last_confirmed"] == pd.Timestamp("2026-01-10")
    flags = ws.review_flags()
    assert flags["reason"].tolist() == ["unreachable"] and flags["resolved_on"].isna().all()
    assert freshness(ws.read("resources"), today=dt.date(2026, 11, 2), flags=flags)["state"].iloc[0] == "needs_review"
    ws.confirm_resource("R0", on=dt.date(2026, 11, 5), method="visit")
    flags = ws.review_flags()
    assert flags["resolved_on"].tolist() == [pd.Timestamp("2026-11-05")]
    assert freshness(ws.read("resources"), today=dt.date(2026, 11, 6), flags=flags)["state"].iloc[0] == "confirmed"


def test_bad_confirmations_change_nothing(ws):
    before = ws.path.read_bytes()
    with pytest.raises(InputError, match="確認方法「メール」"):
        ws.confirm_resource("R0", method="メール")
    with pytest.raises(InputError, match="R9"):
        ws.confirm_resource("R9")
    with pytest.raises(InputError, match="確認日"):
        ws.record_confirmations([{"resource_id": "R0", "confirmed_on": "きのう", "method": "電話",
                                  "found": "変わりなし"}])
    with pytest.raises(InputError, match="最終確認日は確認の記録から"):
        ws.update_feature("resources", "R0", {"last_confirmed": "2026-11-01"})
    assert ws.path.read_bytes() == before


def test_older_workspace_migrates_its_dates(ws):
    with sqlite3.connect(ws.path) as con:  # a workspace written before the confirmations layer existed
        con.execute("DROP TABLE confirmations")
        con.execute("DELETE FROM gpkg_contents WHERE table_name = 'confirmations'")
    assert "confirmations" not in ws.layer_names()
    conf = ws.confirmations()
    assert conf["method"].unique().tolist() == ["prior_record"] and len(conf) == 3
    ws.confirm_resource("R1", on=dt.date(2026, 11, 3))
    stored = ws.read("confirmations")
    assert len(stored) == 4 and stored["source"].iloc[0] == "旧版の最終確認日から移行"
    res = ws.read("resources").set_index("resource_id")
    assert res["last_confirmed"].tolist() == [pd.Timestamp("2026-01-10"), pd.Timestamp("2026-11-03"),
                                              pd.Timestamp("2026-01-10")]


def test_refresh_flags_what_the_official_list_no_longer_holds(tmp_path):
    ws = Workspace.create(tmp_path / "r.gpkg", muni_code="99201")
    ws.import_result("resources", _resources(2, source="介護サービス情報公表システム(2026年9月)"),
                     source="kaigo_09.csv")
    ws.add_feature("resources", {"resource_id": "S1", "name": "手づくりサロン", "category": "salon",
                                 "geometry": shapely.Point(141.01, 35.0)})
    newer = _resources(1, source="介護サービス情報公表システム(2026年10月)", dates=["2026-10-01"])
    ws.import_result("resources", newer, mode="refresh", list_name="介護サービス情報公表", source="kaigo_10.csv")
    flags = ws.review_flags()
    assert flags["resource_id"].tolist() == ["R1"] and flags["reason"].tolist() == ["missing_from_source"]
    assert flags["source"].iloc[0] == "介護サービス情報公表(kaigo_10.csv)"
    res = ws.read("resources").set_index("resource_id")
    assert sorted(res.index) == ["R0", "R1", "S1"]
    assert res.loc["R0", "last_confirmed"] == pd.Timestamp("2026-10-01")
    states = freshness(ws.read("resources"), today=dt.date(2026, 10, 2), flags=flags).set_index("resource_id")
    assert states.loc["R1", "state"] == "needs_review"
    assert "介護サービス情報公表(kaigo_10.csv)" in states.loc["R1", "review_reason"]
    assert states.loc["S1", "state"] == "long_unconfirmed"


def test_import_command_refresh_names_the_list(tmp_path, capsys):
    from scgeo.cli import main

    ws = Workspace.create(tmp_path / "cli.gpkg", muni_code="99201")
    ws.import_result("resources", _resources(3, source="介護サービス情報公表システム(2026年9月)"), source="old.csv")
    newer = tmp_path / "kaigo_10.csv"
    newer.write_text("資源ID,名称,種別,緯度,経度,出典,最終確認日\n"
                     "R0,サロン0,サロン,35.0,141.0,介護サービス情報公表システム(2026年10月),2026-10-01\n"
                     "R2,サロン2,サロン,35.0,141.002,介護サービス情報公表システム(2026年10月),2026-10-01\n",
                     encoding="utf-8")
    assert main(["import", str(ws.path), str(newer), "--layer", "resources", "--refresh", "介護サービス情報公表"]) == 0
    assert "1 件を要確認にしました" in capsys.readouterr().out
    flags = ws.review_flags()
    assert flags["resource_id"].tolist() == ["R1"] and flags["source"].iloc[0] == "介護サービス情報公表(kaigo_10.csv)"
    assert main(["import", str(ws.path), str(newer), "--layer", "needs", "--refresh", "x"]) == 2


def test_dates_written_without_an_import_are_kept(ws):
    """``scgeo build`` writes resources in one transaction: their dates count as prior records."""
    frame = ws.read("resources")
    frame.loc[frame["resource_id"] == "R2", "last_confirmed"] = pd.Timestamp("2026-03-03")
    with ws.transaction() as tx:
        tx.write("resources", frame)
    ws.confirm_resource("R0", on=dt.date(2026, 11, 1))
    res = ws.read("resources").set_index("resource_id")
    assert res.loc["R2", "last_confirmed"] == pd.Timestamp("2026-03-03")
    assert res.loc["R1", "last_confirmed"] == pd.Timestamp("2026-01-10")
    assert res.loc["R0", "last_confirmed"] == pd.Timestamp("2026-11-01")
