"""Shared fixtures: the sample town built once per test session through the demo chain."""

import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from scgeo import Workspace

ROOT = Path(__file__).resolve().parents[1]
# The throwaway PostgreSQL + PostGIS server of the backend tests (`postgres`, `pg_url`).
pytest_plugins = ["postgres_server"]

#: Test modules that drive Debian's chromium: one worker runs them one after another.
BROWSER_MODULES = {"test_browser.py", "test_app_browser.py", "test_browser_geocode.py", "test_network_browser.py",
                   "test_xss.py", "test_xss_app.py"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the marks into the node ids
def pytest_collection_modifyitems(config, items):
    """With ``pytest -n N --dist loadgroup`` (``make test``): a module's tests stay on one worker (its
    module fixtures are built once), and the browser modules share one worker, so that two
    browsers and app servers never compete for the two cores."""
    for item in items:
        name = item.path.name
        item.add_marker(pytest.mark.xdist_group("browser" if name in BROWSER_MODULES else str(item.path)))


def _run_demo(out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCGEO_NO_SERVE": "1"}
    return subprocess.run([str(Path(sys.executable).with_name("scgeo")), "demo", "--out", str(out)],
                          capture_output=True, text=True, check=False, cwd=ROOT, env=env, timeout=900)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The README's first command as a user runs it: ``scgeo demo --out DIR`` with ``SCGEO_NO_SERVE=1``.

    Returns the finished process (its stdout lists the outputs) and the out folder. Run once per
    test run: the demo chain is the slowest fixture of the suite. Under ``pytest -n N`` the first
    worker to ask runs it into a folder the workers share (the others wait for it), and every worker
    gets its own copy of that out folder, with the paths in the process's output changed to the copy's.
    """
    out = tmp_path_factory.mktemp("demo_out") / "out"
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        proc = _run_demo(out)
        assert proc.returncode == 0, proc.stderr
        return proc, out
    shared = tmp_path_factory.getbasetemp().parent / "demo_shared"  # the run's folder, above each worker's
    with open(shared.with_name("demo_shared.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        record = shared / "process.json"
        if not record.exists():
            shared.mkdir(exist_ok=True)
            proc = _run_demo(shared / "out")
            record.write_text(json.dumps({"args": proc.args, "returncode": proc.returncode, "stdout": proc.stdout,
                                          "stderr": proc.stderr}), encoding="utf-8")
        ran = json.loads(record.read_text(encoding="utf-8"))
    assert ran["returncode"] == 0, ran["stderr"]
    shutil.copytree(shared / "out", out, symlinks=True)  # never written: each worker's tests write their copy
    stdout = ran["stdout"].replace(str(shared / "out"), str(out))
    return subprocess.CompletedProcess(ran["args"], ran["returncode"], stdout, ran["stderr"]), out


@pytest.fixture(scope="session")
def demo_outputs(demo_run):
    """Paths written by the demo on the bundled sample (no app served), from its list of outputs."""
    proc, _ = demo_run
    listed = proc.stdout.split("出力:\n", 1)[1].split("\n")
    return {name.strip(): Path(path.strip()) for name, _, path in
            (line.partition(": ") for line in listed if line.startswith("  ") and ": " in line)}


@pytest.fixture(scope="session")
def sample_workspace(demo_outputs):
    """The sample town's workspace (read-only: copy it before writing)."""
    return Workspace.open(demo_outputs["workspace"])


@pytest.fixture
def sample_copy(sample_workspace, tmp_path):
    """A writable copy of the sample workspace."""
    path = tmp_path / "sample.gpkg"
    path.write_bytes(sample_workspace.path.read_bytes())
    return Workspace.open(path)


@pytest.fixture
def screenshot_dir(tmp_path):
    """Where screenshots go: docs/img with SCGEO_DOCS_SCREENSHOTS=1 (`make screenshots`), else tmp."""
    if os.environ.get("SCGEO_DOCS_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "img"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path


@contextlib.contextmanager
def _serve_app(workspace: Path, log_path: Path, *, start_timeout: float = 60):
    """``streamlit run app/streamlit_app.py`` on a free loopback port over ``workspace``; yields its URL.

    Waits for the health check; stops the server by its PID on leaving (kills it after 10 s).
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = Path(log_path).open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"),
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--", "--workspace", str(workspace)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start (exit {process.poll()}); see {log_path}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def serve_app():
    """The app served for a browser test: ``with serve_app(workspace_path, log_path) as url: …``."""
    return _serve_app
