"""The PostgreSQL + PostGIS backend of the workspace: one database per municipality, shared.

``Workspace.open("postgresql://server/city")`` returns a :class:`PostgisWorkspace`: the same
API, layers, validation and history as the GeoPackage (:mod:`scgeo.workspace`), for the several
coordinators and the 市役所 of one city working on one server. The layers are tables of the
schema ``scgeo`` (geometry columns typed and in the workspace CRS, so QGIS opens them as
layers); the needs (要配慮個人情報) are in a schema of their own, ``scgeo_internal``, which only
the 内部 role may read (:mod:`scgeo.users`).

A transaction is a database transaction: what fails half-way is rolled back, and nothing else
sees a write before its commit. Writers take the workspace's version row ``FOR UPDATE`` (one
writer at a time, readers never wait; ``WorkspaceBusyError`` after ``settings.lock_timeout_s``)
and a writer that states the version it read gets ``WorkspaceConflictError`` when someone else
committed since, exactly as with the file. The edit history is append-only in the database too:
a trigger refuses ``UPDATE`` and ``DELETE`` of its rows.

Files a command writes beside a GeoPackage (``rejected/``, ``internal/``) go to the current
folder for a database workspace (``folder=`` or ``SCGEO_OUTPUT_DIR`` to choose another).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo._errors import AccessDeniedError, InputError, WorkspaceBusyError, WorkspaceConflictError, WorkspaceError
from scgeo._frames import text_of as _text
from scgeo._version import __version__
from scgeo.schema import EDITS, USER_ROLES, Layer, coerce, empty_frame
from scgeo.settings import get_settings
from scgeo.workspace import (
    CORE_LAYERS,
    SCHEMA_VERSION,
    STORED_LAYERS,
    Transaction,
    Workspace,
    _now,
    is_database_url,
    register_database_backend,
)

__all__ = ["INTERNAL_LAYERS", "INTERNAL_SCHEMA", "SCHEMA", "PostgisTransaction", "PostgisWorkspace",
           "connect", "database_role", "display_url", "grant_database_roles"]

SCHEMA = "scgeo"
INTERNAL_SCHEMA = "scgeo_internal"
#: Layers kept in the internal schema (要配慮個人情報): only the 内部 role reads them.
INTERNAL_LAYERS = ("needs",)
_SQL_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "date": "date"}
_MULTI = {"MultiPolygon": ("Polygon", shapely.multipolygons),
          "MultiLineString": ("LineString", shapely.multilinestrings), "MultiPoint": ("Point", shapely.multipoints)}


def _psycopg():
    try:
        import psycopg
    except ImportError as exc:  # the optional extra is not installed
        raise WorkspaceError("PostgreSQL のワークスペースには psycopg が必要です: "
                             "pip install 'scgeo[postgis]' でインストールしてください。") from exc
    return psycopg


def display_url(url: str) -> str:
    """``url`` without its password (for messages, ``info`` and the history)."""
    psycopg = _psycopg()
    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return url.split("@")[-1] if "@" in url else url
    user = params.get("user")
    host = params.get("host") or ""
    where = f"{host}:{params['port']}" if params.get("port") else host
    shown = f"postgresql://{user + '@' if user else ''}{where if '/' not in where else ''}/{params.get('dbname', '')}"
    return shown + (f"?host={host}" if "/" in where else "")


def connect(url: str, *, autocommit: bool = True):
    """A psycopg connection to the workspace's database (``WorkspaceError`` in Japanese when it fails)."""
    psycopg = _psycopg()
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise WorkspaceError(f"データベース {display_url(url)} に接続できません: {str(exc).strip()}") from exc


def _table(name: str):
    from psycopg import sql

    return sql.Identifier(INTERNAL_SCHEMA if name in INTERNAL_LAYERS else SCHEMA, name)


