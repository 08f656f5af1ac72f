"""One writer at a time, nothing lost: concurrent imports and edits from separate processes.

Two long-lived worker processes (plain ``python``, each with its own ``import scgeo``) get the
same command at once and start it at the same instant; every accepted row and every edit must be
in the workspace afterwards, with one history row each. Also: a stale writer gets a conflict
error, a held lock times out with 「他の人が更新中です」, and a writer killed half-way leaves no
scratch copy behind after the next open.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from scgeo import Workspace, WorkspaceError, cli, get_settings, validate
from scgeo._errors import WorkspaceBusyError, WorkspaceConflictError
from scgeo._filelock import exclusive, side_folder
from scgeo.settings import set_settings
from scgeo.workspace import find_workspaces

TRIALS = 20
ROWS = 20

WORKER = textwrap.dedent("""
    import contextlib, io, json, sys, time
    from scgeo import Workspace, cli
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        while time.time() < job["at"]:
            time.sleep(0.001)
        out = {}
        if job["kind"] == "import":
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
                out["rc"] = cli.main(["import", job["path"], job["file"], "--layer", "resources",
                                      "--on-duplicate", "add", "--user", job["user"]])  # synthetic rows sit close
            if out["rc"]:
                out["error"] = err.getvalue()
        elif job["kind"] == "edit":
            ws = Workspace.open(job["path"])
            ws.update_feature("resources", job["id"], job["changes"], user=job["user"])
            out["rc"] = 0
        print(json.dumps(out), flush=True)
