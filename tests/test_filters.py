"""scgeo.filters on a tiny synthetic town and on the sample workspace."""

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from scgeo import CRSError, InputError
from scgeo.filters import areas_within, filter_resources, is_stale, resources_in_area

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def town():
    areas = gpd.GeoDataFrame(
        {"area_id": ["L1", "L2", "T1", "T2"], "name": ["北", "南", "北一丁目", "南一丁目"],
         "level": ["living_area", "living_area", "town_block", "town_block"]},
        geometry=[box(0, 0, 1, 1), box(0, 1, 1, 2), box(0, 0, 0.5, 0.5), box(0, 1, 0.5, 1.5)], crs=6668)
    resources = gpd.GeoDataFrame(
        {"resource_id": ["R1", "R2", "R3", "R4"],
         "name": ["中央サロン", "ＡＢＣ配食", "みどり体操", "南の会"],
         "category": ["salon", "meal_delivery", "kayoi_no_ba", "salon"],
         "provider_type": ["resident", "company", "resident", None],
         "address": ["北町1", "北町2", "南町1", "南町9"],
         "notes": [None, "弁当", "会場: 公民館", "休止中"],
         "status": ["active", "active", "active", "paused"],
         "last_confirmed": pd.to_datetime(["2026-05-01", "2024-01-01", None, "2025-12-01"])},
        geometry=[Point(0.2, 0.2), Point(0.8, 0.8), Point(0.2, 1.2), Point(1.0, 1.5)], crs=6668)
    return areas, resources


def ids(frame):
    return frame["resource_id"].tolist()


def test_no_filter_keeps_everything_with_the_index(town):
    areas, resources = town
    out = filter_resources(resources, areas)
    assert ids(out) == ["R1", "R2", "R3", "R4"]
    assert out.index.equals(resources.index)


def test_each_filter(town):
    areas, resources = town
    assert ids(filter_resources(resources, categories=["salon"])) == ["R1", "R4"]
    assert ids(filter_resources(resources, provider_types=["resident"])) == ["R1", "R3"]
    assert ids(filter_resources(resources, statuses=["paused"])) == ["R4"]
    assert ids(filter_resources(resources, areas, area_id="L2")) == ["R3", "R4"]  # R4 on the boundary
    assert ids(filter_resources(resources, areas, area_id="T1")) == ["R1"]
    assert ids(filter_resources(resources, confirmed_within_months=6, today=TODAY)) == ["R1", "R4"]
    assert ids(filter_resources(resources, confirmed_within_months=3, today=TODAY)) == ["R1"]
    assert ids(filter_resources(resources, stale=True, today=TODAY)) == ["R2", "R3"]
    # R1 resident, confirmed 2026-05-01: due after 6 months; R2 company 2024-01-01: 12 months, long ago
    assert ids(filter_resources(resources, states=["long_unconfirmed"], today=TODAY)) == ["R2", "R3"]
    assert ids(filter_resources(resources, states=["confirmed"], today=TODAY)) == ["R1", "R4"]
    flags = pd.DataFrame({"resource_id": ["R1"], "raised_on": pd.to_datetime(["2026-05-10"]),
                          "reason": ["failed_referral"], "source": [None], "resolved_on": pd.NaT})
    assert ids(filter_resources(resources, states=["needs_review"], today=TODAY, review_flags=flags)) == ["R1"]


def test_keyword_is_nfkc_folded_and_searches_address_and_notes(town):
    _, resources = town
    assert ids(filter_resources(resources, keyword="abc")) == ["R2"]
    assert ids(filter_resources(resources, keyword="公民館")) == ["R3"]
    assert ids(filter_resources(resources, keyword="南町")) == ["R3", "R4"]
    assert ids(filter_resources(resources, keyword="南町 休止")) == ["R4"]
    assert ids(filter_resources(resources, keyword="  ")) == ["R1", "R2", "R3", "R4"]


def test_filters_combine(town):
    areas, resources = town
    out = filter_resources(resources, areas, categories=["salon"], area_id="L1")
    assert ids(out) == ["R1"]


def test_is_stale_counts_never_confirmed():
    frame = pd.DataFrame({"last_confirmed": pd.to_datetime(["2026-01-10", "2024-01-10", None])})
    assert is_stale(frame, months=12, today=TODAY).tolist() == [False, True, True]


def test_errors_are_explained(town):
    areas, resources = town
    with pytest.raises(InputError, match="区域ID X"):
        filter_resources(resources, areas, area_id="X")
    with pytest.raises(InputError, match="区域"):
        filter_resources(resources, area_id="L1")
    with pytest.raises(CRSError, match="座標系が違います"):
        resources_in_area(resources, areas.to_crs(3857), "L1")


def test_areas_within_keeps_the_area_and_lower_levels(town):
    areas, _ = town
    assert areas_within(areas, "L1")["area_id"].tolist() == ["L1", "T1"]
    assert areas_within(areas, "T2")["area_id"].tolist() == ["T2"]


def test_sample_living_areas_partition_the_resources(sample_workspace):
    areas = sample_workspace.areas()
    resources = sample_workspace.read("resources")
    living = areas[areas["level"] == "living_area"]["area_id"]
    counts = [len(filter_resources(resources, areas, area_id=a)) for a in living]
    assert sum(counts) == len(resources)
    salons = filter_resources(resources, categories=["salon"])
    assert len(salons) == (resources["category"] == "salon").sum() > 0
