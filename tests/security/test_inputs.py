"""The small holes: NUL bytes, broken rings, imports with no rows."""

import json

import pytest

from scgeo import Workspace, cli
from scgeo.io import read_areas, read_resources


@pytest.fixture
def workspace(tmp_path):
    return Workspace.create(tmp_path / "ws.gpkg", muni_code="99201", muni_name="さくら市")


def test_nul_bytes_are_rejected_with_a_reason(tmp_path):
    source = tmp_path / "resources.csv"
    source.write_bytes("資源ID,名称,種別,緯度,経度,備考\nR1,本町\x00サロン,サロン,35.1,140.1,\n"
                       "R2,北町サロン,サロン,35.1,140.1,鍵は\x00管理人\nR3,南町サロン,サロン,35.1,140.1,\n".encode())
    result = read_resources(source)
    assert list(result.accepted["resource_id"]) == ["R3"]
    assert list(result.rejected["source_row"]) == [1, 2]
    assert all("NUL 文字" in reason for reason in result.rejected["reason"])
    assert "「名称」に NUL" in result.rejected["reason"].iloc[0]


def _polygon(ring, name, area_id):
    return {"type": "Feature", "properties": {"name": name, "area_id": area_id},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_unclosed_and_broken_rings_are_repaired_or_rejected(tmp_path, workspace, capsys):
    features = [
        _polygon([[140.0, 35.0], [140.01, 35.0], [140.01, 35.01], [140.0, 35.01]], "開いた輪", "A1"),  # not closed
        _polygon([[140.02, 35.0], [140.03, 35.0]], "二点だけ", "A2"),  # no area at all
        _polygon([[140.04, 35.0], [140.05, 35.01], [140.05, 35.0], [140.04, 35.01], [140.04, 35.0]], "8の字", "A3"),
        _polygon([[140.06, 35.0], [140.07, 35.0], [140.07, 35.01], [140.06, 35.0]], "よい", "A4"),
    ]
    source = tmp_path / "districts.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    result = read_areas(source, level="jhs_district")
    assert set(result.accepted["area_id"]) == {"A1", "A3", "A4"}
    assert list(result.rejected["name"]) == ["二点だけ"]
    assert any("閉じていない" in m for m in result.messages)
    code = cli.main(["import", str(workspace.path), str(source), "--layer", "areas", "--level", "jhs_district"])
    assert code == 0 and "閉じていない" in capsys.readouterr().out
    assert workspace.count("areas") == 3


def test_an_import_with_no_rows_writes_nothing(tmp_path, workspace, capsys):
    before = (workspace.version(), workspace.path.read_bytes())
    empty = tmp_path / "empty.csv"
    empty.write_text("資源ID,名称,種別,緯度,経度\n", encoding="utf-8")
    assert cli.main(["import", str(workspace.path), str(empty), "--layer", "resources"]) == 2
    assert "取り込める行がありませんでした" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"  # every row rejected: reported and kept with reasons, nothing written
    bad.write_text("資源ID,名称,種別,緯度,経度\nR1,x,宇宙旅行,35.1,140.1\n", encoding="utf-8")
    assert cli.main(["import", str(workspace.path), str(bad), "--layer", "resources"]) == 2
    captured = capsys.readouterr()
    assert "取込 0 件、除外 1 件" in captured.out and "除外した行と理由" in captured.out
    assert (workspace.path.parent / "rejected" / "bad_rejected.csv").exists()
    assert (workspace.version(), workspace.path.read_bytes()) == before and len(workspace.edits()) == 0
