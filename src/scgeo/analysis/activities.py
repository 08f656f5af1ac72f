"""The activity log, summarised: pure functions over the ``activities`` layer (no I/O).

Months are ``YYYY-MM`` strings; the fiscal year (年度) runs from April to March and is named by
the year it starts in (``fy=2026`` is 2026-04-01 … 2027-03-31).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from scgeo._errors import InputError
from scgeo.schema import ACTIVITY_FUNCTION_LABELS, ACTIVITY_FUNCTIONS

__all__ = [
    "activity_meetings",
    "activity_summary",
    "area_ids_within",
    "fiscal_months",
    "fiscal_year_of",
    "in_period",
    "last_entry_defaults",
    "month_range",
]


def month_range(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of ``month`` (``2026-11``); ``InputError`` for anything else.

    Examples
    --------
    >>> [d.date().isoformat() for d in month_range("2026-11")]
    ['2026-11-01', '2026-11-30']
    """
    try:
        start = pd.Timestamp(dt.datetime.strptime(str(month).strip(), "%Y-%m"))
    except ValueError as exc:
        raise InputError(f"月は 2026-11 のように「年-月」で指定してください(指定: {month})。") from exc
    return start, start + pd.offsets.MonthEnd(0)


def fiscal_year_of(day: object) -> int:
    """The fiscal year (年度) of a day: April–March, named by the year it starts in."""
    stamp = pd.Timestamp(day)
    return stamp.year if stamp.month >= 4 else stamp.year - 1


def fiscal_months(fy: int) -> list[str]:
    """The twelve months of fiscal year ``fy``, April first (``2026-04`` … ``2027-03``)."""
    return [f"{fy + (m < 4)}-{m:02d}" for m in (*range(4, 13), 1, 2, 3)]


def in_period(dates: pd.Series, start: object, end: object) -> pd.Series:
    """Whether each date lies between ``start`` and ``end`` (both included)."""
    day = pd.to_datetime(dates)
    return (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))


def area_ids_within(areas: pd.DataFrame, area_id: str | None) -> set[str] | None:
    """Ids of ``area_id`` and of every area lying in it (:func:`scgeo.filters.areas_within`).

    ``None`` (no filter) for no area; an id the workspace does not know stands for itself alone.
    """
    from scgeo.filters import areas_within

    if area_id is None or (not isinstance(area_id, str) and pd.isna(area_id)):
        return None
    if area_id not in set(areas["area_id"]):
        return {str(area_id)}
    return set(areas_within(areas, str(area_id))["area_id"].astype(str))


def activity_summary(activities: pd.DataFrame, *, start: object, end: object, user: str | None = None,
                     area_ids: set[str] | None = None, types: dict | None = None) -> pd.DataFrame:
    """Activities of a period by function and type: how many, and how many hours.

    Parameters
    ----------
    activities
        The ``activities`` layer.
    start, end
        The period (days included).
    user
        Only the activities recorded by this coordinator.
    area_ids
        Only activities in these areas (see :func:`area_ids_within`).
    types
        Activity types (:func:`scgeo.io.activities.load_activity_types`) for the labels.

    Returns
    -------
    pandas.DataFrame
        ``function``, ``function_label``, ``type``, ``type_label``, ``count``, ``hours``, in the
        order of the functions, every function present even with no activity (count 0).
    """
    rows = activities[in_period(activities["date"], start, end)]
    if user:
        rows = rows[rows["user"] == user]
    if area_ids is not None:
        rows = rows[rows["area_id"].isin(area_ids)]
    grouped = (rows.assign(hours=rows["hours"].fillna(0.0)).groupby(["function", "type"], sort=False)
               .agg(count=("activity_id", "size"), hours=("hours", "sum")).reset_index())
    missing = [f for f in ACTIVITY_FUNCTIONS if f not in set(grouped["function"])]
    filler = pd.DataFrame({"function": missing, "type": None, "count": 0, "hours": 0.0})
    out = pd.concat([grouped, filler], ignore_index=True) if missing else grouped
    out["order"] = out["function"].map({f: i for i, f in enumerate(ACTIVITY_FUNCTIONS)})
    out = out.sort_values(["order", "count", "type"], ascending=[True, False, True], na_position="last")
    labels = {code: t.label for code, t in (types or {}).items()}
    out["function_label"] = out["function"].map(ACTIVITY_FUNCTION_LABELS)
    out["type_label"] = out["type"].map(lambda t: labels.get(t, t) if isinstance(t, str) else "—")
    out["hours"] = out["hours"].astype(float).round(2)
    return out[["function", "function_label", "type", "type_label", "count", "hours"]].reset_index(drop=True)


def activity_meetings(activities: pd.DataFrame, council_meetings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Activities with two or more counterparts, as meetings for proposing ties.

    The activity log feeds :func:`scgeo.analysis.ties.propose_ties` as the 協議体 meetings do:
    organisations met together at a 会議 or 団体支援 are proposed a 連携 tie. Activities that record
    a 協議体 meeting (``meeting_id``) already in ``council_meetings`` are left out, so that no meeting
    counts twice. Returns ``meeting_id`` (the activity id), ``date``, ``attendees``.
    """
    from scgeo.io.activities import id_list

    counted = set(council_meetings["meeting_id"].astype(str)) if council_meetings is not None else set()
    lists = activities["counterparts"].map(id_list)
    keep = (lists.map(len) >= 2) & ~activities["meeting_id"].isin(counted)
    rows = activities[keep]
    return pd.DataFrame({"meeting_id": rows["activity_id"].astype(str), "date": rows["date"],
                         "attendees": lists[keep].map(";".join)}).reset_index(drop=True)


def last_entry_defaults(activities: pd.DataFrame, *, user: str | None = None) -> dict:
    """Defaults for a quick entry: the tier, area, function, type and hours of the last entry.

    The last entry is that of ``user`` when given (else of anyone); an empty log gives no defaults.
    """
    rows = activities if not user else activities[activities["user"] == user]
    if not len(rows):
        return {}
    last = rows.sort_values(["date", "activity_id"]).iloc[-1]
    out = {}
    for key in ("tier", "user", "area_id", "function", "type", "hours"):
        value = last[key]
        if value is not None and not (not isinstance(value, str) and pd.isna(value)):
            out[key] = value.item() if hasattr(value, "item") else value
    return out
