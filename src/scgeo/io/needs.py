"""Importing needs (ニーズ) from CSV or Excel, leaving out anything that identifies a person."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from scgeo._errors import InputError
from scgeo.io._points import read_points
from scgeo.schema import NEEDS, ImportResult, Taxonomy

__all__ = ["read_needs"]


def read_needs(path: str | Path, *, mapping: Mapping[str, str] | None = None,
               sheet: str | int | None = None, encoding: str | None = None,
               taxonomy: Taxonomy | None = None,
               existing_ids: set[str] | None = None, geocoder=None, geocode_cache=None,
               progress=None) -> ImportResult:
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
    geocoder
        Places rows without coordinates from their address column (used for that only, then
        dropped); ``match_level`` is kept, the matched text is not. An online geocoder is
        refused: needs' addresses are personal data and never leave the machine.
    geocode_cache, progress
        Passed to :func:`scgeo.geocode.geocode`.

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
    if geocoder is not None and (getattr(geocoder, "name", "") == "gsi" or getattr(geocoder, "url", None)):
        raise InputError("ニーズの住所は個人情報のため、インターネットの住所検索 (gsi・jageocoder の"
                         "サーバー) には送れません。gazetteer:FILE、jageocoder:DIR、town-blocks を"
                         "使ってください。")
    return read_points(path, NEEDS, mapping=mapping, sheet=sheet, encoding=encoding,
                       taxonomy=taxonomy, existing_ids=existing_ids, id_prefix="N",
                       drop_personal=True, geocoder=geocoder, geocode_cache=geocode_cache,
                       progress=progress)
