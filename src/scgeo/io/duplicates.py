"""Duplicates among imported points: against the workspace and within the file.

A row is a duplicate of another when both have the same normalised name and address, or the
same category within ``radius_m`` metres and a similar name (after dropping legal-entity words
such as 社会福祉法人 or 株式会社). Pure functions: frames in, frames out.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> old = gpd.GeoDataFrame({"resource_id": ["R1"], "name": ["さくらサロン"], "category": ["salon"],
...                         "address": ["本町1-1"]}, geometry=[Point(133.0, 35.0)], crs=6668)
>>> new = gpd.GeoDataFrame({"resource_id": ["X1"], "name": ["さくら サロン"], "category": ["salon"],
...                         "address": ["本町１－１"]}, geometry=[Point(133.0001, 35.0)], crs=6668)
>>> find_duplicates(new, old, id_column="resource_id").loc[0, ["existing_id", "kind"]].tolist()
['R1', 'same_name_address']
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

import numpy as np
import pandas as pd

from scgeo.crs import to_metric
from scgeo.geocode.normalise import normalise_addresses
from scgeo.schema import COARSE_MATCH_LEVELS

__all__ = ["DUPLICATE_CHOICES", "DUPLICATE_KINDS", "MAX_NEIGHBOURS", "apply_duplicate_choices",
           "find_duplicates", "normalise_name"]

MAX_NEIGHBOURS = 16  # earliest rows per category and cell compared with each row (a bound on the work)
DUPLICATE_CHOICES = {"skip": "取り込まない", "update": "既存を更新する", "add": "別の資源として追加する"}
DUPLICATE_KINDS = {"same_name_address": "名称と住所が同じ",
                   "near_similar_name": "同じ種別が近く(30 m 以内)にあり名称が似ている"}
_ENTITY = re.compile(r"社会福祉法人|特定非営利活動法人|一般社団法人|公益社団法人|一般財団法人|公益財団法人|"
                     r"医療法人社団|医療法人財団|医療法人|株式会社|有限会社|合同会社|NPO法人|\(株\)|\(有\)|"
                     r"\(福\)|\(医\)|\(特非\)")


def normalise_name(values: pd.Series) -> pd.Series:
    """Names folded for comparison: NFKC, lower case, no spaces, no legal-entity words."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.normalize("NFKC").str.lower()
    return text.str.replace(r"\s+", "", regex=True).str.replace(_ENTITY, "", regex=True)


def _similar(a: str, b: str, threshold: float) -> bool:
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    matcher = SequenceMatcher(None, a, b)  # the quick bounds first: ratio() is slow
    return (matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold
            and matcher.ratio() >= threshold)


def _near_similar(xy, names, category, precise, n_old: int, radius_m: float, min_similarity: float):
    """For each row from ``n_old`` on, the first earlier row of its category nearby with a similar name (or -1).

    Rows go into square cells of ``radius_m`` per category; a row is compared with the
    :data:`MAX_NEIGHBOURS` earliest rows of each of the 3 × 3 cells around it, earliest first, so
    that a file of thousands of rows at one point (a list placed on one 番地) costs linear time.
    """
    near = np.full(len(xy), -1)
    cells: dict[tuple, list[int]] = {}
    cell = np.floor(xy / radius_m).astype(np.int64)
    for i in np.flatnonzero(precise):
        members = cells.setdefault((category[i], cell[i, 0], cell[i, 1]), [])
        if len(members) < MAX_NEIGHBOURS:
            members.append(int(i))
    for j in np.flatnonzero(precise[n_old:]) + n_old:
        cx, cy = cell[j]
        candidates = sorted(i for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                            for i in cells.get((category[j], cx + dx, cy + dy), ()) if i < j)
        for i in candidates:
            if np.hypot(*(xy[i] - xy[j])) <= radius_m and _similar(names[i], names[j], min_similarity):
                near[j] = i
                break
    return near


