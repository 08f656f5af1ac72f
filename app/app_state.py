"""Shared app state: which workspace is open, and cached reads of it (app layer only)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import streamlit as st

import scgeo


def workspace_path() -> Path:
    """The workspace chosen in the sidebar, else `--workspace`, `$SCGEO_WORKSPACE`, the demo's."""
    chosen = st.session_state.get("workspace_path")
    if chosen:
        return Path(chosen)
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--workspace")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return Path(args.workspace or os.environ.get("SCGEO_WORKSPACE") or "out/workspace.gpkg")


def _stamp(path: Path) -> float:
    return path.stat().st_mtime_ns if path.exists() else 0.0


@st.cache_data(show_spinner="ワークスペースを読み込んでいます…")
def load_layers(path: str, stamp: float) -> dict:
    """Areas, resources and info of a workspace (cached until the file changes)."""
    ws = scgeo.Workspace.open(path)
    return {"info": ws.info(), "areas": ws.areas(), "resources": ws.read("resources")}


def open_workspace() -> dict | None:
    """The current workspace's layers, or None after showing guidance in Japanese."""
    path = workspace_path()
    try:
        return load_layers(str(path), _stamp(path))
    except scgeo.ScgeoError as exc:
        st.warning(f"{exc}")
        st.info("まず `make demo` (または `scgeo demo`) でサンプルのワークスペースを作るか、"
                "`scgeo init` で新しいワークスペースを作成してください。")
        return None
