"""The coordinator's year on the command line.

- ``scgeo log add|import|list``: the activity log (one entry; an Excel log; the entries of a month);
- ``scgeo plan import|list``: the annual plan and its progress (indicators computed);
- ``scgeo snapshot``: the month-end snapshot (or one on demand), the list, the check;
- ``scgeo report monthly|annual`` and ``scgeo pack``: see :mod:`scgeo.commands.reports`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from scgeo._errors import InputError
from scgeo.commands import rejected_path, write_rejected
from scgeo.sheets import write_csv

__all__ = ["register"]


def _save_rejected(ws, result, source: Path) -> None:
    if not len(result.rejected):
        return
    # rejected log rows may carry need ids: kept with the internal outputs
    out = rejected_path(ws.path, source, layer="needs")
    write_csv(result.rejected, out)
    print(f"除外した行は理由付きで {out} に保存しました(内部資料)。")


def _cmd_log_add(args) -> int:
    from scgeo.report.year import add_activity, quick_entry_defaults
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    values = {} if args.meeting else {k: v for k, v in quick_entry_defaults(ws, user=args.user).items()
                                      if k != "hours"}
    today = None if args.meeting else dt.date.today().isoformat()  # a meeting gives its own date
    given = {"date": args.date or today, "hours": args.hours, "tier": args.tier, "user": args.user,
             "area_id": args.area, "function": args.function, "type": args.type,
             "counterparts": args.counterparts, "resource_ids": args.resources, "need_ids": args.needs,
             "scenario_ids": args.scenarios, "meeting_id": args.meeting, "participants": args.participants,
             "outcome": args.outcome}
    values |= {k: v for k, v in given.items() if v is not None}
    if args.type is not None and args.function is None:
        values.pop("function", None)  # the function follows the new type
    if "type" not in values and not args.meeting:
        raise InputError("活動の種類を --type で指定してください(例: --type 個別訪問)。")
    row = add_activity(ws, values, user=args.user)
    print(f"活動を記録しました: {row['activity_id']} {row['date']:%Y-%m-%d} {row['type']} ({row['function']})")
    return 0


def _cmd_log_import(args) -> int:
    from scgeo.report.year import import_activities
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    source = Path(args.file)
    result = import_activities(ws, source, user=args.user, sheet=args.sheet)
    for message in result.messages:
        print(f"注意: {message}")
    print(f"{source.name}: {result.summary()}")
    _save_rejected(ws, result, source)
    return 0 if len(result.accepted) else 2


def _cmd_log_list(args) -> int:
    from scgeo.analysis.activities import activity_summary, in_period, month_range
    from scgeo.io.activities import load_activity_types
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    log = ws.read("activities")
    if args.month:
        start, end = month_range(args.month)
        log = log[in_period(log["date"], start, end)]
    if args.user:
        log = log[log["user"] == args.user]
    log = log.sort_values(["date", "activity_id"])
    if args.json:
        print(log.drop(columns=["need_ids"]).to_json(orient="records", force_ascii=False, date_format="iso"))
        return 0
    types = load_activity_types()
    print(f"活動記録 {len(log)} 件" + (f"({args.month})" if args.month else ""))
    for row in log.tail(args.limit).itertuples(index=False):
        label = types[row.type].label if row.type in types else row.type
        hours = f"{row.hours:g}時間" if row.hours == row.hours else ""
        print(f"  {row.activity_id}  {row.date:%Y-%m-%d}  {label}  {hours}  {row.user or ''}  {row.outcome or ''}")
    if len(log) and args.month:
        summary = activity_summary(log, start=start, end=end, types=types)
        print("機能別:")
        for function, part in summary.groupby("function_label", sort=False):
            print(f"  {function}: {int(part['count'].sum())} 件、{part['hours'].sum():g} 時間")
    return 0


def _cmd_plan_import(args) -> int:
    from scgeo.report.year import import_plans
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    source = Path(args.file)
    result = import_plans(ws, source, user=args.user, replace=args.replace, sheet=args.sheet)
    for message in result.messages:
        print(f"注意: {message}")
    print(f"{source.name}: {result.summary()}")
    if len(result.rejected):
        out = write_rejected(result.rejected, ws.path, source, layer="plans")
        print(f"除外した行は理由付きで {out} に保存しました。")
    return 0 if len(result.accepted) else 2


def _cmd_plan_list(args) -> int:
    from scgeo.analysis.activities import fiscal_year_of
    from scgeo.report.year import progress
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    fy = args.fy or fiscal_year_of(dt.date.today())
    table = progress(ws, fy=fy, through=args.month)
    if args.json:
        print(table.to_json(orient="records", force_ascii=False, date_format="iso"))
        return 0
    print(f"{fy}年度の事業計画 ({len(table)} 件)" + (f"、{args.month} まで" if args.month else ""))
    for row in table.itertuples(index=False):
        result = "—" if row.result != row.result else f"{row.result:g}"
        share = "" if row.progress_pct != row.progress_pct else f" ({row.progress_pct:g}%)"
        print(f"  {row.goal_id}  {row.goal}  [{row.indicator_label}] 目標 {row.target:g}{row.unit or ''}"
              f" → 実績 {result}{share}" + (f"  ※{row.note}" if isinstance(row.note, str) else ""))
    return 0


def _cmd_snapshot(args) -> int:
    from scgeo.report.snapshots import snapshots, take_snapshot, verify_snapshots
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    if args.list or args.verify:
        table = snapshots(ws)
        checks = verify_snapshots(ws) if args.verify else None
        print(f"スナップショット {len(table)} 件")
        for i, row in enumerate(table.itertuples(index=False)):
            state = "" if checks is None else (
                "  検査 OK" if checks["ok"].iloc[i] else "  検査 NG(数値が変わっています)")
            print(f"  {row.snapshot_id}  基準日 {row.as_of:%Y-%m-%d}  作成 {row.taken_at}"
                  f"  scgeo {row.scgeo_version}{state}")
        return 0 if checks is None or bool(checks["ok"].all()) else 1
    if args.month and args.as_of:
        raise InputError("--month と --as-of はどちらか一方を指定してください。")
    month = args.month
    if month is None and args.as_of is None:  # the last month that has ended
        first = dt.date.today().replace(day=1)
        month = f"{first - dt.timedelta(days=1):%Y-%m}"
    sid = take_snapshot(ws, month=month, as_of=args.as_of, user=args.user)
    print(f"スナップショットを作成しました: {sid}")
    if args.json:
        print(json.dumps({"snapshot_id": sid}, ensure_ascii=False))
    return 0


def register(sub) -> None:
    """Add ``scgeo log``, ``scgeo plan`` and ``scgeo snapshot``."""
    log = sub.add_parser("log", help="活動記録 (生活支援コーディネーターの活動) の入力・取込・一覧")
    verbs = log.add_subparsers(dest="verb", required=True, metavar="{add,import,list}")
    p = verbs.add_parser("add", help="活動を1件記録する (省いた項目は前回の記録から)")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--date", help="日付 (既定: 今日)")
    p.add_argument("--hours", type=float, help="時間 (例: 1.5)")
    p.add_argument("--type", help="活動の種類 (個別訪問、会議、協議体、講座・研修、団体支援、立ち上げ支援、"
                                  "関係機関調整 …)")
    p.add_argument("--function", help="機能 (資源開発、ネットワーク構築、マッチング、ニーズ把握、協議体、その他。"
                                      "既定: 種類から)")
    p.add_argument("--tier", help="層 (第1層 / 第2層)")
    p.add_argument("--user", help="記録者 (コーディネーターの名前か担当の名称)")
    p.add_argument("--area", help="区域ID (例: LA1、J05)")
    p.add_argument("--counterparts", help="相手の団体 (団体IDか団体名、; 区切り)")
    p.add_argument("--resources", help="関係する資源ID (; 区切り)")
    p.add_argument("--needs", help="関係するニーズID (; 区切り、内部のみ)")
    p.add_argument("--scenarios", help="資源開発シナリオID (; 区切り)")
    p.add_argument("--meeting", help="協議体の開催ID (議事の記録を活動にするとき)")
    p.add_argument("--participants", type=int, help="参加人数")
    p.add_argument("--outcome", help="成果 (住民の名前は書かないでください)")
    p.set_defaults(func=_cmd_log_add)
    p = verbs.add_parser("import", help="Excel・CSV の活動記録を取り込む (人の名前の列は取り込みません)")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("file", help="活動記録 (.xlsx / .csv)")
    p.add_argument("--sheet", help="Excel のシート名")
    p.add_argument("--user", help="取り込む人 (編集履歴に残す名前)")
    p.set_defaults(func=_cmd_log_import)
    p = verbs.add_parser("list", help="活動記録を表示する (--month でその月と機能別の集計)")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--month", help="月 (例: 2026-11)")
    p.add_argument("--user", help="記録者で絞り込む")
    p.add_argument("--limit", type=int, default=50, help="表示する件数 (新しい順、既定: 50)")
    p.add_argument("--json", action="store_true", help="JSON で出力する (ニーズIDは含めません)")
    p.set_defaults(func=_cmd_log_list)

    plan = sub.add_parser("plan", help="年間事業計画 (目標・指標・目標値) の取込と進み具合")
    verbs = plan.add_subparsers(dest="verb", required=True, metavar="{import,list}")
    p = verbs.add_parser("import", help="事業計画 (1行に1つの目標) を取り込む")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("file", help="事業計画 (.xlsx / .csv)")
    p.add_argument("--sheet", help="Excel のシート名")
    p.add_argument("--replace", action="store_true", help="今の計画と入れ替える")
    p.add_argument("--user", help="取り込む人 (編集履歴に残す名前)")
    p.set_defaults(func=_cmd_plan_import)
    p = verbs.add_parser("list", help="目標ごとの実績 (計算できる指標はスナップショットと活動記録から)")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--fy", type=int, help="年度 (例: 2026 = 2026年4月〜2027年3月。既定: 今年度)")
    p.add_argument("--month", help="この月までの実績 (例: 2026-11)")
    p.add_argument("--json", action="store_true", help="JSON で出力する")
    p.set_defaults(func=_cmd_plan_list)

    p = sub.add_parser("snapshot", help="月末の数値 (資源・カバー率・ニーズ・活動) を記録する (記録は変更できません)")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--month", help="月 (例: 2026-11。既定: 先月)")
    p.add_argument("--as-of", dest="as_of", help="月の途中の日付で記録する (随時)")
    p.add_argument("--user", help="記録する人")
    p.add_argument("--list", action="store_true", help="記録済みのスナップショットを表示する")
    p.add_argument("--verify", action="store_true", help="記録後に数値が変わっていないか検査する")
    p.add_argument("--json", action="store_true", help="作成したIDを JSON でも出力する")
    p.set_defaults(func=_cmd_snapshot)
