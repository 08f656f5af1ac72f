"""Shared app state: the login gate, the workspace choice, cached reads, labels (app layer only)."""

from __future__ import annotations

import argparse
import html as html_lib
import os
import re
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

import scgeo
from scgeo.app_runner import PASSWORD_ENV, is_loopback
from scgeo.login import LoginGuard
from scgeo.schema import AREA_LEVEL_LABELS, RESOURCE_STATUS_LABELS, RESOURCES
from scgeo.workspace import find_workspaces

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


@st.cache_resource
def login_guard(expected: str) -> LoginGuard:
    """One guard per server (and password): failures counted per session and over all sessions."""
    settings = scgeo.get_settings()
    return LoginGuard(expected, free_failures=settings.login_free_failures,
                      session_lockout_failures=settings.login_lockout_failures,
                      global_lockout_failures=settings.login_global_lockout_failures,
                      lockout_s=settings.login_lockout_minutes * 60)


def _login_token() -> dict:
    """This session's login state, also read by its deferred downloads (which run off the script)."""
    if "_scgeo_login" not in st.session_state:
        st.session_state["_scgeo_login"] = {"ok": False, "session": uuid.uuid4().hex}
    return st.session_state["_scgeo_login"]


def password_gate() -> bool:
    """True when the app may be shown: loopback address, or the right password was entered.

    On any other address only a login form is drawn (the caller stops the script). Repeated
    wrong passwords make the session wait longer and longer, then lock it (and, past a count
    over all sessions, every login) for a while: :class:`scgeo.login.LoginGuard`.
    """
    token = _login_token()
    if is_loopback(st.get_option("server.address")) or st.session_state.get("authenticated"):
        token["ok"] = True
        return True
    st.title("scgeo ログイン")
    expected = _expected_password()
    if not expected:
        st.error("このアプリはネットワークに公開されていますが、パスワードが設定されていません。"
                 f"環境変数 {PASSWORD_ENV} か .streamlit/secrets.toml の password を設定して起動し直してください。")
        return False
    guard = login_guard(expected)
    with st.form("login"):
        given = st.text_input("パスワード", type="password")
        submitted = st.form_submit_button("ログイン")
    if submitted:
        outcome = guard.attempt(token["session"], given)
        if outcome.ok:
            st.session_state["authenticated"] = True
            token["ok"] = True
            st.rerun()
        st.error(outcome.message)
    return False


def download_data(data: bytes | str) -> Callable[[], bytes | str]:
    """``data`` for ``st.download_button``, handed over only when a logged-in session clicks.

    Streamlit serves a download's bytes under ``/media/…`` to anyone who has the URL, without a
    session (streamlit issue #8148): so nothing is put there when a page is drawn. The button
    gets this callable (a deferred download); it runs on the click, through the session's own
    connection, and gives the bytes only while the session is logged in.
    """
    token = _login_token()

    def deliver() -> bytes | str:
        if not token["ok"]:
            raise PermissionError("ログインしていないセッションにはダウンロードを渡しません。")
        return data

    return deliver


# ------------------------------------------------------------------ workspace


