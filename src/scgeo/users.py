"""Users and roles of a workspace: 閲覧, 編集, 内部, 管理 (``scgeo user``), on both backends.

A user has a login name, a role and an argon2id password hash (argon2-cffi; parameters of its
``PasswordHasher``, rehashed on login when they change) in the workspace's ``users`` layer. Each
role has everything of the ones before it:

- 閲覧 (``viewer``): the public map and the aggregates only;
- 編集 (``editor``): also changes resources, venues, activities, organisations;
- 内部 (``internal``): also the needs and the internal outputs (要配慮個人情報);
- 管理 (``admin``): also users and settings.

A user may have an area (``area_id``: a 日常生活圏域 or 中学校区 of the workspace): an 編集 user with
an area changes only features inside it (:mod:`scgeo.permissions` checks every write).

Adding, disabling and resetting are recorded in the history (who, when; never a password or a
hash). In a PostgreSQL workspace the roles are database roles too (:func:`grant_database_roles`):
the needs live in the schema ``scgeo_internal`` that only the 内部 role may use, and rows of the
history and of the 位置未確定 list about needs are hidden from the others by row-level security,
so that a read-only database user (QGIS, psql) cannot see a need at all; ``scgeo user add
--db-login`` also makes the user a database login of that role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from scgeo._confirmations import resolve_code
from scgeo._errors import InputError
from scgeo.postgis import database_role, grant_database_roles
from scgeo.schema import USER_ROLES, USERS, coerce
from scgeo.workspace import Workspace, _now

__all__ = ["AREA_LEVELS_FOR_USERS", "MIN_PASSWORD_LENGTH", "ROLE_ORDER", "User", "add_user", "authenticate", "can",
           "check_area", "database_role", "disable_user", "enable_user", "get_user", "grant_database_roles",
           "list_users", "reset_password"]

ROLE_ORDER = tuple(USER_ROLES)  # viewer < editor < internal < admin
MIN_PASSWORD_LENGTH = 10
_MAX_PASSWORD_LENGTH = 1024  # bounded input: argon2 of a megabyte would be a denial of service
_LOGIN = re.compile(r"[a-z][a-z0-9_.-]{1,39}")
#: What each capability needs at least.
CAPABILITIES = {"read": "viewer", "edit": "editor", "read_needs": "internal", "manage_users": "admin"}
#: The levels a user's area may be of.
AREA_LEVELS_FOR_USERS = ("living_area", "jhs_district")


@dataclass(frozen=True)
class User:
    """A user as the app and the CLI see it (no hash)."""

    login: str
    display_name: str
    role: str
    status: str
    area_id: str | None = None

    @property
    def role_label(self) -> str:
        """The role in Japanese (閲覧 …)."""
        return USER_ROLES[self.role]

    def can(self, capability: str) -> bool:
        """Whether this user's role allows ``capability`` (``read``, ``edit``, ``read_needs``, ``manage_users``)."""
        return self.status == "active" and can(self.role, capability)


def can(role: str, capability: str) -> bool:
    """Whether ``role`` allows ``capability`` (see :data:`CAPABILITIES`)."""
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(CAPABILITIES[capability])


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"パスワードは {MIN_PASSWORD_LENGTH} 文字以上にしてください。")
    if len(password) > _MAX_PASSWORD_LENGTH:
        raise InputError(f"パスワードが長すぎます({_MAX_PASSWORD_LENGTH} 文字まで)。")


def _check_login(login: str) -> str:
    login = str(login).strip()
    if not _LOGIN.fullmatch(login):
        raise InputError(f"ログイン名「{login}」は使えません: 半角の英小文字で始め、英小文字・数字・_ . - で"
                         "2〜40文字にしてください(例: suzuki.h)。")
    return login


def resolve_role(text: str) -> str:
    """A role code from a code or its Japanese name (閲覧, 編集, 内部, 管理)."""
    return resolve_code(text, USER_ROLES, "役割")


def _users(ws: Workspace) -> pd.DataFrame:
    return ws.read("users")


def _row(users: pd.DataFrame, login: str) -> int:
    hit = users.index[users["login"] == login]
    if not len(hit):
        raise InputError(f"利用者「{login}」はいません(`scgeo user list` で一覧)。")
    return hit[0]


def _user_of(row) -> User:
    area = row.get("area_id")
    return User(row["login"], row["display_name"] or row["login"], row["role"], row["status"],
                str(area) if isinstance(area, str) and area else None)


def list_users(ws: Workspace) -> list[User]:
    """The workspace's users, in the order they were added (no hashes)."""
    return [_user_of(r) for r in _users(ws).to_dict("records")]


def get_user(ws: Workspace, login: str) -> User | None:
    """The user ``login`` as stored now (``None`` when there is none), e.g. to see a disabled user."""
    users = _users(ws)
    hit = users[users["login"] == str(login)]
    return _user_of(hit.iloc[0]) if len(hit) else None


