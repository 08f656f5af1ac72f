"""Shared app state: the login gate and roles, the workspace choice, cached reads, labels (app layer only)."""

from __future__ import annotations

import argparse
import html as html_lib
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

import scgeo
from scgeo._errors import AccessDeniedError
from scgeo.app_runner import PASSWORD_ENV, is_loopback
from scgeo.login import LoginGuard, session_allows, session_expired
from scgeo.permissions import UserWorkspace
from scgeo.schema import AREA_LEVEL_LABELS, RESOURCE_STATUS_LABELS, RESOURCES
from scgeo.users import User, authenticate, get_user
from scgeo.workspace import find_workspaces, is_database_url

# Our own component (components/scgeo_map/index.html, no third-party code): shows the offline map
# and returns the resource clicked on it. Declared here, in a module: a page run by st.navigation
# has no module name for declare_component to use.
_MAP_VIEW_DIR = Path(__file__).resolve().parent / "components" / "scgeo_map"
map_view = components.declare_component("scgeo_map", path=str(_MAP_VIEW_DIR)) \
    if (_MAP_VIEW_DIR / "index.html").is_file() else None

STATUS_LABELS = RESOURCE_STATUS_LABELS  # the pages' name for the schema's labels
NO_WORKSPACE_HELP = ("左の「新しいワークスペース」で市町村コードと名前から作成するか、"
                     "`make demo` (または `scgeo demo`) でサンプルの町のワークスペースを作ってください。")


# ------------------------------------------------------------------ login


def _expected_password() -> str | None:
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    try:
        return st.secrets.get("password") or None
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return None


def _guard(check) -> LoginGuard:
    settings = scgeo.get_settings()
    return LoginGuard(check, free_failures=settings.login_free_failures,
                      session_lockout_failures=settings.login_lockout_failures,
                      global_lockout_failures=settings.login_global_lockout_failures,
                      lockout_s=settings.login_lockout_minutes * 60)


@st.cache_resource
def login_guard(expected: str) -> LoginGuard:
    """One guard per server (and password): failures counted per session and over all sessions."""
    return _guard(expected)


@st.cache_resource
def users_guard(location: str) -> LoginGuard:
    """One guard per server and workspace, checking login names and passwords against its users."""
    return _guard(lambda login, password: authenticate(open_location(location), login, password))


def _login_token() -> dict:
    """This session's login state, also read by its deferred downloads (which run off the script).

    ``ok`` (may see the app), ``user`` (the workspace's :class:`scgeo.users.User`, ``None`` without
    users), ``workspace`` (where ``user`` logged in) and ``last_seen`` (``time.monotonic``).
    """
    if "_scgeo_login" not in st.session_state:
        st.session_state["_scgeo_login"] = {"ok": False, "session": uuid.uuid4().hex, "user": None,
                                            "workspace": None, "last_seen": None}
    return st.session_state["_scgeo_login"]


def _idle_s() -> float:
    return scgeo.get_settings().login_idle_minutes * 60


def _has_users(location: str) -> bool:
    """Whether the workspace at ``location`` has users (then the app asks for a login name).

    A database user that may not read the users raises :class:`AccessDeniedError`: the app does
    not open rather than take the workspace for one without users (which would show everything).
    """
    try:
        return open_location(location).count("users") > 0
    except AccessDeniedError:
        raise
    except scgeo.ScgeoError:
        return False


def log_out(message: str | None = None) -> None:
    """End this session's login (the sidebar's ログアウト, an expired or disabled session)."""
    token = _login_token()
    token.update(ok=False, user=None, workspace=None, last_seen=None)
    st.session_state.pop("authenticated", None)
    if message:
        st.session_state["login_message"] = message


def _form(with_login: bool) -> tuple[bool, str, str]:
    with st.form("login"):
        login = st.text_input("ログイン名", key="login_name") if with_login else ""
        given = st.text_input("パスワード", type="password")
        submitted = st.form_submit_button("ログイン")
    return submitted, login, given


