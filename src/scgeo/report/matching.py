"""Matching of a workspace's open needs to its resources, and the matches table on disk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scgeo.analysis.freshness import supply_weights
from scgeo.analysis.matching import assign_needs, candidate_pairs, match_summary, nearest_resources
from scgeo.network import WalkNetwork
from scgeo.report.tables import for_people
from scgeo.sheets import write_csv, write_xlsx

__all__ = ["match_report", "write_matches"]


def match_report(workspace, *, k: int = 3, max_minutes: float = 20.0, assign: bool = True,
                 weekday: str | None = None, provider_types: list[str] | None = None,
                 time_window: str | None = None,
                 ) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """The k nearest resources (and, with ``assign``, the capacity-aware assignment) of each open need.

    ``weekday`` / ``time_window`` (or each need's ``wanted_days`` / ``wanted_time``) keep only
    resources open then; the assignment prefers confirmed, often-open resources (supply weights).
    Returns ``(nearest, assigned, summary)``; ``summary`` is the one-row-per-need table of
    :func:`scgeo.analysis.matching.match_summary` (no coordinates, no town blocks).
    """
    network = WalkNetwork.from_workspace(workspace) if workspace.count("network_edges") else None
    needs, resources = workspace.read("needs"), workspace.read("resources")
    when = {"weekday": weekday, "time_window": time_window}
    pairs = candidate_pairs(needs, resources, network=network, max_minutes=max_minutes, provider_types=provider_types,
                            blocks=workspace.town_blocks(), areas=workspace.areas(), **when)
    nearest = nearest_resources(needs, resources, k=k, max_minutes=max_minutes, pairs=pairs,
                                provider_types=provider_types, **when)
    supply = supply_weights(resources, flags=workspace.review_flags())
    weights = pd.Series(supply["weight"].to_numpy(), index=supply["resource_id"].to_numpy())
    assigned = assign_needs(needs, resources, pairs, max_minutes=max_minutes, weights=weights, **when) \
        if assign else None
    return nearest, assigned, match_summary(nearest, assigned)


def write_matches(summary: pd.DataFrame, path: str | Path, *, headers: str = "en") -> Path:
    """Write the matches table as CSV (UTF-8 with BOM) or Excel, by the file's suffix.

    ``headers="ja"`` writes Japanese column headers (and the category's name without its code).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = for_people(summary, headers=headers)
    if path.suffix.lower() == ".xlsx":
        write_xlsx(summary, path, sheet_name="マッチング")
    else:
        write_csv(summary, path)
    return path
