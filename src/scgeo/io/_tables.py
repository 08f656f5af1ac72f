"""Reading tables (CSV, TSV, Excel) as text, the way people type them."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo.io._encoding import detect_encoding

__all__ = ["TABLE_SUFFIXES", "read_table"]

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
_HEADER_SEARCH_ROWS = 20


def read_table(path: str | Path, *, sheet: str | int | None = None,
               encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV/TSV or Excel (.xlsx) table with every cell as text.

    Parameters
    ----------
    path
        A ``.csv`` / ``.txt`` (comma), ``.tsv`` (tab) or ``.xlsx`` / ``.xlsm`` file.
    sheet
        Excel sheet name or 0-based position; the first sheet by default.
    encoding
        Text encoding of a CSV; detected by default (UTF-8, UTF-8 with BOM or cp932).

    Returns
    -------
    pandas.DataFrame
        Headers as in the file (a blank header becomes ``列N``, a repeated one gets ``.1``),
        cells as ``str`` or ``None``. The index is the 1-based data row number (the first row
        under the header is 1); wholly empty rows are left out, so numbers may skip. In Excel,
        title rows above the header are skipped, dates become ``YYYY-MM-DD`` and whole numbers
        lose their ``.0``. ``attrs["header_row"]`` is the header's 1-based row in the file, so
        ``source_row + attrs["header_row"]`` is the row number Excel shows.

    Raises
    ------
    InputError
        The file is missing, of an unsupported kind, not decodable or not a table.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"ファイル {path} が見つかりません。")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        grid = _read_excel(path, sheet)
        header = _header_row(grid)
    elif suffix in (".csv", ".txt", ".tsv"):
        grid = _read_csv(path, encoding, sep="\t" if suffix == ".tsv" else ",")
        header = 0
    elif suffix == ".xls":
        raise InputError(f"{path.name} は古い Excel 形式(.xls)です。"
                         "Excel で .xlsx か CSV として保存し直してください。")
    else:
        raise InputError(f"{path.name} は読めない形式です。"
                         "CSV (.csv) か Excel (.xlsx) にしてください。")
    if grid.empty:
        raise InputError(f"{path.name} にデータがありません。")
    columns = _headers(grid.iloc[header])
    body = grid.iloc[header + 1:].set_axis(columns, axis=1)
    body.index = pd.RangeIndex(1, len(body) + 1, name="source_row")
    body = body[body.notna().any(axis=1)]
    body.attrs["header_row"] = header + 1  # the header's row number in the file (Excel counts it)
    return body


def _read_csv(path: Path, encoding: str | None, *, sep: str) -> pd.DataFrame:
    data = path.read_bytes()
    enc = encoding or detect_encoding(data[:1_000_000])
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        hint = "" if encoding else "UTF-8 か Shift_JIS (cp932) で保存し直すか、"
        raise InputError(f"{path.name} を文字コード {enc} で読めません。{hint}"
                         f"文字コード (encoding) を指定してください。({exc})") from exc
    try:
        grid = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str,
                           keep_default_na=False, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as exc:
        raise InputError(f"{path.name} を CSV として読めません。"
                         f"列の数がそろっているか確認してください。({exc})") from exc
    return grid.astype(object).where(grid.ne(""), None)


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # openpyxl's notes about the file's styling say nothing about its data
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            grid = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, header=None,
                                 dtype=object, engine="openpyxl")
    except (ValueError, IndexError) as exc:
        if sheet is None:
            raise InputError(f"{path.name} を Excel ファイルとして読めません。({exc})") from exc
        raise InputError(f"{path.name} にシート {sheet} がありません。"
                         f"シート名を確認してください。({exc})") from exc
    except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign file
        raise InputError(f"{path.name} を Excel ファイルとして読めません。({exc})") from exc
    grid = grid.map(_cell_text).astype(object)
    return grid.where(grid.notna(), None)


def _cell_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _header_row(grid: pd.DataFrame) -> int:
    """Position of the header: the first row at least half as full as the fullest near the top."""
    filled = grid.head(_HEADER_SEARCH_ROWS).notna().sum(axis=1).to_numpy()
    if not len(filled):
        return 0
    return int(np.flatnonzero(filled >= max(1, filled.max() / 2))[0])


def _headers(row: pd.Series) -> list[str]:
    out: list[str] = []
    for pos, value in enumerate(row):
        name = "" if pd.isna(value) else str(value).strip()
        name = name or f"列{pos + 1}"
        base, n = name, 0
        while name in out:
            n += 1
            name = f"{base}.{n}"
        out.append(name)
    return out
