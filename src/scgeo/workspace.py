"""The workspace: one GeoPackage file per municipality.

It holds the layers of :mod:`scgeo.schema` (``areas`` of every level, ``population`` per town
block, ``resources``, ``needs``), an ``edits`` history table (who, when, what, old and new
values) and a ``meta`` table (municipality code and name, CRS, scgeo version). It is a standard
GeoPackage written by GDAL: QGIS opens it as it is.

Writes are transactional by copy-on-write: a transaction works on a copy in the hidden folder
beside the file (``.town.gpkg.scgeo/``) and replaces the file atomically (``os.replace``, then the
folder is fsynced) only when every step succeeded, so a write that fails half-way leaves the
workspace exactly as it was. One writer at a time: a transaction holds the lock in that folder
(``WorkspaceBusyError`` 「他の人が更新中です」 after ``settings.lock_timeout_s``), and every commit
raises the workspace's ``version``; a writer that passes the version it read gets a
``WorkspaceConflictError`` instead of overwriting a newer state. The file as it was before each
replace is kept as a backup generation (:mod:`scgeo.backups`); :meth:`Workspace.restore` brings
one back.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "town.gpkg"
>>> ws = Workspace.create(path, muni_code="99201", muni_name="さくら市")
>>> ws.count("resources"), ws.meta()["muni_name"]
(0, 'さくら市')
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import shutil
import sqlite3
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from scgeo import backups
from scgeo._confirmations import ConfirmationStore
from scgeo._errors import InputError, WorkspaceConflictError, WorkspaceError
from scgeo._filelock import exclusive, fsync_dir, remove_leftovers, scratch_path
from scgeo._frames import apply_changes as _changed
from scgeo._frames import concat_frames as _concat
from scgeo._frames import text_of as _text
from scgeo._version import __version__
from scgeo.schema import (
    ACTIVITIES,
    AREAS,
    BASEMAP_LINES,
    CONFIRMATIONS,
    COUNCIL_MEETINGS,
    COUNCILS,
    EDITS,
    HELPERS,
    NEEDS,
    NETWORK_EDGES,
    NETWORK_NODES,
    ORGANISATIONS,
    PLANS,
    POPULATION,
    PUBLICATIONS,
    RESOURCES,
    REVIEW_FLAGS,
    SITING_AREAS,
    SITING_SCENARIOS,
    SITING_SITES,
    SNAPSHOT_FIGURES,
    SNAPSHOTS,
    TIES,
    UNPLACED,
    USERS,
    VENUES,
    ImportResult,
    Layer,
    coerce,
    empty_frame,
    validate,
)
from scgeo.settings import get_settings

__all__ = ["POINT_LAYERS", "STORED_LAYERS", "Workspace", "find_workspaces", "is_database_url",
           "register_database_backend"]

STORED_LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (AREAS, POPULATION, RESOURCES, NEEDS, EDITS, CONFIRMATIONS, REVIEW_FLAGS, NETWORK_NODES,
                  NETWORK_EDGES, BASEMAP_LINES, VENUES, SITING_SCENARIOS, SITING_SITES, SITING_AREAS,
                  PUBLICATIONS, UNPLACED)
}
# The coordinator's network (ネットワーク構築): organisations, ties, 協議体 and 担い手 counts.
STORED_LAYERS.update({layer.name: layer for layer in (ORGANISATIONS, TIES, COUNCILS, COUNCIL_MEETINGS, HELPERS)})
# The coordinator's year: the activity log, the annual plan and the monthly snapshots (immutable).
STORED_LAYERS.update({layer.name: layer for layer in (ACTIVITIES, PLANS, SNAPSHOTS, SNAPSHOT_FIGURES)})
# Who may log in, with which role (scgeo.users): password hashes, never imported or edited as features.
STORED_LAYERS[USERS.name] = USERS
#: Layers written once and never changed (``scgeo.report.snapshots``): edits of them are refused.
IMMUTABLE_LAYERS = ("snapshots", "snapshot_figures")
# Point layers filled from tables (CSV/xlsx), geocoded on import when coordinates are missing.
POINT_LAYERS = tuple(n for n in ("resources", "needs", "venues") if n in STORED_LAYERS)
SCHEMA_VERSION = "1"
# Layers every workspace has; the others (the walking network, basemap lines, venues, confirmations,
# review flags, the 位置未確定 list) may be absent in files made by older versions and read as empty
# until written (confirmations: as migrated from ``last_confirmed``, see :meth:`Workspace.confirmations`).
CORE_LAYERS = ("areas", "population", "resources", "needs", "edits")
_IMPORTABLE = ("resources", "needs", "venues", "organisations", "ties", "councils", "council_meetings", "helpers",
               "activities", "plans")
_NOT_IMPORTABLE = ("areas", "population", "edits", "network_nodes", "network_edges", "basemap_lines",
                   "publications", "unplaced", "users", *IMMUTABLE_LAYERS)


# What a history row that is not a field's update did, in the conflict message.
_WHOLE_CHANGES = {"delete": "削除", "import": "取込", "confirm": "確認", "restore": "復元", "migrate": "移行",
                  "place": "配置", "insert": "追加"}


def _refuse_immutable(name: str) -> None:
    if name == "users":  # never as features: the history would keep password hashes
        raise InputError("利用者は `scgeo user add|list|disable|reset` で管理します。")
    if name in IMMUTABLE_LAYERS:
        raise InputError(f"{STORED_LAYERS[name].label}は書いたあと変更できません(`scgeo snapshot` で新しく作ります)。")


def is_database_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database (``postgresql://…``) rather than a file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


_DATABASE_BACKEND: list[type] = []  # the workspace class of ``postgresql://…`` (scgeo.postgis registers it)


def register_database_backend(cls: type) -> type:
    """Make ``cls`` the class that builds and opens ``postgresql://…`` workspaces (a class decorator).

    :class:`scgeo.postgis.PostgisWorkspace` registers itself when :mod:`scgeo.postgis` is imported,
    which ``import scgeo`` does: the file workspace does not depend on the database one.
    """
    _DATABASE_BACKEND[:] = [cls]
    return cls


def _database_backend() -> type:
    if not _DATABASE_BACKEND:
        raise WorkspaceError("PostgreSQL のワークスペースを扱う部品 (scgeo.postgis) が読み込まれていません。")
    return _DATABASE_BACKEND[0]


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def _user(user: str | None) -> str:
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


_SYNC_LOCK = threading.Lock()
_SYNC_OFF = [0, None]  # writers inside _scratch_writes, and the option's value before the first


@contextlib.contextmanager
def _scratch_writes() -> Iterator[None]:
    """Writes to a transaction's scratch copy without SQLite's own fsyncs (five times faster).

    SQLite's default syncs the file at every commit of every layer write (some 80 ms each);
    the scratch copy needs none of them, as :func:`_commit` fsyncs it whole before it replaces
    the workspace: a crash before then leaves the workspace as it was. GDAL's option is
    process-wide, so it is set for the first writer in and put back by the last one out.
    """
    with _SYNC_LOCK:
        if _SYNC_OFF[0] == 0:
            _SYNC_OFF[1] = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
            pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
        _SYNC_OFF[0] += 1
    try:
        yield
    finally:
        with _SYNC_LOCK:
            _SYNC_OFF[0] -= 1
            if _SYNC_OFF[0] == 0:
                pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": _SYNC_OFF[1]})


class Transaction:
    """Writes made inside :meth:`Workspace.transaction`, all applied or none."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._edits: list[dict] = []
        #: The version the commit sets when the workspace is being built (``None``: 1); a
        #: migration carries the source's version on (:mod:`scgeo.migration`).
        self.next_version: int | None = None

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Replace layer ``name`` with ``frame`` (coerced to the layer's schema)."""
        layer = STORED_LAYERS[name]
        frame = coerce(frame.reset_index(drop=True), layer)
        kwargs = {"geometry_type": layer.geometry} if layer.geometry else {}
        if layer.geometry and frame.crs is None:
            frame = frame.set_crs(get_settings().workspace_crs)
        with _scratch_writes():
            pyogrio.write_dataframe(frame, self.path, layer=name, driver="GPKG", **kwargs)

    def record(self, *, user: str | None, layer: str, action: str, feature_id: object = None,
               field: str | None = None, old: object = None, new: object = None,
               note: str | None = None) -> None:
        """Add a row to the edit history (written when the transaction commits)."""
        self._edits.append({
            "at": _now(), "user": _user(user), "layer": layer, "feature_id": _text(feature_id),
            "action": action, "field": field, "old_value": _text(old), "new_value": _text(new),
            "note": note,
        })

    def set_meta(self, values: Mapping[str, object]) -> None:
        """Set metadata keys (other keys are kept)."""
        meta = _read_meta(self.path) if "meta" in _layer_names(self.path) else {}
        meta.update({k: _text(v) for k, v in values.items()})
        frame = pd.DataFrame({"key": list(meta), "value": list(meta.values())})
        with _scratch_writes():
            pyogrio.write_dataframe(frame, self.path, layer="meta", driver="GPKG")

    def _flush(self, version: int) -> None:
        if not self._edits:
            self.set_meta({"version": version})
            return
        start = self._last_edit_id() + 1
        new = pd.DataFrame(self._edits)
        new.insert(0, "edit_id", range(start, start + len(new)))
        new["version"] = version
        self._append_edits(coerce(new, EDITS))
        self.set_meta({"updated_at": self._edits[-1]["at"], "version": version})

    def _last_edit_id(self) -> int:
        edits = pyogrio.read_dataframe(self.path, layer="edits", columns=["edit_id"], read_geometry=False)
        return int(edits["edit_id"].max()) if len(edits) else 0

    def _append_edits(self, rows: pd.DataFrame) -> None:
        with _scratch_writes():
            pyogrio.write_dataframe(rows, self.path, layer="edits", driver="GPKG", append=True)


def _commit(tmp: Path, path: Path) -> None:
    """Make the written copy ``tmp`` the workspace ``path``: synced, the old file kept as a backup.

    Called with the workspace's lock held; the folder is fsynced after the rename.
    """
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    backups.keep_backup(path, generations=get_settings().backup_generations)
    os.replace(tmp, path)
    fsync_dir(path.parent)


_EMPTY: dict[str, bytes] = {}  # crs -> a GeoPackage of every stored layer, empty (see _empty_layers)
_EMPTY_LOCK = threading.Lock()


def _empty_layers(crs: str) -> bytes:
    """The bytes of a GeoPackage holding every stored layer, empty, the geometries in ``crs``.

    Written once per process and CRS: a new workspace starts as a copy of it, as writing its
    27 empty layers one by one took some 0.6 s at every :meth:`Workspace.create`.
    """
    with _EMPTY_LOCK:
        if crs not in _EMPTY:
            with tempfile.TemporaryDirectory(prefix="scgeo_empty_") as folder:
                tx = Transaction(Path(folder) / "empty.gpkg")
                for name, layer in STORED_LAYERS.items():
                    tx.write(name, empty_frame(layer, crs=crs if layer.geometry else None))
                _EMPTY[crs] = tx.path.read_bytes()
        return _EMPTY[crs]


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only SQLite connection to a GeoPackage (the path quoted for SQLite's URI form)."""
    return sqlite3.connect(f"file:{urllib.parse.quote(os.fspath(path))}?mode=ro", uri=True)


def _gdal_layer_names(path: Path) -> set[str]:
    return {str(name) for name, _ in pyogrio.list_layers(path)}


def _layer_names(path: Path) -> set[str]:
    """The layers and tables of a GeoPackage: the names in its ``gpkg_contents``.

    Read with SQLite: GDAL registers there every layer it writes, and opening the file in GDAL
    (``pyogrio.list_layers``) takes some 30 ms, which every read of a layer paid. A file SQLite
    cannot read so is asked of GDAL, which raises what it finds wrong.
    """
    try:
        with contextlib.closing(_read_only(path)) as con:
            return {str(name) for (name,) in con.execute("SELECT table_name FROM gpkg_contents")}
    except sqlite3.Error:
        return _gdal_layer_names(path)


def _read_meta(path: Path) -> dict[str, str]:
    frame = pyogrio.read_dataframe(path, layer="meta")
    return dict(zip(frame["key"], frame["value"], strict=True))


class Workspace(ConfirmationStore):
    """A municipality's GeoPackage workspace.

    Use :meth:`create` for a new file and :meth:`open` for an existing one.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Workspace({self.location!r})"

    @property
    def location(self) -> str:
        """Where the workspace is, as the user names it: the file's path (a database URL for PostGIS)."""
        return str(self.path)

    @property
    def backend(self) -> str:
        """``gpkg`` (this class) or ``postgis`` (:class:`scgeo.postgis.PostgisWorkspace`)."""
        return "gpkg"

    # ------------------------------------------------------------ opening

    @classmethod
    def create(cls, path: str | Path, *, muni_code: str, muni_name: str = "",
               overwrite: bool = False) -> Workspace:
        """Create an empty workspace with every layer and the metadata.

        Raises ``WorkspaceError`` when the file exists and ``overwrite`` is false.
        ``muni_code`` has 5 digits or 6 (with a correct check digit); an empty ``muni_name`` is
        filled from the national table (:mod:`scgeo.municipalities`) when it knows the code.
        A ``postgresql://…`` URL creates the workspace in that PostgreSQL + PostGIS database
        (:mod:`scgeo.postgis`).
        """
        with cls.building(path, muni_code=muni_code, muni_name=muni_name, overwrite=overwrite):
            pass
        return cls.open(path)

    @classmethod
    @contextlib.contextmanager
    def building(cls, path: str | Path, *, muni_code: str, muni_name: str = "",
                 overwrite: bool = False) -> Iterator[Transaction]:
        """Create a workspace and fill it in one transaction (``scgeo build``).

        Yields a :class:`Transaction` on a new workspace (every layer empty, the metadata set);
        the file at ``path`` is created or replaced only when the block ends without an error
        (a replaced file is kept as a backup generation). Arguments as :meth:`create`.
        """
        from scgeo.municipalities import muni_name as _muni_name

        if is_database_url(path):
            with _database_backend().building(str(path), muni_code=muni_code, muni_name=muni_name,
                                           overwrite=overwrite) as tx:
                yield tx
            return
        path = Path(path)
        muni_name = _muni_name(muni_code, muni_name)  # also checks the code (InputError)
        if path.exists() and not overwrite:
            raise WorkspaceError(f"{path} は既に存在します。上書きする場合は --force を付けてください。")
        path.parent.mkdir(parents=True, exist_ok=True)
        with exclusive(path, timeout_s=get_settings().lock_timeout_s):
            tmp = scratch_path(path)
            try:
                crs = get_settings().workspace_crs
                tmp.write_bytes(_empty_layers(crs))
                tx = Transaction(tmp)
                tx.set_meta({"muni_code": str(muni_code), "muni_name": muni_name, "crs": crs,
                             "scgeo_version": __version__, "schema_version": SCHEMA_VERSION,
                             "created_at": _now(), "updated_at": _now(), "version": 1})
                yield tx
                tx._flush(tx.next_version or 1)
                _commit(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)

    @classmethod
    def open(cls, path: str | Path) -> Workspace:
        """Open an existing workspace, checking that it is one (a ``postgresql://…`` URL: in PostGIS)."""
        if is_database_url(path):
            return _database_backend().open(str(path))
        path = Path(path)
        if not path.is_file():
            raise WorkspaceError(f"ワークスペース {path} が見つかりません。"
                                 f"`scgeo init {path} --muni-code …` で作成できます。")
        try:
            names = _layer_names(path)  # a file SQLite cannot read: GDAL's error
        except pyogrio.errors.DataSourceError as exc:
            raise WorkspaceError(f"{path} は GeoPackage として開けません: {exc}") from exc
        missing = sorted({"meta", *CORE_LAYERS} - names)
        if missing:
            raise WorkspaceError(f"{path} は scgeo のワークスペースではありません"
                                 f"(レイヤ {', '.join(missing)} がありません)。")
        remove_leftovers(path)  # scratch copies of a writer that crashed (none while one works)
        return cls(path)

    # ------------------------------------------------------------ reading

    def meta(self) -> dict[str, str]:
        """The metadata table as a dict (muni_code, muni_name, crs, scgeo_version, …)."""
        return _read_meta(self.path)

    def version(self) -> int:
        """The workspace's version: raised by one on every committed write (0 in old files).

        Pass the version you read to a write (``expected_version=``) to be told, with a
        ``WorkspaceConflictError``, when someone else wrote in between.
        """
        value = _read_meta(self.path).get("version")
        return int(value) if value else 0

    def layer_names(self) -> list[str]:
        """Names of the layers and tables in the file."""
        return sorted(_layer_names(self.path))

    def count(self, name: str) -> int:
        """Number of rows of a layer (without reading it)."""
        try:
            with contextlib.closing(_read_only(self.path)) as con:
                if not con.execute("SELECT 1 FROM gpkg_contents WHERE table_name = ?", (name,)).fetchone():
                    return 0
                quoted = name.replace('"', '""')
                return int(con.execute(f'SELECT COUNT(*) FROM "{quoted}"').fetchone()[0])
        except sqlite3.Error:  # not readable so: GDAL says what is wrong
            if name not in _gdal_layer_names(self.path):
                return 0
            return int(pyogrio.read_info(self.path, layer=name)["features"])

    def read(self, name: str) -> pd.DataFrame:
        """Read a layer, coerced to its schema (GeoDataFrame for layers with geometry)."""
        if name not in STORED_LAYERS:
            raise InputError(f"レイヤ「{name}」はありません。使えるレイヤ: {', '.join(STORED_LAYERS)}")
        layer = STORED_LAYERS[name]
        if name not in _layer_names(self.path):
            return empty_frame(layer, crs=get_settings().workspace_crs if layer.geometry else None)
        frame = pyogrio.read_dataframe(self.path, layer=name)
        if layer.geometry:
            frame = frame.rename_geometry("geometry") if frame.geometry.name != "geometry" else frame
        return coerce(frame, layer)

    def areas(self, level: str | None = None) -> gpd.GeoDataFrame:
        """Areas, all levels or one (``municipality``, ``living_area``, ``jhs_district`` …)."""
        areas = self.read("areas")
        return areas if level is None else areas[areas["level"] == level].reset_index(drop=True)

    def town_blocks(self) -> gpd.GeoDataFrame:
        """Town blocks with their population columns joined (missing population stays NA)."""
        blocks = self.areas("town_block")
        population = self.read("population")
        return blocks.merge(population, on="area_id", how="left")

    def ids(self, name: str) -> set[str]:
        """The ids present in a layer."""
        layer = STORED_LAYERS[name]
        if name not in _layer_names(self.path):
            return set()
        frame = pyogrio.read_dataframe(self.path, layer=name, columns=[layer.id_column],
                                       read_geometry=False)
        return set(frame[layer.id_column].astype(str))

    def edits(self) -> pd.DataFrame:
        """The edit history, oldest first."""
        return self.read("edits").sort_values("edit_id").reset_index(drop=True)

    def info(self) -> dict:
        """Layer counts, CRS, extent (lon/lat) and the last edit, for ``scgeo info``."""
        meta = self.meta()
        readable = self.readable_layers()  # a database user may lack the rights to some (needs, users)
        counts = {name: self.count(name) for name in STORED_LAYERS if name in readable}
        bounds = [self._bounds(name) for name, layer in STORED_LAYERS.items() if layer.geometry and counts.get(name)]
        extent = None
        if bounds:
            xs0, ys0, xs1, ys1 = zip(*bounds, strict=True)
            extent = [round(min(xs0), 6), round(min(ys0), 6), round(max(xs1), 6), round(max(ys1), 6)]
        edits = self.edits()
        last = None
        if len(edits):
            row = edits.iloc[-1]
            last = {k: _text(row[k]) for k in ("at", "user", "layer", "action", "note")}
        levels = self.areas()["level"].value_counts().to_dict() if counts.get("areas") else {}
        return {
            "path": self.location, "backend": self.backend, "muni_code": meta.get("muni_code"),
            "muni_name": meta.get("muni_name"), "crs": meta.get("crs"),
            "scgeo_version": meta.get("scgeo_version"), "layers": counts,
            "area_levels": {str(k): int(v) for k, v in levels.items()},
            "extent": extent, "last_edit": last, "version": int(meta.get("version") or 0),
            "last_edit_id": int(edits["edit_id"].iloc[-1]) if len(edits) else 0,
        }

    def readable_layers(self) -> set[str]:
        """The layers this user may read: every one in a file (a database grants by role, :mod:`scgeo.users`)."""
        return set(STORED_LAYERS)

    def _bounds(self, name: str) -> tuple[float, float, float, float]:
        return tuple(pyogrio.read_info(self.path, layer=name, force_total_bounds=True)["total_bounds"])

    # ------------------------------------------------------------ writing

    @contextlib.contextmanager
    def transaction(self, *, expected_version: int | None = None) -> Iterator[Transaction]:
        """Group writes so that all of them land or none does, one writer at a time.

        The lock is held from the start of the block to the commit, so what the block reads
        from the workspace is what it replaces. ``expected_version``: the version the caller
        read its data at; when the workspace has moved on since, ``WorkspaceConflictError``
        is raised and nothing is written.

        Examples
        --------
        >>> with ws.transaction() as tx:  # doctest: +SKIP
        ...     tx.write("resources", resources)
        ...     tx.record(user="鈴木", layer="resources", action="import", note="200件")
        """
        with exclusive(self.path, timeout_s=get_settings().lock_timeout_s):
            current = self.version()
            if expected_version is not None and int(expected_version) != current:
                raise WorkspaceConflictError(
                    f"ワークスペースは、読み込んだ後に他の人が更新しました(読み込んだ版 {expected_version}、"
                    f"現在の版 {current})。上書きせずに中止しました。読み直して変更を確かめてから、"
                    "もう一度保存してください。")
            tmp = scratch_path(self.path)
            shutil.copyfile(self.path, tmp)
            try:
                tx = Transaction(tmp)
                yield tx
                tx._flush(current + 1)
                _commit(tmp, self.path)
            finally:
                tmp.unlink(missing_ok=True)

    def backups(self) -> pd.DataFrame:
        """The backup generations of this file, newest (generation 1) first (:func:`scgeo.backups.list_backups`)."""
        return backups.list_backups(self.path)

    def restore(self, generation: int = 1, *, user: str | None = None) -> Path:
        """Bring back backup ``generation`` (1 = newest) as the workspace.

        The current file becomes a backup generation itself, so a restore can be undone by
        restoring generation 1 again. The restore is recorded in the restored file's history,
        and the version moves on (a writer that read the replaced state gets a conflict).
        Returns the backup file that was restored.
        """
        source = backups.generation_path(self.path, generation)
        Workspace.open(source)  # refuses a file that is not a workspace
        with exclusive(self.path, timeout_s=get_settings().lock_timeout_s):
            current = self.version()
            tmp = scratch_path(self.path)
            shutil.copyfile(source, tmp)
            try:
                tx = Transaction(tmp)
                tx.record(user=user, layer="workspace", action="restore",
                          note=f"バックアップ {source.name} から復元")
                tx._flush(current + 1)
                _commit(tmp, self.path)
            finally:
                tmp.unlink(missing_ok=True)
        return source

    def import_result(self, name: str, result: ImportResult, *, mode: str = "append",
                      user: str | None = None, source: str | None = None, list_name: str | None = None,
                      confirmed_method: str = "prior_record", expected_version: int | None = None,
                      updates: pd.DataFrame | None = None) -> int:
        """Write the accepted rows of an importer's result into the workspace.

        Parameters
        ----------
        name
            ``areas``, ``town_blocks`` (areas of level town_block plus population), ``resources``
            or ``needs``.
        result
            What an importer of :mod:`scgeo.io` returned.
        mode
            ``append`` adds the rows (ids must be new: the importers reject ids already present
            when given ``existing_ids=ws.ids(...)``); ``replace`` replaces the layer, or for areas
            the rows of the levels being imported; ``refresh`` (resources) re-imports an official
            list named ``list_name``: rows with known ids replace them, new ids are added, and
            resources whose ``source`` names the list but that the file no longer holds are kept
            and marked 要確認 (missing from the list, with the list named).
        user, source
            Recorded in the edit history.
        list_name
            With ``mode="refresh"``: text that the ``source`` of the list's resources contains
            (e.g. ``介護サービス情報公表``).
        confirmed_method
            How the resources' ``last_confirmed`` dates in the file were obtained: they become
            confirmations of this method (``prior_record`` 以前の記録, ``open_data``
            公開データの更新, ``letter`` 書面 …).
        expected_version
            The version the caller read (``WorkspaceConflictError`` when it changed since).
        updates
            Rows (of a point layer, with the id of an existing feature) that replace the values
            of that feature: the "update existing" choice for a duplicate. Their changes are
            recorded field by field in the history.

        The result's ``unplaced`` rows (位置未確定) are added to the ``unplaced`` list in the
        same transaction.

        Returns
        -------
        int
            Number of rows written (added and updated; the unplaced rows are not counted); with
            nothing to write (no accepted, updated or unplaced row) nothing is written (not even a
            history row), and a result without any row at all raises ``InputError``.
        """
        if mode not in ("append", "replace", "refresh"):
            raise InputError(f"mode は append, replace, refresh のいずれかです(指定: {mode})")
        if mode == "refresh" and (name != "resources" or not list_name):
            raise InputError("refresh(一覧の再取込)は社会資源だけで、一覧の名前(出典に含まれる語)が必要です。")
        accepted = result.accepted
        unplaced = result.unplaced if result.unplaced is not None else None
        if not (len(accepted) or (updates is not None and len(updates)) or (unplaced is not None and len(unplaced))):
            if not len(result.rejected):  # nothing to import: no layer rewritten, no history row
                raise InputError("取り込む行がありません(見出しだけのファイルです)。何も書き込んでいません。")
            return 0
        note = f"{source or ''} {result.summary()}".strip()
        targets: list[tuple[str, pd.DataFrame]]
        if name in ("areas", "town_blocks"):
            targets = [("areas", accepted[[*AREAS.names, "geometry"]])]
            if name == "town_blocks":
                targets.append(("population", pd.DataFrame(accepted[POPULATION.names])))
        elif name in _IMPORTABLE or (name in STORED_LAYERS and name not in _NOT_IMPORTABLE):
            targets = [(name, accepted)]
        else:
            raise InputError(f"取り込めるレイヤは areas, town_blocks, {', '.join(_IMPORTABLE)} などです(指定: {name})")
        with self.transaction(expected_version=expected_version) as tx:
            for target, frame in targets:
                current = self.read(target)
                if updates is not None and len(updates):
                    current = self._apply_updates(tx, target, current, updates, user=user)
                id_col = STORED_LAYERS[target].id_column
                if mode == "replace" and target == "areas":
                    current = current[~current["level"].isin(frame["level"].unique())]
                elif mode == "replace":
                    current = current.iloc[0:0]
                if target == "resources":
                    self._import_resources(tx, current, frame, mode=mode, list_name=list_name, user=user,
                                           source=source, method=confirmed_method)
                    continue
                clash = set(current[id_col]) & set(frame[id_col])
                if clash:
                    raise InputError(f"ID {', '.join(sorted(clash)[:5])} は既に登録されています。"
                                     "置き換える場合は --replace を付けてください。")
                tx.write(target, _concat(current, frame))
            if unplaced is not None and len(unplaced):
                pending = self.read("unplaced")
                if mode == "replace":
                    pending = pending[pending["layer"] != name]
                tx.write("unplaced", _concat(pending, unplaced))
            tx.record(user=user, layer=name, action=f"import:{mode}", new=len(accepted), note=note)
        return len(accepted) + (0 if updates is None else len(updates))

    @staticmethod
    def _apply_updates(tx: Transaction, name: str, current: pd.DataFrame, updates: pd.DataFrame, *,
                       user: str | None) -> pd.DataFrame:
        id_col = STORED_LAYERS[name].id_column
        position = pd.Series(current.index, index=current[id_col])
        missing = set(updates[id_col]) - set(position.index)
        if missing:
            raise InputError(f"更新する ID {', '.join(sorted(missing)[:5])} は"
                             f"{STORED_LAYERS[name].label}にありません。")
        current = current.copy()
        for _, row in updates.iterrows():  # one history row per changed field: a handful of rows
            at = position[row[id_col]]
            for col in [c for c in STORED_LAYERS[name].names if c != id_col]:
                new = row[col]
                if _text(new) is None or _text(new) == _text(current.at[at, col]):
                    continue
                tx.record(user=user, layer=name, action="update", feature_id=row[id_col], field=col,
                          old=current.at[at, col], new=new, note="取込(重複の更新)")
                current.at[at, col] = new
            current.loc[at, "geometry"] = row["geometry"]
        return current

    # ------------------------------------------------------------ 位置未確定 (unplaced rows)

    def set_meta(self, values: Mapping[str, object], *, user: str | None = None) -> None:
        """Set workspace metadata keys (e.g. ``geocode_source``), recorded in the history."""
        with self.transaction() as tx:
            tx.set_meta(values)
            for key, value in values.items():
                tx.record(user=user, layer="meta", action="update", field=key, new=value)

    def unplaced(self, layer: str | None = None) -> pd.DataFrame:
        """The 位置未確定 list (all of it, or the rows bound for ``layer``), oldest first."""
        frame = self.read("unplaced")
        return frame if layer is None else frame[frame["layer"] == layer].reset_index(drop=True)

    def place_unplaced(self, unplaced_id: str, *, lon: float | None = None, lat: float | None = None,
                       town_block: str | None = None, user: str | None = None) -> pd.Series:
        """Place a 位置未確定 row: at a clicked point (``match_level`` ``manual``) or at a town
        block's representative point (``chome``, the block's name as ``matched_address``).

        The row moves from the list into its layer in one transaction; returns the new feature.
        """
        import json

        from shapely.geometry import Point

        with self.transaction() as tx:  # read under the lock: a concurrent edit is not lost
            pending = self.read("unplaced")
            hit = pending["unplaced_id"] == unplaced_id
            if not hit.any():
                raise InputError(f"位置未確定の行 {unplaced_id} はありません(既に配置済みかもしれません)。")
            row = pending[hit].iloc[0]
            values = json.loads(row["row_values"])
            if town_block is not None:
                blocks = self.areas("town_block")
                block = blocks[blocks["area_id"] == town_block]
                if not len(block):
                    raise InputError(f"町丁目 {town_block} はワークスペースにありません。")
                point = block.geometry.representative_point().iloc[0]
                values["match_level"] = "chome"
                if "matched_address" in STORED_LAYERS[row["layer"]].names:
                    values["matched_address"] = str(block["name"].iloc[0])
            elif lon is not None and lat is not None:
                point = Point(float(lon), float(lat))
                values["match_level"] = "manual"
                if "matched_address" in STORED_LAYERS[row["layer"]].names:
                    values["matched_address"] = None
            else:
                raise InputError("配置する位置 (緯度・経度) か町丁目を指定してください。")
            layer = STORED_LAYERS[row["layer"]]
            frame = self.read(layer.name)
            new = gpd.GeoDataFrame(pd.DataFrame([values]), geometry=[point], crs=get_settings().workspace_crs)
            checked = validate(new, layer, existing_ids=set(frame[layer.id_column]))
            if len(checked.rejected):
                raise InputError(checked.rejected["reason"].iloc[0])
            tx.write(layer.name, _concat(frame, checked.accepted))
            tx.write("unplaced", pending[~hit])
            tx.record(user=user, layer=layer.name, action="place", feature_id=values[layer.id_column],
                      new=f"{point.y:.6f},{point.x:.6f}", note=f"位置未確定から配置 ({values['match_level']})")
            return checked.accepted.iloc[0]

    def discard_unplaced(self, unplaced_id: str, *, user: str | None = None) -> None:
        """Remove a row from the 位置未確定 list without placing it (kept in the history)."""
        with self.transaction() as tx:
            pending = self.read("unplaced")
            hit = pending["unplaced_id"] == unplaced_id
            if not hit.any():
                raise InputError(f"位置未確定の行 {unplaced_id} はありません。")
            tx.write("unplaced", pending[~hit])
            tx.record(user=user, layer="unplaced", action="delete", feature_id=unplaced_id,
                      old=pending.loc[hit, "name"].iloc[0])

    def write_network(self, nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame,
                      lines: gpd.GeoDataFrame | None = None, *, user: str | None = None,
                      source: str | None = None) -> None:
        """Replace the walking network (and basemap lines, when given) in one transaction."""
        with self.transaction() as tx:
            tx.write("network_nodes", nodes.to_crs(get_settings().workspace_crs))
            tx.write("network_edges", edges.to_crs(get_settings().workspace_crs))
            if lines is not None:
                tx.write("basemap_lines", lines.to_crs(get_settings().workspace_crs))
            tx.record(user=user, layer="network", action="import:replace", new=len(edges),
                      note=f"{source or ''} 交点 {len(nodes)}、道 {len(edges)}".strip())

    def changed_since(self, name: str, feature_id: str, version: int) -> pd.DataFrame:
        """History rows that changed feature ``feature_id`` of layer ``name`` after workspace ``version``.

        Rows about the whole layer (an import) or the whole workspace (a restore, a migration)
        count as changing every feature. Rows of files older than the history's ``version``
        column have none and are taken as older than any version a caller read.
        """
        edits = self.read("edits")
        later = edits[edits["version"].fillna(0) > int(version)]
        whole = (later["layer"].eq(name) & later["feature_id"].isna()) | later["layer"].eq("workspace")
        return later[(later["layer"].eq(name) & later["feature_id"].eq(str(feature_id))).fillna(False) | whole]

    def _refuse_changed(self, name: str, feature_id: str, version: int | None) -> None:
        if version is None:
            return
        changed = self.changed_since(name, feature_id, version)
        if not len(changed):
            return
        layer = STORED_LAYERS[name]
        fields = [layer.column(f).label if f in layer.names else f for f in changed["field"].dropna().unique()]
        what = "、".join(dict.fromkeys([*fields, *(_WHOLE_CHANGES.get(a.split(":")[0], a) for a in changed["action"]
                                                   if a != "update")]))
        who = "、".join(dict.fromkeys(changed["user"].astype(str)))
        raise WorkspaceConflictError(
            f"{layer.label} {feature_id} は、読み込んだ後に {who} が変更しました({what})。"
            "上書きせずに中止しました。読み直して変更を確かめてから、もう一度保存してください。")

    def update_feature(self, name: str, feature_id: str, changes: Mapping[str, object], *,
                       user: str | None = None, expected_version: int | None = None,
                       feature_version: int | None = None) -> pd.Series:
        """Change fields of one feature, validated against the schema, with history rows.

        The feature is read under the workspace's lock, so two editors never lose each other's
        changes. ``expected_version`` (the version the caller's data came from) turns a write
        over a newer workspace into a ``WorkspaceConflictError``; ``feature_version`` (the version
        the caller read this feature at) does so only when this feature changed since
        (:meth:`changed_since`): editors of different features do not stop each other.
        Raises ``InputError`` (Japanese message) when the changed row no longer validates.
        A resource's ``last_confirmed`` is not edited: it follows its confirmations
        (:meth:`confirm_resource`, :meth:`record_confirmations`). Returns the updated row.
        """
        _refuse_immutable(name)
        if name == "resources" and "last_confirmed" in changes:
            raise InputError("最終確認日は確認の記録から決まります。"
                             "「確認済みにする」(confirm_resource)で記録してください。")
        layer = STORED_LAYERS[name]
        with self.transaction(expected_version=expected_version) as tx:
            self._refuse_changed(name, feature_id, feature_version)
            frame, history = _changed(self.read(name), layer, {feature_id: changes})
            tx.write(name, frame)
            for row in history:
                tx.record(user=user, layer=name, action="update", **row)
        return frame[frame[layer.id_column] == feature_id].iloc[0]

    def add_feature(self, name: str, values: Mapping[str, object], *, user: str | None = None,
                    expected_version: int | None = None) -> pd.Series:
        """Add one feature (validated; the id must be new) and record it in the history.

        A resource's ``last_confirmed``, when given, is recorded as its first confirmation.
        """
        _refuse_immutable(name)
        layer = STORED_LAYERS[name]
        row = pd.DataFrame([dict(values)])
        if layer.geometry:
            row = gpd.GeoDataFrame(row, geometry="geometry", crs=get_settings().workspace_crs)
        with self.transaction(expected_version=expected_version) as tx:
            frame = self.read(name)
            checked = validate(row, layer, existing_ids=set(frame[layer.id_column]))
            if len(checked.rejected):
                raise InputError(checked.rejected["reason"].iloc[0])
            new = checked.accepted.iloc[0]
            if name == "resources":
                self._import_resources(tx, frame, checked.accepted, mode="append", list_name=None, user=user,
                                       source="登録時の入力", method="prior_record")
            else:
                tx.write(name, _concat(frame, checked.accepted))
            tx.record(user=user, layer=name, action="insert", feature_id=new[layer.id_column],
                      new=new.get("name", new[layer.id_column]))
        return new

    def delete_feature(self, name: str, feature_id: str, *, user: str | None = None,
                       expected_version: int | None = None, feature_version: int | None = None) -> None:
        """Delete one feature; its old values are kept in the history (versions as :meth:`update_feature`)."""
        _refuse_immutable(name)
        layer = STORED_LAYERS[name]
        with self.transaction(expected_version=expected_version) as tx:
            self._refuse_changed(name, feature_id, feature_version)
            frame = self.read(name)
            match = frame[layer.id_column] == feature_id
            if not match.any():
                raise InputError(f"ID {feature_id} は{layer.label}にありません。")
            old = frame[match].drop(columns="geometry", errors="ignore").iloc[0]
            tx.write(name, frame[~match])
            tx.record(user=user, layer=name, action="delete", feature_id=feature_id,
                      old="; ".join(f"{k}={_text(v)}" for k, v in old.items() if _text(v)))

    def sqlite(self) -> sqlite3.Connection:
        """A read-only SQLite connection to the file (for inspection, e.g. ``gpkg_contents``)."""
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)


def find_workspaces(folder: str | Path) -> list[Path]:
    """The GeoPackages in ``folder`` that may be offered as workspaces, sorted.

    Hidden files and folders (scratch copies of a write in progress or of a crashed one,
    ``.town.gpkg.scgeo/``) are never listed.
    """
    return sorted(p for p in Path(folder).glob("*.gpkg") if not p.name.startswith(".") and p.is_file())
