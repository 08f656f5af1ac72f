"""``scgeo export-map`` (offline council HTML) and ``scgeo print-map`` (PDF/PNG for paper)."""

from __future__ import annotations

from pathlib import Path

from scgeo._errors import InputError

__all__ = ["register"]


def _cmd_export_map(args) -> int:
    from scgeo.report import export_council
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    out = Path(args.out or ("map_internal.html" if args.internal else "map.html"))
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"出力ファイル {out} の拡張子は .html にしてください。")
    path = export_council(ws, out, area=args.area, internal=args.internal)
    mode = "内部資料(個別のニーズを含む)" if args.internal else "公開用(個人情報なし)"
    print(f"地図を書き出しました: {path} ({mode}、{path.stat().st_size / 1e6:.1f} MB、オフラインで開けます)")
    return 0


def _cmd_print_map(args) -> int:
    from scgeo.maps.static import print_map
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".png"):
        raise InputError(f"出力ファイル {out} の拡張子は .pdf か .png にしてください。")
    if args.per_area and out.suffix.lower() != ".pdf":
        raise InputError("--per-area は PDF(.pdf)にだけ使えます(1ページに1圏域)。")
    zones = None
    if args.gaps:
        from scgeo.report import gap_report
        from scgeo.schema import load_taxonomy

        taxonomy = load_taxonomy()
        categories = [taxonomy.resolve_category(c) for c in args.gaps]
        if None in categories:
            names = "、".join(c.label for c in taxonomy.categories.values())
            raise InputError(f"--gaps の種別は次のいずれかです: {names}")
        zones = gap_report(ws, categories=categories, minutes=args.minutes)[1]
    if args.per_area and not len(ws.areas("living_area")):
        fallback = "中学校区ごと" if len(ws.areas("jhs_district")) else "市町村全体で1枚"
        print(f"注意: 日常生活圏域がないため、{fallback}のページにします。")
    path, pages = print_map(ws, out, area=args.area, paper=args.paper, per_area=args.per_area, blank_zones=zones)
    extra = "" if zones is None else f"、空白地帯 {len(zones)} か所"
    print(f"印刷用の地図を書き出しました: {path} ({pages} ページ、{args.paper} 横{extra})")
    return 0


def register(sub) -> None:
    """Add ``export-map`` and ``print-map`` to the ``scgeo`` subcommands."""
    p = sub.add_parser("export-map", help="協議体用の地図(1つのHTML、オフラインで開ける)を書き出す")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--area", help="日常生活圏域(または中学校区)の名前かID。その区域だけを描き、拡大する")
    p.add_argument("--out", help="出力ファイル (既定: map.html)")
    p.add_argument("--internal", action="store_true",
                   help="内部資料: 個別のニーズを描く(地図に「内部資料 — 個人情報を含む」と表示)")
    p.set_defaults(func=_cmd_export_map)

    p = sub.add_parser("print-map", help="印刷用の地図(PDF/PNG、道路網を背景に番号付きの資源一覧)を書き出す")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--area", help="日常生活圏域(または中学校区)の名前かID")
    p.add_argument("--paper", choices=("A3", "A4"), default="A3", help="用紙 (既定: A3 横)")
    p.add_argument("--per-area", action="store_true",
                   help="日常生活圏域ごとに1ページ(PDF)。圏域がなければ中学校区ごと")
    p.add_argument("--gaps", action="append", metavar="種別",
                   help="この種別の空白地帯を重ねて凡例に載せる (例: --gaps サロン。複数指定可)")
    p.add_argument("--minutes", type=float, default=15.0, help="空白地帯の徒歩の時間 (分、既定: 15)")
    p.add_argument("--out", required=True, help="出力ファイル (.pdf または .png)")
    p.set_defaults(func=_cmd_print_map)
