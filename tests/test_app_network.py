"""The 関係者ネットワーク page, run headless with AppTest."""

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from scgeo import Workspace

APP = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


def _run(path, **state):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state["workspace_path"] = str(path)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("app_pages/network_page.py")
    at.run()
    return at


def test_network_page_shows_the_sample_network_and_records_a_proposal(sample_copy):
    at = _run(sample_copy.path)
    assert not at.exception
    assert at.title[0].value == "関係者ネットワーク"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["団体"] == str(sample_copy.count("organisations"))
    assert int(metrics["つながりのない団体"]) >= 2
    before = sample_copy.count("ties")
    record = next(b for b in at.button if b.label == "提案として記録する")
    record.click().run()
    assert not at.exception
    proposed = sample_copy.read("ties").query("status == 'proposed'")
    assert len(proposed) > 0 and sample_copy.count("ties") == before + len(proposed)


def test_network_page_on_an_empty_workspace_gives_guidance(tmp_path):
    ws = Workspace.create(tmp_path / "e.gpkg", muni_code="32203", muni_name="出雲市")
    at = _run(ws.path)
    assert not at.exception
    assert any("関係団体がまだ登録されていません" in i.value for i in at.info)
