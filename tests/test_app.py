"""The Streamlit app, run headless with AppTest."""

import datetime as dt
import hashlib
import time
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from scgeo import InputError, Workspace
from scgeo.app_runner import serve_app, streamlit_command

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "streamlit_app.py"
PAGES = ["map_page", "resources_page", "import_page", "export_page"]
TITLES = {"map_page": "地域資源マップ", "resources_page": "社会資源の一覧と更新", "import_page": "データ取込",
          "export_page": "出力(協議体・関係機関向け)"}


def _run(workspace_path, page=None, **state):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["workspace_path"] = str(workspace_path)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    return at


def _metrics(at):
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def empty_workspace(tmp_path):
    return Workspace.create(tmp_path / "empty.gpkg", muni_code="32203", muni_name="出雲市")


# ------------------------------------------------------------------ every page


def test_map_page_shows_the_sample_counts(sample_workspace):
    at = _run(sample_workspace.path)
    assert not at.exception
    info = sample_workspace.info()
    metrics = _metrics(at)
    assert metrics["社会資源"] == str(info["layers"]["resources"])
    assert metrics["表示中"] == str(info["layers"]["resources"])
    assert metrics["町丁目"] == str(info["area_levels"]["town_block"])
    assert metrics["ニーズ (件数のみ)"] == str(info["layers"]["needs"])
    assert at.title[0].value == "地域資源マップ"


def test_empty_workspace_gets_guidance_not_a_traceback(empty_workspace):
    at = _run(empty_workspace.path)
    assert not at.exception
    assert _metrics(at)["社会資源"] == "0"
    assert any("まだデータがありません" in i.value for i in at.info)


def test_missing_workspace_explains_how_to_make_one(tmp_path):
    at = _run(tmp_path / "nothing.gpkg")
    assert not at.exception
    assert any("見つかりません" in w.value for w in at.warning)
    assert any("make demo" in i.value for i in at.info)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_sample(sample_workspace, page):
    at = _run(sample_workspace.path, page)
    assert not at.exception
    assert at.title[0].value == TITLES[page]
    assert not at.error


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_an_empty_and_a_missing_workspace(empty_workspace, tmp_path, page):
    at = _run(empty_workspace.path, page)
    assert not at.exception
    assert at.title[0].value == TITLES[page]
    at = _run(tmp_path / "missing.gpkg", page)
    assert not at.exception
    assert any("見つかりません" in w.value for w in at.warning)


# ------------------------------------------------------------------ 地図


def test_category_filter_shows_exactly_the_salons(sample_workspace):
    resources = sample_workspace.read("resources")
    salons = int((resources["category"] == "salon").sum())
    at = _run(sample_workspace.path)
    at.multiselect(key="map_categories").set_value(["居場所・サロン"]).run()
    assert not at.exception
    assert _metrics(at)["表示中"] == str(salons)
    assert 0 < salons < len(resources)
    names = set(resources.loc[resources["category"] == "salon", "resource_id"])
    assert set(at.selectbox(key="map_selected").options) <= {*names, None} or \
        len(at.selectbox(key="map_selected").options) == salons


def test_area_status_and_keyword_filters(sample_workspace):
    resources = sample_workspace.read("resources")
    areas = sample_workspace.areas("living_area")
    at = _run(sample_workspace.path)
    area = areas.iloc[0]
    at.selectbox(key="map_area").set_value(f"日常生活圏域 {area['name']}").run()
    inside = int(resources.geometry.intersects(area.geometry).sum())
    assert _metrics(at)["表示中"] == str(inside)
    assert 0 < inside < len(resources)

    at.selectbox(key="map_area").set_value("市全域")
    at.multiselect(key="map_statuses").set_value(["廃止"]).run()
    assert _metrics(at)["表示中"] == str(int((resources["status"] == "closed").sum()))

    at.multiselect(key="map_statuses").set_value([])
    word = resources["name"].iloc[0][:3]
    at.text_input(key="map_keyword").set_value(word).run()
    expected = (resources["name"].str.contains(word, regex=False) | resources["address"].str.contains(word, regex=False)
                | resources["notes"].fillna("").str.contains(word, regex=False)).sum()
    assert _metrics(at)["表示中"] == str(int(expected))


