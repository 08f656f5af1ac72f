import hashlib
import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scgeo import InputError, Workspace, WorkspaceError, validate
from scgeo.workspace import STORED_LAYERS, Transaction


def _resources(n=3):
    cycle = {
        "category": ["salon", "配食", "通いの場"],
        "capacity": ["20", None, "15人"],
        "last_confirmed": ["2025-04-01", "令和6年3月1日", None],
        "status": ["active", "休止中", "closed"],
        "served_area_id": [None, "J01", None],
    }
    frame = pd.DataFrame({
        "resource_id": [f"R{i:03d}" for i in range(n)],
        "name": [f"資源{i}" for i in range(n)],
        **{key: [values[i % 3] for i in range(n)] for key, values in cycle.items()},
    })
    points = [shapely.Point(141.0 + i / 1000, 35.0 + i / 1000) for i in range(n)]
    result = validate(gpd.GeoDataFrame(frame, geometry=points, crs=6668), "resources")
    assert not len(result.rejected)
    return result


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state(ws):
    """The whole stored state: the file's bytes, or every table of the database."""
    if ws.backend == "gpkg":
        return _digest(ws.path)
    return ws.meta(), {name: ws.read(name).to_csv() for name in STORED_LAYERS}


def _target(ws):
    return ws.url if ws.backend == "postgis" else ws.path


@pytest.fixture(params=["gpkg", "postgis"])
def ws(request, tmp_path):
    """An empty workspace on each backend: a GeoPackage, a PostgreSQL + PostGIS database."""
    target = request.getfixturevalue("pg_url") if request.param == "postgis" else tmp_path / "town.gpkg"
    return Workspace.create(target, muni_code="99201", muni_name="さくら市")


@pytest.fixture
def gpkg_ws(tmp_path):
    return Workspace.create(tmp_path / "town.gpkg", muni_code="99201", muni_name="さくら市")


def test_create_writes_every_layer_and_metadata(gpkg_ws):
    ws = gpkg_ws
    layers = dict(pyogrio.list_layers(ws.path))
    assert set(layers) == {*STORED_LAYERS, "meta"}
    assert layers["resources"] == "Point" and layers["areas"] == "MultiPolygon"
    assert layers["edits"] is None and layers["meta"] is None
    with sqlite3.connect(ws.path) as con:
        contents = dict(con.execute("select table_name, data_type from gpkg_contents"))
        srs = dict(con.execute("select table_name, srs_id from gpkg_geometry_columns"))
        app_id = con.execute("pragma application_id").fetchone()[0]
    assert contents["resources"] == "features" and contents["edits"] == "attributes"
    assert srs == dict.fromkeys([name for name, layer in STORED_LAYERS.items() if layer.geometry], 6668)
    assert layers["network_edges"] == "LineString"
    assert app_id == 0x47504B47  # "GPKG": a standard GeoPackage that QGIS opens
    meta = ws.meta()
    assert meta["muni_code"] == "99201" and meta["crs"] == "EPSG:6668"
    assert meta["scgeo_version"]


def test_create_refuses_to_overwrite_and_bad_codes(ws, tmp_path):
    with pytest.raises(WorkspaceError, match="既に"):
        Workspace.create(_target(ws), muni_code="99201")
    with pytest.raises(InputError, match="市町村コード"):
        Workspace.create(tmp_path / "x.gpkg", muni_code="abc")


def test_open_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(WorkspaceError, match="見つかりません"):
        Workspace.open(tmp_path / "none.gpkg")
    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=4326), other)
    with pytest.raises(WorkspaceError, match="ワークスペースではありません"):
        Workspace.open(other)
    text = tmp_path / "text.gpkg"
    text.write_text("not a database")
    with pytest.raises(WorkspaceError):
        Workspace.open(text)


