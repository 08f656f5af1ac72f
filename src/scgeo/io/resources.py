"""Importing the social-resource inventory (社会資源) from CSV or Excel."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from scgeo.io._points import read_points
from scgeo.schema import RESOURCES, ImportResult, Taxonomy

__all__ = ["read_resources"]


def read_resources(path: str | Path, *, mapping: Mapping[str, str] | None = None,
                   sheet: str | int | None = None, encoding: str | None = None,
                   taxonomy: Taxonomy | None = None,
                   existing_ids: set[str] | None = None, geocoder=None, geocode_cache=None,
                   progress=None, as_of=None) -> ImportResult:
    r"""Read resources (salons, 通いの場, 配食, …) from a CSV or Excel table of points.

    Parameters
    ----------
    path
        ``.csv`` (UTF-8, UTF-8 with BOM or cp932, detected), ``.tsv`` or ``.xlsx``.
    mapping
        ``{column: header}`` overriding the automatic recognition of headers, for the
        columns of :data:`scgeo.schema.RESOURCES` and ``"lat"`` / ``"lon"``, e.g.
        ``{"name": "サロン名", "lat": "緯度(世界測地系)"}``.
    sheet
        Excel sheet name or position (default: the first sheet).
    encoding
        CSV text encoding, when detection is not wanted.
    taxonomy
        Categories and provider types (default: :func:`scgeo.load_taxonomy`).
    existing_ids
        Resource ids already in the workspace: rows reusing one are rejected.
    geocoder
        A :class:`scgeo.geocode.Geocoder` (or see :func:`scgeo.geocode.geocoder_from_source`):
        rows without coordinates are placed from their address, with ``match_level`` and
        ``matched_address``; rows found only at municipality level or not at all go to
        ``unplaced`` (位置未確定). Without it such rows are rejected.
    geocode_cache, progress
        Passed to :func:`scgeo.geocode.geocode`.
    as_of
        The list's own date: ``last_confirmed`` of the rows that carry none.

    Returns
    -------
    ImportResult
        ``accepted``: a GeoDataFrame of points in EPSG:6668 with the RESOURCES columns;
        ``rejected``: the rows as in the file with ``source_row`` and a Japanese ``reason``
        (no coordinates, outside Japan, unknown category, duplicate id, …); ``messages``:
        repairs made (swapped latitude/longitude, generated ids, unused columns).

    Raises
    ------
    InputError
        The file cannot be read, or a required column (name, category, latitude, longitude)
        is missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> rows = ["名称,種別,緯度,経度", "さくらサロン,サロン,35.1,133.2"]
    >>> _ = f.write_text("\n".join(rows), encoding="utf-8")
    >>> accepted, rejected = read_resources(f)
    >>> accepted.loc[0, ["resource_id", "category"]].tolist(), len(rejected)
    (['R0001', 'salon'], 0)
    """
    return read_points(path, RESOURCES, mapping=mapping, sheet=sheet, encoding=encoding,
                       taxonomy=taxonomy, existing_ids=existing_ids, id_prefix="R",
                       geocoder=geocoder, geocode_cache=geocode_cache, progress=progress, as_of=as_of)
