"""Batches on Dask: a generated region of two towns, cut from one regional PBF, resumable."""

import sys
import types
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from scgeo import InputError
from scgeo.batch import TABLE_COLUMNS, read_manifest, run_batch
from scgeo.cli import main
from scgeo.workspace import Workspace


@pytest.fixture(scope="module", autouse=True)
def _plain_main():
    """Streamlit's AppTest (earlier app tests) leaves its page script as ``__main__``; a Dask worker
    started by spawn would run that script again. The workers start from a plain ``__main__``."""
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    yield
    sys.modules["__main__"] = saved


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("region")
    assert main(["sample", "--towns", "2", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def batch(region, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    seen = []
    result = run_batch(read_manifest(region), out_dir=out, workers=2, memory_limit="1.5GB",
                       progress=lambda done, total, code: seen.append((done, total, code)))
    return out, result, seen


def test_sample_region_is_two_neighbouring_municipalities(region):
    manifest = read_manifest(region / "manifest.toml")
    assert [m.muni_code for m in manifest.municipalities] == ["99201", "99202"]
    outlines = [gpd.read_file(m.dir / "boundaries" / "municipality.geojson") for m in manifest.municipalities]
    a, b = (o.to_crs(6691).geometry.iloc[0] for o in outlines)
    assert a.intersection(b).area < 0.01 * a.area      # side by side, not on top of each other
    assert a.distance(b) < 1000                        # ... and neighbours
    blocks = gpd.read_file(manifest.municipalities[1].dir / "boundaries" / "town_blocks.geojson")
    assert blocks["area_id"].str.startswith("99202").all()
    import osmium

    ways = sum(1 for o in osmium.FileProcessor(str(manifest.region_pbf), osmium.osm.WAY) if o.is_way())
    assert ways > 100


def test_batch_writes_the_table_per_municipality_and_category(batch, region):
    out, result, seen = batch
    assert sorted(c for _, _, c in seen) == ["99201", "99202"] and seen[-1][:2] == (2, 2)
    table = pd.read_parquet(out / "coverage_by_municipality.parquet")
    assert list(table.columns) == TABLE_COLUMNS
    assert set(table["muni_code"]) == {"99201", "99202"}
    assert not table.duplicated(["muni_code", "category"]).any()
    csv = pd.read_csv(out / "coverage_by_municipality.csv", dtype={"muni_code": str}, encoding="utf-8-sig")
    assert len(csv) == len(table)
    # each row equals that municipality's own coverage table at the municipality level
    for code in ("99201", "99202"):
        own = pd.read_csv(out / code / "gaps.csv")
        own = own[own["level"] == "municipality"].set_index("category")
        mine = table[table["muni_code"] == code].set_index("category")
        # gaps.csv is written for people: whole persons
        np.testing.assert_allclose(mine["covered_65plus"], own.loc[mine.index, "covered_65plus"], atol=0.51)
        assert "needs_open" not in own  # need counts never leave the workspace in a written table
        pct = 100 * mine["covered_65plus"] / mine["pop_65plus"]
        np.testing.assert_allclose(mine["coverage_pct"].dropna(), pct[mine["coverage_pct"].notna()], atol=0.051)
        ws = Workspace.open(out / code / "workspace.gpkg")
        assert ws.count("network_edges") > 100 and ws.meta()["muni_code"] == code
    assert (table["method"] == "network").all()
    assert (out / "coverage_by_municipality.png").stat().st_size > 10_000
    assert set(result.runs["muni_code"]) == {"99201", "99202"}


def test_batch_is_resumable(batch, region):
    out, first, _ = batch
    before = (out / "99201" / "coverage.parquet").stat().st_mtime_ns
    again = run_batch(read_manifest(region), out_dir=out, workers=1)
    assert sorted(again.skipped) == ["99201", "99202"] and not len(again.runs)
    assert (out / "99201" / "coverage.parquet").stat().st_mtime_ns == before
    pd.testing.assert_frame_equal(again.table, first.table)


def test_bad_manifests_say_what_is_wrong(tmp_path: Path):
    with pytest.raises(InputError, match="見つかりません"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.toml").write_text('region_pbf = "r.pbf"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"\[\[municipality\]\]"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.toml").write_text('region_pbf = "r.pbf"\n[[municipality]]\nmuni_code = "12x"\n',
                                            encoding="utf-8")
    with pytest.raises(InputError, match="5桁または6桁"):
        read_manifest(tmp_path)


def test_cli_batch_on_a_bad_manifest_exits_2(tmp_path: Path, capsys):
    assert main(["batch", str(tmp_path)]) == 2
    assert "マニフェスト" in capsys.readouterr().err


def test_a_failing_municipality_does_not_stop_the_others(region, tmp_path: Path):
    import shutil

    broken = tmp_path / "broken" / "boundaries"
    broken.mkdir(parents=True)
    shutil.copy(region / "towns" / "99201" / "boundaries" / "municipality.geojson", broken)  # no population
    (tmp_path / "manifest.toml").write_text(
        f'region_pbf = "{(region / "region.osm.pbf").as_posix()}"\n'
        '[[municipality]]\nmuni_code = "99201"\nname = "壊れた市"\ndir = "broken"\n', encoding="utf-8")
    result = run_batch(read_manifest(tmp_path), out_dir=tmp_path / "out", workers=1)
    assert list(result.failed) == ["99201"] and isinstance(result.failed["99201"], InputError)
    assert "町丁目別人口" in str(result.failed["99201"])
    assert not (tmp_path / "out" / "99201" / "coverage.parquet").exists()  # not finished: redone next time
