"""Audit-and-publish: the one way a table of need counts leaves a workspace.

:func:`publish_needs` counts, suppresses, audits the table against every release in the
workspace's ledger, hides more cells until the attack recovers nothing, records the release and
writes the public files. Every publishing path (``scgeo needs``, the demo, the public maps, the
app's ニーズ page, reports) calls it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from scgeo.privacy._aggregate import SUPPRESSED_TEXT, AggregateResult, aggregate_needs, hide_cells
from scgeo.privacy._audit import AuditModel, AuditResult, PrivacyError, _result, build_model, table_model
from scgeo.privacy._ledger import Release, read_ledger, record_release, release_cells
from scgeo.privacy._suppress import TOTAL, suppression_plan
from scgeo.privacy._units import OUTSIDE

__all__ = ["complete_suppression", "protect", "publish_needs", "release_of", "suppress"]

MAX_ROUNDS = 200


def release_of(result: AggregateResult, *, purpose: str = "", outputs: Sequence[str] = ()) -> Release:
    """The ledger entry of an aggregate: its shown values (hidden cells as ``<NA>``)."""
    manifest = result.manifest
    cells = release_cells(result.table)
    outside = manifest["outside"]
    if not outside.get("hidden"):  # a hidden count outside every unit is no cell of the attack
        cells.loc[len(cells)] = [OUTSIDE, TOTAL, outside["n_needs"]]
    cells["value"] = cells["value"].astype("Int64")
    period = manifest.get("period") or {}
    return Release(unit_system=manifest["level"], categories=tuple(manifest["categories"]),
                   statuses=tuple(manifest["statuses"]), threshold=int(manifest["threshold"]), cells=cells,
                   period=(period.get("start"), period.get("end")),
                   period_field=period.get("field") or "recorded_date", purpose=purpose, outputs=tuple(outputs))


def _describe(model: AuditModel, cell: int, names: dict[str, str]) -> str:
    rows = model.rows
    first = int(np.flatnonzero(model.group == cell)[0])
    row = rows.iloc[first]
    release = model.releases[int(row["release"])]
    unit = "合計" if row["unit_id"] == TOTAL else names.get(row["unit_id"], row["unit_id"])
    category = "合計" if row["category"] == TOTAL else names.get(row["category"], row["category"])
    return f"{release.label} の「{unit} × {category}」"


def _paths(model: AuditModel, failing: np.ndarray, shown: np.ndarray, candidates: np.ndarray):
    """How closely each candidate cell is tied to each failing cell through shown cells.

    A shown cell P ties a failing cell f and a candidate c when it holds needs of both; hiding
    c frees f within P. Ties through small cells count most (weight ``1 / size(P)**2``), so a
    neighbour in the same district is preferred to one that only shares the grand total.
    """
    a = (model.merged != 0).astype(np.float64).tocsr()  # a block's equation ties its space and periods
    shown_rows = np.flatnonzero(shown)
    s = a[shown_rows]
    size = np.asarray(s.sum(axis=1)).ravel()
    weight = sp.diags(1.0 / np.maximum(size, 1.0) ** 2)
    f_to_s = (a[failing] @ s.T).sign()
    s_to_c = (s @ a[candidates].T).sign()
    return (f_to_s @ weight @ s_to_c).tocsr()


def _new_cells_only(model: AuditModel, is_new: np.ndarray, shown: np.ndarray) -> np.ndarray | None:
    """The distinct cells left to attack when the new table shows nothing not shown before.

    The attacker's feasible set depends only on the cells shown. When every cell the new table
    shows is already shown by an earlier release (a re-release, the city's totals, a coarser
    table whose every cell was published), publishing it tells nothing that is not public
    already: the earlier releases' hidden cells are exactly as safe as they were, and were
    checked when those were published. Only hidden cells that no earlier release holds need
    attacking. ``None`` (attack everything) otherwise.
    """
    before = model.cell_shown(shown & ~is_new)
    if (model.cell_shown(shown) != before).any():
        return None
    earlier = np.zeros(len(before), dtype=bool)
    earlier[model.group[~is_new]] = True
    return ~earlier


def _pinned_exactly(attack: pd.DataFrame) -> pd.Series:
    """Cells of an attack pinned with both bounds solved exactly (not only witnessed)."""
    return (attack["status"] == "pinned") & attack["exact_lo"] & attack["exact_hi"]


def complete_suppression(model: AuditModel, is_new: np.ndarray, shown: np.ndarray, *,
                         refuse: Callable[[int], Exception]) -> tuple[np.ndarray, pd.DataFrame]:
    """Hide more rows of the new table (``is_new``) until the attack decides every hidden cell safe.

    Returns the rows shown at the end and the last attack. Each round: a cell of the new table
    worked out exactly from the *other* releases, and not small, is shown (hiding it protects
    nothing, and shows nothing new: the other cells fail as they did); for every other failing
    cell, the shown cell of the new table most closely tied to it (:func:`_paths`; an inner cell
    before a total, then the smallest) is hidden.

    A cell still pinned after a round of hiding (or with nothing in the new table tied to it), and
    worked out exactly from the other releases alone, was given away before this table: nothing
    in it can protect the cell and nothing in it tells more about it. Such a cell (``status``
    「earlier」 in the attack returned) no longer holds the table back. It happens on real
    boundaries: where a city's 小学校区 and 中学校区 layers disagree by a strip, the two tables'
    totals and their 区域外 count tell that the strip holds no need, and a grid cell lying in the
    strip alone is pinned at 0 by them.
    ``refuse(cell)`` makes the error raised when nothing in the new table is tied to a failing cell.
    """
    rows = model.rows
    new_rows = np.flatnonzero(is_new)
    shown = shown.copy()
    total = ((rows["unit_id"] == TOTAL) | (rows["unit_id"] == OUTSIDE) | (rows["category"] == TOTAL)).to_numpy()
    derived = np.zeros(len(rows), dtype=bool)
    tried = np.zeros(0, dtype=np.int64)
    inherited = np.zeros(0, dtype=np.int64)  # given away by the other releases alone
    failed_before = np.zeros(0, dtype=np.int64)
    only = _new_cells_only(model, is_new, shown)
    for _ in range(MAX_ROUNDS):
        attack = model.attack(shown, only=only)
        bad = attack[(attack["status"] != "ok") & ~attack["cell"].isin(inherited)]
        again = bad[_pinned_exactly(bad) & bad["cell"].isin(failed_before)
                    & ~bad["cell"].isin(tried)]["cell"].to_numpy()
        failed_before = bad["cell"].to_numpy()
        if len(again):
            tried = np.r_[tried, again]
            given = again[model.determined(again, shown & ~is_new)]
            inherited = np.r_[inherited, given]
            bad = bad[~bad["cell"].isin(given)]
        if not len(bad):
            break
        # a cell of the new table worked out exactly from earlier releases, and not small, tells
        # nothing more when shown: show it rather than pretend it is hidden
        known = bad[_pinned_exactly(bad) & (bad["value"] >= bad["threshold"])]["cell"].to_numpy()
        known = known[np.isin(known, model.group[new_rows]) & ~np.isin(known, tried)]
        tried = np.r_[tried, known]
        if len(known):
            known = known[model.determined(known, shown & ~is_new)]
        reveal = new_rows[np.isin(model.group[new_rows], known) & ~shown[new_rows]]
        shown[reveal] = True
        derived[reveal] = True
        # a revealed cell's value holds in every solution already: the others fail as they did
        failing = bad["cell"].to_numpy()
        failing = failing[~np.isin(failing, model.group[reveal])]
        if not len(failing):
            continue
        elsewhere = model.cell_shown(shown & ~is_new)
        candidates = new_rows[shown[new_rows] & ~derived[new_rows] & ~elsewhere[model.group[new_rows]]]
        score = _paths(model, failing, model.cell_shown(shown), model.group[candidates])
        order = np.lexsort((candidates, rows["value"].to_numpy()[candidates], total[candidates]))
        rank = np.empty(len(candidates), dtype=np.int64)
        rank[order] = np.arange(len(candidates))
        chosen = set()
        pinned_exact = set(bad[_pinned_exactly(bad)]["cell"])
        for i, cell in enumerate(failing):
            line = score[i].toarray().ravel()
            if not len(line) or line.max() <= 0:
                if cell in pinned_exact and model.determined(np.array([cell]), shown & ~is_new)[0]:
                    inherited = np.r_[inherited, cell]
                    continue
                raise refuse(int(cell))
            best = np.flatnonzero(np.isclose(line, line.max()))
            chosen.add(int(candidates[best[np.argmin(rank[best])]]))
        groups = model.group[list(chosen)]
        shown[new_rows[np.isin(model.group[new_rows], groups)]] = False
    else:
        raise PrivacyError("秘匿の追加が収束しませんでした。集計の単位を大きくしてください。")
    attack = attack.copy()
    attack.loc[attack["cell"].isin(inherited), "status"] = "earlier"
    return shown, attack


def suppress(counts: pd.DataFrame, threshold: int, *, hide_zeros: bool = True) -> pd.DataFrame:
    """The suppression mask of ``counts`` with its totals, audited.

    :func:`suppression_plan` first; with zeros hidden its cycle argument no longer holds (a
    hidden zero cannot go down), so the integer-programming audit of the table and its totals
    (:func:`complete_suppression`) then hides more cells until no hidden cell is
    pinned or shown to lie in ``1 .. threshold - 1``.

    Returns
    -------
    DataFrame
        Booleans shaped like ``with_totals(counts)``; ``True`` means "do not publish".

    Examples
    --------
    >>> bool(suppress(pd.DataFrame({"a": [5, 9], "b": [6, 7]}), 5).to_numpy().any())
    False
    """
    mask = suppression_plan(counts, threshold, hide_zeros=hide_zeros).mask
    if not hide_zeros or int(threshold) <= 1 or not mask.to_numpy().any():
        return mask
    model = table_model(counts, int(threshold))
    everything = np.ones(len(model.rows), dtype=bool)

    def refuse(cell: int) -> PrivacyError:
        return PrivacyError("この表はどう秘匿しても少ない件数が合計から分かってしまいます。")

    shown, _ = complete_suppression(model, everything, ~mask.to_numpy().ravel(), refuse=refuse)
    return pd.DataFrame(~shown.reshape(mask.shape), index=mask.index, columns=mask.columns)


def protect(result: AggregateResult, ledger: Sequence[Release], needs: gpd.GeoDataFrame,
            areas: gpd.GeoDataFrame | None, blocks: gpd.GeoDataFrame | None = None, *,
            purpose: str = "") -> tuple[AggregateResult, AuditResult]:
    """Hide more cells of ``result`` until nothing published (``ledger`` + it) gives a hidden cell away.

    Each round solves the attack (:class:`~scgeo.privacy._audit.AuditModel`); for every hidden
    cell that is pinned or shown to lie in ``1 .. threshold - 1``, the smallest shown cell of
    the new table that shares needs with it is hidden too (an inner cell before a total).

    Raises
    ------
    PrivacyError
        When a hidden cell is given away by earlier releases alone, so that no cell of the new
        table can protect it: the message names the cell and the releases.
    """
    start = time.perf_counter()
    new = release_of(result, purpose=purpose)
    model = build_model([*ledger, new], needs, areas, blocks)
    rows = model.rows
    k_new = len(model.releases) - 1
    is_new = (rows["release"] == k_new).to_numpy()
    new_rows = np.flatnonzero(is_new)
    shown = rows["shown"].to_numpy().copy()
    # a cell an earlier release hid (and none showed) stays hidden: releases agree with each other,
    # and a re-release shows nothing new (see _new_cells_only)
    earlier = ~is_new
    hid_before = np.zeros(model.merged.shape[0], dtype=bool)
    hid_before[model.group[earlier & ~shown]] = True
    hid_before &= ~model.cell_shown(earlier & shown)
    shown[new_rows[hid_before[model.group[new_rows]]]] = False
    nothing_new = _new_cells_only(model, is_new, shown) is not None
    names = dict(zip(result.table["unit_id"], result.table["unit_name"], strict=False))
    names |= dict(zip(result.table["category"], result.table["category_label"], strict=False))
    def refuse(cell: int) -> PrivacyError:
        others = "、".join(r.label for r in model.releases[:-1]) or "なし"
        return PrivacyError(
            f"この表は公開できません: {_describe(model, cell, names)} が、これまでに公開した表"
            f"({others})から逆算できてしまい、新しい表のどのセルを秘匿しても守れません。"
            "集計の単位・種別・期間を変えるか、公開台帳を確認してください。")

    shown, attack = complete_suppression(model, is_new, shown, refuse=refuse)
    audit = _result(model, attack, time.perf_counter() - start)
    hide = ~shown[new_rows]
    n_table = len(result.table)
    table = result.table.copy()
    values = rows["value"].to_numpy()[new_rows][:n_table]
    count = pd.array(values, dtype="Int64")
    count[hide[:n_table]] = pd.NA
    table["count"], table["suppressed"] = count, hide[:n_table]
    table["display"] = np.where(hide[:n_table], SUPPRESSED_TEXT, values.astype(str))
    outside_hidden = bool(hide[-1]) if len(hide) > n_table else None
    out = hide_cells(AggregateResult(table, result.geometry, result.manifest), np.zeros(n_table, dtype=bool),
                     outside_hidden=outside_hidden)
    out.manifest["audit"] = {
        "method": "整数計画(HiGHS)で、これまでに公開した表とこの表のすべての公開セルから、秘匿セルの値の"
                  "最小と最大を求めました。どの秘匿セルも値が1つに決まらず、1〜しきい値未満に絞られません。",
        "releases_combined": len(model.releases) - 1,
        # every shown cell was public already: only hidden cells new to the ledger were attacked
        "nothing_new_shown": nothing_new,
        "releases_not_combined": [{"release_id": r.release_id, "reason": why} for r, why in model.skipped],
        # hidden cells the earlier releases alone already gave away: this table tells nothing more of them
        "determined_before": int((attack["status"] == "earlier").sum()),
    }
    out.audit = audit
    return out, audit


def publish_needs(workspace, *, level: str = "jhs_district", mesh: int | None = None,
                  hex_size_m: float | None = None, categories: Sequence[str] | None = None,
                  statuses: Sequence[str] | None = ("open",), period=None, period_field: str = "recorded_date",
                  by_category: bool = True, threshold: int | None = None, method: str = "suppress",
                  purpose: str = "", user: str | None = None, out: str | Path | None = None,
                  record: bool = True) -> AggregateResult:
    """Count a workspace's needs, audit the table against its ledger, record it and write it.

    This is the one function for anything that leaves the workspace (a CSV for the council, a
    map's need counts, a report's table). The table is suppressed on its own
    (:func:`aggregate_needs`), then audited together with every release in the workspace's
    ledger (:func:`scgeo.privacy.read_ledger`); more cells are hidden until no hidden cell of
    any release is pinned or shown to lie in ``1 .. threshold - 1``. The release is then added
    to the ledger (a re-release of the same table is not added twice).

    Parameters
    ----------
    workspace
        The :class:`scgeo.Workspace`.
    level, mesh, hex_size_m, categories, statuses, period, period_field, by_category, threshold, method
        As for :func:`aggregate_needs`.
    purpose
        What the table is for (kept in the ledger: 「協議体資料 2026年4月」).
    user
        Who publishes (ledger and history); default: the login name.
    out
        When given, the CSV to write (:func:`write_aggregate`; the manifest goes beside it).
    record
        ``False`` audits without recording (a preview that does not leave the workspace).

    Returns
    -------
    AggregateResult
        The published table; ``manifest["release_id"]`` names its ledger entry and
        ``result.audit`` holds the audit (internal: it knows the true values).

    Raises
    ------
    PrivacyError
        When no suppression of this table can keep earlier releases safe.
    """
    from scgeo.privacy._export import write_aggregate

    needs, areas, blocks = workspace.read("needs"), workspace.areas(), workspace.town_blocks()
    result = aggregate_needs(needs, areas, level=level, blocks=blocks, categories=categories, statuses=statuses,
                             threshold=threshold, mesh=mesh, hex_size_m=hex_size_m, method=method, period=period,
                             period_field=period_field, by_category=by_category)
    result, _ = protect(result, read_ledger(workspace), needs, areas, blocks, purpose=purpose)
    if record:
        outputs = (Path(out).name,) if out is not None else ()
        release = record_release(workspace, release_of(result, purpose=purpose, outputs=outputs), user=user)
        result.manifest["release_id"] = release.release_id
    if out is not None:
        write_aggregate(result, out)
    return result
