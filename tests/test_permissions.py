"""Who may change what: the login guard with the workspace's users, roles per layer, an 編集 user's
area (checked by the library, not only the app), idle sessions, and the merge of a conflicting save."""

import pandas as pd
import pytest
from shapely.geometry import Point

from scgeo import InputError, PermissionDeniedError, Workspace, cli
from scgeo import users as us
from scgeo.conflicts import field_diffs, resolve, theirs_only
from scgeo.login import LoginGuard, session_allows, session_expired
from scgeo.permissions import UserWorkspace, can_write, outside_area

PASSWORD = "correct horse 電池"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(us, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def town(sample_copy):
    """The sample town with an area-limited editor, a city-wide editor and a viewer."""
    area = sample_copy.areas("living_area").iloc[0]["area_id"]
    us.add_user(sample_copy, "ku", role="編集", password=PASSWORD, area_id=area)
    us.add_user(sample_copy, "shi", role="編集", password=PASSWORD)
    us.add_user(sample_copy, "mi", role="閲覧", password=PASSWORD)
    return sample_copy, area


# ------------------------------------------------------------------ the guard


def test_guard_with_a_checker_throttles_per_session_and_overall():
    now = [0.0]
    accounts = {"suzuki": "pw-suzuki-1"}
    guard = LoginGuard(lambda login, pw: login if accounts.get(login) == pw else None, free_failures=2,
                       session_lockout_failures=4, global_lockout_failures=6, lockout_s=600, clock=lambda: now[0])
    assert guard.attempt("a", "pw-suzuki-1", login="suzuki").user == "suzuki"
    first = guard.attempt("a", "nope", login="suzuki")
    assert not first.ok and first.message.startswith("ログイン名かパスワードが違います")
    guard.attempt("a", "nope", login="suzuki")
    waiting = guard.attempt("a", "pw-suzuki-1", login="suzuki")  # the right one is refused during the wait
    assert not waiting.ok and "秒待って" in waiting.message
    for _ in range(2):
        now[0] += 100
        guard.attempt("a", "nope", login="suzuki")
    assert "分間ログインできません" in guard.attempt("a", "pw-suzuki-1", login="suzuki").message
    for session in ("b", "c"):  # other sessions push the overall count over the limit: every login stops
        guard.attempt(session, "nope", login="x")
    assert "一時停止" in guard.attempt("d", "pw-suzuki-1", login="suzuki").message
    now[0] += 601
    assert guard.attempt("d", "pw-suzuki-1", login="suzuki").ok


def test_shared_password_guard_keeps_its_words():
    guard = LoginGuard("shared-secret", clock=lambda: 0.0)
    assert guard.attempt("s", "x").message.startswith("パスワードが違います")
    assert guard.attempt("s", "shared-secret", login="anything").ok


def test_idle_sessions_expire_and_downloads_follow_the_role():
    assert not session_expired(0.0, 8 * 3600, idle_s=8 * 3600)
    assert session_expired(0.0, 8 * 3600 + 1, idle_s=8 * 3600)
    assert session_expired(None, 0.0, idle_s=60) and not session_expired(0.0, 1e9, idle_s=0)
    viewer, internal = us.User("mi", "mi", "viewer", "active"), us.User("na", "na", "internal", "active")
    common = {"ok": True, "last_seen": 0.0, "now": 10.0, "idle_s": 60}
    assert session_allows(user=viewer, capability="read", **common)
    assert not session_allows(user=viewer, capability="read_needs", **common)
    assert session_allows(user=internal, capability="read_needs", **common)
    assert session_allows(user=None, capability="read_needs", **common)  # no users: as before
    assert not session_allows(user=internal, capability="read", **(common | {"now": 61.0}))
    assert not session_allows(user=None, capability="read", **(common | {"ok": False}))
    assert not us.User("x", "x", "admin", "disabled").can("read")


def test_roles_per_layer():
    editor, internal = us.User("a", "a", "editor", "active"), us.User("b", "b", "internal", "active")
    assert can_write(editor, "resources") and can_write(editor, "organisations")
    assert not can_write(editor, "needs") and can_write(internal, "needs")
    assert not can_write(internal, "users") and can_write(us.User("c", "c", "admin", "active"), "users")


# ------------------------------------------------------------------ area and role in the library


def test_an_area_editor_changes_only_what_lies_inside(town):
    ws, area = town
    resources = ws.read("resources")
    polygon = ws.areas().set_index("area_id").geometry[area]
    inside = resources[resources.geometry.within(polygon)].iloc[0]
    outside = resources[~resources.geometry.intersects(polygon)].iloc[0]
    ku = UserWorkspace(ws, us.get_user(ws, "ku"))
    ku.update_feature("resources", inside["resource_id"], {"fee": "100円"})
    assert ws.edits().iloc[-1]["user"] == "ku"  # the login name goes into the history
    with pytest.raises(PermissionDeniedError, match=r"担当区域 .* の外にあるため変更できません"):
        ku.update_feature("resources", outside["resource_id"], {"fee": "100円"})
    with pytest.raises(PermissionDeniedError, match="外にある"):  # moving a resource out of the area
        ku.update_feature("resources", inside["resource_id"], {"geometry": outside.geometry})
    with pytest.raises(PermissionDeniedError):
        ku.delete_feature("resources", outside["resource_id"])
    with pytest.raises(PermissionDeniedError):
        ku.confirm_resource(outside["resource_id"])
    with pytest.raises(PermissionDeniedError, match="全体の変更"):
        ku.restore(1)
    new = {"resource_id": "RNEW1", "name": "区域外のサロン", "category": "salon", "geometry": outside.geometry}
    with pytest.raises(PermissionDeniedError):
        ku.add_feature("resources", new)
    ku.add_feature("resources", new | {"resource_id": "RNEW2", "geometry": inside.geometry})
    assert "RNEW2" in ws.ids("resources") and "RNEW1" not in ws.ids("resources")
    shi = UserWorkspace(ws, us.get_user(ws, "shi"))  # no area: the whole city
    shi.update_feature("resources", outside["resource_id"], {"fee": "200円"})
    us.add_user(ws, "kanri", role="管理", password=PASSWORD, area_id=area)  # 管理 is never limited by its area
    UserWorkspace(ws, us.get_user(ws, "kanri")).update_feature("resources", outside["resource_id"], {"fee": "300円"})
    mi = UserWorkspace(ws, us.get_user(ws, "mi"))
    with pytest.raises(PermissionDeniedError, match="役割「編集」以上"):
        mi.update_feature("resources", inside["resource_id"], {"fee": "0円"})
    with pytest.raises(PermissionDeniedError, match="役割「内部」以上"):
        shi.update_feature("needs", ws.read("needs").iloc[0]["need_id"], {"status": "matched"})


def test_organisations_by_area_id_or_point(town):
    ws, area = town
    areas = ws.read("areas")
    other = areas[(areas["level"] == "living_area") & (areas["area_id"] != area)].iloc[0]["area_id"]
    inner = areas[(areas["level"] == "town_block")]
    frame = pd.DataFrame({"org_id": ["a", "b", "c", "d"], "area_id": [area, other, None, None],
                          "lat": [None, None, None, 0.0], "lon": [None, None, None, 0.0]})
    assert outside_area(frame, area, areas).tolist() == [False, True, True, True]
    block = inner[inner.representative_point().within(areas.set_index("area_id").geometry[area])].iloc[0]
    assert not outside_area(pd.DataFrame({"area_id": [block["area_id"]]}), area, areas).any()
    point = areas.set_index("area_id").geometry[area].representative_point()
    assert not outside_area(pd.DataFrame({"lat": [point.y], "lon": [point.x]}), area, areas).any()


def test_user_add_area_is_checked_and_listed(sample_copy, capsys, monkeypatch):
    with pytest.raises(InputError, match="日常生活圏域・中学校区にありません"):
        us.add_user(sample_copy, "ku", role="編集", password=PASSWORD, area_id="NOPE")
    area = sample_copy.areas("jhs_district").iloc[0]["area_id"]
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(PASSWORD + "\n"))
    assert cli.main(["user", "add", str(sample_copy.path), "ku", "--role", "編集", "--area", area,
                     "--password-stdin"]) == 0
    assert us.get_user(sample_copy, "ku").area_id == area
    assert cli.main(["user", "list", str(sample_copy.path)]) == 0
    assert f"担当区域 {area}" in capsys.readouterr().out