def check_area(ws: Workspace, area_id: str | None) -> str | None:
    """``area_id`` when it is a 日常生活圏域 or 中学校区 of ``ws`` (``None`` stays ``None``), else ``InputError``."""
    if area_id is None or not str(area_id).strip():
        return None
    area_id = str(area_id).strip()
    areas = ws.read("areas")
    ok = areas[areas["level"].isin(AREA_LEVELS_FOR_USERS)]
    if area_id not in set(ok["area_id"]):
        known = "、".join(f"{a} ({n})" for a, n in zip(ok["area_id"], ok["name"], strict=True)) or "なし"
        raise InputError(f"区域「{area_id}」は日常生活圏域・中学校区にありません。使える区域ID: {known}")
    return area_id


def add_user(ws: Workspace, login: str, *, role: str, password: str, display_name: str | None = None,
             by: str | None = None, database_login: bool = False, area_id: str | None = None) -> User:
    """Add a user (``InputError`` when the login exists, the role is unknown or the password short).

    ``database_login`` (PostgreSQL only) also creates a database login of that name and role.
    ``area_id`` (a 日常生活圏域 or 中学校区 id) limits an 編集 user's changes to that area.
    """
    login, role = _check_login(login), resolve_role(role)
    _check_password(password)
    area_id = check_area(ws, area_id)
    stamp = _now()
    row = pd.DataFrame([{"login": login, "display_name": display_name or login, "role": role, "status": "active",
                         "password_hash": _hasher().hash(password), "created_at": stamp, "password_set_at": stamp,
                         "area_id": area_id}])
    with ws.transaction() as tx:
        users = _users(ws)
        if (users["login"] == login).any():
            raise InputError(f"利用者「{login}」は既にいます。パスワードを変えるには `scgeo user reset`。")
        tx.write("users", pd.concat([users, coerce(row, USERS)], ignore_index=True))
        tx.record(user=by, layer="users", action="user:add", feature_id=login, field="role", new=USER_ROLES[role])
        if database_login:
            _database_login(ws, tx, login, role=role, password=password)
    return User(login, display_name or login, role, "active", area_id)


def _set(ws: Workspace, login: str, values: dict, *, by: str | None, action: str, note: str | None = None) -> User:
    with ws.transaction() as tx:
        users = _users(ws)
        at = _row(users, login)
        for key, value in values.items():
            users.loc[at, key] = value
        tx.write("users", users)
        tx.record(user=by, layer="users", action=action, feature_id=login, note=note)
        row = users.loc[at]
        if ws.backend == "postgis" and "status" in values:
            _database_status(tx, login, active=values["status"] == "active")
    return _user_of(row)


def disable_user(ws: Workspace, login: str, *, by: str | None = None) -> User:
    """Disable a user: no more logins (kept in the list and the history; :func:`enable_user` undoes it)."""
    return _set(ws, _check_login(login), {"status": "disabled"}, by=by, action="user:disable")


def enable_user(ws: Workspace, login: str, *, by: str | None = None) -> User:
    """Let a disabled user log in again."""
    return _set(ws, _check_login(login), {"status": "active"}, by=by, action="user:enable")


def reset_password(ws: Workspace, login: str, *, password: str, by: str | None = None) -> User:
    """Set a new password for a user (the old one stops working at once)."""
    _check_password(password)
    return _set(ws, _check_login(login), {"password_hash": _hasher().hash(password), "password_set_at": _now()},
                by=by, action="user:reset", note="パスワードを再設定")


def authenticate(ws: Workspace, login: str, password: str) -> User | None:
    """The user when ``login`` and ``password`` match an active user, else ``None``.

    Throttling and lockouts are the caller's (:class:`scgeo.login.LoginGuard`). A hash made with
    older argon2 parameters is replaced by a new one on success.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    if not isinstance(password, str) or len(password) > _MAX_PASSWORD_LENGTH:
        return None
    users = _users(ws)
    hit = users[(users["login"] == str(login).strip()) & (users["status"] == "active")]
    if not len(hit):
        _hasher().hash(password)  # the same work as a real check: no timing hint that the login is unknown
        return None
    row = hit.iloc[0]
    hasher = _hasher()
    try:
        hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(row["password_hash"]):
        _set(ws, row["login"], {"password_hash": hasher.hash(password)}, by=row["login"], action="user:rehash")
    return _user_of(row)


# ------------------------------------------------------------------ PostgreSQL roles


def _database_login(ws: Workspace, tx, login: str, *, role: str, password: str) -> None:
    from psycopg import sql

    if ws.backend != "postgis":
        raise InputError("--db-login は PostgreSQL のワークスペースだけで使えます。")
    group = database_role(ws.dbname, role)
    exists = tx.conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone()
    statement = "ALTER ROLE {} LOGIN PASSWORD {}" if exists else "CREATE ROLE {} LOGIN PASSWORD {}"
    tx.conn.execute(sql.SQL(statement).format(sql.Identifier(login), sql.Literal(password)))
    tx.conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(login)))


def _database_status(tx, login: str, *, active: bool) -> None:
    """A disabled user's database login (when there is one) stops working too."""
    from psycopg import sql

    if tx.conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone():
        tx.conn.execute(sql.SQL("ALTER ROLE {} " + ("LOGIN" if active else "NOLOGIN")).format(sql.Identifier(login)))
