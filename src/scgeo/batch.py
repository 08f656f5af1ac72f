"""Batches across municipalities (a prefecture, the nation) on Dask.

A manifest (``manifest.toml``) names the regional OpenStreetMap extract and, per municipality,
its code, name and the folder of its inputs (boundaries, town blocks with population, resources,
needs; the layout ``scgeo sample`` writes). :func:`run_batch` runs the per-municipality
pipeline — a workspace from the inputs, the walking network cut from the regional extract
(:func:`scgeo.io.osm_extract.extract_osm`; the region is first cut for all municipalities in one
pass, :func:`scgeo.io.osm_extract.split_osm`, into ``OUT/_extracts/<muni_code>.osm.pbf``), coverage
and blank zones (:func:`scgeo.report.gap_report`),
optionally matching — as one Dask task per municipality, on a ``distributed.LocalCluster`` by
default or on any Dask scheduler. Each task gets only paths and reads its inputs itself; it
writes its results under ``OUT/<muni_code>/`` and its summary last (atomically), so a batch run
again skips the municipalities already finished. :func:`combine` gathers the per-municipality
summaries into the prefecture/nation table ``coverage_by_municipality.parquet`` / ``.csv``
(``muni_code``, ``category``, ``pop_65plus``, ``covered_65plus``, ``coverage_pct``, …) and a
choropleth map of the municipalities.

Manifest::

    region_pbf = "region.osm.pbf"      # relative to the manifest
    minutes = 15.0                     # optional
    matching = false                   # optional: also match needs to resources
    [[municipality]]
    muni_code = "99201"
    name = "架空1市"
    dir = "towns/99201"
"""

from __future__ import annotations

import os
import resource
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scgeo._errors import InputError

__all__ = ["TABLE_COLUMNS", "BatchResult", "Manifest", "Municipality", "combine", "read_manifest",
           "run_batch", "run_municipality"]

TABLE_COLUMNS = ["muni_code", "muni_name", "category", "category_label", "pop_65plus", "covered_65plus",
                 "coverage_pct", "status", "method", "basis"]
SUMMARY = "coverage.parquet"  # per municipality, written last: its presence means "finished"
EXTRACTS = "_extracts"  # OUT/_extracts/<muni_code>.osm.pbf: the region cut once for every municipality
_BUFFER_M = 1000.0  # the network is cut to the municipality + 1 km, as `scgeo network`
_USER = "scgeo batch"
_LAYERS = (("boundaries/municipality.geojson", "areas", "municipality"),
           ("boundaries/living_areas.geojson", "areas", "living_area"),
           ("boundaries/jhs_districts.geojson", "areas", "jhs_district"),
           ("boundaries/es_districts.geojson", "areas", "es_district"),
           ("boundaries/town_blocks.geojson", "town_blocks", "town_block"),
           ("resources/resources.csv", "resources", None),
           ("needs/needs.csv", "needs", None))


@dataclass(frozen=True)
class Municipality:
    """One municipality of a manifest: its code, name and inputs folder."""

    muni_code: str
    name: str
    dir: Path


@dataclass(frozen=True)
class Manifest:
    """What :func:`read_manifest` found."""

    path: Path
    region_pbf: Path
    municipalities: list[Municipality]
    minutes: float = 15.0
    matching: bool = False


@dataclass
class BatchResult:
    """What :func:`run_batch` did: per-municipality timings, the skipped ones and the outputs."""

    runs: pd.DataFrame
    skipped: list[str]
    table: pd.DataFrame
    outputs: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, BaseException] = field(default_factory=dict)  # muni_code → the error (others went on)
    split_s: float = 0.0  # cutting the region into per-municipality extracts (0 when all were there)
    split_rss_mb: float = 0.0  # the peak RSS of the worker that cut it


