"""Subcommands of ``scgeo`` grouped by capability.

Each module here defines ``register(sub)``, which adds its subcommands to the parser's
subparsers (``sub.add_parser(...)`` with ``set_defaults(func=...)``); :mod:`scgeo.cli` finds the
modules by listing this package. A command function takes the parsed arguments, prints in
Japanese, returns an exit code, and raises :class:`scgeo.InputError` for the user's mistakes.
"""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path

__all__ = ["REJECTED_HEADERS", "level_arg", "parse_mapping", "rejected_for_people", "rejected_path", "write_rejected"]

#: The rejected-rows CSV for people: Excel's row number and the reason under Japanese headers.
REJECTED_HEADERS = {"file_row": "行番号", "reason": "除外の理由"}


def level_arg(text: str) -> str:
    """``--level``: an area-level code or its Japanese name (``中学校区``, ``日常生活圏域`` …)."""
    from scgeo._errors import InputError
    from scgeo.schema import resolve_level

    try:
        return resolve_level(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def parse_mapping(text: str | None) -> dict[str, str] | None:
    """``--mapping``: a JSON/TOML file, or inline ``name=施設名,lat=緯度``."""
    from scgeo._errors import InputError

    if not text:
        return None
    path = Path(text)
    if path.is_file():
        raw = path.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(raw) if path.suffix == ".toml" else json.loads(raw)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"列の対応ファイル {path} を読めません: {exc}") from exc
        return {str(k): str(v) for k, v in data.items()}
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if not pairs or any(len(p) != 2 for p in pairs):
        raise InputError("--mapping は「列名=元の見出し」をカンマで区切って指定します(例: name=施設名,lat=緯度)。")
    return {k.strip(): v.strip() for k, v in pairs}


def rejected_path(workspace: Path, source: Path, *, layer: str, folder: str | Path | None = None) -> Path:
    """Where the rejected rows of an import go: never into the user's data folder.

    ``rejected/`` beside the workspace (or ``folder``). The needs layer's rejected rows keep the
    original cells of personal records: an internal output, always in ``internal/`` beside the
    workspace.
    """
    if layer == "needs":
        folder = Path(workspace).parent / "internal"
    elif folder is None:
        folder = Path(workspace).parent / "rejected"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{Path(source).stem}_rejected.csv"


def write_rejected(rejected, workspace: Path, source: Path, *, layer: str, folder: str | Path | None = None,
                   name: str | None = None) -> Path:
    """Write an importer's rejected rows (:func:`rejected_path`, or ``name`` in that folder) for people.

    The row number and the reason under Japanese headers (:data:`REJECTED_HEADERS`), the file's
    own columns as they were, spreadsheet formulas neutralised (:func:`scgeo.sheets.write_csv`).
    """
    from scgeo.sheets import write_csv

    out = rejected_path(workspace, source, layer=layer, folder=folder)
    if name is not None:
        out = out.with_name(name)
    return write_csv(rejected_for_people(rejected), out)


def rejected_for_people(rejected):
    """An importer's rejected rows as people read them (the CLI's file and the app's download).

    The file's row number (Excel's, counting the header row, where known) and the reason under
    Japanese headers (:data:`REJECTED_HEADERS`); the file's own columns as they were.
    """
    rows = rejected.drop(columns="source_row") if "file_row" in rejected else \
        rejected.rename(columns={"source_row": "file_row"})
    return rows.rename(columns=REJECTED_HEADERS)
