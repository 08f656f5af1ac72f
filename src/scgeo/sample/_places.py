"""Resources and needs of the sample town, and the planted gaps.

Resources stand beside a street inside their block, placed by population (older residents for
salons and 通いの場); needs are pseudonymous points clustered where older people live. A few
fringe blocks with many older residents are kept free of salons and 通いの場 for
:data:`GAP_RADIUS_M` around them and get extra needs: the planted gaps.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo.sample._areas import Town
from scgeo.sample._catalogue import CATALOGUE, Place, Spec
from scgeo.sample._geom import points_near_lines
from scgeo.sample._streets import Network

__all__ = [
    "GAP_RADIUS_M",
    "REFERENCE_DATE",
    "make_needs",
    "make_resources",
]

REFERENCE_DATE = dt.date(2026, 10, 1)  # "today" of the sample data (for stale resources)
GAP_RADIUS_M = 1500.0  # no salon or 通いの場 this close to a planted-gap block
GAP_CATEGORIES = ("salon", "kayoi_no_ba")
INSIDE_MARGIN_M = 5.0  # points keep this far inside their block
MIN_STREET_M = 300.0  # a block needs this much street outside a gap zone to get a salon
NEEDS_BASE = 420
GAP_EXTRA_NEEDS = 15
STALE_SHARE = 0.2
NEED_DATE_RANGE = (dt.date(2025, 4, 1), dt.date(2026, 9, 30))
_NEED_WEIGHTS = {
    "salon": 17, "kayoi_no_ba": 13, "shopping": 15, "mobility": 13, "garbage": 10,
    "meal_delivery": 9, "watching": 9, "housework": 6, "dementia_cafe": 3, "consultation": 3,
    "shared_meal": 2,
}
_GAP_NEED_WEIGHTS = {"salon": 4, "kayoi_no_ba": 3, "shopping": 3}
_PAUSED_NOTES = ("会場の改修工事のため休止中(2027年1月再開予定)", "世話役の体調不良により休止中",
                 "参加者減少のため休止中、再開を検討")
_CLOSED_NOTES = ("担い手不足のため2026年3月で活動終了", "会場の閉鎖により2025年度末で終了")


class _Spots:
    """Random points beside the streets of a block, inside it."""

    def __init__(self, town: Town, net: Network) -> None:
        self.blocks = town.blocks
        self.interior = town.blocks.geometry.buffer(-INSIDE_MARGIN_M).to_numpy()
        line_idx, block_idx = shapely.STRtree(net.walk_lines).query(
            town.blocks.geometry.to_numpy(), predicate="intersects")[::-1]
        self.lines = [net.walk_lines[line_idx[block_idx == b]] for b in range(len(town.blocks))]

    def near_streets(self, b: int, n: int, rng: np.random.Generator, *,
                     avoid: shapely.Geometry | None = None, offset_m=(4.0, 18.0)) -> np.ndarray:
        """``n`` points beside streets, inside block ``b`` and outside ``avoid``."""
        lines = self.lines[b] if avoid is None else self.lines[b][~shapely.within(self.lines[b], avoid)]
        found = np.empty((0, 2))
        xmin, ymin, xmax, ymax = shapely.bounds(self.interior[b])
        for _ in range(50):
            if len(lines):
                xy = points_near_lines(lines, rng, 8 * n, offset_m=offset_m)
            else:  # a block without streets (not in the bundled town): anywhere inside
                xy = np.column_stack([rng.uniform(xmin, xmax, 8 * n), rng.uniform(ymin, ymax, 8 * n)])
            ok = shapely.contains_xy(self.interior[b], xy[:, 0], xy[:, 1])
            if avoid is not None:
                ok &= ~shapely.contains_xy(avoid, xy[:, 0], xy[:, 1])
            found = np.vstack([found, xy[ok]])
            if len(found) >= n:
                return found[:n]
        raise RuntimeError(f"no room beside the streets of block {self.blocks['area_id'][b]}")

    def street_length_outside(self, avoid: shapely.Geometry) -> np.ndarray:
        """Metres of street of each block that lie inside it and outside ``avoid``."""
        usable = shapely.difference(self.interior, avoid)
        return np.array([shapely.length(shapely.intersection(lines, u)).sum()
                         for lines, u in zip(self.lines, usable, strict=True)])


# ---------------------------------------------------------------- resources


def _block_weights(blocks: gpd.GeoDataFrame, weight: str) -> np.ndarray:
    pop, pop65, rho = (blocks[c].to_numpy(float) for c in ("pop_total", "pop_65plus", "remoteness"))
    urban = blocks["urban"].to_numpy()
    return {
        "pop65": pop65,
        "pop": pop,
        "central": pop * np.exp(-rho / 0.3),
        "outer65": pop65 * (rho > 0.4),
        "office": pop * urban,
    }[weight]


def _allocate(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Block index of each of ``n`` items: largest-remainder shares of ``weights``, shuffled."""
    share = n * weights / weights.sum()
    counts = np.floor(share).astype(int)
    rest = n - counts.sum()
    if rest:
        remainder = share - counts
        counts[rng.choice(len(weights), size=rest, replace=False, p=remainder / remainder.sum())] += 1
    return rng.permutation(np.repeat(np.arange(len(weights)), counts))


