"""How fresh each resource's entry is, and how much supply it counts for.

Referral directories keep *checked* apart from *changed* (Open Referral HSDS ``assured_date`` vs
``last_modified``) and re-verify every listing on a cycle; open-data portals rate a dataset
against its expected update frequency (HDX: fresh, due, overdue, delinquent). Here:

- every resource has a **confirmation interval** in months: its category's ``confirm_months``
  in the taxonomy, else its provider type's (住民主体 6, care providers and others 12), else
  ``settings.confirm_months``;
- its **state** on a date, from ``last_confirmed`` (the latest confirmation, see the
  ``confirmations`` layer): 確認済み (``confirmed``) before the due date (last confirmation +
  interval); 確認時期 (``due``) for ``leeway`` months after it; 期限切れ (``overdue``) after that;
  長期未確認 (``long_unconfirmed``) after ``long_factor`` × interval, or never confirmed; and
  要確認 (``needs_review``) while an open staleness signal stands (missing from a re-imported
  official list, a failed referral, no answer when called);
- its **supply weight**: the confidence of its state (1.0 / 0.7 / 0.3 / 0 / 0.3 by default,
  ``settings.confidence_weights``) times its weekly-available share
  (:mod:`scgeo.analysis.schedule`; unknown schedules count as 1.0). Effective coverage and
  matching use it; with every weight at 1 they give the plain results.

Everything here is pure: frames in, frames out.

Examples
--------
>>> import datetime as dt
>>> frame = pd.DataFrame({"resource_id": ["R1", "R2", "R3"], "category": "salon",
...                       "provider_type": ["resident", "company", None],
...                       "last_confirmed": pd.to_datetime(["2026-01-15", "2025-09-01", None])})
>>> rules = FreshnessRules(provider_months={"resident": 6, "company": 12})
>>> freshness(frame, today=dt.date(2026, 8, 1), rules=rules)["state"].tolist()
['due', 'confirmed', 'long_unconfirmed']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo.analysis.schedule import schedule_table
from scgeo.schema import Taxonomy, load_taxonomy
from scgeo.settings import DEFAULT_CONFIDENCE, Settings, get_settings

__all__ = [
    "FLAG_REASONS",
    "STATES",
    "STATE_LABELS",
    "FreshnessRules",
    "add_months",
    "confirmed_share_by_area",
    "due_list",
    "freshness",
    "supply_weights",
]

STATES = ("confirmed", "due", "overdue", "long_unconfirmed", "needs_review")
STATE_LABELS = {"confirmed": "確認済み", "due": "確認時期", "overdue": "期限切れ", "long_unconfirmed": "長期未確認",
                "needs_review": "要確認"}
FLAG_REASONS = {"missing_from_source": "再取込した一覧に見当たらない", "failed_referral": "紹介がうまくいかなかった",
                "unreachable": "連絡がつかない"}


@dataclass(frozen=True)
class FreshnessRules:
    """Confirmation intervals, leeway and confidence weights.

    Parameters
    ----------
    default_months
        Interval when neither the category nor the provider type sets one.
    leeway_months
        Months a resource stays 確認時期 after its due date before it is 期限切れ.
    long_factor
        Unconfirmed for this many intervals (at least interval + leeway): 長期未確認.
    confidence
        Weight by state, 0–1.
    category_months, provider_months
        Intervals by category code and by provider-type code (category first).
    """

    default_months: int = 12
    leeway_months: int = 2
    long_factor: float = 2.0
    confidence: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CONFIDENCE))
    category_months: Mapping[str, int] = field(default_factory=dict)
    provider_months: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, *, taxonomy: Taxonomy | None = None, settings: Settings | None = None,
                      **overrides) -> FreshnessRules:
        """Rules from the settings in force and the taxonomy's ``confirm_months``."""
        settings = settings or get_settings()
        taxonomy = taxonomy or load_taxonomy()
        values = {
            "default_months": settings.confirm_months, "leeway_months": settings.confirm_leeway_months,
            "long_factor": settings.confirm_long_factor, "confidence": dict(settings.confidence_weights),
            "category_months": {c: e.confirm_months for c, e in taxonomy.categories.items() if e.confirm_months},
            "provider_months": {c: e.confirm_months for c, e in taxonomy.provider_types.items()
                                if e.confirm_months},
        }
        return cls(**(values | overrides))

    def interval_months(self, resources: pd.DataFrame) -> pd.Series:
        """The confirmation interval of each resource, in months."""
        by_category = resources["category"].map(dict(self.category_months))
        by_provider = resources["provider_type"].map(dict(self.provider_months)) \
            if "provider_type" in resources else pd.Series(np.nan, index=resources.index)
        months = by_category.fillna(by_provider).fillna(self.default_months)
        return months.astype("int64").rename("interval_months")


