"""Label placement for print maps: numbered markers that never cover one another.

A marker keeps its place when it is free; otherwise it moves to the nearest free spot on rings
around its point (a leader line then joins them). Greedy, in the order of fewest neighbours
first, so isolated markers stay put and crowds spread around their centre. The loop is over
markers (hundreds on a page), each step a vectorised distance test against those placed.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["place_markers"]


def place_markers(xy: np.ndarray, *, radius: float, rings: int = 8, per_ring: int = 16,
                  keep_out: np.ndarray | None = None) -> np.ndarray:
    """Positions for circles of ``radius`` near the points ``xy`` such that no two overlap.

    Parameters
    ----------
    xy
        ``(n, 2)`` marker points, in units where the circles are round (page points).
    radius
        The circles' radius in the same units.
    rings, per_ring
        How far (rings of ``2.1 × radius`` steps) and how finely a crowded marker looks for room.
    keep_out
        Optional ``(m, 2)`` points that no circle may cover (e.g. the true points of moved markers).

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` positions; equal to ``xy`` where the marker did not have to move. When no free
        spot is found within ``rings``, the farthest candidate is used (it may touch another).

    Examples
    --------
    >>> out = place_markers(np.array([[0.0, 0.0], [1.0, 0.0], [50.0, 0.0]]), radius=5)
    >>> bool(np.linalg.norm(out[0] - out[1]) >= 10), out[2].tolist()
    (True, [50.0, 0.0])
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    out = xy.copy()
    if n < 2:
        return out
    gap = 2 * radius
    neighbours = np.array([len(ix) for ix in cKDTree(xy).query_ball_point(xy, r=gap)])
    order = np.lexsort((np.arange(n), neighbours))
    angles = np.linspace(0, 2 * np.pi, per_ring, endpoint=False)
    steps = np.concatenate([np.zeros(1), np.repeat(np.arange(1, rings + 1) * 1.05 * gap, per_ring)])
    turns = np.concatenate([np.zeros(1), np.tile(angles, rings)])
    offsets = np.column_stack([steps * np.cos(turns), steps * np.sin(turns)])
    placed = np.empty((0, 2))
    blocked = np.empty((0, 2)) if keep_out is None else np.asarray(keep_out, dtype=float).reshape(-1, 2)
    for i in order:
        candidates = xy[i] + offsets
        free = np.ones(len(candidates), dtype=bool)
        if len(placed):
            d = np.linalg.norm(candidates[:, None, :] - placed[None, :, :], axis=2)
            free &= (d >= gap).all(axis=1)
        if len(blocked):
            d = np.linalg.norm(candidates[:, None, :] - blocked[None, :, :], axis=2)
            free &= (d >= radius).all(axis=1) | (np.arange(len(candidates)) == 0)
        choice = int(np.argmax(free)) if free.any() else len(candidates) - 1
        out[i] = candidates[choice]
        placed = np.vstack([placed, out[i]])
    return out
