"""scgeo: 生活支援コーディネーターのための地域資源マップと空白地帯分析.

The public API, importable with ``import scgeo``::

    import scgeo
    ws = scgeo.Workspace.open("out/workspace.gpkg")
    resources = ws.read("resources")
"""

import scgeo.postgis  # noqa: F401  registers Workspace.open's PostgreSQL backend (postgresql://…)
from scgeo._errors import (
    CRSError,
    InputError,
    PermissionDeniedError,
    ScgeoError,
    WorkspaceBusyError,
    WorkspaceConflictError,
    WorkspaceError,
)
from scgeo._version import __version__
from scgeo.schema import ImportResult, load_taxonomy, validate
from scgeo.settings import Settings, get_settings
from scgeo.workspace import Workspace

__all__ = [
    "CRSError",
    "ImportResult",
    "InputError",
    "PermissionDeniedError",
    "ScgeoError",
    "Settings",
    "Workspace",
    "WorkspaceBusyError",
    "WorkspaceConflictError",
    "WorkspaceError",
    "__version__",
    "get_settings",
    "load_taxonomy",
    "validate",
]
