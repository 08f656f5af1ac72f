"""The 活動記録 and 計画・報告 pages, run headless with AppTest."""

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"


def _run(path, page, **state):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["workspace_path"] = str(path)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page)
    at.run()
    return at


def test_activity_page_records_an_entry_with_the_last_defaults(sample_copy):
    at = _run(sample_copy.path, "app_pages/activity_page.py", editor_name="第2層SC(第1圏域)")
    assert not at.exception
    assert at.title[0].value == "活動記録"
    before = sample_copy.count("activities")
    at.text_area[0].input("サロンの担い手と打合せ")
    next(b for b in at.button if b.label == "記録する").click().run()
    assert not at.exception
    log = sample_copy.read("activities")
    assert len(log) == before + 1
    new = log.sort_values("activity_id").iloc[-1]
    assert new["outcome"] == "サロンの担い手と打合せ" and new["user"] == "第2層SC(第1圏域)"
    assert new["area_id"] == "LA1"  # the last entry's area, offered as the default
    assert any("記録しました" in s.value for s in at.success)


def test_plan_page_shows_progress_and_snapshots(sample_copy):
    at = _run(sample_copy.path, "app_pages/plan_page.py")
    assert not at.exception
    assert at.title[0].value == "計画・報告"
    goals = at.table[0].value  # a table that wraps its texts, one row per goal
    assert "南中学校区で通いの場を2か所創出" in set(goals.index)
    assert {"注意", "達成"} <= set(goals.columns) and "True" not in set(goals["達成"].astype(str))
    snapshots = at.dataframe[0].value
    assert len(snapshots) == 7  # the sample year's month-end snapshots
    assert set(snapshots["注意"]) == {"※1"} and any("※1 サンプルの町" in c.value for c in at.caption)
