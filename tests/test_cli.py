import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from scgeo import Workspace
from scgeo.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ws_path(tmp_path, capsys):
    path = tmp_path / "town.gpkg"
    assert run(capsys, "init", path, "--muni-code", "99201", "--name", "さくら市")[0] == 0
    return path


def test_init_and_info(ws_path, capsys):
    code, out, _ = run(capsys, "info", ws_path)
    assert code == 0
    assert "さくら市 (99201)" in out and "EPSG:6668" in out and "社会資源 (resources): 0 件" in out
    code, out, _ = run(capsys, "info", ws_path, "--json")
    info = json.loads(out)
    assert info["muni_code"] == "99201" and info["layers"]["resources"] == 0


def test_import_reports_counts_and_writes_rejected_rows(ws_path, tmp_path, capsys):
    (tmp_path / "data").mkdir()
    csv = tmp_path / "data" / "shigen.csv"
    csv.write_text(
        "番号,施設名,種別,緯度,経度,定員\n"
        "1,本町サロン,サロン,35.05,141.05,20\n"
        "2,東体操,通いの場,141.06,35.06,15\n"      # swapped lat/lon: fixed, with a note
        "3,遠いサロン,サロン,48.85,2.35,10\n"       # outside Japan
        "4,謎の会,宇宙旅行,35.05,141.05,\n"          # unknown category
        "5,位置なしサロン,サロン,,,\n",               # no coordinates
        encoding="utf-8")
    code, out, _ = run(capsys, "import", ws_path, csv, "--layer", "resources", "--user", "鈴木")
    assert code == 0
    assert "resources: 取込 2 件、除外 3 件" in out
    assert list((tmp_path / "data").iterdir()) == [csv]  # nothing written into the user's data folder
    rejected = pd.read_csv(tmp_path / "rejected" / "shigen_rejected.csv", encoding="utf-8-sig")
    assert rejected["行番号"].tolist() == [4, 5, 6]  # Japanese headers and Excel's row numbers: the file is for people
    assert rejected["除外の理由"].str.len().gt(0).all() and "施設名" in rejected.columns
    ws = Workspace.open(ws_path)
    assert sorted(ws.read("resources")["name"]) == ["本町サロン", "東体操"]
    assert ws.edits().iloc[-1]["user"] == "鈴木"
    # the same ids again are rejected, not duplicated: nothing accepted is an input error (exit 2)
    before = ws_path.read_bytes()
    code, out, err = run(capsys, "import", ws_path, csv, "--layer", "resources",
                         "--rejected-dir", tmp_path / "mine")
    assert code == 2 and "取込 0 件" in out and "取り込める行がありませんでした" in err
    assert ws.count("resources") == 2 and ws_path.read_bytes() == before
    assert (tmp_path / "mine" / "shigen_rejected.csv").is_file()


def test_rejected_rows_for_people_have_japanese_headers():
    from scgeo.commands import rejected_for_people

    rejected = pd.DataFrame({"施設名": ["謎の会"], "source_row": [3], "reason": ["種別が不明"]})
    assert list(rejected_for_people(rejected).columns) == ["施設名", "行番号", "除外の理由"]
    with_excel_rows = rejected.assign(file_row=[4])  # the app's download: Excel's row, not the data row
    people = rejected_for_people(with_excel_rows)
    assert list(people.columns) == ["施設名", "除外の理由", "行番号"] and people["行番号"].tolist() == [4]


def test_rejected_needs_go_to_internal_beside_the_workspace(ws_path, tmp_path, capsys):
    (tmp_path / "data").mkdir()
    csv = tmp_path / "data" / "needs.csv"
    csv.write_text("ニーズID,種別,記録日,緯度,経度\nN1,サロン,2025-04-01,35.05,141.05\n"
                   "N2,宇宙旅行,2025-04-01,35.05,141.05\n", encoding="utf-8")
    code, out, _ = run(capsys, "import", ws_path, csv, "--layer", "needs", "--rejected-dir", tmp_path / "mine")
    assert code == 0 and "取込 1 件、除外 1 件" in out
    assert (tmp_path / "internal" / "needs_rejected_内部資料.csv").is_file()  # marked in its name
    assert not (tmp_path / "mine").exists() and list((tmp_path / "data").iterdir()) == [csv]


@pytest.mark.parametrize(("args", "message"), [
    (["info", "nowhere.gpkg"], "見つかりません"),
    (["init", "x.gpkg", "--muni-code", "abc"], "市町村コード"),
    (["import", "{ws}", "missing.csv", "--layer", "resources"], "見つかりません"),
    (["import", "{ws}", "{bad}", "--layer", "resources"], "必須の列"),
    (["import", "{ws}", "{bad}", "--layer", "resources", "--mapping", "oops"], "--mapping"),
    (["import", "{ws}", "{bad}", "--layer", "planets"], "引数が正しくありません"),
    (["info"], "引数が正しくありません"),
])
def test_user_errors_exit_2_in_japanese_without_traceback(ws_path, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    code, _, err = run(capsys, *[a.format(ws=ws_path, bad=bad) for a in args])
    assert code == 2
    assert message in err and "Traceback" not in err


def test_internal_error_exits_1(ws_path, capsys, monkeypatch):
    def boom(self):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(Workspace, "info", boom)
    code, _, err = run(capsys, "info", ws_path)
    assert code == 1 and "内部エラー" in err and "kaboom" in err and "Traceback" not in err


def _scgeo():
    return [str(Path(sys.executable).with_name("scgeo"))]


def test_console_script_help_is_japanese():
    proc = subprocess.run([*_scgeo(), "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    for command in ("demo", "init", "import", "info", "app"):
        assert command in proc.stdout
    assert "ワークスペース" in proc.stdout


def test_demo_writes_outputs_without_serving(demo_run, demo_outputs):
    proc, out = demo_run  # `scgeo demo --out DIR` with SCGEO_NO_SERVE=1 (the shared fixture)
    assert demo_outputs["workspace"] == out / "workspace.gpkg" and all(p.exists() for p in demo_outputs.values())
    assert (out / "workspace.gpkg").is_file() and (out / "resource_map.html").is_file()
    info = Workspace.open(out / "workspace.gpkg").info()
    assert info["layers"]["resources"] >= 200 and info["layers"]["needs"] >= 400
    assert info["area_levels"]["town_block"] >= 40 and info["area_levels"]["jhs_district"] >= 5
    assert "アプリを起動" not in proc.stdout
