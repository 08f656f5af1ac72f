"""Typed errors. ``str(error)`` is the Japanese message shown to users."""

__all__ = ["CRSError", "InputError", "ScgeoError", "WorkspaceError"]


class ScgeoError(Exception):
    """Base class of every error scgeo raises on purpose (the CLI exits 2 on it)."""


class InputError(ScgeoError, ValueError):
    """An input file or argument cannot be used as it is; the message says how to fix it."""


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or wrong for the operation."""


class WorkspaceError(ScgeoError):
    """A workspace file is missing, not a scgeo workspace, or cannot be written."""