def add_months(dates: pd.Series, months: pd.Series | np.ndarray | int) -> pd.Series:
    """``dates`` plus a whole number of months per row, the day clipped to the month's end.

    Vectorised (no loop over rows); NaT stays NaT. Same result as ``date + pd.DateOffset(months=n)``.

    Examples
    --------
    >>> add_months(pd.Series(pd.to_datetime(["2026-01-31", "2025-11-15"])), 1).dt.date.tolist()
    [datetime.date(2026, 2, 28), datetime.date(2025, 12, 15)]
    """
    dates = pd.to_datetime(pd.Series(dates))
    months = np.broadcast_to(np.asarray(months, dtype="int64"), (len(dates),))
    ok = dates.notna().to_numpy()
    total = np.zeros(len(dates), dtype="int64")
    total[ok] = dates[ok].dt.year.to_numpy() * 12 + dates[ok].dt.month.to_numpy() - 1 + months[ok]
    first = pd.to_datetime({"year": total // 12, "month": total % 12 + 1, "day": 1}, errors="coerce")
    last_day = first.dt.days_in_month.fillna(1).to_numpy(dtype="int64")
    day = np.minimum(dates.dt.day.fillna(1).to_numpy(dtype="int64"), last_day)
    out = first + pd.to_timedelta(day - 1, unit="D")
    out[~ok] = pd.NaT
    return pd.Series(out.to_numpy(dtype="datetime64[ns]"), index=dates.index)


def _open_flags(flags: pd.DataFrame | None, index: pd.Index, ids: pd.Series) -> pd.Series:
    """The source of the latest unresolved staleness signal of each resource ('' when none)."""
    if flags is None or not len(flags):
        return pd.Series("", index=index)
    live = flags[flags["resolved_on"].isna()] if "resolved_on" in flags else flags
    live = live.sort_values("raised_on").drop_duplicates("resource_id", keep="last")
    text = live["reason"].map(FLAG_REASONS).fillna(live["reason"])
    if "source" in live:
        text = text.where(live["source"].isna(), text + "(" + live["source"].astype(str) + ")")
    found = ids.map(dict(zip(live["resource_id"], text, strict=True))).astype(object)
    return pd.Series(found.where(found.notna(), "").to_numpy(), index=index)


def freshness(resources: pd.DataFrame, *, today: dt.date | None = None, rules: FreshnessRules | None = None,
              flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """The confirmation state of every resource on ``today``.

    Parameters
    ----------
    resources
        Resources with ``resource_id``, ``category``, ``provider_type`` and ``last_confirmed``.
    today
        The date the states are for (default: today); a month's work list uses its last day.
    rules
        Intervals and weights (default :meth:`FreshnessRules.from_settings`).
    flags
        The ``review_flags`` layer (``resource_id``, ``raised_on``, ``reason``, ``source``,
        ``resolved_on``): an unresolved one makes the resource 要確認.

    Returns
    -------
    DataFrame
        On the index of ``resources``: ``resource_id``, ``interval_months``, ``due_date``,
        ``state`` (:data:`STATES`), ``state_label``, ``review_reason`` (the open signal and its
        source, '' when none), ``confidence``.
    """
    rules = rules or FreshnessRules.from_settings()
    today = pd.Timestamp(today or dt.date.today())
    months = rules.interval_months(resources)
    confirmed = pd.to_datetime(resources["last_confirmed"])
    due = add_months(confirmed, months)
    overdue_at = add_months(confirmed, months + rules.leeway_months)
    long_months = np.maximum(np.ceil(rules.long_factor * months.to_numpy()), months + rules.leeway_months)
    long_at = add_months(confirmed, long_months)
    state = np.select([confirmed.isna().to_numpy(), (today < due).to_numpy(), (today < overdue_at).to_numpy(),
                       (today < long_at).to_numpy()], ["long_unconfirmed", "confirmed", "due", "overdue"],
                      "long_unconfirmed")
    weights = {**DEFAULT_CONFIDENCE, **dict(rules.confidence)}
    confidence = pd.Series(state, index=resources.index).map(weights).astype(float)
    reason = _open_flags(flags, resources.index, resources["resource_id"])
    flagged = (reason != "").to_numpy()
    confidence = confidence.where(~flagged, np.minimum(confidence, weights["needs_review"]))
    state = np.where(flagged, "needs_review", state)
    return pd.DataFrame({
        "resource_id": resources["resource_id"].to_numpy(), "interval_months": months.to_numpy(),
        "due_date": due.to_numpy(), "state": state, "state_label": pd.Series(state).map(STATE_LABELS).to_numpy(),
        "review_reason": reason.to_numpy(), "confidence": confidence.to_numpy(),
    }, index=resources.index)


def supply_weights(resources: pd.DataFrame, *, today: dt.date | None = None, rules: FreshnessRules | None = None,
                   flags: pd.DataFrame | None = None, confidence: bool = True,
                   schedule: bool = True) -> pd.DataFrame:
    """The supply weight of every resource: state confidence × weekly-available share.

    Parameters
    ----------
    resources, today, rules, flags
        As for :func:`freshness`.
    confidence, schedule
        Switch either factor off (it then counts as 1.0).

    Returns
    -------
    DataFrame
        On the index of ``resources``: ``resource_id``, ``state``, ``confidence``,
        ``weekly_share`` (1.0 where the schedule says nothing about frequency),
        ``schedule_known``, ``weight`` (0–1), ``weight_source`` (what the weight rests on, in Japanese).
    """
    fresh = freshness(resources, today=today, rules=rules, flags=flags)
    sched = schedule_table(resources)
    conf = fresh["confidence"] if confidence else pd.Series(1.0, index=resources.index)
    share = sched["weekly_share"].fillna(1.0) if schedule else pd.Series(1.0, index=resources.index)
    source = np.where(sched["schedule_known"].to_numpy() | (not schedule), "", "開催頻度不明→1.0")
    return pd.DataFrame({
        "resource_id": resources["resource_id"].to_numpy(), "state": fresh["state"].to_numpy(),
        "confidence": conf.to_numpy(dtype=float), "weekly_share": share.to_numpy(dtype=float),
        "schedule_known": sched["schedule_known"].to_numpy(),
        "weight": np.clip(conf.to_numpy(dtype=float) * share.to_numpy(dtype=float), 0.0, 1.0),
        "weight_source": source,
    }, index=resources.index)


def due_list(resources: pd.DataFrame, *, on: dt.date | None = None, rules: FreshnessRules | None = None,
             flags: pd.DataFrame | None = None, statuses: tuple[str, ...] = ("active", "paused")) -> pd.DataFrame:
    """Resources to confirm by ``on``: every state but 確認済み, soonest due first.

    Closed resources are left out (``statuses``). The frame is ``resources`` joined with the
    columns of :func:`freshness`.
    """
    kept = resources[resources["status"].isin(statuses)]
    fresh = freshness(kept, today=on, rules=rules, flags=flags).drop(columns="resource_id")
    out = kept.join(fresh)
    out = out[out["state"] != "confirmed"]
    return out.sort_values(["due_date", "resource_id"], na_position="first")


def confirmed_share_by_area(resources: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, today: dt.date | None = None,
                            level: str = "jhs_district", rules: FreshnessRules | None = None,
                            flags: pd.DataFrame | None = None,
                            statuses: tuple[str, ...] = ("active",)) -> pd.DataFrame:
    """The share of resources whose entry is confirmed, per area of ``level``.

    For reports and the council pack: counts by state and ``confirmed_share_pct`` (NaN where
    the area holds no resource), rather than counts based on edit dates. A resource belongs to
    the area its point lies in.

    Returns
    -------
    DataFrame
        ``area_id``, ``area_name``, ``n_resources``, one ``n_<state>`` column per state,
        ``confirmed_share_pct``.
    """
    kept = resources[resources["status"].isin(statuses)]
    fresh = freshness(kept, today=today, rules=rules, flags=flags)
    zones = areas[areas["level"] == level][["area_id", "name", "geometry"]]
    points = gpd.GeoDataFrame({"state": fresh["state"].to_numpy()}, geometry=kept.geometry.to_numpy(),
                              crs=kept.crs).to_crs(zones.crs)
    joined = gpd.sjoin(points, zones, predicate="intersects", how="inner")
    joined = joined[~joined.index.duplicated()]
    counts = pd.crosstab(joined["area_id"], joined["state"]).reindex(columns=list(STATES), fill_value=0)
    counts = counts.reindex(zones["area_id"], fill_value=0)
    out = pd.DataFrame({"area_id": zones["area_id"].to_numpy(), "area_name": zones["name"].to_numpy()})
    out["n_resources"] = counts.sum(axis=1).to_numpy()
    for state in STATES:
        out[f"n_{state}"] = counts[state].to_numpy()
    total = out["n_resources"].where(out["n_resources"] > 0)
    out["confirmed_share_pct"] = (100 * out["n_confirmed"] / total).round(1)
    return out
