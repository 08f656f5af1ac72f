"""``scgeo user add|list|disable|enable|reset``: the users and roles of a workspace (管理)."""

from __future__ import annotations

import sys

__all__ = ["register"]


def _password(args) -> str:
    import getpass

    from scgeo._errors import InputError

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("パスワードは端末で入力するか、--password-stdin を付けて標準入力から渡してください。")
    first = getpass.getpass("パスワード: ")
    if getpass.getpass("もう一度: ") != first:
        raise InputError("2回のパスワードが一致しません。何も変更していません。")
    return first


def _cmd_user(args) -> int:
    from scgeo import users
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    if args.action == "list":
        found = users.list_users(ws)
        if not found:
            print(f"{ws.location} には利用者がまだいません(`scgeo user add {args.path} ログイン名 --role 管理`)。")
            return 0
        print(f"{ws.location} の利用者 ({len(found)} 人):")
        for user in found:
            state = "" if user.status == "active" else "  (無効)"
            area = f"  担当区域 {user.area_id}" if user.area_id else ""
            print(f"  {user.login}  {user.display_name}  {user.role_label}{area}{state}")
        return 0
    if args.action == "add":
        user = users.add_user(ws, args.login, role=args.role, password=_password(args), display_name=args.name,
                              by=args.by, database_login=args.db_login, area_id=args.area)
        extra = "(データベースのログインも作成)" if args.db_login else ""
        print(f"利用者 {user.login} ({user.display_name}) を役割「{user.role_label}」で追加しました{extra}。")
    elif args.action == "disable":
        user = users.disable_user(ws, args.login, by=args.by)
        print(f"利用者 {user.login} を無効にしました(ログインできません。`scgeo user enable` で戻せます)。")
    elif args.action == "enable":
        user = users.enable_user(ws, args.login, by=args.by)
        print(f"利用者 {user.login} を有効に戻しました。")
    else:
        user = users.reset_password(ws, args.login, password=_password(args), by=args.by)
        print(f"利用者 {user.login} のパスワードを再設定しました(前のパスワードは使えません)。")
    return 0


def register(sub) -> None:
    """Add ``scgeo user``."""
    p = sub.add_parser("user", help="利用者と役割 (閲覧・編集・内部・管理) の追加・一覧・無効化・パスワード再設定")
    actions = p.add_subparsers(dest="action", required=True, metavar="操作")
    helps = {"add": "利用者を追加する", "list": "利用者の一覧", "disable": "利用者を無効にする",
             "enable": "無効にした利用者を戻す", "reset": "パスワードを再設定する"}
    for action, text in helps.items():
        q = actions.add_parser(action, help=text, formatter_class=p.formatter_class)
        q.add_argument("path", help="ワークスペース (.gpkg または postgresql://…)")
        if action != "list":
            q.add_argument("login", help="ログイン名 (英小文字・数字・_ . -)")
            q.add_argument("--by", help="編集履歴に記録する管理者の名前")
        if action in ("add", "reset"):
            q.add_argument("--password-stdin", action="store_true",
                           help="パスワードを標準入力の1行から読む (既定: 端末で2回入力)")
        if action == "add":
            q.add_argument("--role", required=True,
                           help="役割: 閲覧、編集、内部、管理 (viewer, editor, internal, admin)")
            q.add_argument("--name", help="表示名 (例: 鈴木 花子)")
            q.add_argument("--area", help="担当区域: 日常生活圏域か中学校区の区域ID (例: LA1)。"
                                          "編集の役割ではこの区域の中の資源などだけを変更できます")
            q.add_argument("--db-login", action="store_true",
                           help="PostgreSQL のワークスペースで、同じ名前・パスワード・役割の"
                                "データベースのログインも作る")
        q.set_defaults(func=_cmd_user)
