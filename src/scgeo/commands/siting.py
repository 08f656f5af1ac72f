"""``scgeo site``: where new resources of a category would reach the most older people (資源開発)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scgeo._errors import InputError

__all__ = ["register"]

_DEMAND_CHOICES = ("65plus", "75plus", "65plus_alone", "total")


def _cmd_site(args) -> int:
    from scgeo.analysis.siting import MODELS, SITE_COLUMNS
    from scgeo.report.siting import site_report, write_sites
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    if not 0 < args.target <= 100:
        raise InputError(f"--target は 0〜100 (%) で指定してください(指定: {args.target:g})。")
    from scgeo.builder import _geocoder

    result = site_report(ws, category=args.category, k_new=args.new, minutes=args.minutes, demand=args.demand,
                         candidates=args.candidates, model=args.model, target_pct=args.target,
                         speed_m_per_min=args.speed, include_planned=args.include_planned,
                         use_capacity=args.capacity, geocoder=_geocoder(args.geocode))
    summary = result.summary
    rejected = result.candidates_rejected
    if rejected is not None and len(rejected):
        out = Path(args.candidates).with_name(f"{Path(args.candidates).stem}_rejected.csv")
        from scgeo.sheets import write_csv

        write_csv(rejected, out)
        print(f"候補地のファイル: 使えない行 {len(rejected)} 件 (理由付きで {out} に保存)", file=sys.stderr)
    if args.out:
        write_sites(result.sites[[*SITE_COLUMNS, "geometry"]], args.out, note=summary["note"])
    if args.json:
        keys = ("sites", "covered_before", "covered_after", "demand_total", "model", "optimal", "seconds")
        extra = ("demand", "demand_label", "note", "minutes", "speed_m_per_min", "category", "candidates",
                 "n_candidates", "n_existing", "greedy_objective", "greedy_gap_pct", "objective", "status",
                 "solve_seconds", "mean_minutes_before", "mean_minutes_after")
        print(json.dumps({k: summary[k] for k in (*keys, *extra) if k in summary}, ensure_ascii=False, indent=2,
                         default=str))
        return 0
    total = summary["demand_total"]
    label = summary["demand_label"]
    pct = (lambda v: f"{100 * v / total:.1f}%") if total else (lambda v: "—")
    print(f"{MODELS[summary['model']]}: 徒歩 {summary['minutes']:g} 分 (歩行速度 {summary['speed_m_per_min']:g} m/分)、"
          f"候補地 {summary['n_candidates']} か所、既存 {summary['n_existing']} か所")
    if summary["note"]:
        print(f"注意: {summary['note']}")
    before, after = summary["covered_before"], summary["covered_after"]
    print(f"{label}: 合計 {total:,.0f} 人、徒歩圏内 {before:,.0f} 人 ({pct(before)})"
          f" → {after:,.0f} 人 ({pct(after)})")
    if summary["status"] == "target_unreachable":
        print(f"注意: 候補地をすべて使っても目標の {args.target:g}% には届きません。届く限りの最少の数を示します。")
    for site in summary["sites"]:
        gain = site["gain_demand"]
        print(f"  {site['rank']}. {site['name']} ({site['candidate_id']}) 新たに {gain:,.0f} 人"
              f"  緯度 {site['lat']:.6f}, 経度 {site['lon']:.6f}")
    if not summary["sites"]:
        print("  新しい場所で新たに徒歩圏に入る人はいません。")
    how = "最適解 (HiGHS)" if summary["optimal"] else "時間内の最良解 (最適とは証明されていません)"
    print(f"{how}、貪欲法との差 {summary['greedy_gap_pct']:.2f}%、{summary['seconds']:.1f} 秒")
    if args.out:
        print(f"書き出しました: {args.out}")
    return 0


def register(sub) -> None:
    """Add ``scgeo site``."""
    p = sub.add_parser("site", help="新しい通いの場・サロンをどこに置けば最も多くの高齢者に届くか(資源開発)")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--category", required=True, help="種別 (例: kayoi_no_ba, salon, 通いの場)")
    p.add_argument("--new", type=int, default=3, help="新しく置く場所の数 (既定: 3。lscp では必要な数を求めます)")
    p.add_argument("--minutes", type=float, default=15.0, help="徒歩の時間 (分、既定: 15)")
    p.add_argument("--demand", choices=_DEMAND_CHOICES, default="65plus",
                   help="数える人 (既定: 65plus。75plus、65plus_alone=65歳以上の一人暮らし、total=総人口)")
    p.add_argument("--candidates", default="grid:200",
                   help="候補地: venues (会場の一覧)、候補地のファイル (CSV/Excel: 名称・住所・緯度経度・定員)、"
                        "grid:200 (200m 格子の道路上の地点。既定)")
    p.add_argument("--geocode", help="候補地のファイルで座標のない行の住所から位置を求める: gazetteer:FILE、"
                                     "jageocoder:DIR、gsi (scgeo build と同じ)")
    p.add_argument("--model", choices=("mclp", "pmedian", "lscp"), default="mclp",
                   help="mclp=徒歩圏の人を最大 (既定)、pmedian=歩く時間の合計を最小、lscp=目標の割合に必要な最少の数")
    p.add_argument("--target", type=float, default=80.0, help="lscp の目標 (徒歩圏内の割合 %%、既定: 80)")
    p.add_argument("--speed", type=float, help="歩行速度 (m/分、既定: 設定の値 60)")
    p.add_argument("--capacity", action="store_true", help="定員を考える (定員の枠に入れる人だけを数える。mclp のみ)")
    p.add_argument("--include-planned", action="store_true", help="計画中 (planned) の資源も既存として数える")
    p.add_argument("--out", help="出力ファイル (.csv, .xlsx, .geojson)")
    p.add_argument("--json", action="store_true", help="結果を JSON で出力する")
    p.set_defaults(func=_cmd_site)
