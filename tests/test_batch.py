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
    """Two generated towns with sparser streets than the sample town's (about 1,500 junctions each:
    the generator and every stage of the batch do less; the batch's own figures are benchmarked)."""
    out = tmp_path_factory.mktemp("region")
    assert main(["sample", "--towns", "2", "--town-nodes", "1500", "--out", str(out)]) == 0
    return out


def _shrink(src: Path, dst: Path, half_m: float = 1200.0) -> None:
    """A town's inputs kept to the blocks within ``half_m`` of its centre (a smaller municipality:
    fewer blocks, people, resources, needs and, once cut from the regional extract, streets)."""
    bounds = src / "boundaries"
    outline = gpd.read_file(bounds / "municipality.geojson")
    centre = outline.to_crs(6691).geometry.iloc[0].centroid
    blocks = gpd.read_file(bounds / "town_blocks.geojson")
    kept = blocks[blocks.to_crs(6691).representative_point().within(centre.buffer(half_m))]
    shape = kept.union_all()
    (dst / "boundaries").mkdir(parents=True)
    kept.to_file(dst / "boundaries" / "town_blocks.geojson", driver="GeoJSON")
    outline.assign(geometry=[shape]).to_file(dst / "boundaries" / "municipality.geojson", driver="GeoJSON")
    for name in ("living_areas", "jhs_districts", "es_districts"):
        areas = gpd.read_file(bounds / f"{name}.geojson")
        areas = areas.assign(geometry=areas.geometry.intersection(shape))
        kept_areas = areas[~areas.is_empty & areas.geom_type.isin(["Polygon", "MultiPolygon"])]
        kept_areas.to_file(dst / "boundaries" / f"{name}.geojson", driver="GeoJSON")
    for folder, name in (("resources", "resources.csv"), ("needs", "needs.csv")):
        rows = pd.read_csv(src / folder / name, dtype=str, keep_default_na=False)
        inside = gpd.points_from_xy(rows["lon"].astype(float), rows["lat"].astype(float), crs=6668).within(shape)
        (dst / folder).mkdir()
        rows[inside].to_csv(dst / folder / name, index=False)
    assert len(kept) > 10  # a town still, only smaller


@pytest.fixture(scope="module")
def small_region(region, tmp_path_factory):
    """The two towns made smaller, and a third municipality whose inputs are broken (no population),
    so that ONE batch (one cluster) shows both the table and a failure that does not stop the others."""
    import shutil

    out = tmp_path_factory.mktemp("small")
    for code in ("99201", "99202"):
        _shrink(region / "towns" / code, out / "towns" / code)
    broken = out / "towns" / "99203" / "boundaries"
    broken.mkdir(parents=True)
    shutil.copy(region / "towns" / "99201" / "boundaries" / "municipality.geojson", broken)
    text = (region / "manifest.toml").read_text(encoding="utf-8")
    text = text.replace('region_pbf = "region.osm.pbf"', f'region_pbf = "{(region / "region.osm.pbf").as_posix()}"')
    text += '\n[[municipality]]\nmuni_code = "99203"\nname = "壊れた市"\ndir = "towns/99203"\n'
    (out / "manifest.toml").write_text(text, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def batch(small_region, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    seen = []
    result = run_batch(read_manifest(small_region), out_dir=out, workers=2, memory_limit="1.5GB",
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


def test_batch_writes_the_table_per_municipality_and_category(batch):
    out, result, seen = batch
    assert sorted(c for _, _, c in seen) == ["99201", "99202", "99203"] and seen[-1][:2] == (3, 3)
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


def test_batch_is_resumable(batch, small_region, tmp_path: Path):
    out, first, _ = batch
    before = (out / "99201" / "coverage.parquet").stat().st_mtime_ns
    finished = tmp_path / "manifest.toml"  # the two finished municipalities (the broken one would be redone)
    text = (small_region / "manifest.toml").read_text(encoding="utf-8")
    finished.write_text(text[:text.index('\n[[municipality]]\nmuni_code = "99203"')].replace(
        'dir = "towns/', f'dir = "{(small_region / "towns").as_posix()}/'), encoding="utf-8")
    again = run_batch(read_manifest(finished), out_dir=out, workers=1)
    assert sorted(again.skipped) == ["99201", "99202"] and not len(again.runs) and again.split_s == 0
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


def test_a_failing_municipality_does_not_stop_the_others(batch):
    out, result, _ = batch
    assert list(result.failed) == ["99203"] and isinstance(result.failed["99203"], InputError)
    assert "町丁目別人口" in str(result.failed["99203"])
    assert not (out / "99203" / "coverage.parquet").exists()  # not finished: redone next time
    assert set(result.table["muni_code"]) == {"99201", "99202"}  # the others went on


def test_town_nodes_sets_the_street_density(tmp_path: Path, capsys):
    from scgeo.sample.region import BASE_TOWN_NODES, street_density_for

    assert street_density_for(BASE_TOWN_NODES) == 1.0  # the sample town's own streets, byte for byte
    assert 5.5 < street_density_for(50_000) < 6.5  # 49,479 junctions measured at 6.0 (bundled seed)
    assert street_density_for(10_000) < street_density_for(50_000)
    with pytest.raises(ValueError, match="town_nodes"):
        street_density_for(10)
    assert main(["sample", "--towns", "2", "--town-nodes", "10", "--out", str(tmp_path)]) == 2
    assert "--town-nodes" in capsys.readouterr().err
    assert main(["sample", "--town-nodes", "50000", "--out", str(tmp_path)]) == 2
    assert "--towns" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written


def test_the_region_cut_once_gives_each_municipality_the_same_network(region, tmp_path: Path):
    """``split_osm`` streams the region once for all municipalities; each extract, cut again with
    ``extract_osm``, gives exactly the network, basemap lines and cut-way count of the region itself."""
    from scgeo.batch import _layers, _outline, _read_inputs, split_region
    from scgeo.io.osm_extract import extract_osm

    manifest = read_manifest(region)
    munis = [(m.muni_code, str(m.dir)) for m in manifest.municipalities]
    missing = tmp_path / "99209"
    missing.mkdir()
    extracts, failed, _ = split_region([*munis, ("99209", str(missing))], str(manifest.region_pbf), str(tmp_path / "x"))
    assert sorted(extracts) == ["99201", "99202"] and list(failed) == ["99209"]
    assert "区域のファイル" in str(failed["99209"])
    for m in manifest.municipalities:
        outline = _outline(_layers(_read_inputs(m, only=("areas", "town_blocks")))["areas"], m.muni_code)
        whole, part = extract_osm(manifest.region_pbf, outline), extract_osm(extracts[m.muni_code], outline)
        assert len(whole.edges) > 100
        pd.testing.assert_frame_equal(whole.nodes, part.nodes)
        pd.testing.assert_frame_equal(whole.edges, part.edges)
        pd.testing.assert_frame_equal(whole.lines, part.lines)
        assert whole.cut_ways == part.cut_ways
        assert Path(extracts[m.muni_code]).stat().st_size < manifest.region_pbf.stat().st_size


def test_batch_cuts_the_region_once(batch):
    out, result, _ = batch
    assert result.split_s > 0 and result.split_rss_mb > 100
    extracts = sorted(p.name for p in (out / "_extracts").iterdir())
    assert extracts == [f"{c}.osm.pbf" for c in ("99201", "99202", "99203")]
