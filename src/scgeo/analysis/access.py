"""Accessibility scores per 町丁目: 2SFCA and E2SFCA (two-step floating catchment area).

Coverage says whether someone can walk to a resource; this says how crowded the reachable
resources are. Step 1: each resource's supply (its ``capacity``) divided by the older people
within its catchment, R_j = S_j / Σ_k w(d_kj) P_k. Step 2: each person's score is the sum of
R_j over the resources they can reach, A_i = Σ_j w(d_ij) R_j. With ``decay=None`` the weight is
1 inside the threshold (2SFCA); by default it falls by thirds of the threshold with the weights
1.0 / 0.68 / 0.22 (E2SFCA, Luo & Qi 2009). The same weights in both steps keep supply
conserved: Σ_i P_i A_i equals the supply of every resource that someone can reach.

Pairs come from one bounded search (:func:`scgeo.network.pairs_within`); town-block scores are
the people-weighted mean of their street points, given per 1,000 people.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo.analysis.population import population_points
from scgeo.analysis.siting._frames import PAIRS_MEMORY_MB
from scgeo.network import WalkNetwork, pairs_within
from scgeo.settings import get_settings

__all__ = ["E2SFCA_WEIGHTS", "access_scores", "fca_scores"]

E2SFCA_WEIGHTS = (1.0, 0.68, 0.22)


def _weights(minutes: np.ndarray, threshold: float, decay: tuple[float, ...] | None) -> np.ndarray:
    if decay is None:
        return (minutes <= threshold).astype(float)
    zone = np.minimum((minutes / threshold * len(decay)).astype(int), len(decay) - 1)
    return np.where(minutes <= threshold, np.asarray(decay, dtype=float)[zone], 0.0)


def fca_scores(demand: np.ndarray, supply: np.ndarray, target: np.ndarray, source: np.ndarray,
               minutes: np.ndarray, *, threshold: float,
               decay: tuple[float, ...] | None = E2SFCA_WEIGHTS) -> tuple[np.ndarray, np.ndarray]:
    """2SFCA / E2SFCA on (demand point, supply) pairs.

    Parameters
    ----------
    demand
        People at each demand point.
    supply
        Supply of each resource (capacity).
    target, source, minutes
        The pairs: demand position, resource position, walking minutes.
    threshold
        Catchment size in minutes.
    decay
        Step weights over equal parts of the threshold; ``None``: 2SFCA (weight 1 inside).

    Returns
    -------
    tuple of numpy arrays
        Each demand point's score (supply per person) and each resource's ratio R_j.
    """
    w = _weights(np.asarray(minutes, dtype=float), threshold, decay)
    reached = np.bincount(source, weights=w * demand[target], minlength=len(supply))
    ratio = np.divide(supply, reached, out=np.zeros(len(supply)), where=reached > 0)
    score = np.bincount(target, weights=w * ratio[source], minlength=len(demand))
    return score, ratio


def access_scores(blocks: gpd.GeoDataFrame, resources: gpd.GeoDataFrame, *, network: WalkNetwork,
                  category: str, minutes: float = 15.0, decay: tuple[float, ...] | None = E2SFCA_WEIGHTS,
                  speed_m_per_min: float | None = None, include_planned: bool = False) -> pd.DataFrame:
    """Accessibility of one category's places per town block.

    Only resources of ``category`` with a ``capacity`` take part (status ``active``, and
    ``planned`` with ``include_planned``); the people counted are 65+ (the total population when
    the workspace has no 65+ figures, said in ``note``).

    Returns
    -------
    DataFrame
        One row per town block: ``area_id``, ``name``, ``people`` (65+ or total),
        ``access_per_1000`` (places per 1,000 people, people-weighted mean of the block's
        points), ``access_index`` (the block's score over the town's people-weighted mean: 1 =
        average, below 1 = crowded or far), ``method`` (``E2SFCA`` / ``2SFCA``), ``minutes``,
        ``n_resources`` (with capacity), ``n_without_capacity`` (left out) and ``note``.
    """
    speed = speed_m_per_min or get_settings().walk_speed_m_per_min
    statuses = ["active", "planned"] if include_planned else ["active"]
    mine = resources[(resources["category"] == category) & resources["status"].isin(statuses)]
    capacity = pd.to_numeric(mine["capacity"], errors="coerce")
    usable = mine[capacity.notna() & (capacity > 0)]
    if not len(usable):
        raise InputError(f"定員の入った「{category}」の資源がないため、混み具合(2SFCA)は計算できません。")
    blocks = blocks.assign(**{c: pd.to_numeric(blocks[c], errors="coerce").astype(float)
                              for c in ("pop_total", "pop_65plus", "pop_75plus")})
    note = None
    column = "pop_65plus"
    if blocks["pop_65plus"].isna().all():
        column, note = "pop_total", "65歳以上人口のデータがないため、総人口あたりで計算しています。"
    points = population_points(blocks, network)
    people = points[column].to_numpy(dtype=float)
    from scgeo.analysis.coverage import _snap_of

    pairs = pairs_within(network, network.snap(usable), _snap_of(points), limit_m=minutes * speed,
                         memory_mb=PAIRS_MEMORY_MB)
    score, _ = fca_scores(people, pd.to_numeric(usable["capacity"]).to_numpy(dtype=float),
                          pairs["target"].to_numpy(), pairs["source"].to_numpy(),
                          pairs["distance_m"].to_numpy() / speed, threshold=minutes, decay=decay)
    frame = pd.DataFrame({"area_id": points["block_id"].to_numpy(), "people": people, "weighted": people * score})
    table = frame.groupby("area_id", sort=False)[["people", "weighted"]].sum()
    mean = table["weighted"].sum() / table["people"].sum() if table["people"].sum() > 0 else np.nan
    out = blocks[["area_id", "name"]].merge(table.reset_index(), on="area_id", how="left")
    per_person = (out["weighted"] / out["people"]).where(out["people"] > 0)
    out["access_per_1000"] = (1000 * per_person).round(2)
    out["access_index"] = (per_person / mean).round(3) if mean and np.isfinite(mean) else np.nan
    out["people"] = out["people"].round(1)
    out["method"] = "2SFCA" if decay is None else "E2SFCA"
    out["minutes"] = minutes
    out["n_resources"] = len(usable)
    out["n_without_capacity"] = len(mine) - len(usable)
    out["note"] = note
    return out.drop(columns="weighted")