def _filter(blocks: gpd.GeoDataFrame, where: tuple[str, str]) -> np.ndarray:
    column, value = where
    if column == "urban":
        return blocks["urban"].to_numpy() == (value == "yes")
    if column == "centre":
        return blocks["town"].to_numpy() == "本町"
    return blocks[column].to_numpy() == value


def _address(block: pd.Series, rng: np.random.Generator) -> str:
    if block["urban"]:
        return f"さくら市{block['name']}{rng.integers(1, 31)}-{rng.integers(1, 26)}"
    number = f"{rng.integers(100, 3000)}"
    return f"さくら市{block['name']}{number}" + (f"-{rng.integers(1, 10)}" if rng.random() < 0.4 else "")


def _resources_of(spec: Spec, spots: _Spots, avoid: shapely.Geometry, gap_mask: np.ndarray,
                  rng: np.random.Generator, used_names: set[str]) -> list[dict]:
    blocks = spots.blocks
    weights = _block_weights(blocks, spec.weight)
    if spec.avoid_gaps:
        weights = weights * (spots.street_length_outside(avoid) >= MIN_STREET_M)
    elif spec.category in ("shopping", "shared_meal", "dementia_cafe"):
        weights = weights * ~gap_mask
    order = _allocate(weights, spec.count, rng)
    rows = []
    for k in range(spec.count):
        where = spec.where(k)
        b = order[k]
        if where is not None:
            allowed = weights * _filter(blocks, where)
            allowed = allowed if allowed.sum() > 0 else _filter(blocks, where).astype(float)
            b = int(rng.choice(len(blocks), p=allowed / allowed.sum()))
        block = blocks.iloc[b]
        place = Place(block["town"], block["es_id"], block["jhs_id"], block["la_id"], not block["urban"])
        row = spec.make(rng, place, k)
        for _ in range(10):
            if row["name"] not in used_names:
                break
            row = spec.make(rng, place, k)
        if row["name"] in used_names:
            row["name"] = f"{row['name']}({block['name']})"
        used_names.add(row["name"])
        x, y = spots.near_streets(b, 1, rng, avoid=avoid if spec.avoid_gaps else None)[0]
        rows.append({"category": spec.category, **row, "address": _address(block, rng),
                     "x": x, "y": y, "resident_run": row["provider_type"] == "resident"})
    return rows


