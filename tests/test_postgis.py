"""The PostgreSQL + PostGIS workspace on a real server (tests/postgres_server.py starts one).

The generic workspace tests run on both backends (tests/test_workspace.py); here: the CLI on a
database URL, migration GeoPackage → PostGIS → GeoPackage of the sample town (every row, the
history), writers at once from threads (nothing lost), stale and busy writers, readers that never
wait, the append-only history, and a database made by an older scgeo.
"""

import threading

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from scgeo import Workspace, WorkspaceError, cli, get_settings, validate
from scgeo._errors import WorkspaceBusyError, WorkspaceConflictError
from scgeo.migration import migrate
from scgeo.settings import set_settings
from scgeo.workspace import STORED_LAYERS

psycopg = pytest.importorskip("psycopg")


def _layer(ids):
    return gpd.GeoDataFrame({"resource_id": ids, "name": [f"サロン{i}" for i in ids], "category": "salon"},
                            geometry=[shapely.Point(140.1, 35.1)] * len(ids), crs=6668)


@pytest.fixture
def pg_ws(pg_url):
    ws = Workspace.create(pg_url, muni_code="99201", muni_name="さくら市")
    ws.import_result("resources", validate(_layer(["R1", "R2"]), "resources"), user="初期")
    return ws


def _same_layers(a: Workspace, b: Workspace, *, extra_edits: int) -> None:
    for name, layer in STORED_LAYERS.items():
        left, right = a.read(name), b.read(name)
        if name == "edits":
            assert len(right) == len(left) + extra_edits
            assert right["action"].iloc[len(left):].eq("migrate").all()
            right = right.iloc[:len(left)]
        assert len(left) == len(right), name
        pd.testing.assert_frame_equal(pd.DataFrame(left.drop(columns="geometry", errors="ignore")),
                                      pd.DataFrame(right.drop(columns="geometry", errors="ignore")), obj=name)
        if layer.geometry and len(left):
            assert left.crs == right.crs, name
            # a Polygon in a MultiPolygon layer comes back as a multi of one: same shape
            assert shapely.equals(left.geometry.values, right.geometry.values).all(), name


def test_cli_init_import_info_and_migrate_on_a_database(pg_url, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["init", pg_url, "--muni-code", "32203"]) == 0
    assert "出雲市" in capsys.readouterr().out
    assert cli.main(["init", pg_url, "--muni-code", "32203"]) == 2
    assert "既にワークスペースがあります" in capsys.readouterr().err
    source = tmp_path / "salons.csv"
    pd.DataFrame({"資源ID": ["S1", "S2"], "名称": ["今市サロン", "塩冶サロン"], "種別": "サロン",
                  "緯度": [35.367, 35.357], "経度": [132.755, 132.741]}).to_csv(source, index=False)
    assert cli.main(["import", pg_url, str(source), "--layer", "resources", "--user", "鈴木"]) == 0
    assert cli.main(["restore", pg_url, "--list"]) == 2  # no file generations: the server's backup or a snapshot
    assert "pg_dump" in capsys.readouterr().err
    assert cli.main(["info", pg_url]) == 0
    out = capsys.readouterr().out
    assert "社会資源 (resources): 2 件" in out and "password" not in out
    snapshot = tmp_path / "snapshot.gpkg"
    assert cli.main(["migrate", pg_url, str(snapshot), "--user", "佐藤"]) == 0
    assert "編集履歴 1 行" in capsys.readouterr().out
    copy = Workspace.open(snapshot)
    assert copy.ids("resources") == {"S1", "S2"}
    assert copy.edits()[["user", "action"]].values.tolist() == [["鈴木", "import:append"], ["佐藤", "migrate"]]
    assert cli.main(["migrate", str(snapshot), pg_url]) == 2  # the database holds a workspace already
    assert "--force" in capsys.readouterr().err
    assert cli.main(["migrate", str(snapshot), pg_url, "--force"]) == 0
    assert Workspace.open(pg_url).version() == copy.version() + 1


def test_unreachable_or_empty_database_is_a_japanese_input_error(postgres, pg_url, capsys):
    bad = postgres.url("no_such_db")
    assert cli.main(["info", bad]) == 2
    assert "接続できません" in capsys.readouterr().err
    assert cli.main(["info", pg_url]) == 2  # a database without a workspace
    assert "ワークスペースがありません" in capsys.readouterr().err


def test_migration_of_the_sample_town_keeps_every_row_and_the_history(sample_workspace, pg_url, tmp_path):
    report = migrate(sample_workspace.path, pg_url, user="移行")
    database = Workspace.open(pg_url)
    assert report.rows["resources"] == sample_workspace.count("resources") > 100
    assert database.version() == sample_workspace.version() + 1
    _same_layers(sample_workspace, database, extra_edits=1)
    back = migrate(pg_url, tmp_path / "back.gpkg")
    assert back.version == sample_workspace.version() + 2
    again = Workspace.open(tmp_path / "back.gpkg")
    _same_layers(sample_workspace, again, extra_edits=2)
    assert again.meta()["muni_code"] == sample_workspace.meta()["muni_code"]
    assert database.info()["extent"] == sample_workspace.info()["extent"]