def password_gate() -> bool:
    """True when the app may be shown; otherwise only a login form is drawn (the caller stops).

    A workspace with users (:mod:`scgeo.users`) asks for a login name and a password on every
    address, checked by :func:`scgeo.users.authenticate`; the session is bound to that workspace
    and user, re-read on every run (a disabled user is logged out at once). A workspace without
    users keeps the old rule: the loopback address needs nothing, any other address the shared
    password. Repeated failures make the session wait longer and longer, then lock it (and, past
    a count over all sessions, every login): :class:`scgeo.login.LoginGuard`. A logged-in session
    idle for ``settings.login_idle_minutes`` is logged out.
    """
    token = _login_token()
    location = workspace_path()
    now = time.monotonic()
    if token["ok"] and token["last_seen"] is not None and session_expired(token["last_seen"], now, idle_s=_idle_s()):
        log_out("一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。")
    try:
        has_users = _has_users(location)
    except AccessDeniedError as exc:
        token.update(ok=False, user=None)
        st.title("scgeo ログイン")
        st.error(f"{exc} このデータベースの利用者ではワークスペースの利用者の一覧を読めないため、アプリを開けません。"
                 "ワークスペースの所有者か、管理の役割のデータベース利用者でアプリを起動してください。")
        return False
    if has_users:
        user = token.get("user")
        if user is not None and token.get("workspace") == location:
            fresh = get_user(open_location(location), user.login)
            if fresh is not None and fresh.status == "active":
                token.update(ok=True, user=fresh, last_seen=now)
                return True
            log_out("この利用者は無効になりました。管理の役割の利用者に確かめてください。")
        token.update(ok=False, user=None)
        st.title("scgeo ログイン")
        _flash_login_message()
        submitted, login, given = _form(with_login=True)
        if submitted:
            outcome = users_guard(location).attempt(token["session"], given, login=login.strip())
            if outcome.ok:
                token.update(ok=True, user=outcome.user, workspace=location, last_seen=now)
                st.session_state.pop("editor_name", None)
                st.rerun()
            st.error(outcome.message)
        return False
    token["user"] = None
    if is_loopback(st.get_option("server.address")):
        token.update(ok=True, last_seen=now)
        st.session_state.pop("login_message", None)  # nothing to log in to here
        return True
    if st.session_state.get("authenticated") and token["ok"]:
        token["last_seen"] = now
        return True
    token["ok"] = False
    st.title("scgeo ログイン")
    _flash_login_message()
    expected = _expected_password()
    if not expected:
        st.error("このアプリはネットワークに公開されていますが、パスワードが設定されていません。"
                 f"環境変数 {PASSWORD_ENV} か .streamlit/secrets.toml の password を設定して起動し直してください。"
                 "または `scgeo user add` でワークスペースに利用者を登録してください。")
        return False
    submitted, _, given = _form(with_login=False)
    if submitted:
        outcome = login_guard(expected).attempt(token["session"], given)
        if outcome.ok:
            st.session_state["authenticated"] = True
            token.update(ok=True, last_seen=now)
            st.rerun()
        st.error(outcome.message)
    return False


def _flash_login_message() -> None:
    message = st.session_state.pop("login_message", None)
    if message:
        st.warning(message)


def current_user() -> User | None:
    """The logged-in workspace user; ``None`` when the workspace has no users (everything allowed)."""
    return _login_token().get("user")


def allowed(capability: str) -> bool:
    """Whether this session may ``read``, ``edit``, ``read_needs`` or ``manage_users`` (:func:`scgeo.users.can`)."""
    user = current_user()
    return user is None or user.can(capability)


ROLE_NEEDED = {"read": "閲覧", "edit": "編集", "read_needs": "内部", "manage_users": "管理"}


def require(capability: str) -> None:
    """Stop the page (server-side, whatever the navigation showed) unless this session may ``capability``."""
    if not _login_token()["ok"]:
        st.error("ログインしてください。")
        st.stop()
    if not allowed(capability):
        user = current_user()
        st.error(f"このページは役割「{ROLE_NEEDED[capability]}」以上の利用者だけが使えます"
                 f"({plain(user.display_name)} さんの役割は「{user.role_label}」です)。")
        st.stop()


