"""Login checks for the app with a growing delay, a temporary lockout after failures, idle expiry.

One :class:`LoginGuard` per app server counts failures per browser session and over all sessions
(an attacker can open new sessions at will). After ``free_failures`` failures in a session each
further attempt must wait longer (1, 2, 4 … seconds, at most ``max_delay_s``); after
``session_lockout_failures`` failures the session is locked for ``lockout_s``; after
``global_lockout_failures`` failures within ``lockout_s`` over all sessions, every login is locked
for ``lockout_s``. While a wait or a lockout runs, a password is not even compared: the right one
is refused too. Every failure is logged (``logging.getLogger("scgeo.login")``, no password).

The guard checks either one shared password (a workspace without users) or, given a callable
``check(login, password)``, a login name and a password against the workspace's users
(:func:`scgeo.users.authenticate`): the outcome then carries what the callable returned.
:func:`session_expired` tells when a logged-in session has been idle too long.

Examples
--------
>>> guard = LoginGuard("secret", clock=lambda: 0.0)
>>> guard.attempt("s1", "wrong").ok, guard.attempt("s1", "secret").ok
(False, True)
>>> users = LoginGuard(lambda login, password: login if password == "pw-" + login else None, clock=lambda: 0.0)
>>> users.attempt("s2", "pw-x", login="suzuki").ok, users.attempt("s2", "pw-suzuki", login="suzuki").user
(False, 'suzuki')
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["LoginGuard", "LoginOutcome", "session_allows", "session_expired"]

_LOG = logging.getLogger("scgeo.login")


@dataclass(frozen=True)
class LoginOutcome:
    """What a login attempt gave: ``ok`` (and the checker's ``user``), otherwise the Japanese message and the wait."""

    ok: bool
    message: str = ""
    wait_s: float = 0.0
    user: Any = None


class LoginGuard:
    """Checks passwords and throttles guessing, per session and overall (thread-safe).

    Parameters
    ----------
    check
        The expected password (one shared password), or a callable ``check(login, password)``
        that returns the user when they match and ``None`` otherwise.
    free_failures
        Failures in a session before delays start.
    max_delay_s
        Longest delay between two attempts of a session.
    session_lockout_failures
        Failures that lock a session for ``lockout_s``.
    global_lockout_failures
        Failures over all sessions within ``lockout_s`` that lock every login for ``lockout_s``.
    lockout_s
        Length of a lockout (and the window of the overall count), in seconds.
    clock
        Time source in seconds (``time.monotonic``; tests pass their own).
    """

    def __init__(self, check: str | Callable[[str, str], Any], *, free_failures: int = 3, max_delay_s: float = 30.0,
                 session_lockout_failures: int = 10, global_lockout_failures: int = 30,
                 lockout_s: float = 900.0, clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(check, str):
            expected = check.encode("utf-8")
            self._check = lambda _login, given: True if hmac.compare_digest(given.encode("utf-8"), expected) else None
            self._wrong = "パスワードが違います。"
            self._repeated = "パスワードの誤り"
        else:
            self._check = check
            self._wrong = "ログイン名かパスワードが違います。"
            self._repeated = "ログイン名・パスワードの誤り"
        self.free_failures = free_failures
        self.max_delay_s = max_delay_s
        self.session_lockout_failures = session_lockout_failures
        self.global_lockout_failures = global_lockout_failures
        self.lockout_s = lockout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._next_try: dict[str, float] = {}
        self._recent: deque[float] = deque()
        self._global_until = 0.0

    def _delay(self, failures: int) -> float:
        if failures >= self.session_lockout_failures:
            return self.lockout_s
        if failures < self.free_failures:
            return 0.0
        return min(self.max_delay_s, 2.0 ** (failures - self.free_failures))

    def wait_s(self, session: str) -> float:
        """Seconds before ``session`` may try again (0 when it may try now)."""
        with self._lock:
            now = self._clock()
            return max(0.0, self._global_until - now, self._next_try.get(session, 0.0) - now)

    def attempt(self, session: str, given: str, *, login: str = "") -> LoginOutcome:
        """Check ``given`` (and ``login``) for ``session``; refused without checking while a wait or lockout runs."""
        with self._lock:
            now = self._clock()
            if now < self._global_until:
                wait = self._global_until - now
                return LoginOutcome(False, f"ログインの失敗が続いたため、ログインを一時停止しています。"
                                           f"約{_minutes(wait)}分後にもう一度試してください。", wait)
            if now < self._next_try.get(session, 0.0):
                wait = self._next_try[session] - now
                locked = self._failures.get(session, 0) >= self.session_lockout_failures
                text = (f"{self._repeated}が続いたため、約{_minutes(wait)}分間ログインできません。" if locked
                        else f"{self._repeated}が続いています。{wait:.0f}秒待ってからもう一度入力してください。")
                return LoginOutcome(False, text, wait)
            user = self._check(login, given)
            if user is not None:
                self._failures.pop(session, None)
                self._next_try.pop(session, None)
                return LoginOutcome(True, user=user)
            failures = self._failures.get(session, 0) + 1
            self._failures[session] = failures
            delay = self._delay(failures)
            self._next_try[session] = now + delay
            self._recent.append(now)
            while self._recent and self._recent[0] < now - self.lockout_s:
                self._recent.popleft()
            overall = len(self._recent)
            if overall >= self.global_lockout_failures:
                self._global_until = now + self.lockout_s
                self._recent.clear()
            _LOG.warning("login failed: session %s, %d failures in the session, %d overall in %.0f s",
                         session[:8], failures, overall, self.lockout_s)
            if now < self._global_until:
                return LoginOutcome(False, "ログインの失敗が続いたため、ログインを一時停止しました。"
                                           f"約{_minutes(self.lockout_s)}分後にもう一度試してください。",
                                    self.lockout_s)
            if delay >= self.lockout_s:
                return LoginOutcome(False, f"{self._repeated}が{failures}回続いたため、約{_minutes(delay)}分間"
                                           "ログインできません。", delay)
            suffix = f"{delay:.0f}秒待ってからもう一度入力してください。" if delay else ""
            return LoginOutcome(False, f"{self._wrong}{suffix}", delay)


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


def session_expired(last_seen: float | None, now: float, *, idle_s: float) -> bool:
    """Whether a session last active at ``last_seen`` has been idle longer than ``idle_s`` at ``now``.

    A session never seen (``None``) is expired; ``idle_s <= 0`` means sessions never expire.

    Examples
    --------
    >>> session_expired(0.0, 3600.0, idle_s=8 * 3600), session_expired(0.0, 9 * 3600.0, idle_s=8 * 3600)
    (False, True)
    """
    if last_seen is None:
        return True
    return idle_s > 0 and now - last_seen > idle_s


def session_allows(*, ok: bool, user: Any, last_seen: float | None, now: float, idle_s: float,
                   capability: str = "read") -> bool:
    """Whether a session may have something that needs ``capability`` now (the app's deferred downloads).

    It must be logged in (``ok``), not idle past ``idle_s``, and its ``user`` (a
    :class:`scgeo.users.User`; ``None`` for a workspace without users) must have the capability.

    Examples
    --------
    >>> from scgeo.users import User
    >>> viewer = User("sato", "佐藤", "viewer", "active")
    >>> session_allows(ok=True, user=viewer, last_seen=0.0, now=1.0, idle_s=60, capability="read")
    True
    >>> session_allows(ok=True, user=viewer, last_seen=0.0, now=1.0, idle_s=60, capability="read_needs")
    False
    """
    if not ok or session_expired(last_seen, now, idle_s=idle_s):
        return False
    return user is None or user.can(capability)