def test_picking_a_resource_shows_its_details(sample_workspace):
    row = sample_workspace.read("resources").iloc[0]
    at = _run(sample_workspace.path)
    at.selectbox(key="map_selected").set_value(row["resource_id"]).run()
    assert not at.exception
    assert at.subheader[0].value == row["name"]
    assert any(row["address"] in m.value for m in at.markdown)


def test_a_filter_change_rerenders_from_cache(sample_workspace):
    at = _run(sample_workspace.path)
    ms = at.multiselect(key="map_categories")
    start = time.perf_counter()
    ms.set_value(["配食"]).run()
    new_map = time.perf_counter() - start
    ms.set_value([]).run()  # back to a map drawn before: cached
    start = time.perf_counter()
    ms.set_value(["配食"]).run()
    cached = time.perf_counter() - start
    print(f"filter change: new map {new_map:.2f} s, cached {cached:.2f} s")  # measured, not asserted
    assert not at.exception
    meals = (sample_workspace.read("resources")["category"] == "meal_delivery").sum()
    assert _metrics(at)["表示中"] == str(meals)


# ------------------------------------------------------------------ 社会資源


def _editor_key(at):
    return next(e.key for e in at.data_editor if e.key and e.key.startswith("resources_editor"))


def _edit(at, rows):
    at.session_state[_editor_key(at)] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    return at.run()


def _button(at, prefix):
    return next(b for b in at.button if b.label.startswith(prefix))


def test_an_edit_reaches_the_workspace_with_history(sample_copy):
    at = _run(sample_copy.path, "resources_page", editor_name="山田")
    table = at.data_editor[0].value
    rid = table.iloc[0]["resource_id"]
    old_name = table.iloc[0]["name"]
    _edit(at, {0: {"name": "新しい名前のサロン", "capacity": 31}})
    _button(at, "変更を保存").click().run()
    assert not at.exception
    assert any("1 件の変更を保存しました" in s.value for s in at.success)
    row = sample_copy.read("resources").set_index("resource_id").loc[rid]
    assert row["name"] == "新しい名前のサロン"
    assert row["capacity"] == 31
    edits = sample_copy.edits()
    mine = edits[(edits["feature_id"] == rid) & (edits["action"] == "update")]
    assert set(mine["field"]) == {"name", "capacity"}
    assert (mine["user"] == "山田").all()
    assert mine.set_index("field").loc["name", "old_value"] == old_name


def test_an_invalid_edit_is_refused_in_japanese(sample_copy):
    before = sample_copy.path.read_bytes()
    at = _run(sample_copy.path, "resources_page")
    _edit(at, {0: {"name": ""}})
    _button(at, "変更を保存").click().run()
    assert not at.exception
    assert any("必須項目「名称」が空です" in e.value for e in at.error)
    assert sample_copy.path.read_bytes() == before


def test_confirm_close_and_delete_selected_rows(sample_copy):
    at = _run(sample_copy.path, "resources_page", editor_name="佐藤")
    table = at.data_editor[0].value
    first, second = table.iloc[0]["resource_id"], table.iloc[1]["resource_id"]
    _edit(at, {0: {"選択": True}, 1: {"選択": True}})
    _button(at, "確認済みにする").click().run()
    resources = sample_copy.read("resources").set_index("resource_id")
    assert resources.loc[first, "last_confirmed"].date() == dt.date.today()
    assert resources.loc[second, "last_confirmed"].date() == dt.date.today()

    _edit(at, {0: {"選択": True}})
    _button(at, "廃止にする").click().run()
    assert sample_copy.read("resources").set_index("resource_id").loc[first, "status"] == "closed"

    count = sample_copy.count("resources")
    _edit(at, {1: {"選択": True}})
    _button(at, "削除…").click().run()
    assert any("削除します" in w.value for w in at.warning)
    assert sample_copy.count("resources") == count  # nothing deleted before the confirmation
    _button(at, "削除する").click().run()
    assert not at.exception
    assert sample_copy.count("resources") == count - 1
    assert second not in sample_copy.ids("resources")
    last = sample_copy.edits().iloc[-1]
    assert (last["action"], last["feature_id"], last["user"]) == ("delete", second, "佐藤")


