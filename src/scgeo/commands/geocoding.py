"""``scgeo gazetteer`` (an offline gazetteer from 位置参照情報 / Geolonia files) and
``scgeo unplaced`` (the 位置未確定 list: show, place, discard).
"""

from __future__ import annotations

import time

from scgeo._errors import InputError

__all__ = ["register"]


def _cmd_gazetteer(args) -> int:
    from scgeo.geocode import write_gazetteer

    started = time.perf_counter()
    table = write_gazetteer(args.out, args.files)
    blocks = int((table["block"] != "").sum())
    print(f"地名辞書を作りました: {args.out} (町・大字・町丁目 {len(table) - blocks} 件、"
          f"街区・番地 {blocks} 件、市区町村 {table['city'].nunique()}、"
          f"{time.perf_counter() - started:.1f} 秒)")
    print(f"使い方: scgeo import WS FILE --layer resources --geocode gazetteer:{args.out}")
    return 0


def _cmd_unplaced(args) -> int:
    from scgeo.schema import MATCH_LEVEL_LABELS
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    if args.place:
        if args.town_block is None and (args.lat is None or args.lon is None):
            raise InputError("--place には --lat と --lon、または --town-block を指定してください。")
        row = ws.place_unplaced(args.place, lat=args.lat, lon=args.lon, town_block=args.town_block,
                                user=args.user)
        point = row.geometry
        print(f"配置しました: {row.get('name', '')} ({point.y:.6f}, {point.x:.6f}、"
              f"{MATCH_LEVEL_LABELS[row['match_level']]})")
        return 0
    if args.discard:
        ws.discard_unplaced(args.discard, user=args.user)
        print(f"位置未確定の一覧から外しました: {args.discard}")
        return 0
    pending = ws.unplaced()
    if not len(pending):
        print("位置未確定の行はありません。")
        return 0
    print(f"位置未確定 {len(pending)} 件 (地図・分析には入っていません):")
    for _, row in pending.iterrows():
        known = isinstance(row["matched_address"], str) and row["matched_address"]
        found = f" [{row['matched_address']}まで]" if known else " [見つからない]"
        print(f"  {row['unplaced_id']}  {row['layer']}  {row['name'] or row['feature_id']}  "
              f"{row['address'] or ''}{found}  ({row['source']} {row['file_row']}行目)")
    print("配置: scgeo unplaced WS --place ID --lat 緯度 --lon 経度 (または --town-block 町丁目ID)")
    return 0


def register(sub) -> None:
    """Add ``scgeo gazetteer`` and ``scgeo unplaced`` to the CLI."""
    p = sub.add_parser("gazetteer", help="位置参照情報 (国土交通省) の CSV や Geolonia の JSON から"
                                         "オフラインの地名辞書を作る")
    p.add_argument("out", help="書き出す地名辞書 (.csv)")
    p.add_argument("files", nargs="+", help="位置参照情報の大字・町丁目 / 街区 CSV (cp932)、Geolonia の JSON")
    p.set_defaults(func=_cmd_gazetteer)

    p = sub.add_parser("unplaced", help="位置未確定の一覧を表示し、位置を決めて配置する")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--place", metavar="ID", help="配置する位置未確定の行の ID")
    p.add_argument("--lat", type=float, help="配置する緯度")
    p.add_argument("--lon", type=float, help="配置する経度")
    p.add_argument("--town-block", metavar="AREA_ID", help="町丁目の代表点に配置する (区域ID)")
    p.add_argument("--discard", metavar="ID", help="配置せずに一覧から外す")
    p.add_argument("--user", help="編集履歴に記録する名前")
    p.set_defaults(func=_cmd_unplaced)
