"""The demo: the bundled sample town from its files to a workspace, a map and the app.

``scgeo demo`` (README line 1) calls :func:`run_demo`. Every step goes through the public API
(importers, workspace, maps), so the demo is also the end-to-end check of the whole chain.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pyogrio

from scgeo import backups
from scgeo._errors import InputError, ScgeoError
from scgeo.io import read_areas, read_needs, read_resources, read_town_blocks
from scgeo.io.organisations import read_network_table
from scgeo.io.osm import read_osm
from scgeo.privacy import INTERNAL_DIR, publish_needs
from scgeo.report import gap_report, match_report, write_blank_zones, write_gap_table, write_matches
from scgeo.settings import get_settings
from scgeo.workspace import Workspace

__all__ = ["DEMO_USER", "SAMPLE_LAYERS", "build_sample_workspace", "find_sample_data", "keep_user_edits",
           "replay_sample_year", "run_demo", "write_year_reports"]

DEMO_USER = "デモ(scgeo)"  # the editor name of the demo's own writes, shown in the history
_OLD_DEMO_USERS = {"scgeo demo"}  # the same, in workspaces made by earlier versions

# (file under data/, workspace layer, area level)
SAMPLE_LAYERS = (
    ("boundaries/municipality.geojson", "areas", "municipality"),
    ("boundaries/living_areas.geojson", "areas", "living_area"),
    ("boundaries/jhs_districts.geojson", "areas", "jhs_district"),
    ("boundaries/es_districts.geojson", "areas", "es_district"),
    ("boundaries/town_blocks.geojson", "town_blocks", "town_block"),
    ("resources/resources.csv", "resources", None),
    ("needs/needs.csv", "needs", None),
    ("network/sakura.osm", "network", None),
    ("organisations/organisations.csv", "organisations", None),
    ("organisations/councils.csv", "councils", None),
    ("organisations/ties.csv", "ties", None),
    ("organisations/council_meetings.csv", "council_meetings", None),
    ("organisations/helpers.csv", "helpers", None),
    ("activities/plans.csv", "plans", None),
    ("activities/activities.csv", "activities", None),
)


def find_sample_data(out_dir: Path | None = None) -> Path:
    """The bundled sample town's ``data/`` folder, generating it when it is not at hand.

    Looks in ``./data`` and in the source tree's ``data/``; otherwise (an installed package
    without the repository) generates the sample into ``out_dir / "sample_data"``.
    """
    here = Path(__file__).resolve().parents[2] / "data"
    for candidate in (Path("data"), here):
        if (candidate / SAMPLE_LAYERS[0][0]).is_file():
            return candidate
    if out_dir is None:
        raise InputError("サンプルデータ(data/)が見つかりません。リポジトリの最上位で実行してください。")
    from scgeo.sample import generate

    target = out_dir / "sample_data"
    generate(target)
    return target


def build_sample_workspace(path: str | Path, data_dir: str | Path, *,
                           log: Callable[[str], None] = lambda _m: None) -> Workspace:
    """Build a workspace from the sample town's files through the importers.

    The workspace is built in a scratch file beside ``path`` and then replaces ``path`` in one
    step, so an existing ``path`` is kept as one backup generation (not one per layer).
    Raises ``InputError`` if any sample row is rejected: the bundled data must be clean.
    """
    from scgeo.sample import SAMPLE_MUNI_CODE, SAMPLE_MUNI_NAME

    data_dir, path = Path(data_dir), Path(path)
    scratch = path.with_name(f".{path.stem}.demo-build.gpkg")
    try:
        ws = _build(Workspace.create(scratch, muni_code=SAMPLE_MUNI_CODE, muni_name=SAMPLE_MUNI_NAME,
                                     overwrite=True), data_dir, log)
        backups.keep_backup(path, generations=get_settings().backup_generations)
        os.replace(ws.path, path)
    finally:
        scratch.unlink(missing_ok=True)
        shutil.rmtree(backups.backup_dir(scratch), ignore_errors=True)
    return Workspace(path)


def _build(ws: Workspace, data_dir: Path, log: Callable[[str], None]) -> Workspace:
    for relative, layer, level in SAMPLE_LAYERS:
        file = data_dir / relative
        if layer == "network":
            network = read_osm(file)
            ws.write_network(network.nodes, network.edges, network.lines, user=DEMO_USER,
                             source=relative)
            log(f"  {relative}: 交点 {len(network.nodes)}、道 {len(network.edges)}")
            continue
        if layer == "areas":
            result = read_areas(file, level=level)
        elif layer == "town_blocks":
            result = read_town_blocks(file)
        elif layer == "resources":
            result = read_resources(file)
        elif layer == "needs":
            result = read_needs(file)
        elif layer in ("plans", "activities"):
            from scgeo.report.year import import_activities, import_plans

            result = (import_plans if layer == "plans" else import_activities)(ws, file, user=DEMO_USER)
            if len(result.rejected):
                raise InputError(f"サンプルデータ {file} に不正な行があります: {result.rejected['reason'].iloc[0]}")
            log(f"  {relative}: {len(result.accepted)} 件")
            continue
        else:
            result = read_network_table(file, layer)
        if len(result.rejected):
            reasons = "; ".join(result.rejected["reason"].head(3))
            raise InputError(f"サンプルデータ {file} に不正な行があります: {reasons}")
        ws.import_result(layer, result, user=DEMO_USER, source=relative)
        log(f"  {relative}: {len(result.accepted)} 件")
    return ws


def replay_sample_year(ws: Workspace, data_dir: str | Path, *, months: tuple[str, ...] | None = None,
                       log: Callable[[str], None] = lambda _m: None) -> list[str]:
    """Take the sample year's month-end snapshots (March to September 2026, or ``months``) in ``ws``.

    The sample's resources are as they are at the end of the year; each month's resources are
    those of the sample's dated changes undone after that month (``activities/resource_changes.csv``),
    and each snapshot says so in its note. Returns the snapshot ids.
    """
    import pandas as pd

    from scgeo.network import WalkNetwork
    from scgeo.report.snapshots import resources_as_of, take_snapshot
    from scgeo.sample import YEAR_MONTHS

    changes = pd.read_csv(Path(data_dir) / "activities" / "resource_changes.csv", dtype=str, keep_default_na=False)
    opened = changes[changes["status_before"] == ""]  # the coordinator saw each new resource on its first day
    ws.record_confirmations([{"resource_id": r.resource_id, "confirmed_on": r.date, "method": "visit",
                              "found": "unchanged", "note": "開設の日に訪問"} for r in opened.itertuples()],
                            user=DEMO_USER, source="サンプルの町の1年")
    network = WalkNetwork.from_workspace(ws) if ws.count("network_edges") else None
    resources = ws.read("resources")
    ids = []
    months = months or YEAR_MONTHS
    for month in months:
        end = pd.Period(month, freq="M").end_time.normalize()
        ids.append(take_snapshot(ws, month=month, user=DEMO_USER, network=network,
                                 resources=resources_as_of(resources, changes, end),
                                 note="サンプルの町: 社会資源はその月末の状態を開設・廃止の日付から再構成"))
    log(f"  月末スナップショット: {', '.join(months)}")
    return ids


SAMPLE_PACK_AREA = "LA3"  # the 協議体 of 第3圏域 meets next on SAMPLE_PACK_DATE
SAMPLE_PACK_DATE = "2026-10-20"
SAMPLE_MAP_URL = "https://www.city.sakura.example/chiiki-shigen-map/"  # reserved .example domain: fictional


def write_year_reports(ws: Workspace, out_dir: Path, *, log: Callable[[str], None] = print) -> dict[str, Path]:
    """The sample year's reports: 月次報告 (September, xlsx), 年次報告書 (PDF), a 協議体 pack (PDF and HTML)."""
    from scgeo.report.annual import annual_report, write_annual_pdf
    from scgeo.report.monthly import monthly_report, write_monthly_xlsx
    from scgeo.report.pack import council_pack, write_pack_html, write_pack_pdf
    from scgeo.sample import YEAR_MONTHS

    month = YEAR_MONTHS[-1]
    monthly = monthly_report(ws, month, user=DEMO_USER)  # its need table is published (the ledger)
    outputs = {"monthly_report": write_monthly_xlsx(monthly, out_dir / "monthly_report.xlsx")}
    annual = annual_report(ws, 2026, through=month, user=DEMO_USER)
    path, pages = write_annual_pdf(annual, ws, out_dir / "annual_report.pdf")
    outputs["annual_report"] = path
    pack = council_pack(ws, area=SAMPLE_PACK_AREA, date=SAMPLE_PACK_DATE, map_url=SAMPLE_MAP_URL, user=DEMO_USER)
    target = out_dir / f"council_pack_{SAMPLE_PACK_AREA}.pdf"
    from scgeo.maps.static import map_figure

    page = map_figure(ws, area=SAMPLE_PACK_AREA, paper="A4")  # drawn once for both
    outputs["council_pack_html"] = write_pack_html(pack, ws, target.with_suffix(".html"), map_page=page)
    outputs["council_pack"], pack_pages = write_pack_pdf(pack, ws, target, map_page=page)
    log(f"報告: 月次報告 {month}、年次報告書 {pages} ページ、協議体資料 {pack_pages} ページ")
    return outputs


