"""Importing venues (公民館, 集会所, 地域交流センター, 福祉会館 …) from CSV or Excel.

Venues are places where an activity could be held: candidate sites for 資源開発. They are kept
in their own ``venues`` layer and never counted as a service.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from scgeo.io._points import read_points
from scgeo.schema import VENUES, ImportResult, resolve_venue_kind

__all__ = ["read_venues"]


def read_venues(path: str | Path, *, mapping: Mapping[str, str] | None = None,
                sheet: str | int | None = None, encoding: str | None = None,
                existing_ids: set[str] | None = None, source: str | None = None,
                row_filter: dict | None = None) -> ImportResult:
    r"""Read a list of venues (a table of points) into the :data:`scgeo.schema.VENUES` layer.

    Parameters
    ----------
    path
        ``.csv`` (UTF-8, UTF-8 with BOM or cp932, detected), ``.tsv``, ``.xlsx``, a JSON array
        or a point layer (GeoJSON, Shapefile, GeoPackage).
    mapping
        ``{column: header}`` overriding the automatic recognition of headers (columns of
        ``VENUES`` and ``"lat"`` / ``"lon"``).
    sheet, encoding
        As for :func:`scgeo.io.read_resources`.
    existing_ids
        Venue ids already in the workspace: rows reusing one are rejected.
    source
        Written into the ``source`` column of rows that have none (default: the file name).
    row_filter
        Keep one municipality's rows of a wider list (a recipe's ``filter``).

    Returns
    -------
    ImportResult
        Accepted venues as points in EPSG:6668 with ``kind`` as a code of
        :data:`scgeo.schema.VENUE_KINDS` (from the kind column, else from the name: 「…公民館」
        is ``kominkan``; ``other`` when neither tells), and the rejected rows with reasons.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "v.csv"
    >>> _ = f.write_text("名称,緯度,経度,収容人数\n中央公民館,35.1,133.2,80\n", encoding="utf-8")
    >>> accepted, rejected = read_venues(f)
    >>> accepted.loc[0, ["venue_id", "kind"]].tolist(), int(accepted.loc[0, "capacity"]), len(rejected)
    (['V0001', 'kominkan'], 80, 0)
    """
    result = read_points(path, VENUES, mapping=mapping, sheet=sheet, encoding=encoding,
                         taxonomy=None, existing_ids=existing_ids, id_prefix="V",
                         row_filter=row_filter)
    accepted = result.accepted
    if len(accepted):
        kinds = [resolve_venue_kind(k, n) for k, n in zip(accepted["kind"], accepted["name"], strict=True)]
        accepted["kind"] = kinds
        accepted["source"] = accepted["source"].fillna(source or Path(path).name)
    return ImportResult(accepted, result.rejected, result.messages)
