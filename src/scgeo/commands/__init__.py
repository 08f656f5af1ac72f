"""Subcommands of ``scgeo`` grouped by capability.

Each module here defines ``register(sub)``, which adds its subcommands to the parser's
subparsers (``sub.add_parser(...)`` with ``set_defaults(func=...)``); :mod:`scgeo.cli` finds the
modules by listing this package. A command function takes the parsed arguments, prints in
Japanese, returns an exit code, and raises :class:`scgeo.InputError` for the user's mistakes.
"""

from __future__ import annotations

import argparse

__all__ = ["level_arg"]


def level_arg(text: str) -> str:
    """``--level``: an area-level code or its Japanese name (``中学校区``, ``日常生活圏域`` …)."""
    from scgeo._errors import InputError
    from scgeo.schema import resolve_level

    try:
        return resolve_level(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