def _srid() -> int:
    from pyproj import CRS

    epsg = CRS.from_user_input(get_settings().workspace_crs).to_epsg()
    if epsg is None:
        raise WorkspaceError(f"作業用の座標系 {get_settings().workspace_crs} には EPSG コードがなく、"
                             "PostGIS に保存できません。")
    return int(epsg)


def _create_table(cur, layer: Layer, srid: int) -> None:
    from psycopg import sql

    columns = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(_SQL_TYPES[c.dtype])) for c in layer.columns]
    if layer.geometry:
        columns.append(sql.SQL("geometry geometry({}, {})").format(sql.SQL(layer.geometry), sql.Literal(srid)))
    cur.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {})")
                .format(_table(layer.name), sql.SQL(", ").join(columns)))
    if layer.geometry:
        cur.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gist (geometry)")
                    .format(sql.Identifier(f"{layer.name}_geometry_idx"), _table(layer.name)))


def _ensure_schema(cur) -> None:
    """Create what is missing: schemas, meta, every layer's table, columns added to the schema since.

    Layers and columns that :mod:`scgeo.schema` gained in a later version are added here, so a
    database made by an older scgeo opens as a GeoPackage of that age does (missing = empty).
    """
    from psycopg import sql

    srid = _srid()
    for schema in (SCHEMA, INTERNAL_SCHEMA):
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    cur.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, value text)")
                .format(sql.Identifier(SCHEMA, "meta")))
    present = _columns(cur)
    for name, layer in STORED_LAYERS.items():
        if name not in present:
            _create_table(cur, layer, srid)
            continue
        for col in layer.columns:
            if col.name not in present[name]:
                cur.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    _table(name), sql.Identifier(col.name), sql.SQL(_SQL_TYPES[col.dtype])))
    cur.execute(sql.SQL("""
        CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '編集履歴は追記だけです(変更・削除できません)'; END $$""")
                .format(sql.Identifier(SCHEMA, "edits_append_only")))
    cur.execute(sql.SQL("CREATE OR REPLACE TRIGGER edits_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {} "
                        "FOR EACH STATEMENT EXECUTE FUNCTION {}()")
                .format(_table("edits"), sql.Identifier(SCHEMA, "edits_append_only")))


def _grant(conn, dbname: str) -> str:
    """The database roles of the four scgeo roles, with their grants; empty without ``CREATEROLE``."""
    try:
        with conn.transaction():  # a savepoint: without the right, the workspace is made, without roles
            return ", ".join(grant_database_roles(conn, dbname))
    except _psycopg().errors.InsufficientPrivilege:
        return ""


def _columns(cur) -> dict[str, set[str]]:
    """The workspace's tables (by layer name) and their columns, as the database has them."""
    cur.execute("SELECT n.nspname, c.relname, a.attname FROM pg_catalog.pg_attribute a "
                "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped",
                ([SCHEMA, INTERNAL_SCHEMA],))
    found: dict[str, set[str]] = {}
    for schema, table, column in cur.fetchall():
        if (schema == INTERNAL_SCHEMA) == (table in INTERNAL_LAYERS):
            found.setdefault(table, set()).add(column)
    return found


# ------------------------------------------------------------------ PostgreSQL roles


def database_role(dbname: str, role: str) -> str:
    """The database group role of a scgeo role in one database (``izumo_viewer`` …): roles are per server."""
    return f"{dbname}_{role}"[:63]


_EDITABLE_BY_EDITORS_ONLY_INSERT = ("edits",)
_ADMIN_ONLY = ("users",)