def download_data(data: bytes | str, *, capability: str = "read") -> Callable[[], bytes | str]:
    """``data`` for ``st.download_button``, handed over only when a logged-in session clicks.

    Streamlit serves a download's bytes under ``/media/…`` to anyone who has the URL, without a
    session (streamlit issue #8148): so nothing is put there when a page is drawn. The button
    gets this callable (a deferred download); it runs on the click, through the session's own
    connection, and gives the bytes only while the session is logged in, not idle past
    ``login_idle_minutes``, and its user's role allows ``capability`` (``read_needs`` for
    anything about needs).
    """
    token = _login_token()

    def deliver() -> bytes | str:
        if not session_allows(ok=token["ok"], user=token.get("user"), last_seen=token["last_seen"],
                              now=time.monotonic(), idle_s=_idle_s(), capability=capability):
            raise PermissionError("ログインしていない、または役割が足りないセッションにはダウンロードを渡しません。")
        return data

    return deliver


# ------------------------------------------------------------------ workspace


def default_workspace() -> str:
    """`--workspace`, else `$SCGEO_WORKSPACE`, else the demo's ``out/workspace.gpkg`` (a path or a database URL)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--workspace")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args.workspace or os.environ.get("SCGEO_WORKSPACE") or "out/workspace.gpkg"


def workspace_path() -> str:
    """The workspace chosen in the sidebar (session), else :func:`default_workspace`: a path or a URL."""
    chosen = st.session_state.get("workspace_path")
    return str(chosen) if chosen else default_workspace()


@st.cache_resource(max_entries=8)
def _database(url: str) -> scgeo.Workspace:
    return scgeo.Workspace.open(url)  # checks (and upgrades) the tables once per server


def open_location(location: str) -> scgeo.Workspace:
    """The workspace at ``location``: a GeoPackage path (opened each time) or a database URL (opened once)."""
    return _database(location) if is_database_url(location) else scgeo.Workspace.open(location)


def _pick_found() -> None:
    st.session_state["workspace_path"] = st.session_state["workspace_found"]


def found_workspaces() -> list[str]:
    """The workspaces to offer: the default one and the GeoPackages in ``out/``, each listed once.

    Paths are resolved, so ``out/workspace.gpkg`` and its full path are one entry; shown relative
    to the working folder when inside it. A database URL (the default) is offered as it is.
    """
    here = Path.cwd().resolve()
    seen: dict[Path, None] = {}
    default = default_workspace()
    files = find_workspaces("out") if is_database_url(default) else (Path(default), *find_workspaces("out"))
    for candidate in files:  # never scratch copies or hidden files
        if candidate.is_file() and not candidate.name.startswith("."):
            seen.setdefault(candidate.resolve())
    listed = [str(p.relative_to(here)) if p.is_relative_to(here) else str(p) for p in seen]
    return [default, *listed] if is_database_url(default) else listed
def _create_workspace() -> None:
    """The 新しいワークスペース form: create the file, then make it the open workspace."""
    code = st.session_state.get("new_ws_code", "").strip()
    name = st.session_state.get("new_ws_name", "").strip()
    target = st.session_state.get("new_ws_file", "").strip() or f"out/{code}.gpkg"
    if not target.endswith(".gpkg") and not is_database_url(target):
        target += ".gpkg"
    try:
        ws = scgeo.Workspace.create(target, muni_code=code, muni_name=name)
    except scgeo.ScgeoError as exc:
        st.session_state["new_ws_message"] = ("error", str(exc))
        return
    st.session_state["workspace_path"] = target if is_database_url(target) else str(ws.path)
    name = ws.meta()["muni_name"] or code
    st.session_state["new_ws_message"] = ("success", f"{name} のワークスペースを作成しました: {ws.location}。"
                                          "「データ取込」のページで区域や社会資源を取り込んでください。")


def new_workspace_form() -> None:
    """市町村コードと名前から空のワークスペースを作る (sidebar)."""
    with st.expander("新しいワークスペース", expanded=bool(st.session_state.get("new_ws_message"))):
        with st.form("new_workspace", clear_on_submit=False, border=False):
            st.text_input("市町村コード (5桁または6桁)", key="new_ws_code", placeholder="例: 32203")
            st.text_input("市町村名", key="new_ws_name", placeholder="空欄なら市町村コードから")
            st.text_input("保存するファイル", key="new_ws_file", placeholder="既定: out/市町村コード.gpkg")
            st.form_submit_button("作成", on_click=_create_workspace)
        message = st.session_state.pop("new_ws_message", None)
        if message:
            (st.error if message[0] == "error" else st.success)(message[1])


def workspace_sidebar() -> None:
    """The sidebar: workspace chooser, a new workspace, the editor's name; with users, who is logged in.

    A logged-in workspace user stays on that workspace (no chooser, no new workspace) and is the
    editor recorded in the history (no free-typed name).
    """
    if not st.session_state.get("workspace_path"):
        st.session_state["workspace_path"] = default_workspace()
    user = current_user()
    with st.sidebar:
        st.caption("ワークスペース")
        if user is not None:
            st.text(_shown_location(workspace_path()))
            area = f"・担当区域 {user.area_id}" if user.area_id else ""
            st.caption(f"ログイン中: {plain(user.display_name)}({user.role_label}{area})")
            if st.button("ログアウト", key="logout"):
                log_out("ログアウトしました。")
                st.rerun()
            return
        found = found_workspaces()
        if len(found) > 1:
            st.selectbox("見つかったワークスペース", found, key="workspace_found", index=None,
                         placeholder="out/ の GeoPackage から選ぶ", on_change=_pick_found,
                         format_func=_shown_location)
        if is_database_url(workspace_path()):
            st.text(_shown_location(workspace_path()))
        else:
            st.text_input("GeoPackage ファイル", key="workspace_path")
        new_workspace_form()
        st.text_input("編集者名(履歴に残ります)", key="editor_name", placeholder="例: 第2層SC 山田")


def _shown_location(location: str) -> str:
    """A workspace's location as shown on screen: a database URL without its password."""
    if is_database_url(location):
        from scgeo.postgis import display_url

        return display_url(location)
    return location


