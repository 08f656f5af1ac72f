"""Limits on what an input file may make scgeo read: rows, cells, and what a zip unpacks to.

A small file can claim a lot: a 1 MB xlsx can hold two million rows, a 1 MB zip can unpack to
gigabytes. Tables are read as a stream and stopped at ``settings.max_rows`` rows or
``settings.max_cells`` cells; a zip (also the zip inside every xlsx) is checked before anything
is unpacked: total size, compression ratio and number of files. Each limit raises
:class:`InputLimitError` (an ``InputError``: the CLI exits 2) with a Japanese message that says
which limit and how to raise it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from scgeo._errors import InputError
from scgeo.settings import get_settings

__all__ = ["InputLimitError", "RowBudget", "check_zip", "extract_zip"]

_MB = 1024 * 1024
_RATIO_FLOOR_BYTES = 1 * _MB  # below this a member's ratio does not matter


class InputLimitError(InputError):
    """An input file goes beyond a configured limit (rows, cells, unpacked size, ratio, files)."""


class RowBudget:
    """Counts rows and cells read from ``name`` and stops at the limits of the settings.

    Parameters
    ----------
    name
        The file's name, for the message.
    max_rows, max_cells
        Override ``settings.max_rows`` / ``settings.max_cells``.
    slack_rows
        Rows read beyond ``max_rows`` before stopping (a header and title rows above it, which
        are not data); :meth:`check_rows` then checks the exact number of data rows.
    """

    def __init__(self, name: str, *, max_rows: int | None = None, max_cells: int | None = None,
                 slack_rows: int = 0) -> None:
        settings = get_settings()
        self.name = name
        self.max_rows = settings.max_rows if max_rows is None else max_rows
        self.max_cells = settings.max_cells if max_cells is None else max_cells
        self.slack_rows = slack_rows
        self.rows = 0
        self.cells = 0

    def add(self, rows: int, columns: int) -> None:
        """Count ``rows`` more rows of ``columns`` cells; raises past a limit."""
        self.rows += rows
        self.cells += rows * columns
        if self.rows > self.max_rows + self.slack_rows:
            self.check_rows(self.rows)
        if self.cells > self.max_cells:
            raise InputLimitError(
                f"{self.name} はセルが {self.max_cells:,} 個を超えています(上限 max_cells)。"
                "列や行を減らすか、設定ファイル scgeo.toml の max_cells を大きくしてください。")

    def check_rows(self, rows: int) -> None:
        """Raise when ``rows`` data rows are more than ``max_rows``."""
        if rows > self.max_rows:
            raise InputLimitError(
                f"{self.name} は {self.max_rows:,} 行を超えています(上限 max_rows、見出しを除く)。"
                "ファイルを分けるか、設定ファイル scgeo.toml の max_rows を大きくしてください。")


def check_zip(archive: zipfile.ZipFile, name: str, *, max_ratio: float | None = None) -> None:
    """Refuse a zip whose members would unpack beyond the limits (before unpacking anything).

    The sizes checked are those the zip declares; Python's ``zipfile`` never unpacks a member
    beyond its declared size (it stops with a CRC error), so the declared sizes bound the work.

    Raises
    ------
    InputLimitError
        More than ``settings.max_zip_files`` members, more than ``settings.max_unzipped_mb``
        in total, or a member larger than 1 MB compressed more than ``max_ratio``
        (default ``settings.max_zip_ratio``) times.
    """
    settings = get_settings()
    ratio_limit = settings.max_zip_ratio if max_ratio is None else max_ratio
    members = archive.infolist()
    if len(members) > settings.max_zip_files:
        raise InputLimitError(f"{name} には {len(members):,} 個のファイルがあります"
                              f"(上限 {settings.max_zip_files:,} 個、設定 max_zip_files)。")
    total = sum(m.file_size for m in members)
    if total > settings.max_unzipped_mb * _MB:
        raise InputLimitError(f"{name} は展開すると {total / _MB:,.0f} MB になります"
                              f"(上限 {settings.max_unzipped_mb:,} MB、設定 max_unzipped_mb)。"
                              "中身を確かめるか、必要なファイルだけの zip にしてください。")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR_BYTES and ratio > ratio_limit:
            raise InputLimitError(f"{name} の {member.filename} は圧縮率が {ratio:,.0f} 倍です"
                                  f"(上限 {ratio_limit:g} 倍、設定 max_zip_ratio)。"
                                  "zip 爆弾の疑いがあるため展開しません。")


def extract_zip(archive: zipfile.ZipFile, name: str, folder: Path) -> None:
    """:func:`check_zip`, then unpack into ``folder`` (``extractall`` drops absolute paths and ``..``)."""
    check_zip(archive, name)
    archive.extractall(folder)
