"""The app under concurrent users: first map and a filter change, 1 / 5 / 15 sessions at once.

A real Streamlit server on 127.0.0.1 serves the app of a source tree (this one, or an older one
given with ``--tree`` for a before/after comparison) on the sample town; one headless Debian
chromium opens N sessions (browser contexts) at the same moment. Each session

1. opens the app and waits until the map's window has drawn every resource (``first map``),
2. picks the category 居場所・サロン and waits until the map shows exactly the salons
   (``filter change``).

Prints median and p95 per phase and session count, the bytes the server sent per session over
its websocket (the map page is sent once; a filter change sends only resource ids), and where
the machine's time went: CPU seconds of the Streamlit server and of the browser (chromium and
Playwright's driver) over the round. On this one 2-core machine both share the cores, so a
round whose browser CPU is the larger measures the client as much as the app.

    .venv/bin/python benchmarks/bench_app.py                      # this tree
    .venv/bin/python benchmarks/bench_app.py --tree /path/to/old  # the same on another checkout
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# inside the map's own frame (sandboxed without allow-same-origin: reached through Playwright's
# frames, not through contentWindow): all resources of the categories shown
SHOWN = """n => window.scgeo && scgeo.ready &&
    Object.values(scgeo.categories).reduce((s, g) => s + g.getLayers().length, 0) === n"""


async def _wait_shown(page, n: int) -> None:
    """Wait until the map's window (the app component's inner frame) shows exactly ``n`` resources."""
    component = await page.wait_for_selector("[data-testid='stCustomComponentV1']", timeout=600_000)
    outer = await component.content_frame()
    inner = await (await outer.wait_for_selector("#map", state="attached", timeout=600_000)).content_frame()
    await inner.wait_for_function(SHOWN, arg=n, timeout=600_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tree: Path, workspace: Path, port: int, log) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(tree / "app" / "streamlit_app.py"),
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--", "--workspace", str(workspace)],
        cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("streamlit did not start")


async def _session(browser, url: str, total: int, salons: int) -> dict:
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    received = {"bytes": 0}

    def on_socket(ws):
        ws.on("framereceived", lambda payload: received.__setitem__(
            "bytes", received["bytes"] + len(payload if isinstance(payload, bytes | str) else b"")))

    # offline, like a council room: only the app itself answers
    await context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        (url, "data:", "blob:")) else route.abort())
    page = await context.new_page()
    page.set_default_timeout(600_000)  # 15 sessions on a small machine: minutes, not a failure
    page.on("websocket", on_socket)
    try:
        start = time.perf_counter()
        await page.goto(f"{url}/", timeout=600_000, wait_until="commit")
        await _wait_shown(page, total)
        first = time.perf_counter() - start
        first_bytes = received["bytes"]
        await page.locator("[data-testid='stMultiSelect']", has_text="種別").first.click()
        start = time.perf_counter()
        await page.get_by_role("option", name="居場所・サロン").click()
        await page.keyboard.press("Escape")
        await _wait_shown(page, salons)
        change = time.perf_counter() - start
        await page.wait_for_timeout(300)
        return {"first": first, "change": change, "first_bytes": first_bytes,
                "change_bytes": received["bytes"] - first_bytes}
    finally:  # left open until the round has read the CPU: a closed page's renderer takes its seconds along
        page.remove_listener("websocket", on_socket)


def _cpu(processes) -> float:
    total = 0.0
    for proc in processes:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _browser_processes(server_pid: int) -> list:
    return [c for c in psutil.Process().children(recursive=True) if c.pid != server_pid]


def _kind(proc) -> str:
    """Which part of the browser a process is: renderer (pages), gpu (raster and compositing), browser, driver."""
    try:
        args = proc.cmdline()
    except psutil.Error:
        return "other"
    if not args or "chromium" not in args[0]:
        return "driver"  # Playwright's node driver
    kind = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "browser")
    return kind if kind in ("renderer", "gpu-process") else ("browser" if kind == "browser" else "other")


def _cpu_by_kind(processes) -> dict[str, float]:
    by: dict[str, float] = {}
    for proc in processes:
        by[_kind(proc)] = by.get(_kind(proc), 0.0) + _cpu([proc])
    return by


async def _round(url: str, n: int, total: int, salons: int, server_pid: int) -> tuple[list[dict], dict]:
    """The sessions' timings, and the round's CPU seconds of the server and of the browser."""
    from playwright.async_api import async_playwright

    server = psutil.Process(server_pid)
    server_before, start = _cpu([server]), time.perf_counter()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            runs = await asyncio.gather(*(_session(browser, url, total, salons) for _ in range(n)))
            processes = _browser_processes(server_pid)
            cpu = {"server": _cpu([server]) - server_before, "browser": _cpu(processes),
                   "wall": time.perf_counter() - start, "parts": _cpu_by_kind(processes)}
            return runs, cpu
        finally:
            await browser.close()


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="source tree whose app is served (default: this)")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 15])
    args = parser.parse_args()

    def parts(by: dict[str, float]) -> str:
        return ", ".join(f"{k} {v:.1f}" for k, v in sorted(by.items(), key=lambda kv: -kv[1]))

    from scgeo.demo import build_sample_workspace

    tmp = Path(tempfile.mkdtemp(prefix="scgeo_bench_app_"))
    try:
        workspace = build_sample_workspace(tmp / "sample.gpkg", ROOT / "data")
        resources = workspace.read("resources")
        total, salons = len(resources), int((resources["category"] == "salon").sum())
        port = _free_port()
        with (tmp / "streamlit.log").open("w") as log:
            server = _serve(args.tree.resolve(), workspace.path, port, log)
            try:
                url = f"http://127.0.0.1:{port}"
                asyncio.run(_round(url, 1, total, salons, server.pid))  # warm-up: caches, not measured
                print(f"app of {args.tree.resolve()} — sample town, {total} resources, offline browser")
                print(f"{'sessions':>8}  {'first map median':>16}  {'p95':>7}  {'filter median':>13}  {'p95':>7}"
                      f"  {'MB sent: first':>14}  {'filter':>7}  {'CPU s: server':>13}  {'browser':>7}  {'wall s':>6}"
                      "  (browser CPU by process; 1-min load average after the round)")
                for n in args.sessions:
                    runs, cpu = asyncio.run(_round(url, n, total, salons, server.pid))
                    first = [r["first"] for r in runs]
                    change = [r["change"] for r in runs]
                    print(f"{n:>8}  {statistics.median(first):>14.2f} s  {_p95(first):>5.2f} s"
                          f"  {statistics.median(change):>11.2f} s  {_p95(change):>5.2f} s"
                          f"  {statistics.median(r['first_bytes'] for r in runs) / 1e6:>14.2f}"
                          f"  {statistics.median(r['change_bytes'] for r in runs) / 1e6:>7.3f}"
                          f"  {cpu['server']:>13.1f}  {cpu['browser']:>7.1f}  {cpu['wall']:>6.1f}"
                          f"  ({parts(cpu['parts'])}; load {os.getloadavg()[0]:.1f})", flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
