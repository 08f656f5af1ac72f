"""The national table of 全国地方公共団体コード shipped as package data."""

import csv
from pathlib import Path

import pytest

from scgeo import InputError, Workspace
from scgeo.cli import main
from scgeo.municipalities import check_digit, lookup, municipalities, normalise_code

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "localgovjp" / "localgovjp-utf8.csv"


def test_doctests():
    import doctest

    from scgeo import municipalities as module

    failed, _ = doctest.testmod(module)
    assert failed == 0


def test_lookup_by_five_and_six_digits():
    izumo = lookup("32203")
    assert (izumo.name, izumo.prefecture, izumo.kana, izumo.lgcode) == ("出雲市", "島根県", "いずもし", "322032")
    assert izumo.lat == pytest.approx(35.3669, abs=1e-3) and izumo.lon == pytest.approx(132.7547, abs=1e-3)
    assert lookup("322032") == izumo == lookup("３２２０３")
    assert lookup("011002").name == "札幌市" and lookup("01101").name == "札幌市 中央区"  # wards are rows
    assert lookup("99201") is None  # the fictional sample town
    assert (izumo.hall, lookup("32343").hall) == ("出雲市役所", "奥出雲町役場")


@pytest.mark.parametrize("bad", ["322033", "3220", "abcde", "1234567", ""])
def test_bad_codes_are_input_errors(bad):
    with pytest.raises(InputError, match="市町村コード"):
        normalise_code(bad)


def test_check_digit_of_every_row_matches_its_lgcode():
    rows = municipalities()
    assert len(rows) == 1916 and len({m.code for m in rows}) == 1916
    assert all(int(m.lgcode[5]) == check_digit(m.code) for m in rows)
    assert all(24 <= m.lat <= 46 and 122 <= m.lon <= 154 for m in rows)


def test_package_data_is_the_shared_table():
    if not SHARED.is_file():
        pytest.skip("shared data (../shared/data) is not available")
    with SHARED.open(encoding="utf-8-sig") as handle:
        shared = {r["lgcode"]: r for r in csv.DictReader(handle)}
    ours = {m.lgcode: m for m in municipalities()}
    assert set(shared) == set(ours)
    for code, row in shared.items():
        m = ours[code]
        assert (m.prefecture, m.name, m.kana) == (row["pref"], row["city"], row["citykana"])
        assert (m.lat, m.lon) == (float(row["lat"]), float(row["lng"]))


def test_init_fills_the_name_from_the_code(tmp_path, capsys):
    assert main(["init", str(tmp_path / "a.gpkg"), "--muni-code", "322032"]) == 0
    assert "出雲市" in capsys.readouterr().out
    assert Workspace.open(tmp_path / "a.gpkg").meta()["muni_name"] == "出雲市"
    assert main(["init", str(tmp_path / "b.gpkg"), "--muni-code", "32203", "--name", "いずも"]) == 0
    assert Workspace.open(tmp_path / "b.gpkg").meta()["muni_name"] == "いずも"
    assert main(["init", str(tmp_path / "c.gpkg"), "--muni-code", "322031"]) == 2
    assert "検査数字" in capsys.readouterr().err and not (tmp_path / "c.gpkg").exists()


def test_build_fills_the_name_from_the_code(tmp_path):
    from scgeo.commands.build import build_workspace

    summary = build_workspace(tmp_path / "w.gpkg", muni_code="31201")
    assert summary["info"]["muni_name"] == "鳥取市"
