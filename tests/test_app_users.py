"""The app with the workspace's users: login, roles on every page and download, an 編集 user's area,
the merge screen of a conflicting save, idle expiry, and the app on a PostGIS workspace (AppTest)."""

import shutil

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from scgeo import Workspace
from scgeo import users as us
from tests.test_app import APP, _button, _edit, _metrics

PASSWORD = "correct horse 電池"
USERS = {"kanri": "管理", "naibu": "内部", "shi": "編集", "ku": "編集", "mi": "閲覧"}


@pytest.fixture(scope="module", autouse=True)
def cheap_hashes():
    """argon2id with small costs (verification reads the costs from each hash: no rehash on login)."""
    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(us, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="module")
def users_file(sample_workspace, tmp_path_factory):
    """The sample town with one user per role (``ku``: 編集 limited to the first 日常生活圏域). Read-only."""
    path = tmp_path_factory.mktemp("users") / "town.gpkg"
    shutil.copyfile(sample_workspace.path, path)
    ws = Workspace.open(path)
    area = ws.areas("living_area").iloc[0]["area_id"]
    for login, role in USERS.items():
        us.add_user(ws, login, role=role, password=PASSWORD, area_id=area if login == "ku" else None)
    return path


@pytest.fixture
def users_copy(users_file, tmp_path):
    path = tmp_path / "town.gpkg"
    shutil.copyfile(users_file, path)
    return Workspace.open(path)


def _app(location) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["workspace_path"] = str(location)
    return at.run()


def _login(at, login, password=PASSWORD):
    at.text_input(key="login_name").set_value(login)
    next(t for t in at.text_input if t.label == "パスワード").set_value(password)
    return _button(at, "ログイン").click().run()


def _page(at, page):
    at.switch_page(f"app_pages/{page}.py")
    return at.run()


def _texts(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "text", "title", "subheader", "error", "warning", "info")
             for e in getattr(at, kind)]
    for frame in [*at.dataframe, *at.data_editor]:
        parts.append(frame.value.to_csv())
    return "\n".join(map(str, parts))


# ------------------------------------------------------------------ login


def test_login_with_a_workspace_user_and_log_out(users_file):
    at = _app(users_file)  # the loopback address too: a workspace with users asks who you are
    assert [t.value for t in at.title] == ["scgeo ログイン"] and not at.metric
    _login(at, "shi", "wrong password")
    assert any("ログイン名かパスワードが違います" in e.value for e in at.error)
    assert [t.value for t in at.title] == ["scgeo ログイン"]
    _login(at, "shi")
    assert not at.exception
    assert at.title[0].value == "地域資源マップ"
    assert any("ログイン中: shi(編集)" in c.value for c in at.sidebar.caption)
    assert not [t for t in at.sidebar.text_input if t.key == "editor_name"]  # the login name is the editor
    _button(at.sidebar, "ログアウト").click().run()
    assert [t.value for t in at.title] == ["scgeo ログイン"]
    assert any("ログアウトしました" in w.value for w in at.warning)


def test_an_idle_session_is_logged_out(users_file):
    at = _login(_app(users_file), "mi")
    assert at.title[0].value == "地域資源マップ"
    at.session_state["_scgeo_login"]["last_seen"] -= 9 * 3600  # 8 hours by default
    at.run()
    assert [t.value for t in at.title] == ["scgeo ログイン"]
    assert any("一定時間操作がなかった" in w.value for w in at.warning)


def test_a_disabled_user_is_logged_out_at_once(users_copy):
    at = _login(_app(users_copy.path), "mi")
    us.disable_user(users_copy, "mi", by="kanri")
    at.run()
    assert [t.value for t in at.title] == ["scgeo ログイン"]
    assert any("無効になりました" in w.value for w in at.warning)


# ------------------------------------------------------------------ roles


def test_a_viewer_reaches_no_need_through_any_page(users_file, monkeypatch):
    ws = Workspace.open(users_file)
    need_ids = set(ws.read("needs")["need_id"])
    at = _login(_app(users_file), "mi")
    assert "ニーズ (件数のみ)" not in _metrics(at)
    refused = ["needs_page", "matching_page", "resources_page", "import_page", "users_page"]  # and 4 more like them
    for page in ["map_page", "gaps_page", "network_page", "export_page", "siting_page"]:
        _page(at, page)
        assert not at.exception, page
        assert not any(need in _texts(at) for need in need_ids), page
        assert not at.data_editor, page  # no editing widget anywhere
        assert not [b for b in at.button if b.label.startswith(("追加する", "提案として記録", "保存"))], page
    token = dict(at.session_state["_scgeo_login"])
    assert token["user"].role == "viewer"
    monkeypatch.syspath_prepend(str(APP.parent))  # a page run on its own imports app_state from app/
    for page in refused:
        with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in the navigation
            _page(at, page)
        alone = AppTest.from_file(str(APP.parent / "app_pages" / f"{page}.py"), default_timeout=60)
        alone.session_state["workspace_path"] = str(users_file)
        alone.session_state["_scgeo_login"] = token  # opened anyway (an old link): the page stops itself
        alone.run()
        assert not alone.exception, page
        assert any("役割「" in e.value and "閲覧" in e.value for e in alone.error), page
        assert not alone.data_editor and not alone.dataframe and not alone.title, page
        assert not any(need in _texts(alone) for need in need_ids), page


def test_internal_sees_the_needs_page_and_admin_the_users(users_file):
    at = _login(_app(users_file), "naibu")
    _page(at, "needs_page")
    assert at.title[0].value.startswith("ニーズ") and not at.error
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        _page(at, "users_page")  # 管理 only
    at = _login(_app(users_file), "kanri")
    _page(at, "users_page")
    assert at.title[0].value == "利用者と役割"
    listed = at.dataframe[0].value
    assert set(listed["ログイン名"]) == set(USERS) and "password_hash" not in listed.to_csv()


