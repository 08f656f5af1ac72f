"""``scgeo needs``: needs aggregated by area, audited against everything published, suppressed."""

from __future__ import annotations

from scgeo.commands import level_arg

__all__ = ["register"]


def _cmd_needs(args) -> int:
    from scgeo.privacy import export_needs, publish_needs
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    if args.internal:
        needs = ws.read("needs")
        path = export_needs(needs, args.out, internal=True)
        print(f"内部資料 — 個人情報を含む: 個別のニーズ {len(needs)} 件を書き出しました: {path}")
        return 0
    statuses = ("open", "matched", "resolved") if args.all_statuses else ("open",)
    period = (args.since, args.until) if args.since or args.until else None
    result = publish_needs(ws, level=args.level, statuses=statuses, threshold=args.threshold, mesh=args.mesh,
                           hex_size_m=args.hex, period=period, purpose=args.purpose or "", user=args.user,
                           out=args.out)
    manifest, audit = result.manifest, result.audit
    hidden = manifest["suppressed"]["cells"]
    print(f"ニーズを集計しました ({manifest['level']}): {len(result.table)} セル中 {hidden} セルを秘匿 → {args.out}"
          " (+ .manifest.json)")
    print(f"公開台帳の {manifest['audit']['releases_combined']} 件の公開と組み合わせて監査しました: "
          f"秘匿セルは値が1つに決まらず、1〜{manifest['threshold'] - 1} 件にも絞られません "
          f"({audit.seconds:.1f} 秒、台帳の番号 {manifest.get('release_id', '-')})")
    if manifest["audit"]["determined_before"]:
        print(f"  注意: 秘匿セルのうち {manifest['audit']['determined_before']} セルは、これまでに公開した表だけで"
              "値が決まっていました(この表では何も変わりません。区域の境界のずれなど: docs/privacy.md)")
    for item in manifest["audit"]["releases_not_combined"]:
        print(f"  注意: 台帳の {item['release_id']} は組み合わせていません: {item['reason']}")
    return 0


def register(sub) -> None:
    """Add ``scgeo needs``."""
    p = sub.add_parser("needs", help="ニーズを区域ごとに集計し、過去の公開と合わせて監査・秘匿して書き出す")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--out", required=True, help="出力ファイル (.csv; 集計は秘匿済み)")
    p.add_argument("--level", type=level_arg, default="jhs_district",
                   help="集計する区域 (中学校区、日常生活圏域、町丁目 … または jhs_district …。既定: 中学校区)")
    p.add_argument("--mesh", type=int, choices=(250, 500, 1000), help="地域メッシュで集計する (m)")
    p.add_argument("--hex", type=float, help="六角形で集計する (一辺の長さ m)")
    p.add_argument("--threshold", type=int, help="この数未満を秘匿する (既定: 5)")
    p.add_argument("--all-statuses", action="store_true", help="対応済み・解決済みも数える (既定: 未対応のみ)")
    p.add_argument("--since", help="この日以降に記録したニーズだけ (例: 2026-04-01)")
    p.add_argument("--until", help="この日までに記録したニーズだけ (例: 2027-03-31)")
    p.add_argument("--purpose", help="用途 (公開台帳に記録。例: 協議体資料 2026年4月)")
    p.add_argument("--user", help="公開者 (公開台帳と編集履歴に記録。既定: ログイン名)")
    p.add_argument("--internal", action="store_true",
                   help="個別のニーズを書き出す (内部資料 — 個人情報を含む。明示したときだけ)")
    p.set_defaults(func=_cmd_needs)