def test_add_a_resource_with_the_form(sample_copy):
    at = _run(sample_copy.path, "resources_page", editor_name="田中")
    count = sample_copy.count("resources")
    form = {t.label: t for t in at.text_input}
    form["資源ID"].set_value("R9001")
    form["名称"].set_value("新しい通いの場")
    numbers = {n.label: n for n in at.number_input}
    numbers["緯度"].set_value(35.05)
    numbers["経度"].set_value(141.05)
    _button(at, "追加する").click().run()
    assert not at.exception
    assert sample_copy.count("resources") == count + 1
    row = sample_copy.read("resources").set_index("resource_id").loc["R9001"]
    assert row["name"] == "新しい通いの場"
    last = sample_copy.edits().iloc[-1]
    assert (last["action"], last["feature_id"], last["user"]) == ("insert", "R9001", "田中")

    form = {t.label: t for t in at.text_input}  # the same id again: refused, nothing written
    form["資源ID"].set_value("R9001")
    form["名称"].set_value("重複")
    _button(at, "追加する").click().run()
    assert any("既に" in e.value for e in at.error)
    assert sample_copy.count("resources") == count + 1


def test_stale_filter_lists_the_entries_to_check(sample_workspace):
    from scgeo.analysis.freshness import freshness

    resources = sample_workspace.read("resources")
    at = _run(sample_workspace.path, "resources_page")
    assert len(at.data_editor[0].value) == len(resources)
    at.toggle(key="resources_stale").set_value(True).run()
    states = freshness(resources, today=dt.date.today(), flags=sample_workspace.review_flags())["state"]
    stale = int(states.isin(["overdue", "long_unconfirmed", "needs_review"]).sum())
    assert 0 < stale < len(resources)
    assert len(at.data_editor[0].value) == stale
    assert at.dataframe[-1].value.iloc[0]["編集者"]  # the recent history is shown


# ------------------------------------------------------------------ データ取込


BAD_CSV = "施設名,種別,緯度,経度\n新しいサロン,サロン,35.05,141.05\n変な行,宇宙旅行,35.05,141.05\n座標なし,配食,,\n"


def test_import_shows_rejected_rows_and_writes_only_when_confirmed(sample_copy):
    before = sample_copy.count("resources")
    at = _run(sample_copy.path, "import_page", editor_name="鈴木")
    at.file_uploader[0].set_value(("salons.csv", BAD_CSV.encode("cp932"), "text/csv")).run()
    assert not at.exception
    metrics = _metrics(at)
    assert (metrics["取り込む行"], metrics["除外する行"]) == ("1", "2")
    rejected = at.dataframe[-1].value
    assert list(rejected["行"]) == [3, 4]  # the file's rows: the header is row 1
    assert "宇宙旅行" in rejected["除外の理由"].iloc[0]
    assert "座標" in rejected["除外の理由"].iloc[1]
    assert any("ID の列がない" in w.value for w in at.warning)  # ImportResult.messages
    assert sample_copy.count("resources") == before  # nothing written yet

    _button(at, "ワークスペースに書き込む").click().run()
    assert not at.exception
    assert sample_copy.count("resources") == before + 1
    last = sample_copy.edits().iloc[-1]
    assert (last["action"], last["user"]) == ("import:append", "鈴木")
    assert "salons.csv" in last["note"]


def test_import_refuses_a_file_over_the_size_limit(sample_copy):
    from scgeo.settings import get_settings, set_settings

    set_settings(get_settings().replace(max_upload_mb=1))
    try:
        big = (BAD_CSV + "x,サロン,35.05,141.05\n" * 60_000).encode()
        assert len(big) > 1024 * 1024
        at = _run(sample_copy.path, "import_page")
        at.file_uploader[0].set_value(("big.csv", big, "text/csv")).run()
    finally:
        set_settings(None)
    assert not at.exception
    assert any("1 MB 以下" in e.value for e in at.error)
    assert not at.metric


def test_import_column_mapping_can_be_overridden(sample_copy):
    data = "サロン名,種別,Y,X\n北の家,サロン,35.05,141.05\n".encode()
    at = _run(sample_copy.path, "import_page")
    at.file_uploader[0].set_value(("odd.csv", data, "text/csv")).run()
    assert any("名称" in e.value for e in at.error)  # サロン名 is not a known header for 名称
    key = f"map_{hashlib.sha256(data).hexdigest()[:8]}_name"
    assert at.selectbox(key=key).value == "(対応なし)"
    at.selectbox(key=key).set_value("サロン名").run()
    assert not at.exception
    assert _metrics(at)["取り込む行"] == "1"