def test_round_trip_keeps_values_and_dtypes(ws):
    result = _resources(3)
    assert ws.import_result("resources", result, user="tester", source="r.csv") == 3
    back = Workspace.open(_target(ws)).read("resources")
    pd.testing.assert_frame_equal(
        back.drop(columns="geometry").sort_values("resource_id").reset_index(drop=True),
        result.accepted.drop(columns="geometry").reset_index(drop=True),
    )
    assert back.crs.to_epsg() == 6668
    assert back["capacity"].dtype == "Int64" and back["capacity"].tolist()[0] == 20
    assert back["last_confirmed"].iloc[1] == pd.Timestamp("2024-03-01")
    assert back.geometry.geom_equals_exact(result.accepted.geometry.reset_index(drop=True), 1e-9).all()
    edit = ws.edits().iloc[-1]
    assert (edit["user"], edit["layer"], edit["action"]) == ("tester", "resources", "import:append")
    assert "r.csv" in edit["note"]


def test_failed_write_leaves_file_exactly_as_before(ws, monkeypatch):
    ws.import_result("resources", _resources(2))
    before = _state(ws)
    calls = []
    kind = Transaction
    if ws.backend == "postgis":
        from scgeo.postgis import PostgisTransaction as kind
    original = kind.write

    def fail_second(self, name, frame):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full (injected)")
        original(self, name, frame)

    monkeypatch.setattr(kind, "write", fail_second)
    blocks = gpd.GeoDataFrame(
        {"area_id": ["B1"], "name": ["本町一丁目"], "level": ["town_block"], "parent_id": [None],
         "pop_total": [100], "pop_65plus": [30], "pop_75plus": [15], "pop_65plus_alone": [5]},
        geometry=[shapely.box(141, 35, 141.01, 35.01)], crs=6668)
    result = validate(blocks, "town_blocks")
    with pytest.raises(OSError, match="injected"):
        ws.import_result("town_blocks", result)  # areas written, then population fails
    assert calls == ["areas", "population"]
    assert _state(ws) == before
    assert not list(ws.path.parent.glob("*.tmp.gpkg")) and not list(ws.path.parent.glob(".*/*.tmp.gpkg"))
    assert ws.count("areas") == 0 and ws.count("resources") == 2


def test_import_appends_replaces_and_refuses_clashes(ws):
    ws.import_result("resources", _resources(3))
    with pytest.raises(InputError, match="既に登録"):
        ws.import_result("resources", _resources(2))
    assert ws.count("resources") == 3
    ws.import_result("resources", _resources(2), mode="replace")
    assert ws.count("resources") == 2


def test_town_blocks_split_into_areas_and_population(ws):
    blocks = gpd.GeoDataFrame(
        {"area_id": ["B1", "B2"], "name": ["本町一丁目", "本町二丁目"], "level": ["town_block"] * 2,
         "parent_id": ["J1", "J1"], "pop_total": [100, 200], "pop_65plus": [30, 90],
         "pop_75plus": [15, 40], "pop_65plus_alone": [5, None]},
        geometry=[shapely.box(141, 35, 141.01, 35.01), shapely.box(141.01, 35, 141.02, 35.01)],
        crs=6668)
    ws.import_result("town_blocks", validate(blocks, "town_blocks"))
    joined = ws.town_blocks().sort_values("area_id")
    assert joined["pop_65plus"].tolist() == [30, 90]
    assert joined["pop_65plus_alone"].isna().tolist() == [False, True]
    assert set(ws.areas("town_block")["area_id"]) == {"B1", "B2"}
    assert ws.areas("jhs_district").empty


def test_edit_history_records_update_confirm_delete(ws):
    ws.import_result("resources", _resources(3))
    ws.update_feature("resources", "R000", {"capacity": "25人", "name": "本町サロン"}, user="鈴木")
    ws.confirm_resource("R001", on=pd.Timestamp("2026-11-01").date(), user="佐藤")
    ws.delete_feature("resources", "R002", user="鈴木")
    edits = ws.edits()
    updates = edits[edits["action"] == "update"].set_index("field")
    assert updates.loc["capacity", "old_value"] == "20" and updates.loc["capacity", "new_value"] == "25"
    assert updates.loc["name", "new_value"] == "本町サロン"
    confirm = edits[edits["action"] == "confirm"].iloc[0]
    assert (confirm["user"], confirm["field"], confirm["old_value"], confirm["new_value"]) == (
        "佐藤", "last_confirmed", "2024-03-01", "2026-11-01")
    assert confirm["note"] == "電話 / 変わりなし"
    deleted = edits[edits["action"] == "delete"].iloc[0]
    assert deleted["feature_id"] == "R002" and "name=資源2" in deleted["old_value"]
    assert edits["edit_id"].tolist() == list(range(1, len(edits) + 1))
    current = ws.read("resources").set_index("resource_id")
    assert current.loc["R000", "capacity"] == 25 and "R002" not in current.index