""")


class Worker:
    def __init__(self, script: Path) -> None:
        self.process = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
        assert json.loads(self.process.stdout.readline()) == {"ready": True}

    def send(self, job: dict) -> None:
        self.process.stdin.write(json.dumps(job, ensure_ascii=False) + "\n")
        self.process.stdin.flush()

    def answer(self) -> dict:
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    script = tmp_path_factory.mktemp("workers") / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    pair = [Worker(script), Worker(script)]
    yield pair
    for worker in pair:
        worker.stop()


def _resources(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"資源ID": ids, "名称": [f"サロン{i}" for i in ids], "種別": "サロン",
                         "緯度": 35.1, "経度": 140.1})


def _layer(ids: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"resource_id": ids, "name": [f"サロン{i}" for i in ids], "category": "salon"},
                            geometry=[shapely.Point(140.1, 35.1)] * len(ids), crs=6668)


def _together(workers, jobs: list[dict]) -> list[dict]:
    at = time.time() + 0.05
    for worker, job in zip(workers, jobs, strict=True):
        worker.send({**job, "at": at})
    return [worker.answer() for worker in workers]


def test_two_processes_importing_at_once_lose_nothing(workers, tmp_path):
    ws = Workspace.create(tmp_path / "ws.gpkg", muni_code="99201", muni_name="さくら市")
    expected = set()
    for trial in range(TRIALS):
        jobs = []
        for w in range(2):
            ids = [f"T{trial:02d}W{w}-{i:03d}" for i in range(ROWS)]
            source = tmp_path / f"t{trial}_w{w}.csv"
            _resources(ids).to_csv(source, index=False)
            jobs.append({"kind": "import", "path": str(ws.path), "file": str(source), "user": f"worker{w}"})
            expected |= set(ids)
        assert _together(workers, jobs) == [{"rc": 0}, {"rc": 0}]
    assert ws.ids("resources") == expected  # every accepted row of every import
    history = ws.edits()
    imports = history[history["action"] == "import:append"]
    assert len(imports) == 2 * TRIALS and set(imports["user"]) == {"worker0", "worker1"}
    assert ws.version() == 1 + 2 * TRIALS
    assert not list(side_folder(ws.path).glob("*.tmp.gpkg"))


def test_two_processes_editing_at_once_lose_nothing(workers, tmp_path):
    ws = Workspace.create(tmp_path / "ws.gpkg", muni_code="99201", muni_name="さくら市")
    ids = [f"R{i:02d}" for i in range(TRIALS)]
    ws.import_result("resources", validate(_layer(ids), "resources"))
    for trial in range(TRIALS):
        shared = ids[trial]  # both edit the same resource at once, different fields
        jobs = [{"kind": "edit", "path": str(ws.path), "id": shared, "changes": {"notes": f"A{trial}"}, "user": "A"},
                {"kind": "edit", "path": str(ws.path), "id": shared, "changes": {"fee": f"{trial}円"}, "user": "B"}]
        assert _together(workers, jobs) == [{"rc": 0}, {"rc": 0}]
    resources = ws.read("resources").set_index("resource_id")
    for trial in range(TRIALS):
        row = resources.loc[ids[trial]]
        assert (row["notes"], row["fee"]) == (f"A{trial}", f"{trial}円")
    updates = ws.edits().query("action == 'update'")
    assert len(updates) == 2 * TRIALS  # history complete: one row per changed field
    assert updates.groupby("user").size().to_dict() == {"A": TRIALS, "B": TRIALS}
    assert set(zip(updates["feature_id"], updates["new_value"], strict=True)) == {
        *((ids[t], f"A{t}") for t in range(TRIALS)), *((ids[t], f"{t}円") for t in range(TRIALS))}


@pytest.fixture
def small(tmp_path):
    ws = Workspace.create(tmp_path / "ws.gpkg", muni_code="99201", muni_name="さくら市")
    ws.import_result("resources", validate(_layer(["R1", "R2"]), "resources"))
    return ws


def test_a_stale_writer_gets_a_conflict_instead_of_overwriting(small):
    seen = small.version()
    Workspace.open(small.path).update_feature("resources", "R1", {"notes": "先に保存"}, user="A")
    with pytest.raises(WorkspaceConflictError, match="読み込んだ後に他の人が更新しました"):
        small.update_feature("resources", "R1", {"notes": "古い画面から"}, user="B", expected_version=seen)
    assert small.read("resources").set_index("resource_id").loc["R1", "notes"] == "先に保存"
    for write in (lambda: small.delete_feature("resources", "R2", expected_version=seen),
                  lambda: small.add_feature("resources", {"resource_id": "R3", "name": "x", "category": "salon",
                                                          "geometry": shapely.Point(140.1, 35.1)},
                                            expected_version=seen),
                  lambda: small.confirm_resource("R2", expected_version=seen)):
        with pytest.raises(WorkspaceConflictError):
            write()
    assert small.ids("resources") == {"R1", "R2"}
    small.update_feature("resources", "R1", {"notes": "読み直して保存"}, expected_version=small.version())


def test_a_held_lock_times_out_with_a_japanese_message(small, capsys):
    set_settings(get_settings().replace(lock_timeout_s=0.3))
    try:
        with exclusive(small.path, timeout_s=1):
            with pytest.raises(WorkspaceBusyError, match="他の人が更新中です"):
                small.update_feature("resources", "R1", {"notes": "x"})
            source = small.path.with_name("more.csv")
            _resources(["R9"]).to_csv(source, index=False)
            assert cli.main(["import", str(small.path), str(source), "--layer", "resources",
                             "--on-duplicate", "add"]) == 2
            assert "他の人が更新中です" in capsys.readouterr().err
        assert isinstance(WorkspaceBusyError("x"), WorkspaceError)
    finally:
        set_settings(None)
    assert small.ids("resources") == {"R1", "R2"}


def test_a_writer_killed_half_way_leaves_no_scratch_copy(tmp_path):
    """kill -9 during an import: the file is as before or fully imported, the copy goes at the next open."""
    ws = Workspace.create(tmp_path / "ws.gpkg", muni_code="99201", muni_name="さくら市")
    source = tmp_path / "big.csv"
    _resources([f"K{i:05d}" for i in range(20000)]).to_csv(source, index=False)
    process = subprocess.Popen([sys.executable, "-m", "scgeo.cli", "import", str(ws.path), str(source),
                                "--layer", "resources", "--on-duplicate", "add"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scratch = side_folder(ws.path)
    deadline = time.monotonic() + 120
    while not list(scratch.glob("*.tmp.gpkg")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None and list(scratch.glob("*.tmp.gpkg"))  # killed while its copy is written
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    (tmp_path / ".ws.0123456789ab.tmp.gpkg").write_bytes(b"left by an older version")
    assert find_workspaces(tmp_path) == [ws.path]  # never offered as workspaces
    reopened = Workspace.open(ws.path)
    assert not list(scratch.glob("*.tmp.gpkg")) and not list(tmp_path.glob(".*.tmp.gpkg"))
    assert reopened.count("resources") in (0, 20000)


def test_leftovers_stay_while_a_writer_is_at_work(small):
    scratch = side_folder(small.path) / "0123456789ab.tmp.gpkg"
    scratch.write_bytes(b"a copy being written")
    with exclusive(small.path, timeout_s=1):
        Workspace.open(small.path)
        assert scratch.exists()  # another writer holds the lock: its copy is not touched
    Workspace.open(small.path)
    assert not scratch.exists()


def test_the_app_rereads_and_shows_what_changed_instead_of_overwriting(sample_copy):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py"), default_timeout=60)
    at.session_state["workspace_path"] = str(sample_copy.path)
    at.run()
    at.switch_page("app_pages/resources_page.py")
    at.run()
    table = at.data_editor[0].value
    rid = table.iloc[0]["resource_id"]
    # someone else saves while this page is open …
    Workspace.open(sample_copy.path).update_feature("resources", rid, {"name": "先に保存された名前"}, user="他の人")
    # … then the user edits the same row on the table they still see, and the page runs again
    key = next(e.key for e in at.data_editor if e.key and e.key.startswith("resources_editor"))
    at.session_state[key] = {"edited_rows": {0: {"name": "古い画面からの名前"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert any("他の人がワークスペースを保存しました" in i.value for i in at.info)  # the typed table stays
    save = next(b for b in at.button if b.label.startswith("変更を保存"))
    save.click().run()  # checked against this resource's version: both values shown, nothing overwritten
    assert any("他の人 が変更しました" in e.value for e in at.error)
    assert {"先に保存された名前", "古い画面からの名前"} <= {t.value for t in at.text}
    assert sample_copy.read("resources").set_index("resource_id").loc[rid, "name"] == "先に保存された名前"