def test_admin_adds_and_disables_a_user(users_copy):
    at = _page(_login(_app(users_copy.path), "kanri"), "users_page")
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["ログイン名"].set_value("atarashii")
    form_inputs["パスワード(10文字以上)"].set_value(PASSWORD)
    form_inputs["パスワード(もう一度)"].set_value(PASSWORD)
    at.selectbox[0].set_value("内部")
    _button(at, "追加する").click().run()
    assert not at.exception and any("atarashii" in s.value for s in at.success)
    assert us.get_user(users_copy, "atarashii").role == "internal"
    assert users_copy.edits().iloc[-1]["user"] == "kanri"
    at.selectbox(key="users_pick").set_value("atarashii").run()
    _button(at, "無効にする").click().run()
    assert us.get_user(users_copy, "atarashii").status == "disabled"


def test_an_area_editor_cannot_save_outside_the_area(users_copy):
    polygon = users_copy.areas("living_area").geometry.iloc[0]
    resources = users_copy.read("resources").set_index("resource_id")
    at = _page(_login(_app(users_copy.path), "ku"), "resources_page")
    table = at.data_editor[0].value
    inside = resources.loc[table["resource_id"]].geometry.within(polygon).to_numpy()
    out_pos, in_pos = int(inside.argmin()), int(inside.argmax())
    _edit(at, {out_pos: {"fee": "区域外の変更"}, in_pos: {"fee": "区域内の変更"}})
    _button(at, "変更を保存").click().run()
    assert not at.exception
    assert any("担当区域" in e.value and "外にあるため変更できません" in e.value for e in at.error)
    after = users_copy.read("resources").set_index("resource_id")
    assert after.loc[table.iloc[in_pos]["resource_id"], "fee"] == "区域内の変更"
    assert after.loc[table.iloc[out_pos]["resource_id"], "fee"] != "区域外の変更"
    mine = users_copy.edits().iloc[-1]
    assert mine["user"] == "ku" and mine["new_value"] == "区域内の変更"


# ------------------------------------------------------------------ the merge screen


@pytest.mark.parametrize("choice", ["mine", "theirs", "per_field"])
def test_conflicting_save_shows_both_values_and_resolves(sample_copy, choice):
    at = _app(sample_copy.path)
    _page(at, "resources_page")
    row = at.data_editor[0].value.iloc[0]
    rid = row["resource_id"]
    _edit(at, {0: {"name": "自分の名前", "fee": "自分の料金"}})
    sample_copy.update_feature("resources", rid, {"name": "相手の名前", "schedule": "金 9:00"}, user="相手")
    _button(at, "変更を保存").click().run()
    assert not at.exception
    assert any("相手 が変更しました" in e.value for e in at.error)
    shown = [t.value for t in at.text]
    assert {"自分の名前", "相手の名前", row["name"], "自分の料金"} <= set(shown)
    assert any("日時" in c.value or "開催日時" in c.value or "他の項目" in c.value for c in at.caption)
    if choice == "mine":
        _button(at, "自分の値をすべて残して保存").click().run()
        expected = ("自分の名前", "自分の料金")
    elif choice == "theirs":
        _button(at, "相手の値をすべて採る").click().run()
        expected = ("相手の名前", row["fee"] or None)
    else:
        at.radio(key=f"merge_{rid}_name").set_value("相手の値")
        _button(at, "選んだ値で保存").click().run()
        expected = ("相手の名前", "自分の料金")
    assert not at.exception and not at.error
    stored = sample_copy.read("resources").set_index("resource_id").loc[rid]
    assert (stored["name"], stored["fee"] if stored["fee"] else None) == expected
    assert stored["schedule"] == "金 9:00"  # their other change is kept whatever the choice
    assert at.data_editor  # back to the table


# ------------------------------------------------------------------ PostGIS


def test_the_app_on_a_postgis_workspace(sample_workspace, pg_url):
    from scgeo.migration import migrate

    migrate(sample_workspace.path, pg_url)
    ws = Workspace.open(pg_url)
    at = _app(pg_url)
    assert not at.exception
    assert _metrics(at)["社会資源"] == str(ws.count("resources"))
    assert "password" not in " ".join(c.value for c in at.caption)
    for page in ["gaps_page", "needs_page", "export_page"]:
        _page(at, page)
        assert not at.exception, page
    _page(at, "resources_page")
    rid = at.data_editor[0].value.iloc[0]["resource_id"]
    _edit(at, {0: {"fee": "データベースの料金"}})
    _button(at, "変更を保存").click().run()
    assert not at.exception and any("1 件の変更を保存しました" in s.value for s in at.success)
    assert ws.read("resources").set_index("resource_id").loc[rid, "fee"] == "データベースの料金"
    us.add_user(ws, "mi", role="閲覧", password=PASSWORD)
    at = _login(_app(pg_url), "mi")
    assert at.title[0].value == "地域資源マップ"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        _page(at, "needs_page")


def test_a_database_user_that_cannot_read_the_users_does_not_open_the_app(pg_url, postgres):
    """Fail closed: a 閲覧 database login reads no users; the app must not take that for "no users"."""
    ws = Workspace.create(pg_url, muni_code="99201")
    us.add_user(ws, "etsuran", role="閲覧", password=PASSWORD, database_login=True)
    at = _app(postgres.url(ws.dbname, user="etsuran"))
    assert not at.exception
    assert any("利用者の一覧を読めない" in e.value for e in at.error)
    assert at.title[0].value == "scgeo ログイン" and not at.metric