def grant_database_roles(conn, dbname: str) -> list[str]:
    """Create the four group roles of database ``dbname`` and grant each what its scgeo role may do.

    Needs ``CREATEROLE`` (or a superuser); run in the owner's transaction by ``scgeo init`` and on
    open after an upgrade. Each role is a member of the one before it (admin ⊃ internal ⊃ editor ⊃
    viewer). Returns the role names.
    """
    from psycopg import sql

    names = {role: database_role(dbname, role) for role in USER_ROLES}
    existing = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                                           (list(names.values()),)).fetchall()}
    for name in names.values():
        if name not in existing:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
    for lower, higher in itertools.pairwise(USER_ROLES):
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(names[lower]), sql.Identifier(names[higher])))
    ident = {role: sql.Identifier(name) for role, name in names.items()}
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(SCHEMA), ident["viewer"]))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(INTERNAL_SCHEMA), ident["internal"]))
    for table in sorted({*_columns(conn.cursor()), "meta"}):
        target = sql.Identifier(INTERNAL_SCHEMA if table in INTERNAL_LAYERS else SCHEMA, table)
        if table in INTERNAL_LAYERS:
            grants = [("SELECT, INSERT, UPDATE, DELETE", "internal")]
        elif table in _ADMIN_ONLY:
            grants = [("SELECT, INSERT, UPDATE, DELETE", "admin")]
        elif table in _EDITABLE_BY_EDITORS_ONLY_INSERT:
            grants = [("SELECT", "viewer"), ("INSERT", "editor")]
        else:
            grants = [("SELECT", "viewer"), ("INSERT, UPDATE, DELETE", "editor")]
        for privileges, role in grants:
            conn.execute(sql.SQL("GRANT " + privileges + " ON {} TO {}").format(target, ident[role]))
    # Rows about needs in the shared history and the 位置未確定 list: only for the 内部 role (the owner sees all).
    hidden = sql.SQL(", ").join(map(sql.Literal, INTERNAL_LAYERS))
    for table in ("edits", "unplaced"):
        target = sql.Identifier(SCHEMA, table)
        conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(target))
        conn.execute(sql.SQL("DROP POLICY IF EXISTS internal_rows ON {}").format(target))
        conn.execute(sql.SQL("CREATE POLICY internal_rows ON {} USING (layer NOT IN ({}) OR pg_has_role({}, 'MEMBER'))")
                     .format(target, hidden, sql.Literal(names["internal"])))
    return list(names.values())


def _copy_text(frame: pd.DataFrame, layer: Layer, srid: int) -> str:
    """``frame`` (coerced to ``layer``) as the lines of ``COPY … FROM STDIN`` (text format)."""
    parts = []
    for col in layer.columns:
        values = frame[col.name]
        missing = values.isna().to_numpy()
        if col.dtype == "date":
            text = values.dt.strftime("%Y-%m-%d")
        elif col.dtype == "float":
            text = pd.Series(values.to_numpy(dtype=float).astype(str), index=values.index)
        else:
            text = values.astype(object).where(~missing, "").astype(str)
            if col.dtype == "str":
                text = (text.str.replace("\\", "\\\\", regex=False).str.replace("\t", "\\t", regex=False)
                        .str.replace("\n", "\\n", regex=False).str.replace("\r", "\\r", regex=False))
        parts.append(text.where(~missing, "\\N"))
    if layer.geometry:
        geoms = np.asarray(frame.geometry.values, dtype=object)
        if layer.geometry in _MULTI:  # a Polygon in a MultiPolygon layer is stored as a multi of one
            single, make = _MULTI[layer.geometry]
            kinds = shapely.get_type_id(geoms)
            one = kinds == shapely.GeometryType[single.upper()].value
            if one.any():
                geoms = geoms.copy()
                geoms[one] = make(geoms[one], indices=np.arange(int(one.sum())))
        wkb = shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True)
        parts.append(pd.Series(np.where(pd.isna(wkb), "\\N", wkb), index=frame.index))
    if not len(frame):
        return ""
    lines = parts[0].astype(str).str.cat([p.astype(str) for p in parts[1:]], sep="\t") if len(parts) > 1 else parts[0]
    return "\n".join(lines.tolist()) + "\n"


#: Tables with row-level security (rows about needs, :func:`grant_database_roles`):
#: written through a staging table, as ``COPY`` into them is refused for users it applies to.
_ROW_SECURED = ("edits", "unplaced")


