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
from scgeo.privacy._suppress import TOTAL, suppression_plan, with_totals
from scgeo.privacy._units import OUTSIDE, unit_system_key, units_and_membership
from scgeo.schema import AREA_LEVEL_LABELS, NEED_STATUSES, load_taxonomy, resolve_level
from scgeo.settings import get_settings

__all__ = ["PERIOD_FIELDS", "PUBLIC_MARK", "SUPPRESSED_TEXT", "AggregateResult", "aggregate_needs", "hide_cells",
           "need_dates"]

#: The dates a table's period can be of: 受付日, or the date of the need's current status.
PERIOD_FIELDS = {"recorded_date": "受付日", "status_date": "状態になった日"}

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
        What was counted, how many cells were hidden and by which rules (JSON-serialisable).
    audit
        After :func:`scgeo.privacy.publish_needs`: the audit against the ledger (internal: it
        holds the true values of hidden cells; never write it out).
    """

    table: pd.DataFrame
    geometry: gpd.GeoDataFrame
    manifest: dict = field(default_factory=dict)
    audit: object = None

    def wide(self) -> pd.DataFrame:
        """The table as units × categories of display strings (``秘匿`` where suppressed)."""
        wide = self.table.pivot(index="unit_id", columns="category", values="display")
        return wide.loc[self.table["unit_id"].unique(), self.table["category"].unique()]


def aggregate_needs(needs: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None, *, level: str = "town_block",
                    blocks: gpd.GeoDataFrame | None = None, categories: Sequence[str] | None = None,
                    statuses: Sequence[str] | None = ("open",), threshold: int | None = None,
                    mesh: int | None = None, hex_size_m: float | None = None,
                    method: str = "suppress",
                    period: tuple[dt.date | str | None, dt.date | str | None] | None = None,
                    period_field: str = "recorded_date") -> AggregateResult:
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
        Need categories to count (codes); default: those of the workspace's needs of any status
        and date, in taxonomy order (not only of the needs counted: a column left out for having
        no need in the period would tell that it has none).
    statuses
        Statuses counted (default: open needs only); ``None`` counts every status.
    threshold
        Counts ``0 .. threshold - 1`` are not published (the band 「5未満」 holds the zeros too);
        default ``settings.suppress_below``.
    mesh
        250, 500 (or 1000): count by JIS X 0410 mesh cell instead of by area; every cell of
        the municipality is listed, occupied or not.
    hex_size_m
        Count by regular hexagons of this circumradius in metres instead of by area (every
        hexagon of the municipality listed).
    method
        ``suppress`` (cell suppression, the default) or ``merge`` (small units merged into a
        neighbour first, then suppression of what merging cannot fix).
    period
        ``(start, end)``: count only needs whose ``period_field`` lies between these dates
        (inclusive; ``None`` leaves an end open).
    period_field
        ``recorded_date`` (受付日, the default) or ``status_date``: with ``statuses=("matched",)``
        and a month, 「この月につないだニーズ」 (as the needs stand now).

    Returns
    -------
    AggregateResult
        The tidy table, the unit polygons and the manifest. This table is suppressed on its
        own; :func:`scgeo.privacy.publish_needs` also audits it against everything published
        before and records it in the ledger — use that for anything that leaves the workspace.
    """
    threshold = int(get_settings().suppress_below if threshold is None else threshold)
    if method not in ("suppress", "merge"):
        raise InputError(f"method は suppress (秘匿) か merge (統合) です(指定: {method})。")
    every_category = set(needs["category"].dropna())  # before filtering: a missing column tells nothing
    if statuses is not None:
        unknown = sorted(set(statuses) - set(NEED_STATUSES))
        if unknown:
            raise InputError(f"状態 {', '.join(unknown)} はありません。使える状態: {', '.join(NEED_STATUSES)}")
        needs = needs[needs["status"].isin(list(statuses))]
    if period_field not in PERIOD_FIELDS:
        raise InputError(f"期間の日付は {'、'.join(PERIOD_FIELDS)} のどれかです(指定: {period_field})。")
    period = _period(period)
    if period != (None, None):
        dates = pd.Series(need_dates(needs, period_field), index=needs.index)
        needs = needs[(dates >= np.datetime64(period[0] or "1900-01-01", "D"))
                      & (dates <= np.datetime64(period[1] or "2999-12-31", "D"))]
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
        present = every_category
        categories = [c for c in taxonomy.categories if c in present] + sorted(present - set(taxonomy.categories))
    level_name = unit_system_key(level=level, mesh=mesh, hex_size_m=hex_size_m)
    units, unit_of = units_and_membership(level_name, needs, areas, blocks)
    inside = (unit_of != OUTSIDE).to_numpy()
    counts = pd.crosstab(unit_of[inside], needs["category"][inside]) if inside.any() else pd.DataFrame()
    counts = counts.reindex(index=units["unit_id"], columns=categories, fill_value=0).astype(np.int64)
    counts.index.name, counts.columns.name = None, None
    merged: list[dict] = []
    if method == "merge":
        units, counts, merged = merge_units(units, counts, threshold)
    mask = suppression_plan(counts, threshold).mask  # the audit (publish_needs) completes it

    names = dict(zip(units["unit_id"], units["unit_name"], strict=True)) | {TOTAL: TOTAL_LABEL}
    labels = {c: taxonomy.label(c) for c in categories} | {TOTAL: TOTAL_LABEL}
    extended = with_totals(counts)
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

    n_outside = int((~inside).sum())
    result = AggregateResult(table, units, {})
    result.manifest = {
        "mark": PUBLIC_MARK,
        "generated_at": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
        "method": method,
        "threshold": threshold,
        "rule": (f"0〜{threshold - 1} 件のセル(0 を含む)と、ほかのセルや過去に公開した表から逆算できるセルは"
                 f"「{SUPPRESSED_TEXT}」と書きます(どちらの理由かは区別しません)。"),
        "level": level_name,
        "level_label": AREA_LEVEL_LABELS.get(level_name, level_name),
        "mesh_m": mesh, "hex_size_m": hex_size_m,
        "statuses": list(statuses) if statuses is not None else list(NEED_STATUSES),
        "categories": list(categories),
        "period": {"start": period[0], "end": period[1], "field": period_field},
        "n_units": len(units),
        "outside": {"label": OUTSIDE, "n_needs": n_outside},
        "merged": merged,
    }
    return hide_cells(result, np.zeros(len(table), dtype=bool), outside_hidden=threshold > 1 and n_outside < threshold)


