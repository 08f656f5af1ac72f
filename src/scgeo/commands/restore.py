"""``scgeo restore``: list a workspace's backup generations and bring one back."""

from __future__ import annotations

__all__ = ["register"]


def _cmd_restore(args) -> int:
    from scgeo.backups import backup_dir
    from scgeo.report import describe_edit, to_jst
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    if ws.backend != "gpkg":
        ws.restore(user=args.user)  # a database keeps no file generations: the error says what to do instead
    table = ws.backups()
    if args.list:
        if not len(table):
            print(f"{ws.path} のバックアップはまだありません(保存先: {backup_dir(ws.path)})。")
            return 0
        print(f"{ws.path} のバックアップ ({len(table)} 世代、新しい順。保存先: {backup_dir(ws.path)}):")
        for row in table.to_dict("records"):
            count = "?" if row["resources"] is None else row["resources"]
            print(f"  世代 {row['generation']}: 保存 {to_jst(row['saved_at'])} (日本時間)  社会資源 {count} 件  "
                  f"最後の編集: {describe_edit(row)}")
        print("復元するには: scgeo restore PATH 世代の番号")
        return 0
    generation = 1 if args.generation is None else args.generation
    source = ws.restore(generation, user=args.user)
    print(f"世代 {generation} ({source.name}) を復元しました: {ws.path}"
          "(復元前の状態は世代 1 として残しています)")
    return 0


def register(sub) -> None:
    """Add ``scgeo restore``."""
    p = sub.add_parser("restore", help="ワークスペースのバックアップ(世代)を一覧・復元する")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("generation", nargs="?", type=int, help="復元する世代 (1 = 最新のバックアップ。既定: 1)")
    p.add_argument("--list", action="store_true", help="世代の一覧を表示する(復元しない)")
    p.add_argument("--user", help="編集履歴に記録する名前")
    p.set_defaults(func=_cmd_restore)
