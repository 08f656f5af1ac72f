"""``scgeo match``: nearest suitable resources for every open need, with capacity-aware assignment."""

from __future__ import annotations

from scgeo._errors import InputError
from scgeo.schema import WEEKDAYS

__all__ = ["register"]


def _cmd_match(args) -> int:
    from scgeo.report import match_report, write_matches
    from scgeo.schema import load_taxonomy
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    taxonomy = load_taxonomy()
    providers = None
    if args.provider:
        providers = [taxonomy.resolve_provider(p) for p in args.provider]
        if None in providers:
            labels = "、".join(p.label for p in taxonomy.provider_types.values())
            raise InputError(f"提供主体は次のいずれかです: {labels}")
    if args.time:
        from scgeo.analysis.schedule import parse_time_window

        try:
            parse_time_window(args.time)
        except ValueError:
            raise InputError(f"--time「{args.time}」は 10:00-12:00 のように指定してください。") from None
    if args.k < 1 or args.max_minutes <= 0:
        raise InputError("--k は1以上、--max-minutes は0より大きい数にしてください。")
    _, assigned, summary = match_report(ws, k=args.k, max_minutes=args.max_minutes, assign=args.assign,
                                        weekday=args.weekday, provider_types=providers,
                                        time_window=args.time)
    matched = summary["resource_ids"].notna().sum()
    print(f"未対応のニーズ {len(summary)} 件: 候補あり {matched} 件、候補なし {len(summary) - matched} 件"
          f" (徒歩 {args.max_minutes:g} 分以内、上位 {args.k} 件)")
    if assigned is not None:
        done = assigned["resource_id"].notna().sum()
        print(f"定員を考慮した割り当て: {done} 件 (合計 {assigned['minutes'].sum():.0f} 分)")
    for reason, count in summary.loc[summary["reason"] != "", "reason"].value_counts().items():
        print(f"  {reason}: {count} 件")
    from scgeo.privacy import internal_folder

    out = write_matches(summary, args.out or internal_folder(ws.path) / "matches.csv", headers=args.headers)
    print(f"書き出しました: {out} (内部資料 — 個人情報を含む: ニーズIDと徒歩時間。公開用の資料に載せないでください)")
    return 0


def register(sub) -> None:
    """Add ``scgeo match``."""
    p = sub.add_parser("match", help="ニーズごとに近くの資源を探し、定員を考えて割り当てる")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--k", type=int, default=3, help="ニーズごとの候補数 (既定: 3)")
    p.add_argument("--max-minutes", type=float, default=20.0, help="徒歩の上限 (分、既定: 20)")
    p.add_argument("--assign", action="store_true", help="定員を考えて割り当てる (合計の徒歩時間が最小)")
    p.add_argument("--weekday", choices=WEEKDAYS, help="この曜日に開いている資源だけ (曜日・時間の記載から判断)")
    p.add_argument("--time", help="この時間帯に開いている資源だけ (例: 10:00-12:00、午前、午後)")
    p.add_argument("--provider", action="append", help="提供主体で絞る (複数指定可)")
    p.add_argument("--out", help="出力ファイル (.csv または .xlsx。既定: ワークスペースの隣の "
                   "internal/matches_内部資料.csv)。名前に「内部資料」が付きます")
    p.add_argument("--headers", choices=("en", "ja"), default="en",
                   help="列見出し: en (プログラム向け、既定) または ja (日本語、人が読む表に)")
    p.set_defaults(func=_cmd_match)