def need_dates(needs: pd.DataFrame, field: str) -> np.ndarray:
    """The date each need counts by (``datetime64[D]``): ``status_date`` falls back to ``recorded_date``.

    A need whose status has no date of its own has held it since it was recorded.
    """
    recorded = pd.to_datetime(needs["recorded_date"]).to_numpy(dtype="datetime64[D]")
    if field == "recorded_date" or "status_date" not in needs:
        return recorded
    status = pd.to_datetime(needs["status_date"]).to_numpy(dtype="datetime64[D]")
    return np.where(np.isnat(status), recorded, status)


def _period(period) -> tuple[str | None, str | None]:
    if period is None:
        return (None, None)
    start, end = period
    try:
        as_text = [None if p is None or p == "" else pd.Timestamp(p).date().isoformat() for p in (start, end)]
    except (ValueError, TypeError) as exc:
        raise InputError(f"期間の日付を読めません(指定: {start}〜{end})。"
                         "2026-04-01 のように指定してください。") from exc
    if as_text[0] and as_text[1] and as_text[0] > as_text[1]:
        raise InputError(f"期間の始め {as_text[0]} が終わり {as_text[1]} より後です。")
    return as_text[0], as_text[1]


def hide_cells(result: AggregateResult, extra: np.ndarray, *, outside_hidden: bool | None = None) -> AggregateResult:
    """``result`` with the rows ``extra`` of its table hidden too; geometry and manifest follow.

    The manifest tells how many cells are hidden and by which rules, never which cell was
    hidden for which reason (a cell marked as a small count would tell its range).
    """
    table = result.table.copy()
    hidden = table["suppressed"].to_numpy() | np.asarray(extra, dtype=bool)
    count = table["count"].astype("Int64").copy()
    count[hidden] = pd.NA
    table["count"], table["suppressed"] = count, hidden
    table["display"] = np.where(hidden, SUPPRESSED_TEXT, table["display"].to_numpy())
    units = result.geometry
    totals = table[table["category"] == TOTAL].set_index("unit_id")
    geometry = gpd.GeoDataFrame({
        "unit_id": units["unit_id"].to_numpy(), "unit_name": units["unit_name"].to_numpy(),
        "count": totals.loc[units["unit_id"], "count"].array,
        "suppressed": totals.loc[units["unit_id"], "suppressed"].to_numpy(),
    }, geometry=units.geometry.to_numpy(), crs=WORKSPACE_CRS)
    manifest = dict(result.manifest)
    outside = dict(manifest["outside"])
    if outside_hidden is not None:
        outside["hidden"] = bool(outside_hidden)
    n_out = outside.get("n_needs") if not outside.get("hidden") else None
    outside.update({"n_needs": n_out,
                    "note": (f"どの集計単位にも入らないニーズ {n_out} 件は表に含めていません。"
                             if n_out is not None else
                             f"どの集計単位にも入らないニーズの件数は「{SUPPRESSED_TEXT}」です。")})
    grand = table[(table["unit_id"] == TOTAL) & (table["category"] == TOTAL)]
    manifest.update({
        "n_needs": None if grand["suppressed"].iloc[0] else int(grand["count"].iloc[0]),
        "outside": outside,
        "suppressed": {"cells": int(hidden.sum()), "of": len(table), "rule": manifest["rule"]},
    })
    return AggregateResult(table, geometry, manifest)
