"""``scgeo network``: a municipality's walking network cut from a regional OpenStreetMap extract."""

from __future__ import annotations

import sys
from pathlib import Path

from scgeo._errors import InputError

__all__ = ["register"]


def _bar(stage: str, share: float | None) -> None:
    if share is None:
        print(f"\r  {stage} を読んでいます…", end="", file=sys.stderr, flush=True)
        return
    filled = int(share * 30)
    end = "\n" if share >= 1.0 else ""
    print(f"\r  {stage} [{'#' * filled}{'-' * (30 - filled)}] {share:4.0%}", end=end, file=sys.stderr, flush=True)


def _cmd_network(args) -> int:
    from scgeo.io.osm_extract import extract_osm, municipality_area
    from scgeo.location import Expected, check_location
    from scgeo.network import WalkNetwork
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    source = Path(args.pbf)
    if not source.is_file():
        raise InputError(f"ファイル {source} が見つかりません。")
    area = municipality_area(ws, buffer_m=args.buffer_m)
    print(f"{source.name} から市町村の範囲(周囲 {args.buffer_m:g} m を含む)の道・川・鉄道を切り出します"
          f"({source.stat().st_size / 1e6:,.1f} MB)")
    data = extract_osm(source, area, progress=None if args.quiet else _bar)
    check_location(data.nodes, Expected.for_workspace(ws), what=source.name)
    net = WalkNetwork.from_frames(data.nodes, data.edges)
    ws.write_network(data.nodes, data.edges, data.lines, user=args.user, source=source.name)
    print(f"歩行ネットワーク: 交点 {len(data.nodes):,}、道 {len(data.edges):,}"
          f"(延長 {data.edges['length_m'].sum() / 1000:,.1f} km)、川・鉄道 {len(data.lines):,}、"
          f"最大の連結成分 {net.component_share():.1%}")
    return 0


def register(sub) -> None:
    """Add ``scgeo network``."""
    p = sub.add_parser("network", help="地方・都道府県の OpenStreetMap (.osm.pbf) から市町村の"
                                       "歩行ネットワークを切り出して取り込む")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--pbf", required=True,
                   help="OpenStreetMap の地域ファイル (.osm.pbf、例: Geofabrik の chugoku-latest.osm.pbf)")
    p.add_argument("--buffer-m", type=float, default=1000.0,
                   help="市町村の境界の外に含める幅 (m、既定: 1000)。境界近くの人が外の資源へ歩く道のため")
    p.add_argument("--quiet", action="store_true", help="進み具合を表示しない")
    p.add_argument("--user", help="編集履歴に記録する名前")
    p.set_defaults(func=_cmd_network)
