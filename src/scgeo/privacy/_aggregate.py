"""Counting needs by unit × category and publishing the counts with suppression or merging."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo.crs import WORKSPACE_CRS
from scgeo.privacy._merge import merge_units
from scgeo.privacy._suppress import TOTAL, suppression_plan
from scgeo.privacy._units import OUTSIDE, area_units, hex_units, mesh_units
from scgeo.schema import AREA_LEVEL_LABELS, NEED_STATUSES, load_taxonomy, resolve_level
from scgeo.settings import get_settings

__all__ = ["PUBLIC_MARK", "SUPPRESSED_TEXT", "AggregateResult", "aggregate_needs"]

PUBLIC_MARK = "公開用 — 個人を特定できる情報を含みません"
SUPPRESSED_TEXT = "秘匿"
TOTAL_LABEL = "合計"


@dataclass
class AggregateResult:
    """Needs counted by unit × category, ready to publish.

    Attributes
    ----------
    table
        Tidy table, one row per unit (and the ``total`` unit) × category (and ``total``):
        ``unit_id``, ``unit_name``, ``level``, ``category``, ``category_label``, ``count``
        (``Int64``, ``<NA>`` when suppressed), ``suppressed`` (bool), ``display`` (the number
        as text, or ``秘匿``).
    geometry
        The units (EPSG:6668): ``unit_id``, ``unit_name``, ``count`` (the unit's total, ``<NA>``
        when suppressed), ``suppressed``, ``geometry``.
    manifest
        What was counted and what was hidden, and why (JSON-serialisable).
    """

    table: pd.DataFrame
    geometry: gpd.GeoDataFrame
    manifest: dict = field(default_factory=dict)

    def wide(self) -> pd.DataFrame:
        """The table as units × categories of display strings (``秘匿`` where suppressed)."""
        wide = self.table.pivot(index="unit_id", columns="category", values="display")
        return wide.loc[self.table["unit_id"].unique(), self.table["category"].unique()]


def _level_name(level: str, mesh: int | None, hex_size_m: float | None) -> str:
    if mesh is not None:
        return f"mesh_{mesh}m"
    if hex_size_m is not None:
        return f"hex_{float(hex_size_m):g}m"
    return level


def _units(needs, areas, *, level, blocks, mesh, hex_size_m):
    if mesh is not None and hex_size_m is not None:
        raise InputError("mesh と hex_size_m はどちらか一方だけ指定してください。")
    if mesh is not None:
        return mesh_units(needs, int(mesh))
    if hex_size_m is not None:
        muni = areas.loc[areas["level"] == "municipality", "area_id"] if areas is not None else pd.Series()
        return hex_units(needs, hex_size_m, muni_code=str(muni.iloc[0]) if len(muni) else None)
    if areas is None:
        raise InputError("区域で集計するには areas (ワークスペースの区域) が必要です。")
    return area_units(needs, areas, level, blocks)


def aggregate_needs(needs: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None, *, level: str = "town_block",
                    blocks: gpd.GeoDataFrame | None = None, categories: Sequence[str] | None = None,
                    statuses: Sequence[str] | None = ("open",), threshold: int | None = None,
                    mesh: int | None = None, hex_size_m: float | None = None,
                    method: str = "suppress") -> AggregateResult:
    """Count needs by unit × category with small counts hidden, for a council or a public map.

    Parameters
    ----------
    needs
        The needs layer (``Workspace.read("needs")``).
    areas
        All areas (``Workspace.areas()``); not needed with ``mesh`` or ``hex_size_m``.
    level
        ``town_block``, ``es_district``, ``jhs_district``, ``living_area`` or ``municipality``.
    blocks
        Town blocks for needs without a point (``Workspace.town_blocks()``); defaults to the
        ``town_block`` areas.
    categories
        Need categories to count (codes); default: those present among the counted needs,
        in taxonomy order.
    statuses
        Statuses counted (default: open needs only); ``None`` counts every status.
    threshold
        Counts ``1 .. threshold - 1`` are not published; default ``settings.suppress_below``.
    mesh
        250, 500 (or 1000): count by JIS X 0410 mesh cell instead of by area.
    hex_size_m
        Count by regular hexagons of this circumradius in metres instead of by area.
    method
        ``suppress`` (cell suppression, the default) or ``merge`` (small units merged into a
        neighbour first, then suppression of what merging cannot fix).

    Returns
    -------
    AggregateResult
        The tidy table, the unit polygons and the manifest.
    """
    threshold = int(get_settings().suppress_below if threshold is None else threshold)
    if method not in ("suppress", "merge"):
        raise InputError(f"method は suppress (秘匿) か merge (統合) です(指定: {method})。")
    if statuses is not None:
        unknown = sorted(set(statuses) - set(NEED_STATUSES))
        if unknown:
            raise InputError(f"状態 {', '.join(unknown)} はありません。使える状態: {', '.join(NEED_STATUSES)}")
        needs = needs[needs["status"].isin(list(statuses))]
    taxonomy = load_taxonomy()
    if mesh is None and hex_size_m is None:
        level = resolve_level(level)  # 中学校区 as well as jhs_district
    if categories is not None:
        categories = [taxonomy.resolve_category(c) or c for c in categories]  # labels as well as codes
        unknown = sorted(set(categories) - set(taxonomy.categories) - set(needs["category"]))
        if unknown:
            raise InputError(f"ニーズ種別 {', '.join(unknown)} はカテゴリ定義にありません。")
        needs = needs[needs["category"].isin(list(categories))]
        categories = list(dict.fromkeys(categories))
    else:
        present = set(needs["category"].dropna())
        categories = [c for c in taxonomy.categories if c in present] + sorted(present - set(taxonomy.categories))
    units, unit_of = _units(needs, areas, level=level, blocks=blocks, mesh=mesh, hex_size_m=hex_size_m)
    inside = (unit_of != OUTSIDE).to_numpy()
    counts = pd.crosstab(unit_of[inside], needs["category"][inside]) if inside.any() else pd.DataFrame()
    counts = counts.reindex(index=units["unit_id"], columns=categories, fill_value=0).astype(np.int64)
    counts.index.name, counts.columns.name = None, None
    level_name = _level_name(level, mesh, hex_size_m)
    merged: list[dict] = []
    if method == "merge":
        units, counts, merged = merge_units(units, counts, threshold)
    plan = suppression_plan(counts, threshold)

    names = dict(zip(units["unit_id"], units["unit_name"], strict=True)) | {TOTAL: TOTAL_LABEL}
    labels = {c: taxonomy.label(c) for c in categories} | {TOTAL: TOTAL_LABEL}
    extended, mask = plan.table, plan.mask
    long = extended.stack().rename("n").reset_index().set_axis(["unit_id", "category", "n"], axis=1)
    hidden = mask.stack().to_numpy()
    count = pd.array(long["n"].to_numpy(), dtype="Int64")
    count[hidden] = pd.NA
    table = pd.DataFrame({
        "unit_id": long["unit_id"].astype(str).to_numpy(),
        "unit_name": long["unit_id"].map(names).astype(str).to_numpy(),
        "level": level_name,
        "category": long["category"].astype(str).to_numpy(),
        "category_label": long["category"].map(labels).astype(str).to_numpy(),
        "count": count,
        "suppressed": hidden,
    })
    table["display"] = np.where(hidden, SUPPRESSED_TEXT, long["n"].astype(str).to_numpy())

    totals = table[table["category"] == TOTAL].set_index("unit_id")
    geometry = gpd.GeoDataFrame({
        "unit_id": units["unit_id"].to_numpy(), "unit_name": units["unit_name"].to_numpy(),
        "count": totals.loc[units["unit_id"], "count"].array,
        "suppressed": totals.loc[units["unit_id"], "suppressed"].to_numpy(),
    }, geometry=units.geometry.to_numpy(), crs=WORKSPACE_CRS)

    def cell(row: str, col: str) -> str:
        return f"{names[row]} × {labels[col]}"

    reasons = []
    for r in plan.reasons.itertuples(index=False):
        if r.kind == "primary":
            why = f"primary: count < {threshold}"
        elif r.line == "cycle":
            why = (f"complementary: protects {cell(r.protects_row, r.protects_column)}, "
                   "otherwise recoverable from the row and column totals around it")
        else:
            where = f"row {names[r.row]}" if r.line == "row" else f"column {labels[r.column]}"
            why = f"complementary: protects {cell(r.protects_row, r.protects_column)} in {where}"
        reasons.append({"unit_id": str(r.row), "unit_name": names[r.row], "category": str(r.column),
                        "category_label": labels[r.column], "kind": r.kind, "reason": why})
    n_outside = int((~inside).sum())
    manifest = {
        "mark": PUBLIC_MARK,
        "generated_at": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
        "method": method,
        "threshold": threshold,
        "rule": f"1〜{threshold - 1} 件のセルは秘匿(一次秘匿)。合計から逆算できないよう二次秘匿を追加。0 は公開。",
        "level": level_name,
        "level_label": AREA_LEVEL_LABELS.get(level_name, level_name),
        "mesh_m": mesh, "hex_size_m": hex_size_m,
        "statuses": list(statuses) if statuses is not None else list(NEED_STATUSES),
        "categories": list(categories),
        "n_units": len(units),
        "n_needs": int(inside.sum()),
        "outside": {"label": OUTSIDE, "n_needs": n_outside,
                    "note": f"どの集計単位にも入らないニーズ {n_outside} 件は表に含めていません。"},
        "suppressed": {"primary": int((plan.reasons["kind"] == "primary").sum()),
                       "complementary": int((plan.reasons["kind"] == "complementary").sum()),
                       "cells": reasons},
        "merged": merged,
    }
    return AggregateResult(table, geometry, manifest)
