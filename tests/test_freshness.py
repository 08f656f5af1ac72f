"""Confirmation states over dates, supply weights, confirmed share by area."""

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from scgeo.analysis.freshness import (
    STATES,
    FreshnessRules,
    add_months,
    confirmed_share_by_area,
    due_list,
    freshness,
    supply_weights,
)
from scgeo.schema import load_taxonomy

dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31))
ORDER = {s: i for i, s in enumerate(STATES[:4])}


@given(day=dates, months=st.integers(0, 60))
@settings(max_examples=100, deadline=None)
def test_add_months_equals_dateoffset(day, months):
    got = add_months(pd.Series(pd.to_datetime([day])), months).iloc[0]
    assert got == pd.Timestamp(day) + pd.DateOffset(months=months)


def _one(last, provider="resident"):  # one resource confirmed on ``last``
    return pd.DataFrame({"resource_id": ["R1"], "category": ["salon"], "provider_type": [provider],
                         "last_confirmed": pd.to_datetime([last])})


@given(rows=st.lists(st.tuples(dates, st.integers(1, 24)), min_size=1, max_size=30), leeway=st.integers(0, 6),
       factor=st.floats(1.0, 4.0), days=st.tuples(dates, dates))
@settings(max_examples=40, deadline=None)
def test_states_move_forward_and_match_the_dates(rows, leeway, factor, days):
    frame = pd.DataFrame({"resource_id": [f"R{i}" for i in range(len(rows))],
                          "category": [f"c{m}" for _, m in rows], "provider_type": None,
                          "last_confirmed": pd.to_datetime([d for d, _ in rows])})
    rules = FreshnessRules(category_months={f"c{m}": m for m in range(1, 25)}, leeway_months=leeway,
                           long_factor=factor)
    early, late = sorted(days)
    seen = []
    for today in (early, late):
        out = freshness(frame, today=today, rules=rules)
        for (last, interval), state, due_date in zip(rows, out["state"], out["due_date"], strict=True):
            start = pd.Timestamp(last)
            due = start + pd.DateOffset(months=interval)
            overdue = start + pd.DateOffset(months=interval + leeway)
            long_at = start + pd.DateOffset(months=int(max(np.ceil(factor * interval), interval + leeway)))
            now = pd.Timestamp(today)
            expected = ("confirmed" if now < due else "due" if now < overdue else
                        "overdue" if now < long_at else "long_unconfirmed")
            assert state == expected and due_date == due
        seen.append(out["state"].map(ORDER).to_numpy())
    assert (seen[0] <= seen[1]).all()  # never back to a fresher state without a new confirmation


def test_intervals_from_taxonomy_and_settings():
    rules = FreshnessRules.from_settings(taxonomy=load_taxonomy())
    frame = pd.DataFrame({"resource_id": ["A", "B", "C"], "category": ["salon", "care_service", "salon"],
                          "provider_type": ["resident", "company", None],
                          "last_confirmed": pd.to_datetime(["2026-01-10"] * 3)})
    assert rules.interval_months(frame).tolist() == [6, 12, 12]
    states = freshness(frame, today=dt.date(2026, 8, 1), rules=rules)
    assert states["state"].tolist() == ["due", "confirmed", "confirmed"]
    assert states["state_label"].tolist() == ["確認時期", "確認済み", "確認済み"]
    city = FreshnessRules.from_settings(taxonomy=load_taxonomy(), category_months={"salon": 3})
    assert city.interval_months(frame).tolist() == [3, 12, 3]


def test_never_confirmed_is_long_unconfirmed_and_weighs_nothing():
    frame = _one(None)
    row = freshness(frame, today=dt.date(2026, 1, 1), rules=FreshnessRules()).iloc[0]
    assert row["state"] == "long_unconfirmed" and row["confidence"] == 0.0 and pd.isna(row["due_date"])


