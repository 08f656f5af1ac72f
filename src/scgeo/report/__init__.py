"""Reports: workspace-level runs of the analyses and their tables on disk (CSV, Excel, GeoJSON)."""

from scgeo.report.council import council_layers, export_council
from scgeo.report.gaps import gap_report, write_blank_zones, write_gap_table
from scgeo.report.history import describe_edit, labelled_edits, to_jst
from scgeo.report.matching import match_report, write_matches
from scgeo.report.resources import labelled_resources
from scgeo.report.siting import site_report, siting_candidates, write_sites
from scgeo.report.tables import for_people

__all__ = [
    "council_layers",
    "describe_edit",
    "export_council",
    "for_people",
    "gap_report",
    "labelled_edits",
    "labelled_resources",
    "match_report",
    "site_report",
    "siting_candidates",
    "to_jst",
    "write_blank_zones",
    "write_gap_table",
    "write_matches",
    "write_sites",
]
