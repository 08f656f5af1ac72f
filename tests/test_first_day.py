"""A coordinator's first day: backups and restore, the demo keeping user edits, Japanese levels,
argparse in Japanese, whole persons and Japanese headers in files for people."""

import datetime as dt

import pandas as pd
import pytest
from shapely.geometry import Point

from scgeo import Workspace
from scgeo.backups import backup_dir, list_backups
from scgeo.cli import main
from scgeo.demo import keep_user_edits
from scgeo.report.tables import for_people
from scgeo.schema import resolve_level
from scgeo.settings import get_settings, set_settings


@pytest.fixture
def two_generations():
    set_settings(get_settings().replace(backup_generations=2))
    yield
    set_settings(None)


def _resource(i: int) -> dict:
    return {"resource_id": f"R{i}", "name": f"サロン{i}", "category": "salon", "geometry": Point(140.5, 35.5)}


def test_every_replace_keeps_a_generation_and_restore_brings_it_back(tmp_path, two_generations):
    ws = Workspace.create(tmp_path / "town.gpkg", muni_code="99201", muni_name="さくら市")
    assert list_backups(ws.path).empty
    for i in range(3):
        ws.add_feature("resources", _resource(i), user="山田")
    table = ws.backups()
    assert table["generation"].tolist() == [1, 2]  # pruned to the configured count
    assert table["resources"].tolist() == [2, 1]  # newest first: the state before the last write
    assert len(list(backup_dir(ws.path).glob("*.gpkg"))) == 2

    ws.restore(2, user="山田")
    assert ws.count("resources") == 1
    assert ws.edits()["action"].iloc[-1] == "restore"
    assert ws.backups()["resources"].iloc[0] == 3  # the state before the restore is kept: undoable
    ws.restore(1)
    assert ws.count("resources") == 3


def test_restore_command(tmp_path, capsys):
    ws = Workspace.create(tmp_path / "town.gpkg", muni_code="99201")
    assert main(["restore", str(ws.path), "--list"]) == 0
    assert "バックアップはまだありません" in capsys.readouterr().out
    assert main(["restore", str(ws.path)]) == 2  # nothing to restore: a Japanese message, exit 2
    assert "バックアップはありません" in capsys.readouterr().err
    ws.add_feature("resources", _resource(1), user="山田")
    assert main(["restore", str(ws.path), "--list"]) == 0
    out = capsys.readouterr().out
    assert "世代 1" in out and "社会資源 0 件" in out
    assert main(["restore", str(ws.path), "1"]) == 0
    assert ws.count("resources") == 0
    assert main(["restore", str(ws.path), "5"]) == 2
    assert "世代 5 のバックアップはありません" in capsys.readouterr().err


def test_demo_keeps_a_dated_copy_of_user_edits(sample_copy):
    assert keep_user_edits(sample_copy.path) is None  # only the demo's own writes: rebuilt freely
    sample_copy.add_feature("resources", _resource(999), user="第2層SC 山田")
    kept = keep_user_edits(sample_copy.path)
    assert kept is not None and kept.parent == sample_copy.path.parent
    assert kept.name.startswith(f"{sample_copy.path.stem}.{dt.date.today():%Y%m%d}-")
    assert "R999" in Workspace.open(kept).ids("resources")


def test_a_file_that_is_not_a_workspace_is_kept_too(tmp_path):
    path = tmp_path / "workspace.gpkg"
    path.write_bytes(b"not a geopackage")
    kept = keep_user_edits(path)
    assert kept.read_bytes() == b"not a geopackage"


@pytest.mark.parametrize(("given", "code"), [("中学校区", "jhs_district"), ("jhs_district", "jhs_district"),
                                            ("日常生活圏域", "living_area"), ("圏域", "living_area"),
                                            ("町丁目", "town_block"), ("小学校区", "es_district")])
def test_japanese_level_names(given, code):
    assert resolve_level(given) == code


def test_level_in_japanese_on_the_command_line(sample_workspace, tmp_path, capsys):
    out = tmp_path / "needs.csv"
    assert main(["needs", str(sample_workspace.path), "--out", str(out), "--level", "中学校区"]) == 0
    table = pd.read_csv(out)
    assert set(table["level"]) == {"jhs_district"}
    assert main(["needs", str(sample_workspace.path), "--out", str(out), "--level", "学区"]) == 2
    err = capsys.readouterr().err
    assert "区域の種類「学区」は使えません" in err and "中学校区 (jhs_district)" in err


def test_argparse_speaks_japanese(capsys):
    english = ("usage:", "positional arguments", "options:", "show this help", "error:", "required",
               "invalid choice", "PATH", "OUT")
    assert main(["--help"]) == 0
    assert main(["gaps", "--help"]) == 0
    assert main(["gaps"]) == 2
    assert main(["match", "x.gpkg", "--k", "abc"]) == 2
    assert main(["nosuchcommand"]) == 2
    text = "".join(capsys.readouterr())
    assert "使い方: scgeo" in text and "次の引数が必要です" in text and "この説明を表示して終了する" in text
    assert [w for w in english if w in text] == []


def test_files_for_people_count_whole_persons(demo_outputs):
    table = pd.read_csv(demo_outputs["gaps"])
    for column in ("pop_65plus", "covered_65plus", "pop_75plus", "covered_75plus"):
        assert pd.api.types.is_integer_dtype(table[column]), column


def test_for_people_rounds_and_speaks_japanese():
    frame = pd.DataFrame({"level": ["jhs_district", "town_block"], "area_name": ["北", "本町"],
                          "category": ["salon", "salon"], "category_label": ["居場所・サロン"] * 2,
                          "method": ["network"] * 2, "pop_65plus": [10245.6, float("nan")],
                          "coverage_pct": [12.34, 50.0]})
    exact = for_people(frame)
    assert exact["pop_65plus"].tolist()[0] == 10246 and pd.isna(exact["pop_65plus"].iloc[1])
    assert exact["coverage_pct"].tolist() == [12.34, 50.0]  # not people: untouched
    ja = for_people(frame, headers="ja")
    assert list(ja.columns) == ["区域の種類", "区域名", "種別", "計算方法", "65歳以上人口", "カバー率(%)"]
    assert ja["区域の種類"].tolist() == ["中学校区", "町丁目"]
    assert ja["計算方法"].iloc[0] == "歩行ネットワーク"
    assert frame["pop_65plus"].iloc[0] == 10245.6  # the API's frame is not changed
