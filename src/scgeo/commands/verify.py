"""``scgeo verify``: the verification cycle (確認の依頼と回答の取込)."""

from __future__ import annotations

from pathlib import Path

from scgeo.commands import write_rejected

__all__ = ["register"]


def _cmd_due(args) -> int:
    from scgeo.report.request_sheets import write_request_sheets
    from scgeo.report.verification import due_work_list, write_work_list
    from scgeo.settings import get_settings
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    table = due_work_list(ws, month=args.month, area=args.area, by=args.by)
    on = table.attrs["on"]
    counts = table["state_label"].value_counts()
    summary = "、".join(f"{label} {n} 件" for label, n in counts.items()) or "なし"
    print(f"{on:%Y-%m-%d} までに確認する資源: {len(table)} 件 ({summary})、送付先 {table['group'].nunique()} か所")
    if not len(table):
        return 0
    stem = f"verify_{on:%Y-%m}"
    xlsx = write_work_list(table, args.out or f"{stem}.xlsx")
    print(f"確認リスト: {xlsx} (返送されたら `scgeo verify import {args.path} {xlsx.name}`)")
    if not args.no_sheets:
        address = args.return_address or get_settings().verify_return_address
        pdf, pages = write_request_sheets(table, args.sheets or f"{stem}_requests.pdf",
                                          muni_name=ws.meta().get("muni_name", ""), return_address=address)
        print(f"確認依頼(印刷用): {pdf} ({pages} ページ)")
    return 0


def _cmd_import(args) -> int:
    from scgeo.report.verification import import_answers
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    result = import_answers(ws, args.file, method=args.method, user=args.user)
    found = result.accepted["found"].value_counts() if len(result.accepted) else {}
    from scgeo.schema import CONFIRMATION_FINDINGS

    detail = "、".join(f"{CONFIRMATION_FINDINGS[k]} {n}" for k, n in dict(found).items())
    print(f"確認の回答: 取込 {len(result.accepted)} 件 ({detail or '—'})、除外 {len(result.rejected)} 件")
    if len(result.rejected):
        out = write_rejected(result.rejected, ws.path, Path(args.file), layer="confirmations")
        print(f"除外した行と理由: {out}")
        for _, row in result.rejected.head(5).iterrows():
            print(f"  {row['source_row']}行目: {row['reason']}")
    return 0


def register(sub) -> None:
    """Add ``scgeo verify due`` and ``scgeo verify import``."""
    p = sub.add_parser("verify", help="社会資源の定期確認: 確認リストと確認依頼の作成、回答の取込")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="{due,import}")
    due = verbs.add_parser("due", help="確認の時期になった資源の一覧 (xlsx) と確認依頼 (PDF、送付先ごとに1ページ)")
    due.add_argument("path", help="ワークスペース (.gpkg)")
    due.add_argument("--month", help="この月の末日までに確認する資源 (例: 2026-12。既定: 今日まで)")
    due.add_argument("--area", help="圏域・中学校区の名前または区域ID")
    due.add_argument("--by", choices=("provider", "area"), default="provider",
                     help="確認依頼の分け方: provider=送付先(連絡先)ごと、area=中学校区ごと")
    due.add_argument("--out", help="確認リスト (.xlsx。既定: verify_YYYY-MM.xlsx)")
    due.add_argument("--sheets", help="確認依頼 (.pdf。既定: verify_YYYY-MM_requests.pdf)")
    due.add_argument("--no-sheets", action="store_true", help="確認依頼の PDF を作らない")
    due.add_argument("--return-address", help="返送先 (既定: 設定 verify_return_address、なければ市町村名)")
    due.set_defaults(func=_cmd_due)
    imp = verbs.add_parser("import", help="返送された確認リスト (xlsx/CSV) か、確認コードを打ち込んだ文書を取り込む")
    imp.add_argument("path", help="ワークスペース (.gpkg)")
    imp.add_argument("file", help="記入済みの確認リスト (.xlsx/.csv) または「確認コード 番号」の行 (.txt)")
    imp.add_argument("--method", default="letter",
                     help="確認方法の列がない行の方法 (電話/訪問/書面/事業者の回答/公開データの更新。既定: 書面)")
    imp.add_argument("--user", help="記録する確認者・編集者")
    imp.set_defaults(func=_cmd_import)