def read_manifest(path: str | Path) -> Manifest:
    """Read ``manifest.toml`` (or ``DIR/manifest.toml``); raise ``InputError`` on a bad one."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.toml"
    if not path.is_file():
        raise InputError(f"マニフェスト {path} が見つかりません。`scgeo sample --towns N --out DIR` で作るか、"
                         "manifest.toml を指定してください。")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"マニフェスト {path} を読めません: {exc}") from exc
    base = path.parent
    if "region_pbf" not in data:
        raise InputError(f"マニフェスト {path} に region_pbf (地域の OpenStreetMap ファイル) がありません。")
    rows = data.get("municipality") or []
    if not rows:
        raise InputError(f"マニフェスト {path} に [[municipality]] がありません。")
    munis, seen = [], set()
    for k, row in enumerate(rows, 1):
        code = str(row.get("muni_code", "")).strip()
        if not (code.isdigit() and len(code) in (5, 6)):
            raise InputError(f"マニフェスト {path} の {k} 番目の市町村: muni_code「{code}」は5桁または6桁の数字に"
                             "してください。")
        if code in seen:
            raise InputError(f"マニフェスト {path}: 市町村コード {code} が2回あります。")
        seen.add(code)
        folder = base / str(row.get("dir", code))
        if not folder.is_dir():
            raise InputError(f"マニフェスト {path}: 市町村 {code} のフォルダ {folder} が見つかりません。")
        munis.append(Municipality(code, str(row.get("name", "")), folder))
    try:
        minutes = float(data.get("minutes", 15.0))
    except (TypeError, ValueError) as exc:
        raise InputError(f"マニフェスト {path}: minutes は数にしてください。") from exc
    if not 1 <= minutes <= 120:
        raise InputError(f"マニフェスト {path}: minutes は 1〜120 分にしてください。")
    pbf = base / str(data["region_pbf"])
    if not pbf.is_file():
        raise InputError(f"マニフェスト {path}: 地域の OpenStreetMap ファイル {pbf} が見つかりません。")
    return Manifest(path, pbf, munis, minutes, bool(data.get("matching", False)))


def _read_inputs(muni: Municipality, only: tuple[str, ...] | None = None) -> list[tuple[str, str, object]]:
    """Every input file of the municipality (of the layers ``only``) read: ``(relative path, layer, ImportResult)``."""
    from scgeo.io import read_areas, read_needs, read_resources, read_town_blocks

    readers = {"areas": read_areas, "town_blocks": read_town_blocks, "resources": read_resources,
               "needs": read_needs}
    results = []
    for relative, layer, level in _LAYERS:
        file = muni.dir / relative
        if file.is_file() and (only is None or layer in only):
            results.append((relative, layer, readers[layer](file, level=level) if layer == "areas"
                            else readers[layer](file)))
    return results


def _peak_rss_mb() -> float:
    """The peak RSS in MB of this process alone.

    Linux's ``VmHWM``, which starts afresh when a program starts. ``ru_maxrss`` keeps the peak of
    the process that forked a Dask worker before it ran Python: a benchmark that generated 30
    towns handed its 2.4 GB to every worker's figure. ``ru_maxrss`` elsewhere.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _outline(areas, muni_code: str):
    """The municipality + 1 km, the area its network is cut to (the same for the split and the task)."""
    from scgeo.io.osm_extract import areas_outline

    return areas_outline(areas, muni_code=muni_code, buffer_m=_BUFFER_M)


def split_region(munis: list[tuple[str, str]], region_pbf: str, out_dir: str
                 ) -> tuple[dict[str, str], dict[str, BaseException], float]:
    """Cut the regional PBF for every ``(muni_code, folder)`` in one pass (a Dask task: paths only).

    Returns the extracts (code → path), the municipalities whose boundaries could not be read
    (code → the error; their task is not run) and the worker's peak RSS in MB.
    """
    from scgeo.io.osm_extract import split_osm

    areas, failed = {}, {}
    for code, folder in munis:
        try:
            layers = _layers(_read_inputs(Municipality(code, "", Path(folder)), only=("areas", "town_blocks")))
            if "areas" not in layers:
                raise InputError(f"市町村 {code} の区域のファイル (boundaries/) がありません。")
            areas[code] = _outline(layers["areas"], code)
        except InputError as exc:  # this municipality fails; the others are cut
            failed[code] = exc
    written = split_osm(region_pbf, areas, out_dir) if areas else {}
    return {code: str(path) for code, path in written.items()}, failed, _peak_rss_mb()


