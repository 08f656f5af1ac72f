"""Copy a workspace between backends: GeoPackage ⇄ PostgreSQL + PostGIS (``scgeo migrate``).

Every layer, every history row and the metadata are copied in one transaction of the target
(a failure leaves the target as it was); the copy carries the source's version on, and one
history row says where it came from. ``scgeo migrate postgresql://… snapshot.gpkg`` is the
GeoPackage snapshot of a shared database at any time; the reverse brings one into a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scgeo._errors import InputError, WorkspaceError
from scgeo.workspace import STORED_LAYERS, Workspace, is_database_url

__all__ = ["MigrationReport", "migrate"]

# Written by the target's own creation, not copied from the source.
_OWN_META = ("version", "scgeo_version", "schema_version")


@dataclass
class MigrationReport:
    """What :func:`migrate` copied: rows per layer, history rows, the version carried on."""

    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    version: int = 0

    @property
    def edits(self) -> int:
        """History rows copied (the row recording the migration not counted)."""
        return self.rows.get("edits", 0)


def migrate(source: str | Path, target: str | Path, *, overwrite: bool = False,
            user: str | None = None) -> MigrationReport:
    """Copy the workspace ``source`` to ``target`` (a ``.gpkg`` path or a ``postgresql://…`` URL).

    Parameters
    ----------
    source, target
        Workspaces: either may be a GeoPackage or a database; they must differ.
    overwrite
        Replace a workspace already at ``target`` (otherwise ``WorkspaceError``).
    user
        Recorded in the target's history.

    Returns
    -------
    MigrationReport
        Rows copied per layer, checked against the target after the commit (``WorkspaceError``
        when a count differs).
    """
    if not is_database_url(source) and not is_database_url(target) and Path(source).resolve() == Path(target).resolve():
        raise InputError("移行元と移行先が同じです。別のファイルかデータベースを指定してください。")
    if str(source) == str(target):
        raise InputError("移行元と移行先が同じです。別のファイルかデータベースを指定してください。")
    src = Workspace.open(source)
    meta = src.meta()
    version = src.version()
    frames = {name: src.read(name) for name in STORED_LAYERS}
    report = MigrationReport(source=src.location, target="", version=version + 1,
                             rows={name: len(frame) for name, frame in frames.items()})
    with Workspace.building(target, muni_code=meta["muni_code"], muni_name=meta.get("muni_name") or "",
                            overwrite=overwrite) as tx:
        for name, frame in frames.items():
            if len(frame):
                tx.write(name, frame)
        tx.set_meta({k: v for k, v in meta.items() if k not in _OWN_META and v is not None})
        tx.record(user=user, layer="workspace", action="migrate",
                  note=f"{src.location} から移行(移行元の版 {version}、{src.backend} → "
                       f"{'postgis' if is_database_url(target) else 'gpkg'})")
        tx.next_version = version + 1
    dst = Workspace.open(target)
    report.target = dst.location
    for name, rows in report.rows.items():
        found = dst.count(name) - (1 if name == "edits" else 0)
        if found != rows:
            raise WorkspaceError(f"移行先の{STORED_LAYERS[name].label}が {found} 行で、"
                                 f"移行元の {rows} 行と合いません。")
    return report
