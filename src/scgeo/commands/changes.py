"""``scgeo changes export|apply``: signed change-sets between copies of a workspace (:mod:`scgeo.changes`)."""

from __future__ import annotations

__all__ = ["register"]


def _cmd_changes(args) -> int:
    from scgeo import changes
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    key = changes.load_key(args.key_file)
    if args.action == "export":
        body = changes.export_changes(ws, args.since, args.out, key=key)
        print(f"版 {body['since']} から {body['until']} までの変更 {len(body['changes'])} 件を {args.out} に"
              "書きました(署名付き。ニーズと利用者は含みません)。")
        return 0
    report = changes.apply_changes(ws, args.file, key=key, user=args.user)
    print(report.summary())
    for conflict in report.conflicts:
        print(f"  衝突: {conflict['layer']} {conflict['feature_id']}")
        for name, values in conflict["fields"].items():
            print(f"    {name}: こちら「{values['theirs']}」/ 変更ファイル「{values['mine']}」")
    return 0


def register(sub) -> None:
    """Add ``scgeo changes``."""
    p = sub.add_parser("changes", help="変更の書き出し・反映 (署名付きの変更ファイルでオフラインの写しと同期)")
    actions = p.add_subparsers(dest="action", required=True, metavar="操作")
    q = actions.add_parser("export", help="ある版より後の変更を署名付きのファイルに書き出す")
    q.add_argument("path", help="ワークスペース (.gpkg または postgresql://…)")
    q.add_argument("--since", type=int, required=True, help="この版より後の変更 (写しを作ったときの版、`scgeo info`)")
    q.add_argument("out", help="書き出すファイル (.json)")
    q = actions.add_parser("apply", help="変更ファイルを反映する (他で変わった資源は反映せず衝突として表示)")
    q.add_argument("path", help="ワークスペース (.gpkg または postgresql://…)")
    q.add_argument("file", help="変更ファイル (.json)")
    q.add_argument("--user", help="編集履歴に記録する名前")
    for q in actions.choices.values():
        q.add_argument("--key-file", help="署名の共通の鍵のファイル (既定: 環境変数 SCGEO_CHANGES_KEY)")
        q.set_defaults(func=_cmd_changes)