def _layers(results: list) -> dict[str, pd.DataFrame]:
    """The workspace layers the inputs fill, as :meth:`Workspace.import_result` would fill them one by one.

    Areas of every level in one layer (an id in two files is an input error), the town blocks'
    population, the resources with their files' last-confirmed dates as confirmations, the needs,
    and the rows only placed at municipality level (``unplaced``).
    """
    import geopandas as gpd

    from scgeo._confirmations import derive_last_confirmed, new_confirmations
    from scgeo.schema import AREAS, CONFIRMATIONS, POPULATION, empty_frame

    def stacked(frames):
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else None

    layers: dict[str, pd.DataFrame] = {}
    areas = stacked([r.accepted[[*AREAS.names, "geometry"]] for _, layer, r in results
                     if layer in ("areas", "town_blocks")])
    if areas is not None:
        clash = areas["area_id"].duplicated()
        if clash.any():
            raise InputError(f"区域ID {', '.join(areas.loc[clash, 'area_id'].astype(str)[:5])} が複数のファイルに"
                             "あります。")
        layers["areas"] = gpd.GeoDataFrame(areas, geometry="geometry", crs=results[0][2].accepted.crs)
    for relative, layer, result in results:
        accepted = result.accepted
        if layer == "town_blocks" and len(accepted):
            layers["population"] = pd.DataFrame(accepted[POPULATION.names])
        elif layer == "resources" and len(accepted):
            dated = accepted[accepted["last_confirmed"].notna()]
            rows = pd.DataFrame({"resource_id": dated["resource_id"], "confirmed_on": dated["last_confirmed"],
                                 "method": "prior_record", "found": "unchanged", "note": "取込ファイルの最終確認日"})
            confirmations = new_confirmations(rows, empty_frame(CONFIRMATIONS), set(accepted["resource_id"]),
                                              source=relative)
            layers["confirmations"] = confirmations
            layers["resources"] = accepted.assign(
                last_confirmed=derive_last_confirmed(accepted, confirmations).to_numpy())
        elif layer == "needs" and len(accepted):
            layers["needs"] = accepted
    unplaced = stacked([r.unplaced for _, _, r in results if r.unplaced is not None])
    if unplaced is not None:
        layers["unplaced"] = unplaced
    return layers


def _write_workspace(muni: Municipality, target: Path, results: list, layers: dict, network, source: str):
    """The municipality's workspace, inputs and walking network written in ONE transaction.

    Importing file by file (:meth:`Workspace.import_result`) rewrites and backs up the file once
    per input; a batch builds thousands of workspaces, each from nothing, so it writes each once
    (as ``scgeo build`` does), with the history rows the imports would leave.
    """
    from scgeo.settings import get_settings
    from scgeo.workspace import Workspace

    crs = get_settings().workspace_crs
    with Workspace.building(target, muni_code=muni.muni_code, muni_name=muni.name, overwrite=True) as tx:
        for name, frame in layers.items():
            tx.write(name, frame)
        tx.write("network_nodes", network.nodes.to_crs(crs))
        tx.write("network_edges", network.edges.to_crs(crs))
        if network.lines is not None:
            tx.write("basemap_lines", network.lines.to_crs(crs))
        for relative, layer, result in results:
            tx.record(user=_USER, layer=layer, action="import:append", new=len(result.accepted),
                      note=f"{relative} {result.summary()}")
        tx.record(user=_USER, layer="network", action="import:replace", new=len(network.edges),
                  note=f"{source} 交点 {len(network.nodes)}、道 {len(network.edges)}")
    return Workspace.open(target)


