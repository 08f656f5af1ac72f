"""The Streamlit app, run headless with AppTest."""

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from scgeo import Workspace

APP = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


def _run(workspace_path):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["workspace_path"] = str(workspace_path)
    return at.run()


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_map_page_shows_the_sample_counts(sample_workspace):
    at = _run(sample_workspace.path)
    assert not at.exception
    info = sample_workspace.info()
    metrics = _metrics(at)
    assert metrics["社会資源"] == str(info["layers"]["resources"])
    assert metrics["町丁目"] == str(info["area_levels"]["town_block"])
    assert metrics["ニーズ (件数のみ)"] == str(info["layers"]["needs"])
    assert at.title[0].value == "地域資源マップ"


def test_empty_workspace_gets_guidance_not_a_traceback(tmp_path):
    ws = Workspace.create(tmp_path / "empty.gpkg", muni_code="32203", muni_name="出雲市")
    at = _run(ws.path)
    assert not at.exception
    assert _metrics(at)["社会資源"] == "0"
    assert any("まだデータがありません" in i.value for i in at.info)


def test_missing_workspace_explains_how_to_make_one(tmp_path):
    at = _run(tmp_path / "nothing.gpkg")
    assert not at.exception
    assert any("見つかりません" in w.value for w in at.warning)
    assert any("make demo" in i.value for i in at.info)
