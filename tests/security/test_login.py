"""Login: a growing delay and a temporary lockout after failures, per session and overall; downloads
only for a logged-in session."""

import logging
from pathlib import Path

import pytest

from scgeo.login import LoginGuard

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_thirty_fast_wrong_passwords_then_the_right_one_is_refused(clock, caplog):
    guard = LoginGuard("sakura-2026", clock=clock)
    with caplog.at_level(logging.WARNING, logger="scgeo.login"):
        outcomes = []
        for _ in range(30):  # as fast as a script can send them
            outcomes.append(guard.attempt("s1", "wrong"))
            clock.now += 0.05
    assert not any(o.ok for o in outcomes)
    # only the first failures are compared at all; then the session waits, then it is locked
    compared = [o for o in outcomes if "パスワードが違います" in o.message or "続いたため" in o.message]
    assert len(compared) == 4 and "秒待ってから" in outcomes[3].message
    right = guard.attempt("s1", "sakura-2026")
    assert not right.ok and right.wait_s > 0
    assert len([r for r in caplog.records if "login failed" in r.getMessage()]) == 4
    assert all("wrong" not in r.getMessage() and "sakura" not in r.getMessage() for r in caplog.records)


def test_the_delay_grows_then_the_session_is_locked(clock):
    guard = LoginGuard("pw", clock=clock, free_failures=3, session_lockout_failures=10, lockout_s=900)
    waits = []
    for _ in range(10):
        clock.now += guard.wait_s("s1")  # a patient attacker waits out every delay
        waits.append(guard.attempt("s1", "wrong").wait_s)
    assert waits[:3] == [0, 0, 1] and waits[3:9] == [2, 4, 8, 16, 30, 30] and waits[9] == 900
    clock.now += 899
    assert not guard.attempt("s1", "pw").ok  # still locked
    clock.now += 1
    assert guard.attempt("s1", "pw").ok
    assert guard.attempt("s1", "wrong").wait_s == 0  # success resets the session's count


def test_failures_over_all_sessions_lock_every_login(clock):
    guard = LoginGuard("pw", clock=clock, global_lockout_failures=30, lockout_s=900)
    for i in range(30):  # a new session for every guess gets around the per-session delay …
        guard.attempt(f"s{i}", "wrong")
        clock.now += 1
    outcome = guard.attempt("someone-else", "pw")  # … but not the overall count
    assert not outcome.ok and "一時停止" in outcome.message
    clock.now += 900
    assert guard.attempt("someone-else", "pw").ok


def test_the_app_gate_locks_a_session_and_refuses_the_right_password(monkeypatch, tmp_path):
    pytest.importorskip("streamlit")
    from streamlit import config as st_config
    from streamlit.testing.v1 import AppTest

    from scgeo import get_settings
    from scgeo.settings import set_settings

    monkeypatch.setenv("SCGEO_APP_PASSWORD", "gate-test-password")  # its own guard (one per password)
    set_settings(get_settings().replace(login_lockout_failures=1))  # the first failure locks the session
    old = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    try:
        at = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=60)
        at.session_state["workspace_path"] = str(tmp_path / "none.gpkg")
        at.run()
        at.text_input[0].set_value("wrong")
        at.button[0].click().run()
        assert any("約15分間ログインできません" in e.value for e in at.error)
        at.text_input[0].set_value("gate-test-password")
        at.button[0].click().run()  # refused during the lockout, without comparing
        assert [t.value for t in at.title] == ["scgeo ログイン"] and not at.get("download_button")
        assert any("ログインできません" in e.value for e in at.error)
    finally:
        st_config.set_option("server.address", old)
        set_settings(None)


def test_downloads_are_deferred_and_given_only_to_a_logged_in_session():
    """No page hands bytes to st.download_button directly (they would sit under /media for anyone)."""
    import re

    for page in (ROOT / "app" / "app_pages").glob("*.py"):
        for call in re.findall(r"download_button\(\s*\"[^\"]*\",\s*([^\n]+)", page.read_text(encoding="utf-8")):
            assert call.startswith("download_data("), (page.name, call)