def run_municipality(muni_code: str, name: str, folder: str, region_pbf: str, out_dir: str, *,
                     minutes: float = 15.0, matching: bool = False, extract: str | None = None) -> dict:
    """The pipeline of one municipality (a Dask task: arguments are paths and numbers only).

    The network is cut from ``extract`` (this municipality's part of the region, from
    :func:`split_region`) when given, else from ``region_pbf`` itself; the same network either way.
    Writes ``OUT/<muni_code>/workspace.gpkg``, ``gaps.csv`` (area × category), ``blank_zones.geojson``
    and, last, ``coverage.parquet`` (the municipality × category summary); returns timings.
    """
    from scgeo.io.osm_extract import extract_osm
    from scgeo.report import gap_report, write_blank_zones, write_gap_table

    start = time.perf_counter()
    muni = Municipality(muni_code, name, Path(folder))
    out = Path(out_dir) / muni_code
    out.mkdir(parents=True, exist_ok=True)
    results = _read_inputs(muni)
    layers = _layers(results)
    if "areas" not in layers:
        raise InputError(f"市町村 {muni_code} の区域のファイル (boundaries/) がありません。")
    if "population" not in layers:  # before the extract and the workspace: coverage needs it
        raise InputError(f"市町村 {muni_code} の町丁目別人口がありません (boundaries/town_blocks.geojson)。")
    t_read = time.perf_counter()
    data = extract_osm(extract or region_pbf, _outline(layers["areas"], muni_code))
    t_net = time.perf_counter()
    ws = _write_workspace(muni, out / "workspace.gpkg", results, layers, data, Path(region_pbf).name)
    rejected = sum(len(r.rejected) for _, _, r in results)
    t_build = time.perf_counter()
    table, zones, _ = gap_report(ws, minutes=minutes)
    write_gap_table(table, out / "gaps.csv", areas=ws.areas())  # need counts left out, as for any public table
    write_blank_zones(zones, out / "blank_zones.geojson")
    n_matched = None
    if matching:
        from scgeo.report import match_report

        assigned = match_report(ws)[1]  # per-need rows stay in the worker: only the count leaves it
        n_matched = int(assigned["resource_id"].notna().sum()) if assigned is not None else 0
    summary = table[table["level"] == "municipality"].copy()
    summary.insert(0, "muni_code", muni_code)
    summary["muni_name"] = name or ws.meta().get("muni_name", "")
    scratch = out / f".{SUMMARY}.part"
    summary[TABLE_COLUMNS].to_parquet(scratch, index=False)
    os.replace(scratch, out / SUMMARY)
    end = time.perf_counter()
    return {"muni_code": muni_code, "seconds": end - start, "build_s": (t_read - start) + (t_build - t_net),
            "network_s": t_net - t_read, "coverage_s": end - t_build, "nodes": len(data.nodes),
            "edges": len(data.edges), "rejected": rejected, "needs_assigned": n_matched,
            "peak_rss_mb": _peak_rss_mb()}


def _cluster(scheduler: str | None, workers: int, memory_limit: str):
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise InputError(f"Dask のスケジューラ {scheduler} に接続できません: {exc}") from exc
    import dask

    # Dask's statistical profiler samples every worker thread each 10 ms and reads the source
    # lines of every frame (linecache): about 4 % of a small batch's worker time, for a profile no
    # one reads here. The nannies hand this config to the worker processes they start.
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                               dashboard_address=":0")  # a free port: 8787 may be taken
    return Client(cluster), cluster


def run_batch(manifest: Manifest, *, out_dir: str | Path = "out/batch", scheduler: str | None = None,
              workers: int = 2, memory_limit: str = "3GB",
              progress: Callable[[int, int, str], None] | None = None) -> BatchResult:
    """Run every municipality of ``manifest`` as Dask tasks; skip those already finished.

    Parameters
    ----------
    manifest
        From :func:`read_manifest`.
    out_dir
        Where the per-municipality folders and the combined table go.
    scheduler
        A Dask scheduler address (``tcp://…``); ``None`` starts a ``distributed.LocalCluster``.
    workers, memory_limit
        The local cluster's worker processes (one thread each) and memory limit per worker.
    progress
        ``progress(done, total, muni_code)`` after each municipality.
    """
    from distributed import as_completed

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    todo = [m for m in manifest.municipalities if not (out / m.muni_code / SUMMARY).is_file()]
    skipped = [m.muni_code for m in manifest.municipalities if m not in todo]
    runs, failed, split_s, split_mb = [], {}, 0.0, 0.0
    if todo:
        client, cluster = _cluster(scheduler, workers, memory_limit)
        try:
            extracts, cut = _extracts(out / EXTRACTS, todo, manifest.region_pbf)
            if cut:  # one task streams the region for all of them (a worker's memory limit applies)
                start = time.perf_counter()
                made, bad, split_mb = client.submit(
                    split_region, [(m.muni_code, str(m.dir.resolve())) for m in cut],
                    str(manifest.region_pbf.resolve()), str((out / EXTRACTS).resolve()),
                    pure=False, key="split-region").result()
                split_s = time.perf_counter() - start
                extracts |= made
                failed |= bad
            todo = [m for m in todo if m.muni_code not in failed]
            futures = [client.submit(run_municipality, m.muni_code, m.name, str(m.dir.resolve()),
                                     str(manifest.region_pbf.resolve()), str(out.resolve()),
                                     minutes=manifest.minutes, matching=manifest.matching,
                                     extract=extracts[m.muni_code], pure=False,
                                     key=f"municipality-{m.muni_code}") for m in todo]
            codes = {f.key: m.muni_code for f, m in zip(futures, todo, strict=True)}
            for done, future in enumerate(as_completed(futures), 1):
                try:
                    runs.append(future.result())
                except Exception as exc:  # one municipality's bad input must not stop the others
                    failed[codes[future.key]] = exc
                if progress:
                    progress(done, len(todo), codes[future.key])
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    table, outputs = combine(manifest, out)
    return BatchResult(pd.DataFrame(runs), skipped, table, outputs, failed, split_s, split_mb)


