"""The analysis pages of the app (ギャップ分析, マッチング, ニーズ), run headless with AppTest."""

import datetime as dt
import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Dataframe, Table

from scgeo import Workspace
from scgeo.privacy import INTERNAL_MARK, read_ledger

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "streamlit_app.py"
TITLES = {"gaps_page": "ギャップ分析(空白地帯)", "matching_page": "ニーズと資源のマッチング",
          "needs_page": "ニーズの集計"}
# any latitude/longitude-like number of the sample town (35.0x N, 141.0x E) written with 4+ decimals
COORDINATE = re.compile(r"(?<![\d.])(?:3[45]|14[01])\.\d{4,}")


def _run(workspace_path, page, **state):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state["workspace_path"] = str(workspace_path)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    return at.run()


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def _button(at, prefix):
    return next(b for b in at.button if b.label.startswith(prefix))


def _shown(at) -> tuple[list[str], list[str]]:
    """Everything on the page as text: (iframes' HTML, every other element incl. whole dataframes)."""
    frames, texts = [], []
    for node in [*at.main, *at.sidebar]:
        if isinstance(node, Block):
            continue
        if isinstance(node, Dataframe | Table):
            value = node.value
            texts.append(value.to_csv() + " ".join(map(str, value.index)))
        elif getattr(node, "type", None) == "iframe":
            frames.append(str(node.proto))
        else:
            texts.append(str(node.proto))
    return frames, texts


@pytest.fixture
def empty_workspace(tmp_path):
    return Workspace.create(tmp_path / "empty.gpkg", muni_code="32203", muni_name="出雲市")


# ------------------------------------------------------------------ every page


@pytest.mark.parametrize("page", list(TITLES))
def test_every_analysis_page_runs_on_the_sample(sample_workspace, page):
    at = _run(sample_workspace.path, page)
    assert not at.exception
    assert at.title[0].value == TITLES[page]
    assert not at.error


@pytest.mark.parametrize("page", list(TITLES))
def test_analysis_pages_guide_on_an_empty_and_a_missing_workspace(empty_workspace, tmp_path, page):
    at = _run(empty_workspace.path, page)
    assert not at.exception
    assert at.title[0].value == TITLES[page]
    assert any("取り込んで" in i.value for i in at.info)
    at = _run(tmp_path / "missing.gpkg", page)
    assert not at.exception
    assert any("見つかりません" in w.value for w in at.warning)
    assert any("make demo" in i.value for i in at.info)


# ------------------------------------------------------------------ ギャップ分析


def test_gaps_shows_the_planted_blank_block_and_downloads(sample_workspace):
    at = _run(sample_workspace.path, "gaps_page")
    at.selectbox(key="gaps_level").set_value("町丁目")
    at.multiselect(key="gaps_categories").set_value(["居場所・サロン"]).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["種別"]) == {"居場所・サロン"}
    assert len(table) == sample_workspace.info()["area_levels"]["town_block"]
    minamisawa = table.set_index("区域").loc["南沢"]
    assert minamisawa["判定"] == "空白"
    assert minamisawa["カバー率(%)"] < 20
    assert set(table["判定"]) <= {"充足", "不足", "空白", "対象者なし"}
    assert not any("ニーズ" in column for column in table.columns)  # unsuppressed need counts stay out
    styles = at.dataframe[0].proto.arrow_data.styler.styles
    assert "#ffcdd2" in styles and "#ffe0b2" in styles and "#c8e6c9" in styles  # 空白 red, 不足 amber, 充足 green
    assert _metrics(at)["空白"] == str(int((table["判定"] == "空白").sum()))
    assert any("歩行ネットワーク" in c.value for c in at.caption)

    zones = at.dataframe[1].value
    assert len(zones) and set(zones["種別"]) == {"居場所・サロン"}
    assert zones["65歳以上人口"].is_monotonic_decreasing
    frames, _ = _shown(at)
    assert len(frames) == 1 and "カバー率" in frames[0] and "空白地帯" in frames[0]
    assert [b.proto.label for b in at.get("download_button")] == ["カバー率の表(CSV)", "カバー率の表(Excel)"]


# ------------------------------------------------------------------ マッチング


