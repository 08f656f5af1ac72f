"""Importers: boundaries, resources and needs from the files municipalities actually have.

Every reader returns an :class:`scgeo.schema.ImportResult` that unpacks as
``accepted, rejected``: the accepted rows in the workspace schema and CRS (EPSG:6668), the
rejected rows as they were in the file with ``source_row`` and a Japanese ``reason``, and
``messages`` about repairs (swapped coordinates, repaired polygons, dropped personal columns).
"""

from scgeo.io._encoding import detect_encoding
from scgeo.io._tables import read_table
from scgeo.io.areas import read_areas, read_town_blocks
from scgeo.io.needs import read_needs
from scgeo.io.resources import read_resources

__all__ = [
    "detect_encoding",
    "read_areas",
    "read_needs",
    "read_resources",
    "read_table",
    "read_town_blocks",
]