def keep_user_edits(path: str | Path) -> Path | None:
    """Before the demo rebuilds ``path``: a dated copy of it when it holds work not made by the demo.

    Work not made by the demo is any edit-history row by another editor than :data:`DEMO_USER`,
    or a file that is not a workspace at all. The copy sits beside it as
    ``<name>.<YYYYMMDD-HHMMSS>.gpkg``. Returns the copy, or None when nothing needed keeping.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        users = set(Workspace.open(path).edits()["user"])
    except (ScgeoError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        users = {"?"}  # not a (readable) workspace: kept as well, never overwritten blindly
    if users <= {DEMO_USER, *_OLD_DEMO_USERS}:
        return None
    target = path.with_name(f"{path.stem}.{dt.datetime.now():%Y%m%d-%H%M%S}{path.suffix}")
    shutil.copy2(path, target)
    return target


def run_demo(out_dir: str | Path = "out", *, data_dir: str | Path | None = None,
             serve: bool | None = None, port: int = 8501,
             log: Callable[[str], None] = print) -> dict[str, Path]:
    """Build the sample workspace, write the outputs to ``out_dir``, then serve the app.

    With ``serve=None`` the app is served unless the environment variable
    ``SCGEO_NO_SERVE=1`` is set. Returns the paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = Path(data_dir) if data_dir else find_sample_data(out_dir)
    kept = keep_user_edits(out_dir / "workspace.gpkg")
    if kept is not None:
        log(f"{out_dir / 'workspace.gpkg'} にはデモ以外の編集があるため、作り直す前に {kept} に保存しました。")
    log(f"サンプルの町(架空の「さくら市」)からワークスペースを作成します: {data}")
    ws = build_sample_workspace(out_dir / "workspace.gpkg", data, log=log)
    outputs = {"workspace": ws.path} | ({"kept_workspace": kept} if kept is not None else {})

    replay_sample_year(ws, data, log=log)
    table, zones, _ = gap_report(ws)
    outputs["gaps"] = write_gap_table(table, out_dir / "gaps.csv")
    outputs["blank_zones"] = write_blank_zones(zones, out_dir / "blank_zones.geojson")
    log(f"空白地帯分析: {table['area_id'].nunique()} 区域 × {table['category'].nunique()} 種別、"
        f"空白地帯 {len(zones)} か所")
    _, assigned, matches = match_report(ws, k=3, max_minutes=20, assign=True)
    # internal: need ids and per-need minutes, kept apart from the public files and marked
    outputs["matches"] = write_matches(matches, out_dir / INTERNAL_DIR / "matches.csv")
    log(f"マッチング: 未対応のニーズ {len(matches)} 件のうち {assigned['resource_id'].notna().sum()} 件を割り当て"
        f"(内部資料: {outputs['matches']})")
    by_area = publish_needs(ws, level="jhs_district", out=out_dir / "needs_by_area.csv", user=DEMO_USER,
                            purpose="デモ: 中学校区別のニーズ件数(表と地図)")
    outputs["needs_by_area"] = out_dir / "needs_by_area.csv"

    from scgeo.maps.council import export_council_map
    from scgeo.maps.static import print_map

    outputs["resource_map"] = export_council_map(ws, out_dir / "resource_map.html", blank_zones=zones,
                                                 need_counts=by_area.geometry)  # public: suppressed counts only
    salon_gaps = zones[zones["category"] == "salon"]  # the print map's gap layer: one category stays readable
    outputs["print_map"] = print_map(ws, out_dir / "print_map.pdf", per_area=True,  # 1 page per 圏域
                                     blank_zones=salon_gaps)[0]
    outputs |= write_year_reports(ws, out_dir, log=log)

    log("出力:")
    for name, path in outputs.items():
        log(f"  {name}: {path}")
    if serve is None:
        serve = os.environ.get("SCGEO_NO_SERVE", "") not in ("1", "true", "yes")
    if serve:
        from scgeo.app_runner import serve_app

        log(f"アプリを起動します: http://127.0.0.1:{port}  (終了は Ctrl+C)")
        serve_app(ws.path, port=port)
    return outputs
