"""データ取込 with addresses and no coordinates (AppTest): geocoding with the workspace's town
blocks, match levels, 位置未確定 rows, one write only, placing a row at a 町丁目."""

import io as bytes_io
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from scgeo import Workspace, io

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "streamlit_app.py"


@pytest.fixture
def ws(tmp_path):
    ws = Workspace.create(tmp_path / "ws.gpkg", muni_code="99201", muni_name="さくら市")
    ws.import_result("town_blocks", io.read_town_blocks(ROOT / "data" / "boundaries" / "town_blocks.geojson"))
    return ws


def _xlsx(rows) -> bytes:
    buffer = bytes_io.BytesIO()
    pd.DataFrame(rows).to_excel(buffer, index=False)
    return buffer.getvalue()


def _button(at, prefix):
    return next(b for b in at.button if b.label.startswith(prefix))


def test_addresses_without_coordinates_geocoded_written_once_and_placed(ws):
    data = _xlsx([{"施設名": "本町サロン", "種別": "サロン", "住所": "さくら市本町12-3"},
                  {"施設名": "中央カフェ", "種別": "認知症カフェ", "住所": "中央三丁目4-5"},
                  {"施設名": "不明の会", "種別": "サロン", "住所": "さくら市どこにもない町1"},
                  {"施設名": "本町サロン", "種別": "サロン", "住所": "さくら市本町１２－３"}])
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["workspace_path"] = str(ws.path)
    at.run()
    at.switch_page("app_pages/import_page.py").run()
    at.file_uploader[0].set_value(("さくら市サロン一覧.xlsx", data, "application/vnd.ms-excel")).run()
    assert not at.exception
    assert at.selectbox(key="import_geocode").value == "town-blocks"  # the workspace's own 町丁目
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["取り込む行"], metrics["位置未確定"], metrics["除外する行"]) == ("3", "1", "0")
    assert any("位置の精度" in md.value and "町丁目 1 件" in md.value for md in at.markdown)
    assert any("緯度・経度の列がありません" in i.value for i in at.info)
    # the repeat of 本町サロン inside the file: skipped by default
    assert "重複" in " ".join(w.value for w in at.warning)
    assert _button(at, "ワークスペースに書き込む").label.startswith("ワークスペースに書き込む(2 件")
    _button(at, "ワークスペースに書き込む").click().run()
    assert not at.exception
    assert ws.count("resources") == 2 and len(ws.unplaced()) == 1
    assert ws.unplaced()["source"].iloc[0] == "さくら市サロン一覧.xlsx"
    assert _button(at, "ワークスペースに書き込む").disabled  # no second import of the same file
    assert any("書き込み済み" in i.value for i in at.info)
    # place the 位置未確定 row at a 町丁目
    block = ws.areas("town_block").iloc[0]
    at.selectbox(key="place_block").set_value(block["area_id"]).run()
    _button(at, "町丁目の代表点に配置").click().run()
    assert not at.exception
    resources = ws.read("resources").set_index("name")
    assert resources.loc["不明の会", "match_level"] == "chome"
    assert not len(ws.unplaced())
