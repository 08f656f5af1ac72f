"""Reports: workspace-level runs of the analyses and their tables on disk (CSV, Excel, GeoJSON)."""

from scgeo.report.gaps import gap_report, write_blank_zones, write_gap_table
from scgeo.report.matching import match_report, write_matches
from scgeo.report.resources import labelled_resources

__all__ = ["gap_report", "labelled_resources", "match_report", "write_blank_zones", "write_gap_table", "write_matches"]