def test_two_threads_editing_at_once_lose_nothing(pg_ws):
    trials = 6
    ids = [f"T{i:02d}" for i in range(trials)]
    pg_ws.import_result("resources", validate(_layer(ids), "resources"))
    for trial in range(trials):
        barrier = threading.Barrier(2)
        errors = []

        def edit(changes, user, rid=ids[trial], barrier=barrier, errors=errors):
            barrier.wait()
            try:
                Workspace.open(pg_ws.url).update_feature("resources", rid, changes, user=user)
            except Exception as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=edit, args=({"notes": f"A{trial}"}, "A")),
                   threading.Thread(target=edit, args=({"fee": f"{trial}円"}, "B"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    rows = pg_ws.read("resources").set_index("resource_id")
    assert [(rows.loc[r, "notes"], rows.loc[r, "fee"]) for r in ids] == [(f"A{t}", f"{t}円") for t in range(trials)]
    updates = pg_ws.edits().query("action == 'update'")
    assert updates.groupby("user").size().to_dict() == {"A": trials, "B": trials}
    assert pg_ws.edits()["edit_id"].tolist() == list(range(1, len(pg_ws.edits()) + 1))


def test_a_stale_writer_gets_a_conflict_and_delete_versus_edit(pg_ws):
    seen = pg_ws.version()
    Workspace.open(pg_ws.url).update_feature("resources", "R1", {"notes": "先に保存"}, user="A")
    with pytest.raises(WorkspaceConflictError, match="読み込んだ後に他の人が更新しました"):
        pg_ws.update_feature("resources", "R1", {"notes": "古い画面から"}, user="B", expected_version=seen)
    seen = pg_ws.version()
    pg_ws.delete_feature("resources", "R2", user="A", expected_version=seen)
    with pytest.raises(WorkspaceConflictError):  # B still sees R2 and edits it
        pg_ws.update_feature("resources", "R2", {"notes": "消された資源に"}, user="B", expected_version=seen)
    assert pg_ws.ids("resources") == {"R1"}
    assert pg_ws.read("resources").set_index("resource_id").loc["R1", "notes"] == "先に保存"


def test_a_held_lock_times_out_and_readers_never_wait(pg_ws):
    set_settings(get_settings().replace(lock_timeout_s=0.3))
    try:
        with psycopg.connect(pg_ws.url) as other:  # another writer, mid-transaction
            other.execute("SELECT value FROM scgeo.meta WHERE key = 'version' FOR UPDATE")
            with pytest.raises(WorkspaceBusyError, match="他の人が更新中です"):
                pg_ws.update_feature("resources", "R1", {"notes": "x"})
            assert pg_ws.count("resources") == 2 and pg_ws.version() == 2  # reading does not wait
    finally:
        set_settings(None)
    with pg_ws.transaction() as tx:  # uncommitted writes are invisible to readers
        tx.write("resources", pg_ws.read("resources").iloc[:1])
        assert Workspace.open(pg_ws.url).count("resources") == 2
    assert pg_ws.count("resources") == 1 and pg_ws.version() == 3


def test_history_is_append_only_in_the_database(pg_ws):
    with psycopg.connect(pg_ws.url, autocommit=True) as conn:
        for statement in ("UPDATE scgeo.edits SET \"user\" = 'x'", "DELETE FROM scgeo.edits", "TRUNCATE scgeo.edits"):
            with pytest.raises(psycopg.Error, match="追記だけ"):
                conn.execute(statement)
    assert pg_ws.edits()["user"].tolist() == ["初期"]


def test_a_database_of_an_older_version_gains_new_layers_and_columns(pg_ws):
    with psycopg.connect(pg_ws.url, autocommit=True) as conn:
        conn.execute("DROP TABLE scgeo.venues")
        conn.execute("ALTER TABLE scgeo.resources DROP COLUMN notes")
        conn.execute("DELETE FROM scgeo.meta WHERE key = 'database_roles'")  # as if made without CREATEROLE
    reopened = Workspace.open(pg_ws.url)
    assert reopened.meta()["database_roles"] == ", ".join(f"{pg_ws.dbname}_{r}" for r in
                                                          ("viewer", "editor", "internal", "admin"))
    assert reopened.count("venues") == 0 and reopened.ids("resources") == {"R1", "R2"}
    assert reopened.read("resources")["notes"].isna().all()
    reopened.update_feature("resources", "R1", {"notes": "戻った列"})
    assert reopened.read("resources").set_index("resource_id").loc["R1", "notes"] == "戻った列"
    with pytest.raises(WorkspaceError, match="既に"):
        Workspace.create(pg_ws.url, muni_code="99201")
