"""``scgeo report monthly|annual`` (月次報告, 年次報告書) and ``scgeo pack`` (協議体資料)."""

from __future__ import annotations

from pathlib import Path

from scgeo._errors import InputError

__all__ = ["register"]


def _fill(values: dict, args) -> None:
    from scgeo.report.template import fill_template, read_mapping

    mapping = read_mapping(args.mapping) if args.mapping else None
    filled = fill_template(args.template, values, args.out, mapping=mapping)
    print(f"様式 {args.template} の {len(filled)} か所に記入しました → {args.out}")


def _cmd_monthly(args) -> int:
    from scgeo.report.monthly import monthly_report, write_monthly_pdf, write_monthly_xlsx
    from scgeo.workspace import Workspace

    out = Path(args.out)
    if not args.template and out.suffix.lower() not in (".xlsx", ".pdf"):
        raise InputError("--out は .xlsx か .pdf にしてください。")
    ws = Workspace.open(args.path)
    report = monthly_report(ws, args.month, sc=args.sc, area=args.area, user=args.user)
    for note in report.notes:
        print(f"注意: {note}")
    if args.template:
        _fill(report.summary, args)
        return 0
    if out.suffix.lower() == ".xlsx":
        write_monthly_xlsx(report, out)
        print(f"{report.title} を書き出しました → {out}")
    elif out.suffix.lower() == ".pdf":
        _, pages = write_monthly_pdf(report, ws, out, with_map=not args.no_map)
        print(f"{report.title} を書き出しました ({pages} ページ) → {out}")
    else:
        raise InputError("--out は .xlsx か .pdf にしてください。")
    return 0


def _cmd_annual(args) -> int:
    from scgeo.report.annual import annual_report, annual_values, write_annual_pdf
    from scgeo.workspace import Workspace

    if not args.template and Path(args.out).suffix.lower() != ".pdf":
        raise InputError("--out は .pdf にしてください(様式の Excel に記入するときは --template)。")
    ws = Workspace.open(args.path)
    report = annual_report(ws, args.fy, through=args.through, user=args.user)
    for note in report.notes:
        print(f"注意: {note}")
    if args.template:
        _fill(annual_values(report), args)
        return 0
    _, pages = write_annual_pdf(report, ws, args.out)
    print(f"{report.title} を書き出しました ({pages} ページ) → {args.out}")
    return 0


def _cmd_pack(args) -> int:
    from scgeo.report.pack import council_pack, write_pack_html, write_pack_pdf
    from scgeo.workspace import Workspace

    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".html"):
        raise InputError("--out は .pdf か .html にしてください。")
    ws = Workspace.open(args.path)
    pack = council_pack(ws, area=args.area, date=args.date, agenda=args.agenda, map_url=args.map_url,
                        user=args.user)
    for note in pack.notes:
        print(f"注意: {note}")
    if out.suffix.lower() == ".html":
        write_pack_html(pack, ws, out)
        print(f"協議体資料を書き出しました → {out}")
        return 0
    from scgeo.maps.static import map_figure

    page = map_figure(ws, area=pack.area_id, paper="A4")
    html = write_pack_html(pack, ws, out.with_suffix(".html"), map_page=page)
    _, pages = write_pack_pdf(pack, ws, out, map_page=page)
    print(f"協議体資料を書き出しました ({pages} ページ) → {out}、{html}")
    return 0


def register(sub) -> None:
    """Add ``scgeo report`` and ``scgeo pack``."""
    report = sub.add_parser("report", help="月次報告 (xlsx / PDF) と年次報告書 (PDF)")
    kinds = report.add_subparsers(dest="kind", required=True, metavar="{monthly,annual}")
    p = kinds.add_parser("monthly", help="月次報告: 活動 (機能・種類別、時間)、資源の新規・廃止・確認、ニーズ、"
                                         "計画の進み具合、地図")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--month", required=True, help="月 (例: 2026-11)")
    p.add_argument("--sc", help="このコーディネーター (活動記録の記録者) の活動だけ (既定: 全員)")
    p.add_argument("--area", help="区域 (圏域・中学校区の ID か名前。既定: 市全体)")
    p.add_argument("--out", required=True, help="出力 (.xlsx / .pdf)")
    p.add_argument("--template", help="市の様式 (.xlsx)。名前を付けたセル、または --mapping のセルに記入する")
    p.add_argument("--mapping", help="様式のセルの対応 (TOML: 項目 = \"シート!B3\")")
    p.add_argument("--no-map", action="store_true", help="PDF に地図のページを付けない")
    p.add_argument("--user", help="作成者 (ニーズの表とともに公開台帳に記録。既定: ログイン名)")
    p.set_defaults(func=_cmd_monthly)
    p = kinds.add_parser("annual", help="年次報告書: 目標ごとの成果と課題、指標の推移、カバー率の地図、"
                                        "圏域ごとの表、ネットワーク")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--fy", type=int, required=True, help="年度 (例: 2026 = 2026年4月〜2027年3月)")
    p.add_argument("--through", help="この月まで (年度の途中の報告。既定: スナップショットのある最後の月)")
    p.add_argument("--out", required=True, help="出力 (.pdf。--template のときは .xlsx)")
    p.add_argument("--template", help="市の様式 (.xlsx)")
    p.add_argument("--mapping", help="様式のセルの対応 (TOML)")
    p.add_argument("--user", help="作成者 (ニーズの表とともに公開台帳に記録。既定: ログイン名)")
    p.set_defaults(func=_cmd_annual)

    p = sub.add_parser("pack", help="協議体資料 (PDF と HTML): 地図、変化、ニーズ (秘匿済み)、資源開発の提案、QRコード")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--area", required=True, help="協議体の区域 (例: LA1、第1圏域)")
    p.add_argument("--date", required=True, help="開催日 (例: 2026-10-20)")
    p.add_argument("--agenda", help="議題 (既定: 記録した開催の議題)")
    p.add_argument("--map-url", dest="map_url", help="公開している地図のアドレス (QRコードにする)")
    p.add_argument("--out", required=True, help="出力 (.pdf: 同じ名前の .html も書く / .html)")
    p.add_argument("--user", help="作成者 (ニーズの表とともに公開台帳に記録。既定: ログイン名)")
    p.set_defaults(func=_cmd_pack)