def test_invalid_edit_is_refused_and_changes_nothing(ws):
    ws.import_result("resources", _resources(2))
    before = _state(ws)
    with pytest.raises(InputError, match="整数"):
        ws.update_feature("resources", "R000", {"capacity": "たくさん"})
    with pytest.raises(InputError, match="カテゴリ一覧にありません"):
        ws.update_feature("resources", "R000", {"category": "宇宙旅行"})
    with pytest.raises(InputError, match="ありません"):
        ws.update_feature("resources", "R999", {"name": "x"})
    assert _state(ws) == before


def test_add_feature_validates_and_records(ws):
    new = ws.add_feature("resources", {"resource_id": "R100", "name": "新しいサロン", "category": "サロン",
                                       "geometry": shapely.Point(141.0, 35.0)}, user="鈴木")
    assert new["category"] == "salon" and new["status"] == "active"
    with pytest.raises(InputError, match="既にワークスペース"):
        ws.add_feature("resources", {"resource_id": "R100", "name": "重複", "category": "salon",
                                     "geometry": shapely.Point(141.0, 35.0)})
    assert ws.edits()["action"].tolist() == ["insert"]


def test_info_reports_counts_extent_and_last_edit(ws):
    ws.import_result("resources", _resources(3), user="tester")
    info = ws.info()
    assert info["layers"]["resources"] == 3 and info["layers"]["needs"] == 0
    assert info["extent"] == [141.0, 35.0, 141.002, 35.002]
    assert info["last_edit"]["user"] == "tester"


names = st.text(alphabet=st.sampled_from("さくら市本町一二三丁目サロン🌸 ＡＢｃ123-・"), min_size=1, max_size=12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(names, st.one_of(st.none(), st.integers(0, 500))), min_size=1, max_size=6))
def test_round_trip_property(tmp_path_factory, rows):
    ws = Workspace.create(tmp_path_factory.mktemp("ws") / "p.gpkg", muni_code="99201")
    frame = gpd.GeoDataFrame(
        {"resource_id": [f"R{i}" for i in range(len(rows))], "name": [r[0] for r in rows],
         "category": "salon", "capacity": [r[1] for r in rows]},
        geometry=[shapely.Point(141 + i / 100, 35) for i in range(len(rows))], crs=6668)
    result = validate(frame, "resources")
    ws.import_result("resources", result)
    back = ws.read("resources")
    assert back["name"].tolist() == result.accepted["name"].tolist()
    assert back["capacity"].tolist() == result.accepted["capacity"].tolist()


def test_feature_versions_conflict_only_on_the_same_feature(ws):
    from scgeo import WorkspaceConflictError

    ws.import_result("resources", _resources(3))
    seen = ws.version()
    other = Workspace.open(_target(ws))
    other.update_feature("resources", "R000", {"notes": "先に保存"}, user="佐藤")
    ws.update_feature("resources", "R001", {"notes": "別の資源"}, user="鈴木", feature_version=seen)
    with pytest.raises(WorkspaceConflictError, match=r"R000 は、読み込んだ後に 佐藤 が変更しました\(備考\)"):
        ws.update_feature("resources", "R000", {"notes": "古い画面から"}, user="鈴木", feature_version=seen)
    other.delete_feature("resources", "R002", user="佐藤")
    with pytest.raises(WorkspaceConflictError, match="削除"):  # edit versus delete
        ws.update_feature("resources", "R002", {"notes": "消された資源に"}, feature_version=seen)
    with pytest.raises(WorkspaceConflictError):  # delete versus edit
        ws.delete_feature("resources", "R000", feature_version=seen)
    now = ws.version()
    ws.update_feature("resources", "R000", {"notes": "読み直して保存"}, user="鈴木", feature_version=now)
    assert ws.read("resources").set_index("resource_id")["notes"].to_dict() == {"R000": "読み直して保存",
                                                                               "R001": "別の資源"}
    history = ws.edits()
    assert history["version"].tolist() == list(range(2, 2 + len(history)))  # one commit each here
