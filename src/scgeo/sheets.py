"""Tables written for spreadsheets (CSV, xlsx) with formulas neutralised: one helper for every export.

A cell that came from data and starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is read by Excel or LibreOffice as a formula (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``). Following
OWASP's guidance on CSV injection, such a text gets a leading apostrophe, so the program shows it
as text. Numbers stay numbers: numeric columns are not touched, and a text that is a plain
number (``-3``, ``+81``, ``1e5``) is left as it is (a spreadsheet reads it as that number, not as a
formula). Column headers are treated like cells.

Every CSV and xlsx that scgeo writes (reports, rejected rows, aggregates, the app's downloads)
goes through :func:`write_csv` / :func:`write_xlsx` (or their ``*_bytes`` forms).

Examples
--------
>>> import pandas as pd
>>> neutralise(pd.DataFrame({"name": ["=1+2", "-5", "@SUM(A1)"], "n": [-1, 2, 3]}))
        name  n
0      '=1+2 -1
1         -5  2
2  '@SUM(A1)  3
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "csv_bytes", "neutralise", "neutralise_text", "restore_text", "write_csv",
           "write_workbook", "write_xlsx", "xlsx_bytes"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise_text(value: object) -> object:
    """``value`` with a leading apostrophe when it is a text a spreadsheet would run as a formula.

    >>> neutralise_text("=1+2"), neutralise_text("@SUM(A1)"), neutralise_text("-12.5"), neutralise_text(3)
    ("'=1+2", "'@SUM(A1)", '-12.5', 3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore_text(value: object) -> object:
    """The inverse of :func:`neutralise_text`, for reading back a table scgeo wrote.

    >>> restore_text("'=1+2"), restore_text("'quoted"), restore_text("plain")
    ('=1+2', "'quoted", 'plain')
    """
    if isinstance(value, str) and value.startswith("'") and neutralise_text(value[1:]) == value:
        return value[1:]
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and headers cannot run as spreadsheet formulas.

    Only text (object or string) columns change; numbers, dates and booleans are kept with
    their dtype.
    """
    out = pd.DataFrame(frame).copy()
    for name in out.columns:
        if out[name].dtype == object or pd.api.types.is_string_dtype(out[name]):
            out[name] = out[name].map(neutralise_text, na_action="ignore")
    out.columns = [neutralise_text(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write ``frame`` (neutralised) as CSV in UTF-8 with BOM and CRLF line ends, as Excel expects.

    With CRLF as the line end, a cell holding a line break or a carriage return is quoted.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise(frame).to_csv(path, index=index, encoding="utf-8-sig", lineterminator="\r\n")
    return path


def csv_bytes(frame: pd.DataFrame, *, index: bool = False) -> bytes:
    """:func:`write_csv` into bytes (for a download button)."""
    return neutralise(frame).to_csv(index=index, lineterminator="\r\n").encode("utf-8-sig")


def _write_sheets(sheets: Mapping[str, pd.DataFrame], target, freeze_panes: str | None,
                  fit_widths: bool) -> None:
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for sheet_name, frame in sheets.items():
            neutralise(frame).to_excel(writer, sheet_name=sheet_name, index=False)
            sheet = writer.sheets[sheet_name]
            for cells in sheet.iter_rows():  # openpyxl would store a text starting with "=" as a formula
                for cell in cells:
                    if cell.data_type == "f":
                        cell.data_type = "s"
            if fit_widths:
                for column in sheet.columns:
                    width = max(len(str(c.value or "")) for c in column[:50])
                    sheet.column_dimensions[column[0].column_letter].width = min(40, max(8, width * 1.8))
            if freeze_panes:
                sheet.freeze_panes = freeze_panes


def write_workbook(sheets: Mapping[str, pd.DataFrame], path: str | Path, *, freeze_panes: str | None = None,
                   fit_widths: bool = False) -> Path:
    """Write several tables as the sheets of one xlsx (``{sheet name: table}``), neutralised like
    :func:`write_xlsx`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_sheets(sheets, path, freeze_panes, fit_widths)
    return path


def write_xlsx(frame: pd.DataFrame, path: str | Path, *, sheet_name: str = "Sheet1",
               freeze_panes: str | None = None, fit_widths: bool = False) -> Path:
    """Write ``frame`` (neutralised) as one xlsx sheet; every text cell is stored as text.

    Parameters
    ----------
    frame
        The table.
    path
        The ``.xlsx`` file.
    sheet_name
        Name of the sheet.
    freeze_panes
        Cell above-left of which rows and columns stay in view (``"C2"``), or ``None``.
    fit_widths
        Set column widths from the first 50 cells (capped at 40 characters).
    """
    return write_workbook({sheet_name: frame}, path, freeze_panes=freeze_panes, fit_widths=fit_widths)


def xlsx_bytes(frame: pd.DataFrame, *, sheet_name: str = "Sheet1", freeze_panes: str | None = None,
               fit_widths: bool = False) -> bytes:
    """:func:`write_xlsx` into bytes (for a download button)."""
    buffer = io.BytesIO()
    _write_sheets({sheet_name: frame}, buffer, freeze_panes, fit_widths)
    return buffer.getvalue()
