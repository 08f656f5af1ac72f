"""Typed errors. ``str(error)`` is the Japanese message shown to users."""

__all__ = ["AccessDeniedError", "CRSError", "InputError", "PermissionDeniedError", "ScgeoError",
           "WorkspaceBusyError", "WorkspaceConflictError", "WorkspaceError"]


class ScgeoError(Exception):
    """Base class of every error scgeo raises on purpose (the CLI exits 2 on it)."""


class InputError(ScgeoError, ValueError):
    """An input file or argument cannot be used as it is; the message says how to fix it."""


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or wrong for the operation."""


class WorkspaceError(ScgeoError):
    """A workspace file is missing, not a scgeo workspace, or cannot be written."""


class WorkspaceBusyError(WorkspaceError):
    """Another process (or person) is writing the workspace and did not finish within the timeout."""


class AccessDeniedError(WorkspaceError, PermissionError):
    """The storage refused a read or a write: the database user's role does not allow it."""


class WorkspaceConflictError(WorkspaceError):
    """The workspace changed after the caller read it: writing would overwrite someone's update."""


class PermissionDeniedError(ScgeoError, PermissionError):
    """The user's role or area does not allow what was asked (:mod:`scgeo.permissions`)."""
