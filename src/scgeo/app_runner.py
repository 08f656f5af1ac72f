"""Start the Streamlit app (``scgeo app``, and the end of ``scgeo demo``)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from scgeo._errors import InputError

__all__ = ["app_entry", "serve_app", "streamlit_command"]


def app_entry() -> Path:
    """The app's entry file: ``$SCGEO_APP_DIR/streamlit_app.py`` or the source tree's ``app/``."""
    folder = Path(os.environ.get("SCGEO_APP_DIR") or Path(__file__).resolve().parents[2] / "app")
    entry = folder / "streamlit_app.py"
    if not entry.is_file():
        raise InputError(f"アプリのファイル {entry} が見つかりません。"
                         "リポジトリから実行するか SCGEO_APP_DIR を指定してください。")
    return entry


def streamlit_command(workspace: str | Path, *, port: int = 8501) -> list[str]:
    """The command line that serves the app on 127.0.0.1 (loopback only)."""
    if importlib.util.find_spec("streamlit") is None:
        raise InputError("アプリには追加のパッケージが必要です: pip install 'scgeo[app]'")
    return [
        sys.executable, "-m", "streamlit", "run", str(app_entry()),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--", "--workspace", str(Path(workspace).resolve()),
    ]


def serve_app(workspace: str | Path, *, port: int = 8501) -> int:
    """Serve the app until interrupted; returns streamlit's exit code (0 after Ctrl+C)."""
    try:
        return subprocess.call(streamlit_command(workspace, port=port))
    except KeyboardInterrupt:
        return 0