# ------------------------------------------------------------------ merging a conflicting save


def test_field_diffs_and_the_three_choices():
    base = {"name": "東サロン", "fee": "無料", "schedule": "水 10:00-12:00", "geometry": Point(1, 1)}
    theirs = {"name": "東サロン", "fee": "100円", "schedule": "木 10:00-12:00", "geometry": Point(1, 1)}
    mine = {"fee": "50円", "name": "ひがしサロン", "geometry": Point(1, 1)}
    diffs = field_diffs(base, mine, theirs)
    assert [(d.field, d.they_changed, d.agree) for d in diffs] == [
        ("fee", True, False), ("name", False, False), ("geometry", False, True)]
    assert theirs_only(base, mine, theirs) == ["schedule"]
    assert resolve(diffs, {}) == {"fee": "50円", "name": "ひがしサロン"}  # keep mine
    assert resolve(diffs, {"fee": "theirs", "name": "theirs"}) == {}  # take theirs
    assert resolve(diffs, {"fee": "theirs"}) == {"name": "ひがしサロン"}  # field by field
    with pytest.raises(ValueError):
        resolve(diffs, {"fee": "both"})


def test_user_workspace_reads_pass_through(town):
    ws, _ = town
    view = UserWorkspace(ws, us.get_user(ws, "mi"))
    assert view.count("resources") == ws.count("resources") and view.location == ws.location
    assert isinstance(Workspace.open(ws.path), Workspace)


def test_runner_with_users_or_a_database(town, monkeypatch, tmp_path):
    from scgeo.app_runner import streamlit_command

    ws, _ = town
    monkeypatch.delenv("SCGEO_APP_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    command = streamlit_command(ws.path, port=8599, address="0.0.0.0")  # the users log in: no shared password
    assert command[command.index("--server.address") + 1] == "0.0.0.0"
    url = "postgresql://owner:s3cret@db.example/izumo"
    assert not any("s3cret" in part for part in streamlit_command(url, port=8599))  # handed over in the environment
