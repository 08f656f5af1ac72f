"""Importers: boundaries, resources and needs from the files municipalities actually have.

Every reader returns an :class:`scgeo.schema.ImportResult` that unpacks as
``accepted, rejected``: the accepted rows in the workspace schema and CRS (EPSG:6668), the
rejected rows as they were in the file with ``source_row`` and a Japanese ``reason``, and
``messages`` about repairs (swapped coordinates, repaired polygons, dropped personal columns).
"""

from scgeo.io._encoding import detect_encoding
from scgeo.io._tables import read_table
from scgeo.io.areas import read_areas, read_town_blocks
from scgeo.io.estat import (
    read_estat_age_table,
    read_estat_points,
    read_estat_town_blocks,
    town_blocks_from_points,
)
from scgeo.io.kokudo import (
    read_ksj_facilities,
    read_ksj_medical,
    read_ksj_municipality,
    read_ksj_school_districts,
)
from scgeo.io.mesh import interpolate_population, mesh_polygons, read_mesh_population
from scgeo.io.municipal import read_age_table, read_care_services, read_facility_list
from scgeo.io.needs import read_needs
from scgeo.io.preview import detect_columns, read_preview
from scgeo.io.resources import read_resources
from scgeo.io.venues import read_venues

__all__ = [
    "detect_columns",
    "detect_encoding",
    "interpolate_population",
    "mesh_polygons",
    "read_age_table",
    "read_areas",
    "read_care_services",
    "read_estat_age_table",
    "read_estat_points",
    "read_estat_town_blocks",
    "read_facility_list",
    "read_ksj_facilities",
    "read_ksj_medical",
    "read_ksj_municipality",
    "read_ksj_school_districts",
    "read_mesh_population",
    "read_needs",
    "read_preview",
    "read_resources",
    "read_table",
    "read_town_blocks",
    "read_venues",
    "town_blocks_from_points",
]