def test_open_flag_makes_it_needs_review_until_resolved():
    frame = pd.concat([_one("2026-05-01"), _one("2026-05-01").assign(resource_id="R2")], ignore_index=True)
    flags = pd.DataFrame({"flag_id": ["F1", "F2"], "resource_id": ["R1", "R2"],
                          "raised_on": pd.to_datetime(["2026-06-01", "2026-06-01"]),
                          "reason": ["missing_from_source", "failed_referral"],
                          "source": ["介護サービス情報公表 2026年10月", None],
                          "resolved_on": pd.to_datetime([None, "2026-06-05"])})
    out = freshness(frame, today=dt.date(2026, 7, 1), rules=FreshnessRules(), flags=flags)
    assert out["state"].tolist() == ["needs_review", "confirmed"]
    assert out["review_reason"].iloc[0] == "再取込した一覧に見当たらない(介護サービス情報公表 2026年10月)"
    assert out["confidence"].tolist() == [0.3, 1.0]


def test_supply_weight_is_confidence_times_weekly_share():
    frame = pd.DataFrame({
        "resource_id": ["A", "B", "C", "D"], "category": "salon", "provider_type": "resident",
        "schedule": ["毎週水曜 10:00-12:00", "毎月第2木曜", "月2回", "要相談"], "days_of_week": None,
        "last_confirmed": pd.to_datetime(["2026-06-01", "2026-06-01", "2025-12-15", "2026-06-01"])})
    rules = FreshnessRules(provider_months={"resident": 6})
    w = supply_weights(frame, today=dt.date(2026, 7, 1), rules=rules)
    assert w["state"].tolist() == ["confirmed", "confirmed", "due", "confirmed"]
    assert w["weight"].round(4).tolist() == [1.0, round(12 / 52, 4), round(0.7 * 24 / 52, 4), 1.0]
    assert w["weight_source"].tolist() == ["", "", "", "開催頻度不明→1.0"]
    unit = supply_weights(frame, today=dt.date(2026, 7, 1), rules=rules, confidence=False, schedule=False)
    assert (unit["weight"] == 1.0).all()


def test_due_list_for_a_month_leaves_out_confirmed_and_closed():
    frame = pd.DataFrame({"resource_id": ["A", "B", "C", "D"], "category": "salon", "provider_type": "resident",
                          "status": ["active", "active", "closed", "paused"],
                          "last_confirmed": pd.to_datetime(["2026-06-20", "2026-01-10", "2020-01-01", None])})
    rules = FreshnessRules(provider_months={"resident": 6})
    assert due_list(frame, on=dt.date(2026, 12, 31), rules=rules)["resource_id"].tolist() == ["D", "B", "A"]
    assert due_list(frame, on=dt.date(2026, 11, 30), rules=rules)["resource_id"].tolist() == ["D", "B"]


def test_confirmed_share_by_area():
    areas = gpd.GeoDataFrame({"area_id": ["J1", "J2", "J3"], "name": ["東", "西", "南"], "level": "jhs_district"},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, -1, 1, 0)], crs=6668)
    res = gpd.GeoDataFrame({"resource_id": ["A", "B", "C", "D"], "category": "salon", "provider_type": "resident",
                            "status": ["active", "active", "active", "closed"],
                            "last_confirmed": pd.to_datetime(["2026-06-01", "2024-01-01", "2026-06-01", None])},
                           geometry=[Point(0.5, 0.5), Point(0.6, 0.5), Point(1.5, 0.5), Point(1.5, 0.6)], crs=6668)
    out = confirmed_share_by_area(res, areas, today=dt.date(2026, 7, 1), rules=FreshnessRules())
    assert out["n_resources"].tolist() == [2, 1, 0]
    assert out["n_confirmed"].tolist() == [1, 1, 0]
    assert out["n_long_unconfirmed"].tolist() == [1, 0, 0]
    assert out["confirmed_share_pct"].tolist()[:2] == [50.0, 100.0] and np.isnan(out["confirmed_share_pct"].iloc[2])


def test_bad_confidence_settings_are_refused():
    from scgeo import InputError
    from scgeo.settings import Settings

    assert Settings().replace(confidence_weights={"due": 0.5}).confidence_weights["due"] == 0.5
    with pytest.raises(InputError, match="confidence_weights"):
        Settings().replace(confidence_weights={"due": 2})
