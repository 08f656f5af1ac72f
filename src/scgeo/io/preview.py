"""What an import would see: a file's headers and rows, and how its headers map onto the schema.

For previews before an import (the app's データ取込 page); the readers themselves do the real work.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scgeo._errors import InputError
from scgeo.io._mapping import COORDINATE_ALIASES, match_columns
from scgeo.io._tables import read_table
from scgeo.io._vector import read_vector
from scgeo.schema import LAYERS, Layer

__all__ = ["detect_columns", "read_preview"]

_TABLES = {".csv", ".tsv", ".txt", ".xlsx"}


def read_preview(path: str | Path, *, rows: int | None = 5, sheet: str | None = None) -> pd.DataFrame:
    """The attribute table of a CSV/Excel or vector file (headers as in the file, cells as text).

    Geometry is left out; ``rows=None`` returns every row (up to ``settings.max_rows``). Only
    the first ``rows`` rows are read from the file, so a preview of a large file is quick.
    """
    path = Path(path)
    if path.suffix.lower() in _TABLES:
        table = read_table(path, sheet=sheet, head=rows)
    else:
        gdf, _ = read_vector(path, max_features=rows)
        table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    table = table if rows is None else table.head(rows)
    return table.astype("string")


def detect_columns(headers: list[str], layer: Layer | str, *,
                   mapping: dict[str, str] | None = None) -> dict[str, str]:
    """``{schema column: header}`` as the importers would recognise it (``lat``/``lon`` for points).

    An invalid ``mapping`` gives an empty result rather than an error, for previews.
    """
    layer = LAYERS[layer] if isinstance(layer, str) else layer
    extra = COORDINATE_ALIASES if layer.geometry == "Point" else None
    try:
        return match_columns(headers, layer, mapping=mapping, extra=extra)
    except InputError:
        return {}