def find_duplicates(new, existing=None, *, id_column: str, radius_m: float = 30.0,
                    min_similarity: float = 0.75):
    """Which new rows duplicate a feature of ``existing`` or an earlier row of ``new``.

    Parameters
    ----------
    new, existing
        Point GeoDataFrames with ``name``, ``category`` and optionally ``address``.
    id_column
        The id column of ``existing`` (``resource_id`` …).
    radius_m
        Distance within which the same category and a similar name count as a duplicate.
        Rows placed at a 町丁目 or 大字 representative point (``match_level`` chome / oaza)
        are compared by name and address only: they share that point with their neighbours.
    min_similarity
        ``difflib`` ratio from which two folded names are similar (one containing the other
        always is). Each row is compared with at most 9 × :data:`MAX_NEIGHBOURS` earlier rows
        (the earliest of its category in each ``radius_m`` cell around it).

    Returns
    -------
    pandas.DataFrame
        One row per row of ``new`` (same positions), columns ``existing_id`` (the duplicated
        feature in the workspace, or ``None``), ``file_row`` (position in ``new`` of the earlier
        row it repeats, or ``None``), ``kind`` (a key of :data:`DUPLICATE_KINDS`, or ``None``)
        and ``distance_m``.
    """
    n = len(new)
    out = pd.DataFrame({"existing_id": pd.Series([None] * n, dtype=object),
                        "file_row": pd.Series([None] * n, dtype=object),
                        "kind": pd.Series([None] * n, dtype=object), "distance_m": np.full(n, np.nan)})
    if not n:
        return out
    existing = existing if existing is not None and len(existing) else None
    both = new if existing is None else pd.concat([existing, new], ignore_index=True)
    n_old = 0 if existing is None else len(existing)
    ids = [None] * n_old if existing is None else list(existing[id_column].astype(str))
    names = normalise_name(both["name"] if "name" in both else pd.Series("", index=both.index)).to_numpy()
    address = both["address"] if "address" in both else pd.Series("", index=both.index)
    keys = pd.Series(names) + "|" + normalise_addresses(address.reset_index(drop=True))
    has_address = (address.fillna("").astype(str).str.strip() != "").to_numpy()
    # 1. same name and address: the first earlier row with the same key
    first = pd.Series(np.arange(len(both))).groupby(keys.to_numpy()).transform("min").to_numpy()
    same = (first != np.arange(len(both))) & has_address & (names != "")
    # 2. same category within radius_m and a similar name: each new row's nearest neighbours in metres
    xy = to_metric(both[["geometry"]].set_geometry("geometry")).geometry.get_coordinates().to_numpy()
    kind = "category" if "category" in both else "kind"  # venues have a kind, not a category
    category = (both[kind] if kind in both else pd.Series("", index=both.index)).astype(str).to_numpy()
    # a 町丁目 or 大字 representative point is shared by every row placed there: not a position
    level = both["match_level"] if "match_level" in both else pd.Series(None, index=both.index)
    precise = ~level.isin(COARSE_MATCH_LEVELS).to_numpy()
    near = _near_similar(xy, names, category, precise, n_old, radius_m, min_similarity)
    mine = slice(n_old, None)
    target = np.where(same[mine], first[mine], near[mine])
    found = target >= 0
    kind = np.where(same[mine], "same_name_address", "near_similar_name")
    out.loc[found, "kind"] = kind[found]
    safe = np.where(found, target, 0)
    out["distance_m"] = np.where(found, np.hypot(*(xy[safe] - xy[mine]).T), np.nan)
    in_ws = found & (target < n_old)
    out.loc[in_ws, "existing_id"] = np.asarray(ids, dtype=object)[target[in_ws]] if n_old else None
    in_file = found & (target >= n_old)
    out.loc[in_file, "file_row"] = (target[in_file] - n_old).astype(object)
    return out


def apply_duplicate_choices(accepted, duplicates: pd.DataFrame, choices, *, id_column: str):
    """Split accepted rows by the choice for each duplicate: ``(to_add, to_update)``.

    ``choices`` is one of :data:`DUPLICATE_CHOICES` for every row, or a sequence with one choice
    per row (ignored for rows that are not duplicates). ``update`` replaces the existing
    feature's values (its id is kept); a row repeating an earlier row of the same file can
    only be skipped or added.
    """
    if isinstance(choices, str):
        choices = [choices] * len(accepted)
    choice = pd.Series(list(choices), index=range(len(accepted)), dtype=object)
    dup = duplicates["kind"].notna().to_numpy()
    skip = dup & (choice == "skip").to_numpy()
    to_workspace = duplicates["existing_id"].notna().to_numpy()
    update = dup & to_workspace & (choice == "update").to_numpy()
    skip |= dup & ~to_workspace & (choice == "update").to_numpy()
    frame = accepted.reset_index(drop=True)
    updates = frame[update].copy()
    updates[id_column] = duplicates.loc[update, "existing_id"].to_numpy()
    return frame[~skip & ~update].reset_index(drop=True), updates.reset_index(drop=True)
