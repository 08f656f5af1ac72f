"""Internal outputs: files holding need ids, per-need minutes or per-need areas, kept apart and marked.

Every such file goes to an ``internal/`` folder (beside the workspace by default, ``out/internal/``
in the demo), has 「内部資料」 in its name, and says 「内部資料 — 個人情報を含む」 inside: a first
column ``注意`` holding the mark on every row (CSV and Excel) and, in Excel, the sheet's name.
No public output links to these files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from scgeo._errors import InputError
from scgeo.sheets import write_csv, write_xlsx

__all__ = ["INTERNAL_DIR", "INTERNAL_MARK", "INTERNAL_TAG", "internal_folder", "internal_path", "rejected_needs",
           "write_internal_table"]

INTERNAL_MARK = "内部資料 — 個人情報を含む"
INTERNAL_TAG = "内部資料"
INTERNAL_DIR = "internal"


def internal_folder(workspace_path: str | Path) -> Path:
    """The folder for a workspace's internal files: ``internal/`` beside the workspace file."""
    return Path(workspace_path).resolve().parent / INTERNAL_DIR


def internal_path(path: str | Path) -> Path:
    """``path`` with 「内部資料」 in its file name (``matches.csv`` → ``matches_内部資料.csv``)."""
    path = Path(path)
    if INTERNAL_TAG in path.name:
        return path
    return path.with_name(f"{path.stem}_{INTERNAL_TAG}{path.suffix}")


def write_internal_table(frame: pd.DataFrame, path: str | Path, *, sheet: str | None = None) -> Path:
    """Write a table holding personal data as CSV (UTF-8 with BOM) or Excel, marked inside and in its name.

    Parameters
    ----------
    frame
        The table (need ids, minutes …).
    path
        ``.csv`` or ``.xlsx``; 「内部資料」 is added to the name when it is not there.
    sheet
        Excel sheet name; default: the mark itself.

    Returns
    -------
    Path
        The file written (its name carries 「内部資料」).
    """
    path = internal_path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(f"内部資料の出力は .csv か .xlsx です(指定: {path.name})。")
    table = pd.DataFrame(frame).copy()
    if "注意" in table:
        table = table.drop(columns="注意")
    table.insert(0, "注意", INTERNAL_MARK)
    if suffix == ".xlsx":
        return write_xlsx(table, path, sheet_name=(sheet or INTERNAL_MARK)[:31])
    return write_csv(table, path)


def rejected_needs(rejected: pd.DataFrame, *, mapping: Mapping[str, str] | None = None,
                   internal: bool = False) -> pd.DataFrame:
    """The rejected rows of a needs import that may be written to a file, with their reason.

    Only the columns the needs schema allows (``need_id``, ``category``, ``recorded_date``,
    ``status``, ``status_date``, ``town_block_id``, under the file's own headers) are kept, with
    ``source_row`` and ``reason``: free text (相談内容, 備考 …), care levels (要介護度), family
    structure and coordinates are dropped. ``internal=True`` keeps every column (the file is then
    still marked as internal by :func:`write_internal_table`).
    """
    if internal:
        return rejected
    from scgeo.io._mapping import match_columns
    from scgeo.schema import NEEDS

    headers = [h for h in rejected.columns if h not in ("source_row", "reason")]
    own = {k: v for k, v in (mapping or {}).items() if k in NEEDS.names and v in headers}
    matched = match_columns(headers, NEEDS, mapping=own)
    keep = [h for h in headers if h in set(matched.values())]
    return rejected[[*keep, "source_row", "reason"]]
