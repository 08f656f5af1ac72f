"""Users and roles (閲覧・編集・内部・管理): argon2 hashes, ``scgeo user``, and on PostgreSQL the
database roles, so that a read-only database user cannot see a need through any query."""

import io

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from scgeo import InputError, Workspace, WorkspaceError, cli, validate
from scgeo import users as us

PASSWORD = "correct horse 電池"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2id with small costs: the tests hash many times (the real parameters are argon2-cffi's)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(us, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def test_default_parameters_are_argon2id_and_old_hashes_are_upgraded(tmp_path, monkeypatch):
    from argon2 import PasswordHasher

    ws = Workspace.create(tmp_path / "t.gpkg", muni_code="99201")
    us.add_user(ws, "suzuki", role="編集", password=PASSWORD)
    old = ws.read("users")["password_hash"].iloc[0]
    monkeypatch.setattr(us, "_hasher", PasswordHasher)  # argon2-cffi's defaults (RFC 9106 low-memory)
    assert us.authenticate(ws, "suzuki", PASSWORD).login == "suzuki"
    new = ws.read("users")["password_hash"].iloc[0]
    assert new != old and new.startswith("$argon2id$") and not PasswordHasher().check_needs_rehash(new)
    assert ws.edits()["action"].tolist() == ["user:add", "user:rehash"]


@pytest.fixture(params=["gpkg", "postgis"])
def ws(request, tmp_path):
    target = request.getfixturevalue("pg_url") if request.param == "postgis" else tmp_path / "town.gpkg"
    return Workspace.create(target, muni_code="99201", muni_name="さくら市")


def _target(ws):
    return ws.url if ws.backend == "postgis" else str(ws.path)


def test_add_authenticate_disable_reset_and_the_history(ws):
    us.add_user(ws, "suzuki", role="編集", password=PASSWORD, display_name="鈴木", by="管理者")
    us.add_user(ws, "kanri", role="admin", password=PASSWORD + "x")
    assert [(u.login, u.role_label) for u in us.list_users(ws)] == [("suzuki", "編集"), ("kanri", "管理")]
    stored = ws.read("users").set_index("login")
    assert stored.loc["suzuki", "password_hash"].startswith("$argon2id$")
    assert PASSWORD not in stored.to_csv()
    user = us.authenticate(ws, "suzuki", PASSWORD)
    assert user.role == "editor" and user.can("edit") and not user.can("read_needs")
    assert us.authenticate(ws, "suzuki", "wrong password") is None
    assert us.authenticate(ws, "nobody", PASSWORD) is None
    us.disable_user(ws, "suzuki", by="管理者")
    assert us.authenticate(ws, "suzuki", PASSWORD) is None
    us.enable_user(ws, "suzuki")
    us.reset_password(ws, "suzuki", password="another long one", by="管理者")
    assert us.authenticate(ws, "suzuki", PASSWORD) is None
    assert us.authenticate(ws, "suzuki", "another long one").login == "suzuki"
    history = ws.edits()
    assert history["action"].tolist() == ["user:add", "user:add", "user:disable", "user:enable", "user:reset"]
    assert not history.astype(str).apply(lambda col: col.str.contains("argon2|horse")).any().any()


def test_bad_users_are_refused_with_japanese_messages(ws):
    with pytest.raises(InputError, match="10 文字以上"):
        us.add_user(ws, "suzuki", role="編集", password="short")
    with pytest.raises(InputError, match="役割"):
        us.add_user(ws, "suzuki", role="王様", password=PASSWORD)
    with pytest.raises(InputError, match="ログイン名"):
        us.add_user(ws, "鈴木", role="編集", password=PASSWORD)
    us.add_user(ws, "suzuki", role="閲覧", password=PASSWORD)
    with pytest.raises(InputError, match="既にいます"):
        us.add_user(ws, "suzuki", role="編集", password=PASSWORD)
    with pytest.raises(InputError, match="scgeo user"):  # never as a feature: the history would keep the hash
        ws.update_feature("users", "suzuki", {"role": "admin"})
    assert us.authenticate(ws, "suzuki", "x" * 100_000) is None  # bounded
    assert [u.role for u in us.list_users(ws)] == ["viewer"]


def test_roles_are_ordered():
    assert [us.can(r, "read_needs") for r in us.ROLE_ORDER] == [False, False, True, True]
    assert [us.can(r, "edit") for r in us.ROLE_ORDER] == [False, True, True, True]
    assert [us.can(r, "manage_users") for r in us.ROLE_ORDER] == [False, False, False, True]


def test_cli_user_commands(ws, monkeypatch, capsys):
    target = _target(ws)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["user", "add", target, "sato", "--role", "内部", "--name", "佐藤", "--password-stdin"]) == 0
    assert "役割「内部」" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["user", "add", target, "kato", "--role", "閲覧", "--password-stdin"]) == 2
    assert "10 文字以上" in capsys.readouterr().err
    assert cli.main(["user", "disable", target, "sato"]) == 0
    assert cli.main(["user", "list", target]) == 0
    assert "sato  佐藤  内部  (無効)" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal and no --password-stdin
    assert cli.main(["user", "reset", target, "sato"]) == 2
    assert cli.main(["user", "disable", target, "nobody"]) == 2
    assert "いません" in capsys.readouterr().err