def _write_rows(cur, name: str, frame: pd.DataFrame) -> None:
    from psycopg import sql

    layer = STORED_LAYERS[name]
    columns = [*layer.names, *(["geometry"] if layer.geometry else [])]
    text = _copy_text(frame, layer, _srid())
    if not text:
        return
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    target = _table(name)
    if name in _ROW_SECURED:
        defs = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(_SQL_TYPES[c.dtype])) for c in layer.columns]
        if layer.geometry:
            defs.append(sql.SQL("geometry geometry"))
        cur.execute(sql.SQL("CREATE TEMP TABLE scgeo_load ({}) ON COMMIT DROP").format(sql.SQL(", ").join(defs)))
        target = sql.Identifier("scgeo_load")
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)) as copy:
        copy.write(text.encode("utf-8"))
    if name in _ROW_SECURED:
        cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM scgeo_load").format(_table(name), names, names))
        cur.execute("DROP TABLE scgeo_load")


class PostgisTransaction(Transaction):
    """Writes of one database transaction (:meth:`PostgisWorkspace.transaction`), all or none."""

    def __init__(self, conn, workspace: PostgisWorkspace) -> None:
        super().__init__(workspace.path)
        self.conn = conn

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Replace layer ``name`` with ``frame`` (coerced to the layer's schema)."""
        from psycopg import sql

        layer = STORED_LAYERS[name]
        frame = coerce(frame.reset_index(drop=True), layer)
        if layer.geometry and frame.crs is not None and not frame.crs.equals(get_settings().workspace_crs):
            frame = frame.to_crs(get_settings().workspace_crs)
        with self.conn.cursor() as cur:
            if name == "edits":  # append-only: the history is only ever added to
                old = self._last_edit_id()
                frame = frame[frame["edit_id"] > old]
                if len(frame):
                    self.set_meta({"last_edit_id": int(frame["edit_id"].max())})
            else:
                cur.execute(sql.SQL("DELETE FROM {}").format(_table(name)))
            _write_rows(cur, name, frame)

    def set_meta(self, values: Mapping[str, object]) -> None:
        """Set metadata keys (other keys are kept)."""
        rows = [(str(k), _text(v)) for k, v in values.items()]
        with self.conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {SCHEMA}.meta (key, value) VALUES (%s, %s) "
                            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", rows)

    def _last_edit_id(self) -> int:
        # From meta (kept by every commit): a user who may not see the rows about needs sees a lower max.
        row = self.conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'last_edit_id'").fetchone()
        if row and row[0]:
            return int(row[0])
        return int(self.conn.execute(f"SELECT coalesce(max(edit_id), 0) FROM {SCHEMA}.edits").fetchone()[0])

    def _flush(self, version: int) -> None:
        start = self._last_edit_id()
        super()._flush(version)
        self.set_meta({"last_edit_id": start + len(self._edits)})

    def _append_edits(self, rows: pd.DataFrame) -> None:
        with self.conn.cursor() as cur:
            _write_rows(cur, "edits", coerce(rows, EDITS))


@register_database_backend
class PostgisWorkspace(Workspace):
    """A municipality's workspace in a PostgreSQL + PostGIS database (see the module's text)."""

    def __init__(self, url: str, *, folder: str | Path | None = None) -> None:
        self.url = url
        psycopg = _psycopg()
        try:
            params = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise WorkspaceError(f"データベースの URL を読めません: {exc}") from exc
        self.dbname = str(params.get("dbname") or params.get("user") or "workspace")
        base = Path(folder or os.environ.get("SCGEO_OUTPUT_DIR") or Path.cwd())
        # Not a file: its folder is where outputs beside the workspace go (rejected/, internal/).
        self.path = base / f"{self.dbname}.postgis"

    @property
    def location(self) -> str:
        """The database URL, without its password."""
        return display_url(self.url)

    @property
    def backend(self) -> str:
        """``postgis``."""
        return "postgis"

    def connect(self, *, autocommit: bool = True):
        """A psycopg connection to this workspace's database."""
        return connect(self.url, autocommit=autocommit)

    # ------------------------------------------------------------ opening

    @classmethod
    @contextlib.contextmanager
    def building(cls, path: str | Path, *, muni_code: str, muni_name: str = "",
                 overwrite: bool = False) -> Iterator[PostgisTransaction]:
        """Create the workspace's tables and fill them in one database transaction.

        The database must exist (``createdb city``) with the ``postgis`` extension, or the user
        may create it (``CREATE EXTENSION postgis`` is tried). ``WorkspaceError`` when the
        database already holds a workspace and ``overwrite`` is false (with it, the old tables
        are dropped in the same transaction: a failure keeps them).
        """
        from scgeo.municipalities import muni_name as _muni_name

        url = str(path)
        muni_name = _muni_name(muni_code, muni_name)
        ws = cls(url)
        psycopg = _psycopg()
        with ws.connect(autocommit=False) as conn:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                conn.commit()
            except psycopg.Error as exc:
                raise WorkspaceError(f"データベース {ws.location} で PostGIS が使えません。管理者が "
                                     f"`CREATE EXTENSION postgis;` を実行してください({str(exc).strip()})。") from exc
            with conn.transaction():
                if ws._is_workspace(conn):
                    if not overwrite:
                        raise WorkspaceError(f"{ws.location} には既にワークスペースがあります。"
                                             "上書きする場合は --force を付けてください。")
                    conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
                    conn.execute(f"DROP SCHEMA IF EXISTS {INTERNAL_SCHEMA} CASCADE")
                with conn.cursor() as cur:
                    _ensure_schema(cur)
                tx = PostgisTransaction(conn, ws)
                crs = get_settings().workspace_crs
                tx.set_meta({"muni_code": str(muni_code), "muni_name": muni_name, "crs": crs,
                             "scgeo_version": __version__, "schema_version": SCHEMA_VERSION,
                             "created_at": _now(), "updated_at": _now(), "version": 1})
                yield tx
                tx._flush(tx.next_version or 1)
                tx.set_meta({"database_roles": _grant(conn, ws.dbname)})

    @classmethod
    def create(cls, path: str | Path, *, muni_code: str, muni_name: str = "",
               overwrite: bool = False) -> PostgisWorkspace:
        """Create an empty workspace in the database ``path`` (a ``postgresql://…`` URL)."""
        with cls.building(path, muni_code=muni_code, muni_name=muni_name, overwrite=overwrite):
            pass
        return cls.open(path)

    @classmethod
    def open(cls, path: str | Path) -> PostgisWorkspace:
        """Open the workspace in a database, adding the tables and columns newer versions have."""
        url = str(path)
        if not is_database_url(url):
            raise WorkspaceError(f"{url} はデータベースの URL (postgresql://…) ではありません。")
        ws = cls(url)
        with ws.connect() as conn:
            if not ws._is_workspace(conn):
                raise WorkspaceError(f"データベース {ws.location} に scgeo のワークスペースがありません。"
                                     f"`scgeo init {ws.location} --muni-code …` で作成できます。")
            present = _columns(conn.cursor())
            missing = [n for n in STORED_LAYERS if n not in present]
            stale = [n for n, layer in STORED_LAYERS.items() if n in present and set(layer.names) - present[n]]
            if missing or stale:  # an older scgeo made it: add what this version has (needs the owner)
                try:
                    with conn.transaction(), conn.cursor() as cur:
                        _ensure_schema(cur)
                        _grant(conn, ws.dbname)
                except _psycopg().Error as exc:
                    raise WorkspaceError(f"{ws.location} はこの版の scgeo より古い形式です。データベースの所有者で"
                                         f"一度開いて更新してください({str(exc).strip()})。") from exc
            roles = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'database_roles'").fetchone()
            if not (roles and roles[0]):  # made without CREATEROLE: whoever may, creates them now
                with conn.transaction():
                    made = _grant(conn, ws.dbname)
                    if made:
                        PostgisTransaction(conn, ws).set_meta({"database_roles": made})
        return ws

    def _denied(self, exc: Exception, what: str) -> AccessDeniedError:
        user = _psycopg().conninfo.conninfo_to_dict(self.url).get("user") or "(既定の利用者)"
        return AccessDeniedError(f"{what}権限がありません(データベースの利用者 {user})。"
                              "必要なら管理者に役割を付けてもらってください。")

    @staticmethod
    def _is_workspace(conn) -> bool:
        return {"meta", *CORE_LAYERS} <= set(_columns(conn.cursor()))

    # ------------------------------------------------------------ reading

    def meta(self) -> dict[str, str]:
        """The metadata table as a dict (muni_code, muni_name, crs, scgeo_version, version, …)."""
        with self.connect() as conn:
            return dict(conn.execute(f"SELECT key, value FROM {SCHEMA}.meta").fetchall())

    def version(self) -> int:
        """The workspace's version: raised by one on every committed write."""
        with self.connect() as conn:
            row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row and row[0] else 0

    def layer_names(self) -> list[str]:
        """Names of the layers and tables the workspace has (this database user may read)."""
        with self.connect() as conn:
            return sorted({*_columns(conn.cursor()), "meta"})

    def count(self, name: str) -> int:
        """Number of rows of a layer."""
        from psycopg import sql

        if name not in STORED_LAYERS:
            return 0
        with self.connect() as conn:
            try:
                return int(conn.execute(sql.SQL("SELECT count(*) FROM {}").format(_table(name))).fetchone()[0])
            except _psycopg().errors.InsufficientPrivilege as exc:
                raise self._denied(exc, f"{STORED_LAYERS[name].label}を読む") from exc

    def read(self, name: str) -> pd.DataFrame:
        """Read a layer, coerced to its schema (GeoDataFrame for layers with geometry)."""
        from psycopg import sql

        if name not in STORED_LAYERS:
            raise InputError(f"レイヤ「{name}」はありません。使えるレイヤ: {', '.join(STORED_LAYERS)}")
        layer = STORED_LAYERS[name]
        crs = get_settings().workspace_crs
        columns = [sql.Identifier(c) for c in layer.names]
        if layer.geometry:
            columns.append(sql.SQL("ST_AsBinary(geometry)"))
        query = sql.SQL("SELECT {} FROM {} ORDER BY fid").format(sql.SQL(", ").join(columns), _table(name))
        with self.connect() as conn:
            try:
                rows = conn.execute(query).fetchall()
            except _psycopg().errors.InsufficientPrivilege as exc:
                raise self._denied(exc, f"{layer.label}を読む") from exc
        if not rows:
            return empty_frame(layer, crs=crs if layer.geometry else None)
        frame = pd.DataFrame.from_records(rows, columns=[*layer.names, *(["geometry"] if layer.geometry else [])])
        for col in layer.columns:
            if col.dtype == "date":
                frame[col.name] = pd.to_datetime(frame[col.name])
        if layer.geometry:
            wkb = frame.pop("geometry").to_numpy(dtype=object)
            geometry = shapely.from_wkb(wkb)  # bytea arrives as bytes (None for no geometry)
            frame = gpd.GeoDataFrame(frame, geometry=geometry, crs=crs)
        return coerce(frame, layer)

    def ids(self, name: str) -> set[str]:
        """The ids present in a layer."""
        from psycopg import sql

        layer = STORED_LAYERS[name]
        with self.connect() as conn:
            try:
                rows = conn.execute(sql.SQL("SELECT {} FROM {}").format(sql.Identifier(layer.id_column),
                                                                       _table(name))).fetchall()
            except _psycopg().errors.InsufficientPrivilege as exc:
                raise self._denied(exc, f"{layer.label}を読む") from exc
        return {str(r[0]) for r in rows}

    def readable_layers(self) -> set[str]:
        """The layers this database user may read (its role's grants: 閲覧 does not read needs or users)."""
        query = ("SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = %s AND c.relname = ANY(%s) AND has_schema_privilege(n.oid, 'USAGE') "
                 "AND has_table_privilege(c.oid, 'SELECT')")
        with self.connect() as conn:
            shared = [n for n in STORED_LAYERS if n not in INTERNAL_LAYERS]
            found = {r[0] for r in conn.execute(query, (SCHEMA, shared))}
            found |= {r[0] for r in conn.execute(query, (INTERNAL_SCHEMA, list(INTERNAL_LAYERS)))}
        return found

    def changed_since(self, name: str, feature_id: str, version: int) -> pd.DataFrame:
        """As :meth:`Workspace.changed_since`, by a query (the history is not read whole)."""
        columns = ", ".join(f'"{c}"' for c in EDITS.names)
        query = (f"SELECT {columns} FROM {SCHEMA}.edits WHERE coalesce(version, 0) > %s AND "
                 "((layer = %s AND (feature_id = %s OR feature_id IS NULL)) OR layer = 'workspace') ORDER BY edit_id")
        with self.connect() as conn:
            rows = conn.execute(query, (int(version), name, str(feature_id))).fetchall()
        return coerce(pd.DataFrame.from_records(rows, columns=EDITS.names), EDITS)

    def _bounds(self, name: str) -> tuple[float, float, float, float]:
        from psycopg import sql

        query = sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                        "(SELECT ST_Extent(geometry) AS e FROM {}) AS t").format(_table(name))
        with self.connect() as conn:
            return tuple(float(v) for v in conn.execute(query).fetchone())

    # ------------------------------------------------------------ writing

    @contextlib.contextmanager
    def transaction(self, *, expected_version: int | None = None) -> Iterator[PostgisTransaction]:
        """Group writes in one database transaction, one writer at a time (see :meth:`Workspace.transaction`).

        The writer locks the version row (``SELECT … FOR UPDATE``): a second writer waits for the
        first one's commit, up to ``settings.lock_timeout_s`` (then ``WorkspaceBusyError``);
        readers never wait and see the state before the commit.
        """
        psycopg = _psycopg()
        timeout_ms = int(get_settings().lock_timeout_s * 1000)
        with self.connect(autocommit=False) as conn, self._writing(), conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = {timeout_ms:d}")
            try:
                row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'version' FOR UPDATE").fetchone()
            except psycopg.errors.LockNotAvailable as exc:
                raise WorkspaceBusyError(
                    f"他の人が更新中です({self.location})。{get_settings().lock_timeout_s:g}秒待っても終わらなかった"
                    "ため中止しました。しばらく待ってから、もう一度試してください。") from exc
            current = int(row[0]) if row and row[0] else 0
            if expected_version is not None and int(expected_version) != current:
                raise WorkspaceConflictError(
                    f"ワークスペースは、読み込んだ後に他の人が更新しました(読み込んだ版 {expected_version}、"
                    f"現在の版 {current})。上書きせずに中止しました。読み直して変更を確かめてから、"
                    "もう一度保存してください。")
            tx = PostgisTransaction(conn, self)
            yield tx
            tx._flush(current + 1)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        try:
            yield
        except _psycopg().errors.InsufficientPrivilege as exc:
            raise self._denied(exc, "ワークスペースに書き込む") from exc

    def restore(self, generation: int = 1, *, user: str | None = None) -> Path:
        """Not for a database: restore the server's backup, or migrate a GeoPackage snapshot back."""
        raise WorkspaceError("データベースのワークスペースにはファイルの世代がありません。サーバのバックアップ"
                             "(pg_dump)から戻すか、`scgeo migrate スナップショット.gpkg "
                             f"{self.location} --force` で GeoPackage の写しから戻してください。")

    def sqlite(self):
        """Not for a database (:meth:`connect` gives a database connection)."""
        raise WorkspaceError("データベースのワークスペースは SQLite で開けません(connect() を使ってください)。")
