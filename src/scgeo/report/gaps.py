"""The gap analysis of a workspace: coverage table and blank zones, and writing them out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd

from scgeo._errors import InputError
from scgeo.analysis.basis import population_basis
from scgeo.analysis.blank_zones import blank_zones
from scgeo.analysis.coverage import Coverage, CoverageRules, analyse_coverage
from scgeo.analysis.freshness import supply_weights
from scgeo.network import WalkNetwork
from scgeo.report.tables import for_people
from scgeo.schema import load_taxonomy, resolve_level
from scgeo.sheets import write_csv, write_xlsx

__all__ = ["EFFECTIVE_WEIGHTS_LABEL", "NEED_COLUMNS", "gap_report", "write_blank_zones", "write_gap_table"]


EFFECTIVE_WEIGHTS_LABEL = "確認状態×開催頻度"


def gap_report(workspace, *, categories: list[str] | None = None, minutes: float = 15.0,
               levels: list[str] | None = None, today: dt.date | None = None, effective: bool = True,
               rules: CoverageRules | None = None, include_planned: bool = False,
               ) -> tuple[pd.DataFrame, gpd.GeoDataFrame, Coverage]:
    """Coverage table and blank zones of a workspace, on its walking network when it has one.

    Returns ``(table, blank_zones, coverage)``; ``table["method"]`` / ``method_note`` say whether
    the walking network or straight lines × a detour factor were used, ``table["basis"]`` how
    65+ was counted (workspace meta ``population_basis``, else inferred from the data), and
    categories with no resource registered at all have the status 「データなし」. ``include_planned``
    counts planned resources (計画中(案)) as if active.
    With ``effective`` (default) each resource weighs its confirmation state × weekly-available
    share (:func:`scgeo.analysis.freshness.supply_weights`) in ``coverage_effective_pct``.
    """
    levels = [resolve_level(level) for level in levels] if levels else None  # 中学校区 or jhs_district
    if categories:
        taxonomy = load_taxonomy()
        categories = [taxonomy.resolve_category(c) or c for c in categories]  # labels as well as codes
    if not workspace.count("population"):
        raise InputError("町丁目別人口がありません。先に `scgeo import … --layer town_blocks` で取り込んでください。")
    network = WalkNetwork.from_workspace(workspace) if workspace.count("network_edges") else None
    blocks = workspace.town_blocks()
    basis, rate = population_basis(blocks, workspace.meta())
    resources = workspace.read("resources")
    weights = None
    if effective:
        supply = supply_weights(resources, today=today, flags=workspace.review_flags())
        weights = pd.Series(supply["weight"].to_numpy(), index=supply["resource_id"].to_numpy())
    coverage = analyse_coverage(workspace.areas(), blocks, resources,
                                workspace.read("needs"), network=network, minutes=minutes,
                                categories=categories, today=today, population_basis=basis,
                                aging_rate=rate, weights=weights, rules=rules, include_planned=include_planned,
                                weights_label=EFFECTIVE_WEIGHTS_LABEL if effective else None)
    return coverage.table(levels), blank_zones(coverage), coverage


NEED_COLUMNS = ("needs_open", "needs_uncovered")


def write_gap_table(table: pd.DataFrame, path: str | Path, *, areas: gpd.GeoDataFrame | None = None,
                    internal: bool = False, headers: str = "en") -> Path:
    """Write the coverage table as ``.csv`` (UTF-8 with BOM, opens in Excel), ``.xlsx`` or ``.geojson``.

    Need counts per area are personal data at small sizes and could be worked back from totals
    across levels, so the written file leaves out ``needs_open`` / ``needs_uncovered`` unless
    ``internal=True`` (then the file is an internal document: 「内部資料」 in its name, a first
    column ``注意`` with the mark); published need counts come from
    :func:`scgeo.privacy.publish_needs`, with small counts suppressed. GeoJSON needs ``areas``
    to attach each row's area polygon. People are written as whole persons; ``headers="ja"``
    writes Japanese column headers (CSV and Excel; GeoJSON keeps the English names).

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if internal:
        from scgeo.privacy import INTERNAL_MARK, internal_path, write_internal_table

        if suffix in (".csv", ".xlsx"):
            return write_internal_table(for_people(table, headers=headers), path)
        path = internal_path(path)
        table = table.assign(注意=INTERNAL_MARK)
    else:
        table = table.drop(columns=[c for c in NEED_COLUMNS if c in table])
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        write_csv(for_people(table, headers=headers), path)
    elif suffix == ".xlsx":
        write_xlsx(for_people(table, headers=headers), path, sheet_name="カバー率")
    elif suffix in (".geojson", ".json") and areas is not None:
        shapes = areas[["area_id", "geometry"]].merge(for_people(table), on="area_id").to_crs(4326)
        shapes.to_file(path, driver="GeoJSON")
    else:
        raise InputError(f"出力の形式 {suffix} には対応していません (.csv, .xlsx, .geojson)。")
    return path


def write_blank_zones(zones: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write blank zones as GeoJSON (EPSG:4326, as GeoJSON requires), people as whole persons."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    gpd.GeoDataFrame(for_people(zones), geometry="geometry", crs=zones.crs).to_crs(4326).to_file(path, driver="GeoJSON")
    return path