def editor_name() -> str | None:
    """Who edits (recorded in the history): the logged-in user's login name, else the name typed in
    the sidebar; None lets the library use the system's login name."""
    user = current_user()
    if user is not None:
        return user.login
    return (st.session_state.get("editor_name") or "").strip() or None


def _stamp(location: str) -> int:
    """What changes when the workspace does: the file's time, a database workspace's version."""
    if is_database_url(location):
        try:
            return open_location(location).version()
        except scgeo.ScgeoError:
            return 0
    path = Path(location)
    return path.stat().st_mtime_ns if path.exists() else 0


def workspace_stamp() -> int:
    """The current workspace's state now (see :func:`_stamp`)."""
    return _stamp(workspace_path())


@st.cache_data(show_spinner="ワークスペースを読み込んでいます…", max_entries=8)
def load_layers(path: str, stamp: int) -> dict:
    """Info, areas and resources of a workspace (cached until the file changes)."""
    ws = open_location(path)
    info = ws.info()
    info["location"] = info["path"]  # as shown: a database URL without its password
    info["path"] = path  # what the pages open again (a database URL with its password: never shown)
    return {"info": info, "areas": ws.areas(), "resources": ws.read("resources")}


@st.cache_data(show_spinner=False, max_entries=4)
def basemap_layers(path: str, stamp: int) -> tuple:
    """The workspace's streets and rivers/rails: the map's own background when tiles cannot load."""
    ws = open_location(path)
    return ws.read("network_edges"), ws.read("basemap_lines")


@st.cache_resource
def taxonomy() -> scgeo.schema.Taxonomy:
    """The category taxonomy (bundled + the city's file in settings)."""
    return scgeo.load_taxonomy()


def open_workspace() -> dict | None:
    """The current workspace's layers, or None after showing guidance in Japanese."""
    location = workspace_path()
    stamp = _stamp(location)
    try:
        layers = load_layers(location, stamp)
    except scgeo.ScgeoError as exc:
        st.warning(plain(exc))
        st.info(NO_WORKSPACE_HELP)
        return None
    return {**layers, "stamp": stamp}


def workspace() -> scgeo.Workspace | UserWorkspace:
    """The open workspace, for writing (call after :func:`open_workspace` succeeded).

    With a logged-in user it is a :class:`scgeo.permissions.UserWorkspace`: every write is checked
    against the user's role and area by the library, whatever the page shows.
    """
    ws = open_location(workspace_path())
    user = current_user()
    return ws if user is None else UserWorkspace(ws, user)


def written() -> None:
    """After a write: rerun so every cached read sees the new file."""
    load_layers.clear()
    st.rerun()


