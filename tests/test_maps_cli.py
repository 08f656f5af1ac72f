import re

from scgeo.cli import main


def test_export_map_public_has_no_need_data(sample_workspace, tmp_path, capsys):
    out = tmp_path / "map.html"
    assert main(["export-map", str(sample_workspace.path), "--out", str(out)]) == 0
    assert "公開用" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    needs = sample_workspace.read("needs")
    assert not [n for n in needs["need_id"] if n in html]
    # points are written as [lon,lat,...] rounded to 6 decimals (streets to 5: a need geocoded onto a street
    # corner may share a street vertex, which is not the need)
    coords = needs.geometry.get_coordinates().round(6)
    written = [f"[{x!r},{y!r}," for x, y in coords.itertuples(index=False)]
    assert not [c for c in written if c in html]
    resources = sample_workspace.read("resources").geometry.get_coordinates().round(6)
    assert all(f"[{x!r},{y!r}," in html for x, y in resources.head(20).itertuples(index=False))  # the check works
    assert "内部資料" not in html and not re.search(r'<script src="https?://', html)


def test_export_map_internal_for_one_area(sample_workspace, tmp_path, capsys):
    out = tmp_path / "internal.html"
    assert main(["export-map", str(sample_workspace.path), "--area", "LA2", "--internal", "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "内部資料 — 個人情報を含む" in html
    needs = sample_workspace.read("needs")
    shape = sample_workspace.areas("living_area").set_index("area_id").geometry["LA2"]
    inside = needs[needs.geometry.covered_by(shape)]
    outside = needs[~needs.geometry.covered_by(shape)]
    assert all(n in html for n in inside["need_id"])
    assert not any(n in html for n in outside["need_id"])
    assert "第2圏域 地域資源マップ(内部資料)" in html


def test_unknown_area_is_a_japanese_error_with_exit_2(sample_workspace, tmp_path, capsys):
    code = main(["export-map", str(sample_workspace.path), "--area", "第9圏域", "--out", str(tmp_path / "x.html")])
    err = capsys.readouterr().err
    assert code == 2 and "区域「第9圏域」はありません" in err and "第1圏域、第2圏域、第3圏域" in err
    assert "北中学校区" in err and not (tmp_path / "x.html").exists()
    code = main(["print-map", str(sample_workspace.path), "--area", "どこか", "--out", str(tmp_path / "x.pdf")])
    assert code == 2 and "区域「どこか」はありません" in capsys.readouterr().err


def test_print_map_cli(sample_workspace, tmp_path, capsys):
    out = tmp_path / "map.pdf"
    assert main(["print-map", str(sample_workspace.path), "--area", "北中学校区", "--paper", "A4",
                 "--out", str(out)]) == 0
    assert "A4 横" in capsys.readouterr().out and out.read_bytes().startswith(b"%PDF")
    assert main(["print-map", str(sample_workspace.path), "--per-area", "--out", str(tmp_path / "x.png")]) == 2
    assert "--per-area は PDF" in capsys.readouterr().err
