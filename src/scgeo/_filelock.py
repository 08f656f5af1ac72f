"""The workspace's side folder: an exclusive lock file and the scratch copies of transactions.

Beside ``town.gpkg`` lives the hidden folder ``.town.gpkg.scgeo/``: ``lock`` (held while one
writer works) and ``*.tmp.gpkg`` (a transaction's copy, renamed over the workspace on success).
The folder is on the same file system as the workspace, so the rename is atomic; a copy left by
a crash is removed the next time the workspace is opened with no writer at work.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from scgeo._errors import WorkspaceBusyError

__all__ = ["exclusive", "fsync_dir", "remove_leftovers", "scratch_path", "side_folder"]

SCRATCH_GLOB = "*.tmp.gpkg"


def side_folder(path: Path) -> Path:
    """The hidden folder beside ``path`` (``out/.workspace.gpkg.scgeo``)."""
    return path.parent / f".{path.name}.scgeo"


def scratch_path(path: Path) -> Path:
    """A new scratch copy's name in the side folder (created when missing)."""
    folder = side_folder(path)
    folder.mkdir(exist_ok=True)
    return folder / f"{uuid.uuid4().hex[:12]}.tmp.gpkg"


def _try_lock(fd: int) -> bool:
    if os.name == "nt":  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def exclusive(path: Path, *, timeout_s: float) -> Iterator[None]:
    """Hold the workspace's lock (one writer at a time, across processes and threads).

    Raises
    ------
    WorkspaceBusyError
        Another writer held it for longer than ``timeout_s`` seconds.
    """
    with _locked(path, timeout_s) as got:
        if not got:
            raise WorkspaceBusyError(
                f"他の人が更新中です({path.name})。{timeout_s:g}秒待っても終わらなかったため中止しました。"
                "しばらく待ってから、もう一度試してください。")
        yield


@contextlib.contextmanager
def _locked(path: Path, timeout_s: float) -> Iterator[bool]:
    folder = side_folder(path)
    folder.mkdir(exist_ok=True)
    fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline, pause = time.monotonic() + timeout_s, 0.005
        while not (got := _try_lock(fd)) and time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        yield got
    finally:
        os.close(fd)  # closing releases the lock


def remove_leftovers(path: Path) -> int:
    """Remove scratch copies a crashed writer left (only while no writer is at work).

    Also removes copies named the old way (``.town.<hex>.tmp.gpkg`` beside the file).
    Returns how many files were removed.
    """
    folder = side_folder(path)
    legacy = list(path.parent.glob(f".{path.stem}.*.tmp.gpkg"))
    if not folder.is_dir() and not legacy:
        return 0
    try:
        context = _locked(path, 0.0)
        with context as got:
            if not got:
                return 0
            found = [*folder.glob(SCRATCH_GLOB), *legacy]
            for leftover in found:
                leftover.unlink(missing_ok=True)
            return len(found)
    except OSError:  # a read-only folder: nothing can be left there by us either
        return 0


def fsync_dir(folder: Path) -> None:
    """Flush a directory entry change (a rename) to disk; a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
