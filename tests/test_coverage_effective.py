"""Effective coverage: resources weighed by confirmation state × weekly-available share."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scgeo.analysis import analyse_coverage
from scgeo.analysis.coverage import CoverageRules, _snap_of
from scgeo.analysis.freshness import supply_weights
from scgeo.network import WalkNetwork

TODAY = dt.date(2026, 10, 1)
CATS = ["salon", "kayoi_no_ba"]


@pytest.fixture(scope="module")
def layers(sample_workspace):
    ws = sample_workspace
    return {"areas": ws.areas(), "blocks": ws.town_blocks(), "resources": ws.read("resources"),
            "network": WalkNetwork.from_workspace(ws)}


def _table(layers, *, network=True, **kwargs):
    cov = analyse_coverage(layers["areas"], layers["blocks"], layers["resources"],
                           network=layers["network"] if network else None, today=TODAY, categories=CATS, **kwargs)
    return cov, cov.table(["municipality", "jhs_district", "town_block"])


def test_unit_weights_give_plain_coverage(layers):
    _, plain = _table(layers)
    ones = pd.Series(1.0, index=layers["resources"]["resource_id"].to_numpy())
    _, unit = _table(layers, weights=ones)
    assert plain["coverage_effective_pct"].equals(plain["coverage_pct"])
    assert unit["coverage_effective_pct"].equals(unit["coverage_pct"])
    assert unit["coverage_pct"].equals(plain["coverage_pct"])
    assert set(plain["weights"]) == {"なし(すべて1)"}


def test_effective_is_the_best_weight_in_reach_brute_force(layers):
    """Against one shortest-path run per resource: each point worth its best covering weight."""
    res = layers["resources"]
    rng = np.random.default_rng(7)
    weights = pd.Series(rng.choice([0.0, 0.23, 0.46, 0.7, 1.0], len(res)), index=res["resource_id"].to_numpy())
    cov, table = _table(layers, weights=weights)
    net, pts = layers["network"], cov.points
    point_snap = _snap_of(pts)
    limit = cov.minutes * cov.speed_m_per_min
    for code in CATS:
        mine = cov.resources[cov.resources["category"] == code]
        best = np.zeros(len(pts))
        for _, row in mine.iterrows():
            d = net.distance_to_nearest(net.snap(mine.loc[[row.name]]), point_snap, limit_m=limit)
            best = np.maximum(best, np.where(d <= limit, round(weights[row["resource_id"]], 3), 0.0))
        np.testing.assert_allclose(pts[f"eff_{code}"].to_numpy(), best, err_msg=code)
    assert (table["coverage_effective_pct"].fillna(0) <= table["coverage_pct"].fillna(0)).all()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_effective_never_above_plain(layers, data):
    res = layers["resources"]
    values = data.draw(st.lists(st.floats(-0.5, 1.5, allow_nan=False), min_size=len(res), max_size=len(res)))
    weights = pd.Series(values, index=res["resource_id"].to_numpy())
    _, table = _table(layers, network=False, weights=weights)
    eff, plain = table["coverage_effective_pct"], table["coverage_pct"]
    assert (eff.isna() == plain.isna()).all()
    assert (eff.dropna() <= plain.dropna()).all() and (eff.dropna() >= 0).all()
    assert (table["covered_65plus_effective"] <= table["covered_65plus"]).all()


def test_status_can_rest_on_effective_coverage(layers):
    supply = supply_weights(layers["resources"], today=TODAY)
    weights = pd.Series(supply["weight"].to_numpy(), index=supply["resource_id"].to_numpy())
    _, plain_rules = _table(layers, weights=weights)
    _, eff_rules = _table(layers, weights=weights, rules=CoverageRules(basis="effective"))
    for table, column in ((eff_rules, "coverage_effective_pct"), (plain_rules, "coverage_pct")):
        pct = table[column]
        clear = ~(((pct - 80).abs() <= 0.05) | ((pct - 20).abs() <= 0.05))  # the table's pct is rounded
        expected = CoverageRules().status(pct)
        assert table.loc[clear, "status"].tolist() == expected[clear].tolist()
    assert (eff_rules["status"] != plain_rules["status"]).any()
