"""scgeo: 生活支援コーディネーターのための地域資源マップと空白地帯分析.

The public API, importable with ``import scgeo``::

    import scgeo
    ws = scgeo.Workspace.open("out/workspace.gpkg")
    resources = ws.read("resources")
"""

from importlib.metadata import PackageNotFoundError, version

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
from scgeo.schema import ImportResult, load_taxonomy, validate
from scgeo.settings import Settings, get_settings
from scgeo.workspace import Workspace

try:
    __version__ = version("scgeo")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

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
