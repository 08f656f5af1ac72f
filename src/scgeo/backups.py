"""Backup generations of a workspace file: kept on every replace, listed, brought back.

Every time a workspace file is replaced (a transaction commits, ``Workspace.create`` overwrites,
a restore), the file as it was is kept as a *generation* in the folder ``<name>.backups/``
beside it, e.g. ``out/workspace.backups/workspace.20261201T081503123456.gpkg``. The newest
``Settings.backup_generations`` generations are kept (0 keeps none). Generation 1 is the newest.

Keeping a generation costs no copy: the old file is hard-linked under its backup name just
before the new file replaces it (``os.replace``), so the backup is the old file itself. Where
hard links are not possible (some network drives) the file is copied.

Examples
--------
>>> import tempfile, pathlib
>>> from scgeo import Workspace
>>> path = pathlib.Path(tempfile.mkdtemp()) / "town.gpkg"
>>> ws = Workspace.create(path, muni_code="99201", muni_name="さくら市")
>>> with ws.transaction() as tx:
...     tx.set_meta({"muni_name": "さくら市(試し)"})
>>> list_backups(path)["generation"].tolist()
[1]
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pandas as pd
import pyogrio

from scgeo._errors import InputError

__all__ = ["backup_dir", "generation_path", "keep_backup", "list_backups", "prune_backups"]

_STAMP = "%Y%m%dT%H%M%S%f"
_EDIT_FIELDS = ("at", "user", "layer", "action", "note")
_LAST = tuple(f"last_{k}" for k in _EDIT_FIELDS)


def backup_dir(path: str | Path) -> Path:
    """The folder of ``path``'s backups: ``<name>.backups/`` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}.backups")


def _generations(path: Path) -> list[Path]:
    """Backup files of ``path``, newest first."""
    folder = backup_dir(path)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{path.stem}.*.gpkg"), reverse=True)


def keep_backup(path: str | Path, *, generations: int) -> Path | None:
    """Keep ``path`` as it is now as the newest backup generation (before it is replaced).

    Returns the backup's path, or None when there was nothing to keep or ``generations`` is 0.
    Older generations beyond ``generations`` are deleted.
    """
    path = Path(path)
    if generations <= 0 or not path.is_file():
        return None
    folder = backup_dir(path)
    folder.mkdir(exist_ok=True)
    target = folder / f"{path.stem}.{dt.datetime.now():{_STAMP}}.gpkg"
    try:
        os.link(path, target)
    except OSError:
        shutil.copy2(path, target)
    prune_backups(path, generations=generations)
    return target


def prune_backups(path: str | Path, *, generations: int) -> list[Path]:
    """Delete backups of ``path`` beyond the newest ``generations``; returns those deleted."""
    old = _generations(Path(path))[max(generations, 0):]
    for file in old:
        file.unlink(missing_ok=True)
    return old


def _summary(file: Path) -> dict:
    """When a backup was saved and the last edit it contains."""
    saved = dt.datetime.strptime(file.name.split(".")[-2], _STAMP).astimezone()
    row = {"saved_at": saved.isoformat(timespec="seconds"), "updated_at": None, "resources": None,
           **dict.fromkeys(_LAST), "path": str(file)}
    try:
        meta = pyogrio.read_dataframe(file, layer="meta")
        row["updated_at"] = dict(zip(meta["key"], meta["value"], strict=True)).get("updated_at")
        row["resources"] = int(pyogrio.read_info(file, layer="resources")["features"])
        edits = pyogrio.read_dataframe(file, layer="edits", read_geometry=False)
        if len(edits):
            last = edits.sort_values("edit_id").iloc[-1]
            row.update({f"last_{k}": (None if pd.isna(last[k]) else str(last[k])) for k in _EDIT_FIELDS})
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, KeyError):
        pass  # an unreadable backup is still listed; restoring it is refused by Workspace.open
    return row


def list_backups(path: str | Path) -> pd.DataFrame:
    """The backup generations of ``path``, newest first.

    Columns: ``generation`` (1 = newest), ``saved_at`` (when the backup was made, with its UTC
    offset), ``updated_at`` (the workspace's last write in that generation), ``resources``
    (count), ``last_at``, ``last_user``, ``last_layer``, ``last_action``, ``last_note`` (its last
    history row), ``path``.
    """
    rows = [_summary(file) for file in _generations(Path(path))]
    frame = pd.DataFrame(rows, columns=["saved_at", "updated_at", "resources", *_LAST, "path"])
    frame.insert(0, "generation", range(1, len(frame) + 1))
    return frame


def generation_path(path: str | Path, generation: int) -> Path:
    """The file of backup ``generation`` (1 = newest) of ``path``; ``InputError`` if there is none."""
    files = _generations(Path(path))
    if not files:
        raise InputError(f"{path} のバックアップはありません(フォルダ {backup_dir(path)})。")
    if not 1 <= generation <= len(files):
        raise InputError(f"世代 {generation} のバックアップはありません。1〜{len(files)} を指定してください"
                         "(`scgeo restore … --list` で一覧)。")
    return files[generation - 1]
