"""Reading tables (CSV, TSV, Excel) as text, the way people type them.

Files are read as a stream and stopped at the limits of the settings (``max_rows`` rows,
``max_cells`` cells; an xlsx's zip is checked before it is opened), so a small file that claims
millions of rows costs no more than the limit; ``head`` reads only the first rows (previews).
"""

from __future__ import annotations

import datetime as dt
import warnings
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from scgeo._errors import InputError
from scgeo.io._encoding import detect_encoding
from scgeo.io._limits import RowBudget, check_zip
from scgeo.schema import NUL, NUL_MARK

__all__ = ["TABLE_SUFFIXES", "read_table"]

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
_HEADER_SEARCH_ROWS = 20
_CSV_CHUNK_ROWS = 20_000
_XLSX_MAX_RATIO = 1000.0  # sheet XML is very repetitive; the row and cell limits do the rest


def read_table(path: str | Path, *, sheet: str | int | None = None, encoding: str | None = None,
               head: int | None = None, max_rows: int | None = None) -> pd.DataFrame:
    """Read a CSV/TSV or Excel (.xlsx) table with every cell as text.

    Parameters
    ----------
    path
        A ``.csv`` / ``.txt`` (comma), ``.tsv`` (tab) or ``.xlsx`` / ``.xlsm`` file.
    sheet
        Excel sheet name or 0-based position; the first sheet by default.
    encoding
        Text encoding of a CSV; detected by default (UTF-8, UTF-8 with BOM or cp932).
    head
        Read only the first ``head`` data rows (the rest of the file is not read).
    max_rows
        Most data rows accepted (default ``settings.max_rows``; cells: ``settings.max_cells``).

    Returns
    -------
    pandas.DataFrame
        Headers as in the file (a blank header becomes ``列N``, a repeated one gets ``.1``),
        cells as ``str`` or ``None``. The index is the 1-based data row number (the first row
        under the header is 1); wholly empty rows are left out, so numbers may skip. In Excel,
        title rows above the header are skipped, dates become ``YYYY-MM-DD`` and whole numbers
        lose their ``.0``.

    Raises
    ------
    InputError
        The file is missing, of an unsupported kind, not decodable or not a table;
        ``InputLimitError`` when it goes beyond a limit.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"ファイル {path} が見つかりません。")
    suffix = path.suffix.lower()
    budget = RowBudget(path.name, max_rows=max_rows, slack_rows=_HEADER_SEARCH_ROWS + 1)
    if suffix in (".xlsx", ".xlsm"):
        grid = _read_excel(path, sheet, budget, None if head is None else head + _HEADER_SEARCH_ROWS + 1)
        header = _header_row(grid)
    elif suffix in (".csv", ".txt", ".tsv"):
        grid = _read_csv(path, encoding, budget, None if head is None else head + 1,
                         sep="\t" if suffix == ".tsv" else ",")
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
    body.index = pd.Index(grid.index[header + 1:] - grid.index[header], name="source_row")
    body = body[body.notna().any(axis=1)]
    budget.check_rows(len(body))  # the exact count of data rows (title rows and the header excluded)
    return body if head is None else body.head(head)


def _read_csv(path: Path, encoding: str | None, budget: RowBudget | None = None, limit: int | None = None, *,
              sep: str) -> pd.DataFrame:
    """The CSV as a grid of text cells (no header handling), stopped at the limits of ``budget``."""
    budget = budget or RowBudget(path.name, slack_rows=_HEADER_SEARCH_ROWS + 1)
    with open(path, "rb") as handle:
        start = handle.read(1_000_000)
    enc = encoding or detect_encoding(start)
    if enc.replace("-", "").lower() in ("utf8", "utf8sig") or start.startswith(b"\xef\xbb\xbf"):
        enc = "utf-8-sig"  # a BOM is not part of the first header
    chunks = []
    try:
        with open(path, encoding=enc, newline="") as text:
            reader = pd.read_csv(_NulMarked(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                                 skip_blank_lines=False, chunksize=_CSV_CHUNK_ROWS, nrows=limit)
            for chunk in reader:
                budget.add(len(chunk), chunk.shape[1])
                chunks.append(chunk)
    except (UnicodeDecodeError, LookupError) as exc:
        hint = "" if encoding else "UTF-8 か Shift_JIS (cp932) で保存し直すか、"
        raise InputError(f"{path.name} を文字コード {enc} で読めません。{hint}"
                         f"文字コード (encoding) を指定してください。({exc})") from exc
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as exc:
        raise InputError(f"{path.name} を CSV として読めません。"
                         f"列の数がそろっているか確認してください。({exc})") from exc
    if not chunks:
        return pd.DataFrame()
    grid = pd.concat(chunks)
    return grid.astype(object).where(grid.ne(""), None)


class _NulMarked:
    """A text stream whose NUL characters come out as ``␀`` (the CSV parser would cut the cell there)."""

    def __init__(self, handle) -> None:
        self._handle = handle

    def read(self, size: int = -1) -> str:
        return self._handle.read(size).replace(NUL, NUL_MARK)

    def __iter__(self):
        return (line.replace(NUL, NUL_MARK) for line in self._handle)


def _read_excel(path: Path, sheet: str | int | None, budget: RowBudget, limit: int | None) -> pd.DataFrame:
    try:
        with zipfile.ZipFile(path) as archive:
            check_zip(archive, path.name, max_ratio=_XLSX_MAX_RATIO)
        with warnings.catch_warnings():
            # openpyxl's notes about the file's styling say nothing about its data
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except InputError:
        raise
    except Exception as exc:  # zipfile and openpyxl raise many kinds on a damaged or foreign file
        raise InputError(f"{path.name} を Excel ファイルとして読めません。({exc})") from exc
    try:
        names = book.sheetnames
        if sheet is None or (isinstance(sheet, int) and 0 <= sheet < len(names)):
            chosen = names[sheet or 0]
        elif isinstance(sheet, str) and sheet in names:
            chosen = sheet
        else:
            raise InputError(f"{path.name} にシート {sheet} がありません。"
                             f"シート名を確認してください(シート: {', '.join(names)})。")
        worksheet = book[chosen]
        worksheet.reset_dimensions()  # the stored size can be wrong either way: read what is there
        rows, positions = [], []
        for position, values in enumerate(worksheet.iter_rows(values_only=True)):
            if limit is not None and position >= limit:
                break
            cells = [_cell_text(v) for v in values]
            while cells and cells[-1] is None:
                cells.pop()
            if cells:
                budget.add(1, len(cells))
                rows.append(cells)
                positions.append(position)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path.name} を Excel ファイルとして読めません。({exc})") from exc
    finally:
        book.close()
    width = max((len(r) for r in rows), default=0)
    grid = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], index=positions, dtype=object)
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
