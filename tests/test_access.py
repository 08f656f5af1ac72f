"""2SFCA / E2SFCA: equal to a dense brute force, supply conserved, on the sample town."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scgeo.analysis.access import E2SFCA_WEIGHTS, access_scores, fca_scores


def _dense(demand, supply, cost, threshold, decay):
    if decay is None:
        w = (cost <= threshold).astype(float)
    else:
        w = np.zeros_like(cost)
        edges = np.linspace(0, threshold, len(decay) + 1)
        for k, weight in enumerate(decay):
            upper = cost <= edges[k + 1] if k == len(decay) - 1 else cost < edges[k + 1]
            w[(cost >= edges[k]) & upper] = weight
    ratio = np.array([supply[j] / (w[:, j] @ demand) if w[:, j] @ demand > 0 else 0.0 for j in range(len(supply))])
    return np.array([w[i] @ ratio for i in range(len(demand))])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 5000), st.sampled_from([None, E2SFCA_WEIGHTS]))
def test_fca_equals_dense_brute_force_and_conserves_supply(seed, decay):
    rng = np.random.default_rng(seed)
    n_dem, n_sup = rng.integers(1, 15), rng.integers(1, 6)
    cost = rng.uniform(0, 25, size=(n_dem, n_sup)).round(2)
    demand = rng.integers(0, 40, size=n_dem).astype(float)
    supply = rng.integers(1, 30, size=n_sup).astype(float)
    target, source = np.nonzero(cost <= 15)
    score, ratio = fca_scores(demand, supply, target, source, cost[target, source], threshold=15, decay=decay)
    assert score == pytest.approx(_dense(demand, supply, cost, 15, decay))
    reached = ratio > 0
    assert demand @ score == pytest.approx(supply[reached].sum())


def test_access_scores_on_the_sample(sample_workspace):
    from scgeo.network import WalkNetwork

    ws = sample_workspace
    blocks, resources = ws.town_blocks(), ws.read("resources")
    table = access_scores(blocks, resources, network=WalkNetwork.from_workspace(ws), category="kayoi_no_ba")
    assert len(table) == len(blocks)
    assert set(table["method"]) == {"E2SFCA"}
    assert (table["access_per_1000"].dropna() >= 0).all()
    # people-weighted mean index is 1 by construction
    ok = table["access_index"].notna()
    mean = (table.loc[ok, "access_index"] * table.loc[ok, "people"]).sum() / table.loc[ok, "people"].sum()
    assert mean == pytest.approx(1.0, abs=1e-2)
    # supply conserved: places per person × people adds up to at most the capacities
    mine = resources[(resources["category"] == "kayoi_no_ba") & (resources["status"] == "active")]
    placed = (table["access_per_1000"].fillna(0) / 1000 * table["people"].fillna(0)).sum()
    assert placed <= mine["capacity"].sum() * 1.001
    assert placed > 0.5 * mine["capacity"].sum()