# ------------------------------------------------------------------ text and frames from data

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()<>!#|~$:])")
# GitHub-flavoured Markdown turns bare URLs and e-mail addresses into links after parsing, so
# escapes do not stop it: an invisible word joiner (U+2060) inside the pattern does
_AUTOLINK = re.compile(r"(?i)(https?|ftp|mailto|www)(?=\\?[:.])|(@)")


def plain(value: object) -> str:
    """``value`` as literal text inside Streamlit Markdown (captions, headers, messages).

    The marks that make Markdown do something are backslash-escaped (CommonMark allows it for
    every ASCII punctuation mark), so a name or a note from data shows as typed:
    ``![x](http://…)`` is no image that fetches an outside URL, ``[x](…)`` or ``<http://…>`` no
    link, ``:red[…]`` no directive, ``**`` no bold; bare URLs and e-mail addresses get an
    invisible word joiner so that they are not turned into links either. Line breaks become spaces.
    """
    text = " ".join(str(value).splitlines())
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    return _AUTOLINK.sub(lambda m: (m.group(1) or m.group(2)) + "\u2060", text)


def sandboxed(page_html: str, *, title: str = "地図") -> str:
    """A page holding ``page_html`` in a frame sandboxed to scripts only (for ``st.iframe``).

    ``st.iframe`` runs HTML with the Streamlit page's origin; the inner frame has none
    (no ``allow-same-origin``), so a script that slipped into a map could not reach the app.
    """
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;height:100%}'
            'iframe{border:0;width:100%;height:100%;display:block}</style></head><body>'
            f'<iframe sandbox="allow-scripts" title="{html_lib.escape(title)}"'
            f' srcdoc="{html_lib.escape(page_html, quote=True)}">'
            "</iframe></body></html>")


# ------------------------------------------------------------------ labels


def blank_missing(frame: pd.DataFrame, *, formats: Mapping[str, str] | None = None,
                  missing: str = "") -> pd.DataFrame:
    """``frame`` for ``st.dataframe`` with ``missing`` (empty) in the cells where a value is missing.

    The data grid draws a missing value (None, NaN, NaT) as a grey 「None」, whatever a Styler's
    ``na_rep`` says. A column with one becomes text: numbers by ``formats[column]`` when given
    (``"{:,.0f}"``), else written shortly (``12``, ``0.5``), dates as ``2025-04-01``.
    """
    formats = formats or {}
    out = frame.copy()
    for name in out.columns[out.isna().any()]:
        column = out[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            out[name] = column.dt.strftime("%Y-%m-%d").fillna(missing)
        elif pd.api.types.is_numeric_dtype(column):
            fmt = formats.get(name, "{:g}")
            out[name] = column.map(lambda v, fmt=fmt: missing if pd.isna(v) else fmt.format(v))
        else:
            out[name] = column.map(lambda v: missing if v is None or v is pd.NA or v != v else str(v))
    return out


def formatted_table(frame: pd.DataFrame, formats: Mapping[str, str], *, missing: str = "—") -> tuple:
    """``frame`` for ``st.dataframe``: ``(styler, column_config)``, numbers by ``formats``
    (``{column: "{:,.0f}"}``).

    Where a value is missing, ``missing`` (the column as text, :func:`blank_missing`, still
    aligned right as numbers are); the other columns stay numbers (they sort as numbers).
    """
    out = blank_missing(frame, formats=formats, missing=missing)
    numeric = {c: pd.api.types.is_numeric_dtype(out[c]) for c in formats if c in out}
    styler = out.style.format({c: f for c, f in formats.items() if numeric.get(c)})
    config = {c: st.column_config.TextColumn(alignment="right") for c, is_number in numeric.items() if not is_number}
    return styler, config


def area_choices(areas, levels=("living_area", "jhs_district")) -> dict[str, str]:
    """``{label: area_id}`` of the areas of ``levels``, e.g. ``日常生活圏域 北部圏域``."""
    out: dict[str, str] = {}
    for level in levels:
        subset = areas[areas["level"] == level].sort_values("area_id")
        for area_id, name in zip(subset["area_id"], subset["name"], strict=True):
            out[f"{AREA_LEVEL_LABELS[level]} {name}"] = area_id
    return out


def column_label(name: str) -> str:
    """Japanese label of a resources column (the name itself when unknown)."""
    try:
        return RESOURCES.column(name).label
    except KeyError:
        return name
