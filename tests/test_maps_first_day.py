"""Maps a coordinator reads at a glance: markers that never cover one another on paper, gaps and
町丁目 on the print map, the council map's analysis layers, legends tied to layers, the history."""

import datetime as dt
import re
import shutil
import subprocess
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scgeo.cli import main
from scgeo.maps import resource_map
from scgeo.maps._placement import place_markers
from scgeo.maps.static import print_map
from scgeo.report import gap_report, labelled_edits

RADIUS = 5.0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 60), st.floats(0, 60)), min_size=2, max_size=60),
       st.lists(st.tuples(st.floats(500, 600), st.floats(500, 600)), max_size=3))
def test_placed_markers_never_overlap_and_free_ones_stay(crowd, alone):
    xy = np.array(crowd + [(1000.0 + 100 * i, 1000.0) for i in range(len(alone))])
    out = place_markers(xy, radius=RADIUS, rings=40)
    d = np.linalg.norm(out[:, None] - out[None], axis=2)  # brute force: every pair
    assert (d[np.triu_indices(len(out), 1)] >= 2 * RADIUS - 1e-9).all()
    free = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    np.fill_diagonal(free, np.inf)
    isolated = (free >= 2 * RADIUS).all(axis=1)
    assert np.allclose(out[isolated], xy[isolated])  # a marker with room keeps its place


def test_print_map_with_gaps_town_names_and_readable_closed_entries(sample_workspace, tmp_path):
    zones = gap_report(sample_workspace, categories=["salon"])[1]
    path, _ = print_map(sample_workspace, tmp_path / "area.pdf", area="第1圏域", blank_zones=zones,
                        today=dt.date(2026, 11, 1))
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    raw = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    text = unicodedata.normalize("NFKC", re.sub(r"\s+", "", raw))  # drawing order; 一 may come out as ⼀
    assert "空白地帯:居場所・サロン" in text and "徒歩15分で資源に届かない" in text
    blocks = sample_workspace.town_blocks()
    shape = sample_workspace.areas("living_area").set_index("name").geometry["第1圏域"]
    inside = [unicodedata.normalize("NFKC", n) for n in
              blocks[blocks.geometry.representative_point().covered_by(shape)]["name"]]
    assert sum(name in text for name in inside) >= 0.8 * len(inside)  # 町丁目 names are printed
    resources = sample_workspace.read("resources")
    closed = resources[(resources["status"] != "active") & resources.geometry.covered_by(shape)]
    assert len(closed) and ("(休止中)" in text or "(廃止)" in text)
    assert "引き出し線" in text


def test_cli_council_map_has_blank_zones_and_need_counts(sample_workspace, tmp_path):
    out = tmp_path / "map.html"
    assert main(["export-map", str(sample_workspace.path), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "空白地帯: 居場所・サロン" in html and "ニーズ件数(集計)" in html
    assert re.search(r"<title>さくら市 地域資源マップ</title>", html)
    assert "N-0" not in html  # public: no need ids


def test_legend_rows_follow_their_layers(sample_workspace):
    areas, resources = sample_workspace.areas(), sample_workspace.read("resources")
    html = resource_map(areas, resources, title="テスト <市>").get_root().render()
    assert "<title>テスト &lt;市&gt;</title>" in html
    assert html.count('data-layers=\\"') + html.count("data-layers=") > 10  # category, area rows tied to layers
    assert "右上のレイヤ一覧で表示" in html  # the hint for the 町丁目 layer that starts hidden
    assert ">字<" not in html  # the 休止中・廃止 sample badge has no letter
    assert "scgeo.furniture(" in html


def test_history_for_people(sample_copy):
    rid = sample_copy.read("resources")["resource_id"].iloc[0]
    sample_copy.update_feature("resources", rid, {"category": "kayoi_no_ba", "status": "paused"}, user="山田")
    table = labelled_edits(sample_copy.edits())
    # what the history says in its own words (the メモ column quotes file names such as resources.csv)
    text = " ".join(table.drop(columns="メモ").astype(str).to_numpy().ravel())
    for code in ("import:append", "kayoi_no_ba", "paused", "resources", "None", "nan"):
        assert code not in text, code
    assert "取込(追加)" in text and "通いの場(体操・運動)" in text and "休止中" in text and "社会資源" in text
    last = table.iloc[-1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", last["日時(日本時間)"])
    utc = dt.datetime.fromisoformat(sample_copy.edits()["at"].iloc[-1]).astimezone(dt.UTC)
    assert last["日時(日本時間)"] == (utc + dt.timedelta(hours=9)).strftime("%Y-%m-%d %H:%M")