def test_import_areas_into_an_empty_workspace(empty_workspace, tmp_path):
    data = (ROOT / "data" / "boundaries" / "living_areas.geojson").read_bytes()
    # the sample town's areas lie nowhere near 出雲市: refused with the reason, nothing written
    at = _run(empty_workspace.path, "import_page")
    at.radio(key="import_layer").set_value("区域(日常生活圏域・中学校区・小学校区など)").run()
    at.selectbox(key="import_level").set_value("日常生活圏域").run()
    at.file_uploader[0].set_value(("living.geojson", data, "application/geo+json")).run()
    assert not at.exception and any("出雲市役所から" in e.value and "km 離れています" in e.value for e in at.error)
    assert empty_workspace.count("areas") == 0

    empty_workspace = Workspace.create(tmp_path / "sakura.gpkg", muni_code="99201", muni_name="さくら市")
    at = _run(empty_workspace.path, "import_page")
    at.radio(key="import_layer").set_value("区域(日常生活圏域・中学校区・小学校区など)").run()
    at.selectbox(key="import_level").set_value("日常生活圏域").run()
    at.file_uploader[0].set_value(("living.geojson", data, "application/geo+json")).run()
    assert not at.exception
    n = int(_metrics(at)["取り込む行"])
    assert n > 0 and empty_workspace.count("areas") == 0
    _button(at, "ワークスペースに書き込む").click().run()
    assert empty_workspace.count("areas") == n
    assert set(empty_workspace.areas()["level"]) == {"living_area"}
    at.file_uploader[0].set_value(("living.geojson", data, "application/geo+json")).run()  # the same again
    assert any("既に登録されています" in e.value for e in at.error)
    assert _button(at, "ワークスペースに書き込む").disabled


# ------------------------------------------------------------------ 出力


def test_export_for_one_living_area(sample_workspace):
    resources = sample_workspace.read("resources")
    area = sample_workspace.areas("living_area").iloc[0]
    at = _run(sample_workspace.path, "export_page")
    assert _metrics(at)["対象の社会資源"] == str(len(resources))
    at.selectbox(key="export_area").set_value(f"日常生活圏域 {area['name']}").run()
    assert not at.exception
    assert _metrics(at)["対象の社会資源"] == str(int(resources.geometry.intersects(area.geometry).sum()))
    assert len(at.get("download_button")) == 1  # Excel at once; the maps when asked for
    at.button(key="export_make_map").click().run()
    at.button(key="export_make_pdf").click().run()
    assert not at.exception
    assert len(at.get("download_button")) == 3  # HTML map, Excel, print PDF
    assert any("A3 横 1 ページ" in c.value for c in at.caption)  # one 圏域: one page


# ------------------------------------------------------------------ security


@pytest.fixture
def public_address():
    old = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    yield
    st_config.set_option("server.address", old)


def test_password_gate_when_not_on_loopback(sample_workspace, public_address, monkeypatch):
    monkeypatch.setenv("SCGEO_APP_PASSWORD", "sakura-2026")
    at = _run(sample_workspace.path)
    assert not at.exception
    assert [t.value for t in at.title] == ["scgeo ログイン"]
    assert not at.metric  # nothing of the workspace is shown
    at.text_input[0].set_value("wrong")
    at.button[0].click().run()
    assert any("パスワードが違います" in e.value for e in at.error)
    assert [t.value for t in at.title] == ["scgeo ログイン"]
    at.text_input[0].set_value("sakura-2026")
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "地域資源マップ"
    assert _metrics(at)["社会資源"] == str(sample_workspace.count("resources"))


def test_no_password_configured_shows_nothing(sample_workspace, public_address, monkeypatch):
    monkeypatch.delenv("SCGEO_APP_PASSWORD", raising=False)
    at = _run(sample_workspace.path)
    assert [t.value for t in at.title] == ["scgeo ログイン"]
    assert any("パスワードが設定されていません" in e.value for e in at.error)
    assert not at.text_input and not at.metric


def test_loopback_needs_no_password(sample_workspace, monkeypatch):
    monkeypatch.delenv("SCGEO_APP_PASSWORD", raising=False)
    at = _run(sample_workspace.path)
    assert at.title[0].value == "地域資源マップ"