def test_matching_marks_needs_matched_and_resolved_with_history(sample_copy):
    before = sample_copy.read("needs")["status"].value_counts()
    at = _run(sample_copy.path, "matching_page", editor_name="山田")
    assert _metrics(at)["未対応"] == str(before["open"])
    assert not at.data_editor  # nothing proposed before 実行
    _button(at, "マッチングを実行").click().run()
    assert not at.exception
    editor = at.data_editor[0]
    table = editor.value
    assert list(table.columns) == ["選択", "ニーズID", "種別", "割り当て", "候補1", "候補2", "候補3"]
    none = table[table["候補1"].str.startswith("候補なし")]
    assert len(none) and none["候補1"].str.fullmatch(r"候補なし(.+)").all()  # says why
    assert (none["割り当て"] == "割り当てなし").all()
    assert len(table) == before["open"]
    _, texts = _shown(at)
    assert not any(COORDINATE.search(t) for t in texts)  # needs by pseudonymous ID only

    first = table.iloc[0]["ニーズID"]
    at.session_state[editor.key] = {"edited_rows": {0: {"選択": True}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _button(at, "対応済みにする").click().run()
    assert not at.exception
    assert any("1 件を「対応済み(つなぎ済み)」にしました" in s.value for s in at.success)
    needs = sample_copy.read("needs").set_index("need_id")
    assert needs.loc[first, "status"] == "matched"
    assert needs.loc[first, "status_date"].date() == dt.date.today()
    edits = sample_copy.edits()
    mine = edits[(edits["layer"] == "needs") & (edits["feature_id"] == first)]
    assert set(mine["field"]) == {"status", "status_date"}
    assert (mine["user"] == "山田").all()
    assert mine.set_index("field").loc["status", "new_value"] == "matched"
    metrics = _metrics(at)
    assert metrics["未対応"] == str(before["open"] - 1)
    assert metrics["対応済み(つなぎ済み)"] == str(before["matched"] + 1)
    assert first not in set(at.data_editor[0].value["ニーズID"])  # no longer open: no longer proposed

    editor = at.data_editor[0]
    second = editor.value.iloc[0]["ニーズID"]
    at.session_state[editor.key] = {"edited_rows": {0: {"選択": True}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _button(at, "解決にする").click().run()
    assert sample_copy.read("needs").set_index("need_id").loc[second, "status"] == "resolved"
    assert _metrics(at)["解決"] == str(before["resolved"] + 1)


# ------------------------------------------------------------------ ニーズ


def _leaks(at, needs) -> list[str]:
    """Need IDs or coordinates anywhere on the page (the map may hold areas, never need points)."""
    frames, texts = _shown(at)
    ids = set(needs["need_id"])
    found = [t for t in texts if COORDINATE.search(t) or any(i in t for i in ids)]
    points = needs.geometry.to_crs(4326)
    pairs = [re.compile(re.escape(repr(round(p.x, 6))) + r",\s*" + re.escape(repr(round(p.y, 6))))
             for p in points if p is not None and not p.is_empty]
    for html in frames:
        found += [i for i in ids if i in html]
        found += [p.pattern for p in pairs if p.search(html)]
    return found


@pytest.mark.parametrize("unit", ["中学校区", "町丁目"])
def test_needs_page_shows_only_suppressed_counts(sample_workspace, unit):
    needs = sample_workspace.read("needs")
    before = len(read_ledger(sample_workspace))
    at = _run(sample_workspace.path, "needs_page")
    at.selectbox(key="needs_unit").set_value(unit).run()
    assert not at.exception
    wide = at.dataframe[0].value
    assert (wide == "秘匿").any().any()
    assert wide.iloc[-1]["集計単位"] == "合計"
    metrics = _metrics(at)
    assert metrics["秘匿の基準"] == "5 件未満"
    assert int(metrics["秘匿したセル"].split(" / ")[0]) > 0
    assert metrics["集計したニーズ"] == str(int((needs["status"] == "open").sum()))
    assert len(read_ledger(sample_workspace)) == before  # viewing records nothing; a download does
    assert len(at.get("download_button")) == 2
    assert not at.error
    assert _leaks(at, needs) == []


def test_needs_internal_mode_needs_an_explicit_confirmation(sample_workspace):
    needs = sample_workspace.read("needs")
    at = _run(sample_workspace.path, "needs_page")
    at.toggle(key="needs_internal").set_value(True).run()
    assert _leaks(at, needs) == []  # the toggle alone shows nothing individual
    assert not any(INTERNAL_MARK in e.value for e in at.error)

    at.checkbox(key="needs_internal_confirm").set_value(True).run()
    assert not at.exception
    banner = [e for e in at.error if INTERNAL_MARK in e.value]
    assert banner
    individual = at.table[0].value
    assert list(individual.index) == sorted(needs["need_id"])[:50]  # 50 a page
    assert _leaks(at, needs)  # now shown, so the scan above would have seen them
    kinds = [type(n).__name__ for n in at.main if not isinstance(n, Block)]
    assert kinds.index("Error") < kinds.index("Table")  # the banner comes before the individual table
    at.multiselect(key="needs_internal_statuses").set_value(["解決"]).run()
    resolved = needs.loc[needs["status"] == "resolved", "need_id"]
    assert set(at.table[0].value.index) == set(sorted(resolved)[:50])
    assert len(at.get("download_button")) == 2  # still only the public aggregate and its manifest

    at.toggle(key="needs_internal").set_value(False).run()
    assert _leaks(at, needs) == []
    at.toggle(key="needs_internal").set_value(True).run()
    assert _leaks(at, needs) == []  # switching back on asks again
