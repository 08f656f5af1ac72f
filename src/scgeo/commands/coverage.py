"""``scgeo gaps``: the coverage table (空白地帯分析) of a workspace."""

from __future__ import annotations

from scgeo._errors import InputError
from scgeo.commands import level_arg

__all__ = ["register"]


def _cmd_gaps(args) -> int:
    from scgeo.analysis.basis import analysis_notes
    from scgeo.report import gap_report, write_gap_table
    from scgeo.schema import load_taxonomy
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    taxonomy = load_taxonomy()
    categories = None
    if args.category:
        categories = [taxonomy.resolve_category(c) for c in args.category]
        unknown = [c for c, code in zip(args.category, categories, strict=True) if code is None]
        if unknown:
            raise InputError(f"種別 {', '.join(unknown)} はありません。使える種別: "
                             + "、".join(c.label for c in taxonomy.categories.values()))
    from scgeo.analysis.coverage import CoverageRules

    table, zones, coverage = gap_report(ws, categories=categories, minutes=args.minutes,
                                        levels=[args.level] if args.level else None,
                                        rules=CoverageRules(basis=args.status_basis),
                                        include_planned=args.include_planned)
    how = "歩行ネットワーク" if coverage.method == "network" else "直線距離×迂回係数"
    print(f"徒歩 {args.minutes:g} 分でのカバー率 (計算方法: {how})")
    for note in analysis_notes(basis=coverage.population_basis, aging_rate=coverage.aging_rate,
                               has_network=coverage.network is not None):
        print(f"注意: {note}")
    view = table[table["level"] == (args.level or "jhs_district")]
    for _, row in view.iterrows():
        pct = "—" if row["coverage_pct"] != row["coverage_pct"] else f"{row['coverage_pct']:.1f}%"
        eff = row.get("coverage_effective_pct")
        eff = "" if eff is None or eff != eff else f" (実効 {eff:.1f}%)"
        print(f"  {row['area_name']} / {row['category_label']}: {pct}{eff} {row['status']}")
    if coverage.no_data:
        print("データなし(資源が1件も登録されていない種別。空白地帯ではなく、資源の情報がありません): "
              + "、".join(taxonomy.label(c) for c in coverage.no_data))
    town = table[table["level"] == "municipality"]["n_resources_town_point"].sum() if len(table) else 0
    if town:
        print(f"  注意: 資源のうち {int(town)} 件は住所から町丁目・大字の代表点に置いたもので、位置は"
              "おおまかです(n_resources_town_point)。町丁目の境目に近い地域ではカバー率が変わることがあります。")
    if args.out:
        write_gap_table(table, args.out, areas=ws.areas(), internal=args.internal, headers=args.headers)
        print(f"書き出しました: {args.out}")
    if len(zones):
        who = "人口(総人口)" if coverage.population_basis == "total" else "65歳以上人口"
        top = zones.sort_values("pop_65plus", ascending=False).head(3)
        print(f"{who}の多い空白地帯: " + "、".join(
            f"{r.category_label} ({r.area_name}) {r.pop_65plus:,.0f}人" for r in top.itertuples()))
    return 0


def register(sub) -> None:
    """Add ``scgeo gaps``."""
    p = sub.add_parser("gaps", help="地域 × 種別ごとのカバー率と空白地帯を計算する")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--category", action="append", help="種別 (複数指定可。既定: すべて)")
    p.add_argument("--minutes", type=float, default=15.0, help="徒歩の時間 (分、既定: 15)")
    p.add_argument("--level", type=level_arg,
                   help="表示する区域の種類 (中学校区、日常生活圏域 … または jhs_district …。既定: 中学校区)")
    p.add_argument("--status-basis", choices=("plain", "effective"), default="plain",
                   help="判定(充足/不足/空白)に使うカバー率: plain=カバー率、effective=実効カバー率 (既定: plain)")
    p.add_argument("--out", help="出力ファイル (.csv, .xlsx, .geojson)。区域ごとのニーズ件数は含めません")
    p.add_argument("--internal", action="store_true",
                   help="区域ごとのニーズ件数も書き出す (内部資料 — 個人情報を含む。明示したときだけ)")
    p.add_argument("--include-planned", action="store_true",
                   help="計画中(案)の資源(資源開発シナリオから追加したもの)も活動中として数える")
    p.add_argument("--headers", choices=("en", "ja"), default="en",
                   help="列見出し: en (プログラム向け、既定) または ja (日本語、人が読む表に。.csv/.xlsx)")
    p.set_defaults(func=_cmd_gaps)