def test_runner_refuses_a_public_address_without_password(sample_workspace, monkeypatch, tmp_path):
    monkeypatch.delenv("SCGEO_APP_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(InputError, match="パスワードが必要"):
        serve_app(sample_workspace.path, port=8599, address="0.0.0.0")
    command = streamlit_command(sample_workspace.path, port=8599)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    monkeypatch.setenv("SCGEO_APP_PASSWORD", "x")
    command = streamlit_command(sample_workspace.path, port=8599, address="0.0.0.0")
    assert command[command.index("--server.address") + 1] == "0.0.0.0"


# ------------------------------------------------------------------ a coordinator's first day


def test_new_workspace_from_the_sidebar(tmp_path):
    target = tmp_path / "izumo.gpkg"
    at = _run(tmp_path / "missing.gpkg")
    at.text_input(key="new_ws_code").input("32203")
    at.text_input(key="new_ws_file").input(str(target))
    next(b for b in at.button if b.label == "作成").click().run()
    assert not at.exception
    assert Workspace.open(target).meta()["muni_name"] == "出雲市"  # named from the code
    assert at.session_state["workspace_path"] == str(target)  # and opened
    assert at.title[0].value == "地域資源マップ" and not at.warning
    at.text_input(key="new_ws_code").input("123")
    next(b for b in at.button if b.label == "作成").click().run()
    assert any("市町村コード" in e.value for e in at.error)


def test_each_workspace_is_listed_once(tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = Workspace.create(out / "workspace.gpkg", muni_code="32203")
    Workspace.create(out / "other.gpkg", muni_code="32203")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCGEO_WORKSPACE", str(first.path.resolve()))  # the demo's, by its full path
    at = _run(first.path.resolve())
    options = at.selectbox(key="workspace_found").options
    assert sorted(options) == ["out/other.gpkg", "out/workspace.gpkg"]


def test_restore_from_the_resources_page(sample_copy):
    before = sample_copy.count("resources")
    sample_copy.delete_feature("resources", sample_copy.read("resources")["resource_id"].iloc[0], user="山田")
    at = _run(sample_copy.path, "resources_page")
    assert _metrics(at)["社会資源"] == str(before - 1)
    at.selectbox(key="restore_generation").set_value(1)
    at.button(key="restore_button").click().run()
    assert not at.exception
    assert sample_copy.count("resources") == before
    assert _metrics(at)["社会資源"] == str(before)
    assert any("以前の状態に戻しました" in s.value for s in at.success)


def test_no_none_in_the_tables(sample_copy):
    """The grids print "None" for any missing value: the tables of these pages have none."""
    rid = sample_copy.read("resources")["resource_id"].iloc[0]
    sample_copy.update_feature("resources", rid, {"capacity": None, "notes": None})
    at = _run(sample_copy.path, "resources_page")
    frames = [e.value for e in at.data_editor] + [e.value for e in at.dataframe]
    at = _run(sample_copy.path, "matching_page")
    next(b for b in at.button if b.label == "マッチングを実行").click().run()
    frames += [e.value for e in at.data_editor]
    assert len(frames) >= 3
    for frame in frames:
        assert not frame.isna().any().any(), frame.columns[frame.isna().any()].tolist()
        assert not frame.astype(str).isin(["None", "nan", "NaT", "<NA>"]).any().any()


def test_a_table_with_missing_numbers_shows_a_dash_not_none(monkeypatch):
    """The data grid draws a missing number as 「None」 whatever a Styler's na_rep says (a real city's
    データなし rows, 75+ unknown under an aging-rate estimate): such a column goes as text with 「—」,
    its numbers formatted; a column with every value keeps its numbers (it sorts as numbers)."""
    import numpy as np
    import pandas as pd

    monkeypatch.syspath_prepend(str(APP.parent))
    from app_state import formatted_table

    frame = pd.DataFrame({"カバー率(%)": [12.345, np.nan], "65歳以上人口": [4734.0, 1200.0], "種別": ["配食", "会食"]})
    styled, config = formatted_table(frame, {"カバー率(%)": "{:.1f}", "65歳以上人口": "{:,.0f}"})
    assert styled.data["カバー率(%)"].tolist() == ["12.3", "—"]
    assert list(config) == ["カバー率(%)"]  # the column turned text, aligned right as numbers are
    assert pd.api.types.is_numeric_dtype(styled.data["65歳以上人口"])
    html = styled.to_html()
    assert "4,734" in html and "None" not in html and "nan" not in html
