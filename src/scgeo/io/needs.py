"""Importing needs (ニーズ) from CSV or Excel, leaving out anything that identifies a person."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from scgeo.io._points import read_points
from scgeo.schema import NEEDS, ImportResult, Taxonomy

__all__ = ["read_needs"]


def read_needs(path: str | Path, *, mapping: Mapping[str, str] | None = None,
               sheet: str | int | None = None, encoding: str | None = None,
               taxonomy: Taxonomy | None = None,
               existing_ids: set[str] | None = None) -> ImportResult:
    """Read needs (from 個別相談 and アセスメント) from a CSV or Excel table of points.

    Needs are 要配慮個人情報: a column that would identify a person (``氏名``, ``住所``,
    ``電話番号``, ``生年月日``, ``相談内容`` …, see ``schema.PERSONAL_HEADERS``) is dropped on
    reading, from the accepted and the rejected rows alike, and ``messages`` says so. Only a
    column named explicitly in ``mapping`` is kept.

    Parameters
    ----------
    path
        ``.csv`` (UTF-8, UTF-8 with BOM or cp932, detected), ``.tsv`` or ``.xlsx``.
    mapping
        ``{column: header}`` overriding the automatic recognition of headers, for the
        columns of :data:`scgeo.schema.NEEDS` and ``"lat"`` / ``"lon"``.
    sheet
        Excel sheet name or position (default: the first sheet).
    encoding
        CSV text encoding, when detection is not wanted.
    taxonomy
        Need categories (default: :func:`scgeo.load_taxonomy`).
    existing_ids
        Need ids already in the workspace: rows reusing one are rejected.

    Returns
    -------
    ImportResult
        ``accepted``: a GeoDataFrame of points in EPSG:6668 with the NEEDS columns;
        ``rejected``: the rows (without personal columns) with ``source_row`` and ``reason``;
        ``messages``: dropped personal columns and repairs made.

    Raises
    ------
    InputError
        The file cannot be read, or a required column (category, recorded date, latitude,
        longitude) is missing.
    """
    return read_points(path, NEEDS, mapping=mapping, sheet=sheet, encoding=encoding,
                       taxonomy=taxonomy, existing_ids=existing_ids, id_prefix="N",
                       drop_personal=True)