def _extracts(folder: Path, todo: list[Municipality], region: Path) -> tuple[dict[str, str], list[Municipality]]:
    """The extracts already cut (newer than the region and the municipality's boundaries), and the
    municipalities still to cut.
    """
    have, cut = {}, []
    for m in todo:
        path = folder / f"{m.muni_code}.osm.pbf"
        inputs = [region, *(m.dir / relative for relative, layer, _ in _LAYERS if layer in ("areas", "town_blocks"))]
        newest = max(p.stat().st_mtime for p in inputs if p.is_file())
        if path.is_file() and path.stat().st_mtime >= newest:
            have[m.muni_code] = str(path.resolve())
        else:
            cut.append(m)
    return have, cut


def combine(manifest: Manifest, out_dir: str | Path) -> tuple[pd.DataFrame, dict[str, Path]]:
    """The prefecture/nation table and choropleth map from the finished municipalities."""
    from scgeo.sheets import write_csv

    out = Path(out_dir)
    frames = [pd.read_parquet(out / m.muni_code / SUMMARY) for m in manifest.municipalities
              if (out / m.muni_code / SUMMARY).is_file()]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=TABLE_COLUMNS)
    table = table.sort_values(["muni_code", "category"]).reset_index(drop=True)
    outputs = {"parquet": out / "coverage_by_municipality.parquet", "csv": out / "coverage_by_municipality.csv"}
    table.to_parquet(outputs["parquet"], index=False)
    write_csv(table, outputs["csv"])  # formulas neutralised, as every spreadsheet scgeo writes
    if len(table):
        outputs["map"] = _choropleth(manifest, table, out / "coverage_by_municipality.png")
    return table, outputs


def _choropleth(manifest: Manifest, table: pd.DataFrame, path: Path) -> Path:
    """One small map per category: each municipality coloured by its coverage (data from each workspace)."""
    import geopandas as gpd
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scgeo.crs import metric_crs
    from scgeo.maps.static import japanese_font
    from scgeo.workspace import Workspace

    shapes = []
    for m in manifest.municipalities:
        ws_path = path.parent / m.muni_code / "workspace.gpkg"
        if ws_path.is_file():
            areas = Workspace.open(ws_path).areas()
            shapes.append(areas[areas["level"] == "municipality"].assign(muni_code=m.muni_code)[["muni_code",
                                                                                                "geometry"]])
    outlines = pd.concat(shapes, ignore_index=True)
    outlines = gpd.GeoDataFrame(outlines, geometry="geometry", crs=shapes[0].crs)
    outlines = outlines.to_crs(metric_crs(outlines))
    cats = list(dict.fromkeys(table["category"]))
    with plt.rc_context({"font.family": japanese_font().get_name()}):
        return _draw(outlines, table, cats, manifest.minutes, path)


def _draw(outlines, table: pd.DataFrame, cats: list[str], minutes: float, path: Path) -> Path:
    import matplotlib.pyplot as plt

    cols = min(4, len(cats))
    rows = -(-len(cats) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows + 0.6), squeeze=False)
    # geopandas redraws the whole figure after each plot (``canvas.draw_idle``: a second each for a
    # dozen maps); here it is drawn once, by savefig
    fig.canvas.draw_idle = lambda *args, **kwargs: None
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, code in zip(axes.ravel(), cats, strict=False):
        part = table[table["category"] == code]
        view = outlines.merge(part[["muni_code", "coverage_pct"]], on="muni_code", how="left")
        view.plot(ax=ax, column="coverage_pct", cmap="RdYlGn", vmin=0, vmax=100, edgecolor="#444", linewidth=0.4,
                  missing_kwds={"color": "#dddddd", "hatch": "//", "label": "データなし"})
        ax.set_title(str(part["category_label"].iloc[0]), fontsize=9)
    mappable = plt.cm.ScalarMappable(cmap="RdYlGn", norm=plt.Normalize(0, 100))
    fig.colorbar(mappable, ax=axes.ravel().tolist(), shrink=0.6, label=f"徒歩 {minutes:g} 分のカバー率 (%)")
    fig.suptitle(f"市町村別カバー率 ({len(outlines)} 市町村、灰色の斜線: データなし)", fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