def _dates_and_status(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(frame)
    frame = frame.copy()
    stale = np.zeros(n, dtype=bool)
    stale[rng.choice(n, size=round(STALE_SHARE * n), replace=False)] = True
    days_ago = np.where(stale, rng.integers(366, 900, n), rng.integers(1, 365, n))
    frame["last_confirmed"] = [(REFERENCE_DATE - dt.timedelta(days=int(d))).isoformat() for d in days_ago]
    frame["status"] = "active"
    groups = np.flatnonzero(frame["category"].isin(["salon", "kayoi_no_ba", "shared_meal", "watching",
                                                    "garbage", "dementia_cafe"]).to_numpy())
    changed = rng.choice(groups, size=19, replace=False)
    for i, status, notes in ((changed[:12], "paused", _PAUSED_NOTES), (changed[12:], "closed", _CLOSED_NOTES)):
        frame.loc[i, "status"] = status
        frame.loc[i, "notes"] = [notes[int(j)] for j in rng.integers(0, len(notes), len(i))]
    return frame


def make_resources(town: Town, net: Network, gap_ids: tuple[str, ...],
                   rng: np.random.Generator) -> pd.DataFrame:
    """Resources of every category, with metric ``x, y``, sorted by ``resource_id``."""
    spots = _Spots(town, net)
    gap_mask = town.blocks["area_id"].isin(gap_ids).to_numpy()
    gap_geoms = town.blocks.geometry[gap_mask].to_numpy()
    avoid = shapely.union_all(shapely.buffer(gap_geoms, GAP_RADIUS_M + 50.0))
    rows: list[dict] = []
    used_names: set[str] = set()
    for spec in CATALOGUE:
        rows += _resources_of(spec, spots, avoid, gap_mask, rng, used_names)
    frame = pd.DataFrame(rows)
    frame["capacity"] = frame["capacity"].astype("Int64")
    frame.insert(0, "resource_id", [f"R{i:04d}" for i in range(1, len(frame) + 1)])
    frame["contact"] = [f"0000-{rng.integers(10, 100)}-{rng.integers(1000, 10000)}" for _ in range(len(frame))]
    no_phone = frame["resident_run"].to_numpy() & (rng.random(len(frame)) < 0.3)
    frame.loc[no_phone, "contact"] = "さくら市社協経由 0000-22-1234"
    return _dates_and_status(frame, rng).drop(columns="resident_run")


# ---------------------------------------------------------------- needs


def _cluster_points(spots: _Spots, b: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points around a few street-side cluster centres inside block ``b``."""
    centres = spots.near_streets(b, max(1, int(np.ceil(n / 6))), rng, offset_m=(5.0, 40.0))
    out = np.empty((0, 2))
    for _ in range(30):
        xy = centres[rng.integers(0, len(centres), 4 * n)] + rng.normal(0.0, 70.0, (4 * n, 2))
        out = np.vstack([out, xy[shapely.contains_xy(spots.interior[b], xy[:, 0], xy[:, 1])]])
        if len(out) >= n:
            return out[:n]
    return centres[rng.integers(0, len(centres), n)]


def _need_ids(n: int, rng: np.random.Generator) -> list[str]:
    ids: list[str] = []
    seen: set[int] = set()
    while len(ids) < n:
        value = int(rng.integers(0, 16**6))
        if value not in seen:
            seen.add(value)
            ids.append(f"N-{value:06x}")
    return ids


def make_needs(town: Town, net: Network, gap_ids: tuple[str, ...], rng: np.random.Generator) -> pd.DataFrame:
    """Pseudonymous needs with metric ``x, y``, sorted by ``need_id``."""
    spots = _Spots(town, net)
    blocks = town.blocks
    pop65 = blocks["pop_65plus"].to_numpy(float)
    counts = rng.multinomial(NEEDS_BASE, pop65 / pop65.sum())
    gap_mask = blocks["area_id"].isin(gap_ids).to_numpy()
    extra = np.where(gap_mask, GAP_EXTRA_NEEDS, 0)
    codes, weights = zip(*_NEED_WEIGHTS.items(), strict=True)
    gap_codes, gap_weights = zip(*_GAP_NEED_WEIGHTS.items(), strict=True)
    parts = []
    for b in np.flatnonzero(counts + extra):
        categories = [*rng.choice(codes, counts[b], p=np.array(weights) / sum(weights)),
                      *rng.choice(gap_codes, extra[b], p=np.array(gap_weights) / sum(gap_weights))]
        xy = _cluster_points(spots, b, len(categories), rng)
        parts.append(pd.DataFrame({"category": categories, "town_block_id": blocks["area_id"][b],
                                   "x": xy[:, 0], "y": xy[:, 1]}))
    frame = pd.concat(parts, ignore_index=True)
    n = len(frame)
    first, last = NEED_DATE_RANGE
    span = (last - first).days
    recorded = [first + dt.timedelta(days=int(d)) for d in rng.integers(0, span + 1, n)]
    status = rng.choice(["open", "matched", "resolved"], n, p=[0.6, 0.25, 0.15])
    later = rng.integers(3, 121, n)
    frame["recorded_date"] = [d.isoformat() for d in recorded]
    frame["status"] = status
    frame["status_date"] = [None if s == "open" else min(d + dt.timedelta(days=int(k)), last).isoformat()
                            for s, d, k in zip(status, recorded, later, strict=True)]
    frame.insert(0, "need_id", _need_ids(n, rng))
    return frame.sort_values("need_id", kind="stable").reset_index(drop=True)
