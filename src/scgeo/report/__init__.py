"""Reports: workspace-level runs of the analyses and their tables on disk (CSV, Excel, GeoJSON)."""

from scgeo.report.gaps import gap_report, write_blank_zones, write_gap_table
from scgeo.report.matching import match_report, write_matches
from scgeo.report.resources import labelled_resources
from scgeo.report.siting import site_report, siting_candidates, write_sites

__all__ = [
    "gap_report",
    "labelled_resources",
    "match_report",
    "site_report",
    "siting_candidates",
    "write_blank_zones",
    "write_gap_table",
    "write_matches",
    "write_sites",
]
