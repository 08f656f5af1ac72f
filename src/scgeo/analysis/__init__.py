"""Analysis: pure functions, GeoDataFrames in, GeoDataFrames/DataFrames out (no I/O, no UI)."""

from scgeo.analysis.basis import analysis_notes, data_notes, population_basis
from scgeo.analysis.blank_zones import blank_zones
from scgeo.analysis.catchments import catchments
from scgeo.analysis.coverage import Coverage, CoverageRules, analyse_coverage, coverage_table, travel_minutes
from scgeo.analysis.population import area_membership, population_points

__all__ = [
    "Coverage",
    "CoverageRules",
    "analyse_coverage",
    "analysis_notes",
    "area_membership",
    "blank_zones",
    "catchments",
    "coverage_table",
    "data_notes",
    "population_basis",
    "population_points",
    "travel_minutes",
]