# ------------------------------------------------------------------ the database itself


def _needs():
    frame = gpd.GeoDataFrame({"need_id": ["N1", "N2"], "category": "買い物", "recorded_date": "2026-10-01"},
                             geometry=[shapely.Point(140.1, 35.1)] * 2, crs=6668)
    return validate(frame, "needs")


def _resources():
    frame = gpd.GeoDataFrame({"resource_id": ["R1"], "name": ["サロン"], "category": "salon"},
                             geometry=[shapely.Point(140.1, 35.1)], crs=6668)
    return validate(frame, "resources")


def test_a_read_only_database_user_cannot_see_a_need(postgres, pg_url):
    psycopg = pytest.importorskip("psycopg")
    ws = Workspace.create(pg_url, muni_code="99201")
    assert ws.meta()["database_roles"].count(",") == 3
    ws.import_result("needs", _needs(), user="内部の人")
    ws.import_result("resources", _resources())
    ws.update_feature("needs", "N1", {"status": "matched"}, user="内部の人")
    pending = pd.DataFrame({"unplaced_id": ["U1", "U2"], "layer": ["needs", "resources"], "name": ["x", "y"],
                            "row_values": ["{}", "{}"]})
    with ws.transaction() as tx:
        tx.write("unplaced", pending)
    dbname = ws.dbname
    for login, role in (("etsuran", "閲覧"), ("henshu", "編集"), ("naibu", "内部")):
        us.add_user(ws, login, role=role, password=PASSWORD, database_login=True)
    viewer = postgres.url(dbname, user="etsuran")
    with psycopg.connect(viewer, autocommit=True) as conn:
        for query in ("SELECT * FROM scgeo_internal.needs", "SELECT * FROM scgeo.users"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(query)
        assert conn.execute("SELECT count(*) FROM scgeo.edits WHERE layer = 'needs'").fetchone()[0] == 0
        assert conn.execute("SELECT layer FROM scgeo.unplaced").fetchall() == [("resources",)]
        assert conn.execute("SELECT count(*) FROM scgeo.resources").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE scgeo.resources SET name = 'x'")
    as_viewer = Workspace.open(viewer)
    with pytest.raises(WorkspaceError, match="ニーズを読む権限がありません"):
        as_viewer.read("needs")
    with pytest.raises(WorkspaceError, match="書き込む権限がありません"):
        as_viewer.update_feature("resources", "R1", {"notes": "x"})
    assert set(as_viewer.edits()["layer"]) == {"resources", "users"}
    assert {"needs", "users"}.isdisjoint(as_viewer.info()["layers"]) and as_viewer.info()["layers"]["resources"] == 1
    assert Workspace.open(pg_url).info()["layers"]["needs"] == 2
    # 編集 writes resources (and the history, through row security) but still sees no need
    editor = Workspace.open(postgres.url(dbname, user="henshu"))
    editor.update_feature("resources", "R1", {"notes": "編集の人"}, user="henshu")
    with pytest.raises(WorkspaceError, match="権限"):
        editor.read("needs")
    with editor.transaction() as tx:  # rewriting the 位置未確定 list keeps the rows it cannot see
        tx.write("unplaced", editor.read("unplaced"))
    # 内部 sees them, and the numbering of the history is one sequence for everybody
    internal = Workspace.open(postgres.url(dbname, user="naibu"))
    assert internal.ids("needs") == {"N1", "N2"}
    history = Workspace.open(pg_url).edits()
    assert history["edit_id"].tolist() == list(range(1, len(history) + 1))
    assert "needs" in set(internal.edits()["layer"])
    assert sorted(Workspace.open(pg_url).read("unplaced")["unplaced_id"]) == ["U1", "U2"]
    us.disable_user(ws, "etsuran")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(viewer).close()
