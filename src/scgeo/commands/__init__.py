"""Subcommands of ``scgeo`` grouped by capability.

Each module here defines ``register(sub)``, which adds its subcommands to the parser's
subparsers (``sub.add_parser(...)`` with ``set_defaults(func=...)``); :mod:`scgeo.cli` finds the
modules by listing this package. A command function takes the parsed arguments, prints in
Japanese, returns an exit code, and raises :class:`scgeo.InputError` for the user's mistakes.
"""
