"""``scgeo needs``: needs aggregated by area with small counts suppressed (the public output)."""

from __future__ import annotations

from scgeo.commands import level_arg

__all__ = ["register"]


def _cmd_needs(args) -> int:
    from scgeo.privacy import aggregate_needs, export_needs, write_aggregate
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    needs = ws.read("needs")
    if args.internal:
        export_needs(needs, args.out, internal=True)
        print(f"内部資料 — 個人情報を含む: 個別のニーズ {len(needs)} 件を書き出しました: {args.out}")
        return 0
    statuses = ("open", "matched", "resolved") if args.all_statuses else ("open",)
    result = aggregate_needs(needs, ws.areas(), level=args.level, blocks=ws.town_blocks(), statuses=statuses,
                             threshold=args.threshold, mesh=args.mesh, hex_size_m=args.hex)
    write_aggregate(result, args.out)
    hidden = int(result.table["suppressed"].sum())
    print(f"ニーズを集計しました ({result.manifest['level']}、{result.manifest['n_needs']} 件): "
          f"{len(result.table)} セル中 {hidden} セルを秘匿 → {args.out} (+ .manifest.json)")
    return 0


def register(sub) -> None:
    """Add ``scgeo needs``."""
    p = sub.add_parser("needs", help="ニーズを区域ごとに集計し、小さい数を秘匿して書き出す")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--out", required=True, help="出力ファイル (.csv; 集計は秘匿済み)")
    p.add_argument("--level", type=level_arg, default="jhs_district",
                   help="集計する区域 (中学校区、日常生活圏域、町丁目 … または jhs_district …。既定: 中学校区)")
    p.add_argument("--mesh", type=int, choices=(250, 500, 1000), help="地域メッシュで集計する (m)")
    p.add_argument("--hex", type=float, help="六角形で集計する (一辺の長さ m)")
    p.add_argument("--threshold", type=int, help="この数未満を秘匿する (既定: 5)")
    p.add_argument("--all-statuses", action="store_true", help="対応済み・解決済みも数える (既定: 未対応のみ)")
    p.add_argument("--internal", action="store_true",
                   help="個別のニーズを書き出す (内部資料 — 個人情報を含む。明示したときだけ)")
    p.set_defaults(func=_cmd_needs)
