"""The 確認 page (due list, one-click 変わりなし, 確認依頼 PDF) and the failed-referral signal, with AppTest."""

import datetime as dt
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from scgeo.demo import DEMO_USER

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "streamlit_app.py"


def _run(workspace_path, page, **state):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["workspace_path"] = str(workspace_path)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    return at.run()


def _button(at, prefix):
    return next(b for b in at.button if b.label.startswith(prefix))


def test_verify_page_confirms_with_one_click_and_makes_the_sheets(sample_copy):
    at = _run(sample_copy.path, "verify_page", editor_name="山田", verify_area="中学校区 北中学校区",
              verify_by="中学校区ごと")
    assert not at.exception
    assert at.title[0].value == "社会資源の確認"
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"確認済み", "確認時期", "期限切れ", "長期未確認", "要確認"}
    editor = next(e for e in at.data_editor if e.key and e.key.startswith("verify_editor"))
    table = editor.value
    assert len(table) and {"確認コード", "確認の状態", "確認期限"} <= set(table.columns)
    rid = table.iloc[0]["資源ID"]
    at.session_state[editor.key] = {"edited_rows": {0: {"選択": True}}, "added_rows": [], "deleted_rows": []}
    at.run()
    _button(at, "変わりなし").click().run()
    assert not at.exception
    assert any("1 件を「変わりなし」として記録しました" in s.value for s in at.success)
    res = sample_copy.read("resources").set_index("resource_id")
    assert res.loc[rid, "last_confirmed"].date() == dt.date.today()
    edits = sample_copy.edits()
    confirm = edits[(edits["action"] == "confirm") & (edits["user"] != DEMO_USER)]  # not the demo's year
    assert confirm["feature_id"].tolist() == [rid] and confirm["user"].tolist() == ["山田"]
    remaining = next(e for e in at.data_editor if e.key and e.key.startswith("verify_editor")).value
    assert rid not in set(remaining["資源ID"])

    _button(at, "確認依頼(印刷用 PDF)を作る").click().run()
    assert not at.exception
    assert any(b.label.startswith("確認依頼をダウンロード") for b in at.get("download_button"))


def test_failed_referral_turns_the_resource_needs_review(sample_copy):
    at = _run(sample_copy.path, "matching_page", editor_name="山田")
    _button(at, "マッチングを実行").click().run()
    rid = sample_copy.read("resources")["resource_id"].iloc[0]
    at.selectbox(key="matching_failed").set_value(rid).run()
    _button(at, "要確認にする").click().run()
    assert not at.exception
    flags = sample_copy.review_flags()
    assert flags["resource_id"].tolist() == [rid] and flags["reason"].tolist() == ["failed_referral"]
    assert flags["source"].iloc[0] == "マッチング: 活動していなかった"