def default_workspace() -> Path:
    """`--workspace`, else `$SCGEO_WORKSPACE`, else the demo's ``out/workspace.gpkg``."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--workspace")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return Path(args.workspace or os.environ.get("SCGEO_WORKSPACE") or "out/workspace.gpkg")


def workspace_path() -> Path:
    """The workspace chosen in the sidebar (session), else :func:`default_workspace`."""
    chosen = st.session_state.get("workspace_path")
    return Path(chosen) if chosen else default_workspace()


def _pick_found() -> None:
    st.session_state["workspace_path"] = st.session_state["workspace_found"]


def found_workspaces() -> list[str]:
    """The workspaces to offer: the default one and the GeoPackages in ``out/``, each listed once.

    Paths are resolved, so ``out/workspace.gpkg`` and its full path are one entry; shown relative
    to the working folder when inside it.
    """
    here = Path.cwd().resolve()
    seen: dict[Path, None] = {}
    for candidate in (default_workspace(), *find_workspaces("out")):  # never scratch copies or hidden files
        if candidate.is_file() and not candidate.name.startswith("."):
            seen.setdefault(candidate.resolve())
    return [str(p.relative_to(here)) if p.is_relative_to(here) else str(p) for p in seen]


def _create_workspace() -> None:
    """The 新しいワークスペース form: create the file, then make it the open workspace."""
    code = st.session_state.get("new_ws_code", "").strip()
    name = st.session_state.get("new_ws_name", "").strip()
    target = st.session_state.get("new_ws_file", "").strip() or f"out/{code}_{name or 'workspace'}.gpkg"
    if not target.endswith(".gpkg"):
        target += ".gpkg"
    try:
        ws = scgeo.Workspace.create(target, muni_code=code, muni_name=name)
    except scgeo.ScgeoError as exc:
        st.session_state["new_ws_message"] = ("error", str(exc))
        return
    st.session_state["workspace_path"] = str(ws.path)
    st.session_state["new_ws_message"] = ("success", f"ワークスペースを作成しました: {ws.path}。"
                                          "「データ取込」のページで区域や社会資源を取り込んでください。")


def new_workspace_form() -> None:
    """市町村コードと名前から空のワークスペースを作る (sidebar)."""
    with st.expander("新しいワークスペース", expanded=bool(st.session_state.get("new_ws_message"))):
        with st.form("new_workspace", clear_on_submit=False, border=False):
            st.text_input("市町村コード (5桁または6桁)", key="new_ws_code", placeholder="例: 32203")
            st.text_input("市町村名", key="new_ws_name", placeholder="例: 出雲市")
            st.text_input("保存するファイル", key="new_ws_file", placeholder="既定: out/コード_市町村名.gpkg")
            st.form_submit_button("作成", on_click=_create_workspace)
        message = st.session_state.pop("new_ws_message", None)
        if message:
            (st.error if message[0] == "error" else st.success)(message[1])


def workspace_sidebar() -> None:
    """The sidebar: workspace chooser (path, or one found in out/), a new workspace, the editor's name."""
    if not st.session_state.get("workspace_path"):
        st.session_state["workspace_path"] = str(default_workspace())
    found = found_workspaces()
    with st.sidebar:
        st.caption("ワークスペース")
        if len(found) > 1:
            st.selectbox("見つかったワークスペース", found, key="workspace_found", index=None,
                         placeholder="out/ の GeoPackage から選ぶ", on_change=_pick_found)
        st.text_input("GeoPackage ファイル", key="workspace_path")
        new_workspace_form()
        st.text_input("編集者名(履歴に残ります)", key="editor_name", placeholder="例: 第2層SC 山田")


def editor_name() -> str | None:
    """Who edits (recorded in the history); None lets the library use the login name."""
    return (st.session_state.get("editor_name") or "").strip() or None


def _stamp(path: Path) -> int:
    return path.stat().st_mtime_ns if path.exists() else 0


@st.cache_data(show_spinner="ワークスペースを読み込んでいます…", max_entries=8)
def load_layers(path: str, stamp: int) -> dict:
    """Info, areas and resources of a workspace (cached until the file changes)."""
    ws = scgeo.Workspace.open(path)
    return {"info": ws.info(), "areas": ws.areas(), "resources": ws.read("resources")}


@st.cache_resource
def taxonomy() -> scgeo.schema.Taxonomy:
    """The category taxonomy (bundled + the city's file in settings)."""
    return scgeo.load_taxonomy()


def open_workspace() -> dict | None:
    """The current workspace's layers, or None after showing guidance in Japanese."""
    path = workspace_path()
    try:
        layers = load_layers(str(path), _stamp(path))
    except scgeo.ScgeoError as exc:
        st.warning(plain(exc))
        st.info(NO_WORKSPACE_HELP)
        return None
    return {**layers, "stamp": _stamp(path)}


def workspace() -> scgeo.Workspace:
    """The open workspace, for writing (call after :func:`open_workspace` succeeded)."""
    return scgeo.Workspace.open(workspace_path())


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


def sandboxed(page_html: str) -> str:
    """A page holding ``page_html`` in a frame sandboxed to scripts only (for ``st.iframe``).

    ``st.iframe`` runs HTML with the Streamlit page's origin; the inner frame has none
    (no ``allow-same-origin``), so a script that slipped into a map could not reach the app.
    """
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;height:100%}'
            'iframe{border:0;width:100%;height:100%;display:block}</style></head><body>'
            f'<iframe sandbox="allow-scripts" title="地図" srcdoc="{html_lib.escape(page_html, quote=True)}">'
            "</iframe></body></html>")


# ------------------------------------------------------------------ labels


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
