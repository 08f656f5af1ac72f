"""Start the Streamlit app (``scgeo app``, and the end of ``scgeo demo``).

The app listens on the loopback address (127.0.0.1) unless told otherwise. On any other
address it is reachable from the network, so it then requires a login: the workspace's users
(``scgeo user add``, a login name and a password each), or for a workspace without users one
shared password, the environment variable ``SCGEO_APP_PASSWORD`` (or ``password`` in
``.streamlit/secrets.toml``). A database workspace (``postgresql://…``) is handed to the app in
the environment (``SCGEO_WORKSPACE``), not on the command line, where its password would show.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from scgeo._errors import InputError, ScgeoError
from scgeo.settings import get_settings
from scgeo.workspace import is_database_url

__all__ = ["LOOPBACK", "PASSWORD_ENV", "app_entry", "is_loopback", "serve_app", "streamlit_command"]

LOOPBACK = "127.0.0.1"
PASSWORD_ENV = "SCGEO_APP_PASSWORD"


def app_entry() -> Path:
    """The app's entry file: ``$SCGEO_APP_DIR/streamlit_app.py`` or the source tree's ``app/``."""
    folder = Path(os.environ.get("SCGEO_APP_DIR") or Path(__file__).resolve().parents[2] / "app")
    entry = folder / "streamlit_app.py"
    if not entry.is_file():
        raise InputError(f"アプリのファイル {entry} が見つかりません。"
                         "リポジトリから実行するか SCGEO_APP_DIR を指定してください。")
    return entry


def is_loopback(address: str | None) -> bool:
    """Whether ``address`` is reachable from this computer only (127.x.x.x, ::1, localhost).

    An empty address makes Streamlit listen on every interface, so it is not loopback.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0"), is_loopback("")
    (True, True, False, False)
    """
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _password_configured(app_dir: Path) -> bool:
    if os.environ.get(PASSWORD_ENV):
        return True
    for secrets in (Path.cwd() / ".streamlit" / "secrets.toml", app_dir / ".streamlit" / "secrets.toml",
                    Path.home() / ".streamlit" / "secrets.toml"):
        try:
            if tomllib.loads(secrets.read_text(encoding="utf-8")).get("password"):
                return True
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
    return False


def _has_users(workspace: str | Path) -> bool:
    """Whether the workspace has users (then the app asks each for a login name and password)."""
    from scgeo.workspace import Workspace

    try:
        return Workspace.open(workspace).count("users") > 0
    except ScgeoError:  # a workspace that cannot be opened has no users to log in with
        return False


def streamlit_command(workspace: str | Path, *, port: int = 8501, address: str = LOOPBACK) -> list[str]:
    """The command line that serves the app (on 127.0.0.1 unless ``address`` says otherwise).

    Raises ``InputError`` when streamlit is missing, or when ``address`` is not loopback, the
    workspace has no users and no password is configured (``SCGEO_APP_PASSWORD`` or ``password``
    in ``secrets.toml``). A database URL is not put on the command line (:func:`serve_app`).
    """
    if importlib.util.find_spec("streamlit") is None:
        raise InputError("アプリには追加のパッケージが必要です: pip install 'scgeo[app]'")
    entry = app_entry()
    if not is_loopback(address) and not _password_configured(entry.parent) and not _has_users(workspace):
        raise InputError(f"{address or '全てのアドレス'} で待ち受けると他のコンピュータから接続できるため、"
                         f"パスワードが必要です。環境変数 {PASSWORD_ENV} にパスワードを設定するか、"
                         ".streamlit/secrets.toml に password = \"…\" を書くか、`scgeo user add` で"
                         "利用者を登録してから起動してください。"
                         f"このコンピュータだけで使う場合は {LOOPBACK} のままにしてください。")
    return [
        sys.executable, "-m", "streamlit", "run", str(entry),
        "--server.address", address, "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.maxUploadSize", str(get_settings().max_upload_mb),
        *([] if is_database_url(workspace) else ["--", "--workspace", str(Path(workspace).resolve())]),
    ]


def serve_app(workspace: str | Path, *, port: int = 8501, address: str = LOOPBACK) -> int:
    """Serve the app until interrupted; returns streamlit's exit code (0 after Ctrl+C).

    Refuses (``InputError``) to listen on a non-loopback ``address`` without a password.
    """
    command = streamlit_command(workspace, port=port, address=address)
    env = {**os.environ, "SCGEO_WORKSPACE": str(workspace)} if is_database_url(workspace) else None
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0
