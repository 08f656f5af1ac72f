"""The publication ledger: every aggregate of needs released from a workspace, with its published values.

The ledger is the ``publications`` table of the workspace (:data:`scgeo.schema.PUBLICATIONS`).
Each release keeps what an attacker holding the published file knows: the unit system, the
categories, the statuses, the period, the threshold, and the value of every cell that was shown
(hidden cells are kept as ``null``). The audit (:func:`scgeo.privacy.audit_releases`) re-runs the
attack over these values plus a new table before the new table is released.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

import pandas as pd

from scgeo.privacy._units import unit_system_label
from scgeo.schema import NEED_STATUS_LABELS, PUBLICATIONS

__all__ = ["Release", "read_ledger", "record_release", "release_cells"]


@dataclass(frozen=True)
class Release:
    """One released table of need counts, as the ledger keeps it.

    Attributes
    ----------
    unit_system
        ``town_block`` … ``municipality``, ``mesh_250m``, ``hex_300m`` … (see
        :func:`scgeo.privacy.unit_system_key`).
    categories
        The need categories of the table's columns (codes); the ``total`` column adds them up.
    statuses
        The need statuses counted.
    threshold
        The suppression threshold used (counts ``0 .. threshold - 1`` were not shown).
    cells
        One row per cell: ``unit_id`` (a unit, ``total`` or ``区域外``), ``category`` (a code or
        ``total``) and ``value`` (``Int64``; ``<NA>`` when the cell was hidden). Optional
        ``lo`` / ``hi`` columns give bounds the reader knows for hidden cells (older files that
        labelled hidden cells as primary); by default a hidden cell is only known to be ``>= 0``.
    period
        ``(start, end)`` of the dates counted (inclusive ISO dates, ``None`` = open end).
    period_field
        Which date ``period`` is of: ``recorded_date`` (受付日, the default) or ``status_date``
        (the date of the need's current status: 「この月につないだ・解決した」).
    """

    unit_system: str
    categories: tuple[str, ...]
    statuses: tuple[str, ...]
    threshold: int
    cells: pd.DataFrame
    period: tuple[str | None, str | None] = (None, None)
    period_field: str = "recorded_date"
    release_id: str = ""
    released_at: str = ""
    user: str = ""
    purpose: str = ""
    outputs: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        """A short Japanese description (for messages)."""
        when = f"{self.released_at[:10]} " if self.released_at else ""
        unit = unit_system_label(self.unit_system)
        statuses = "/".join(NEED_STATUS_LABELS.get(s, s) for s in self.statuses)
        return f"{when}{self.purpose or unit}({unit}・{statuses})"

    def same_table(self, other: Release) -> bool:
        """Whether ``other`` shows the same cells with the same values (a re-release)."""
        keys = ("unit_system", "categories", "statuses", "threshold", "period", "period_field")
        if any(getattr(self, k) != getattr(other, k) for k in keys) or len(self.cells) != len(other.cells):
            return False
        a = self.cells.sort_values(["unit_id", "category"]).reset_index(drop=True)
        b = other.cells.sort_values(["unit_id", "category"]).reset_index(drop=True)
        return bool(a[["unit_id", "category"]].equals(b[["unit_id", "category"]])
                    and a["value"].astype("Int64").equals(b["value"].astype("Int64")))


def _cells_json(cells: pd.DataFrame) -> str:
    values = cells["value"].astype("Int64")
    rows = [[u, c, None if pd.isna(v) else int(v)]
            for u, c, v in zip(cells["unit_id"].astype(str), cells["category"].astype(str), values, strict=True)]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def _cells_frame(text: str) -> pd.DataFrame:
    rows = json.loads(text) if text else []
    frame = pd.DataFrame(rows, columns=["unit_id", "category", "value"])
    frame["unit_id"] = frame["unit_id"].astype(str)
    frame["category"] = frame["category"].astype(str)
    frame["value"] = pd.to_numeric(frame["value"]).astype("Float64").astype("Int64")
    return frame


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def read_ledger(workspace) -> list[Release]:
    """The releases recorded in a workspace, oldest first."""
    frame = workspace.read(PUBLICATIONS.name)
    # released_at has whole seconds and the id's tail is random: releases of the same second keep
    # the order they were written in (a stable sort), not the order of their random ids
    frame = frame.sort_values("released_at", kind="stable")
    return [Release(unit_system=r.unit_system, categories=tuple(json.loads(r.categories)),
                    statuses=tuple(json.loads(r.statuses)), threshold=int(r.threshold),
                    cells=_cells_frame(r.cells),
                    period=(_str(r.period_start), _str(r.period_end)),
                    period_field=_str(getattr(r, "period_field", None)) or "recorded_date", release_id=r.release_id,
                    released_at=r.released_at, user=r.user, purpose=_str(r.purpose) or "",
                    outputs=tuple(json.loads(r.outputs)) if _str(r.outputs) else ())
            for r in frame.itertuples(index=False)]


def record_release(workspace, release: Release, *, user: str | None = None) -> Release:
    """Add ``release`` to the workspace's ledger (one transaction, with a history row).

    A release showing exactly the cells and values of one already in the ledger is not added
    again: the ledger's entry is returned.
    """
    for old in read_ledger(workspace):
        if old.same_table(release):
            return old
    from scgeo.workspace import _user

    now = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    rid = f"P{stamp}-{uuid.uuid4().int % 10**6:06d}"  # digits only: an id, not a word
    who = _user(user or release.user or None)
    hidden = int(release.cells["value"].isna().sum())
    row = pd.DataFrame([{
        "release_id": rid, "released_at": now, "user": who, "purpose": release.purpose or None,
        "unit_system": release.unit_system, "categories": json.dumps(list(release.categories), ensure_ascii=False),
        "statuses": json.dumps(list(release.statuses)), "period_start": release.period[0],
        "period_end": release.period[1], "period_field": release.period_field,
        "threshold": int(release.threshold), "n_cells": len(release.cells),
        "n_hidden": hidden, "cells": _cells_json(release.cells),
        "outputs": json.dumps(list(release.outputs), ensure_ascii=False) if release.outputs else None,
    }])
    with workspace.transaction() as tx:  # read under the lock: a concurrent release is not lost
        current = workspace.read(PUBLICATIONS.name)
        frame = pd.concat([current, row], ignore_index=True) if len(current) else row
        tx.write(PUBLICATIONS.name, frame)
        tx.record(user=who, layer=PUBLICATIONS.name, action="publish", feature_id=rid,
                  new=f"{unit_system_label(release.unit_system)} {len(release.cells)} セル(秘匿 {hidden})",
                  note=release.purpose or None)
    return Release(**{**release.__dict__, "release_id": rid, "released_at": now, "user": who})


def release_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The ledger's cells of an aggregate's tidy table (``unit_id``, ``category``, ``value``)."""
    values = table["count"].astype("Int64").copy()
    values[table["suppressed"].to_numpy()] = pd.NA
    return pd.DataFrame({"unit_id": table["unit_id"].astype(str).to_numpy(),
                         "category": table["category"].astype(str).to_numpy(), "value": values.array})

