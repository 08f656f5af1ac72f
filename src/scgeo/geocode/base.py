"""The geocoding interface, match levels, the cache and the batch driver."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

__all__ = [
    "COARSE_LEVELS",
    "LEVELS",
    "LEVEL_CODES",
    "RESULT_COLUMNS",
    "GeocodeCache",
    "Geocoder",
    "MemoryCache",
    "empty_result",
    "geocode",
    "workspace_cache",
]

# Match levels, finest first. 番地 = a house number (地番 or 住居番号); 街区 = 街区符号 (番)
# level; 町丁目 = 丁目 or 小字; 大字 = 町・大字.
LEVELS = ("番地", "街区", "町丁目", "大字", "市区町村", "失敗")
# The ``match_level`` codes of the workspace (scgeo.schema.MATCH_LEVELS) for each level.
LEVEL_CODES = {"番地": "banchi", "街区": "gaiku", "町丁目": "chome", "大字": "oaza",
               "市区町村": "municipality", "失敗": None}
# Matches at these levels place a point at the centre of a town or worse: maps draw them apart.
COARSE_LEVELS = ("町丁目", "大字", "市区町村")
RESULT_COLUMNS = ("address", "lat", "lon", "level", "matched", "coarse")


@runtime_checkable
class Geocoder(Protocol):
    """Anything with ``geocode(addresses) -> DataFrame`` and a ``name``.

    The frame has one row per address, in order, with :data:`RESULT_COLUMNS`: ``lat``/``lon``
    (NaN on failure), ``level`` (one of :data:`LEVELS`), ``matched`` (the gazetteer or
    service string that matched; ``None`` on failure) and ``coarse`` (level in
    :data:`COARSE_LEVELS`).
    """

    name: str

    def geocode(self, addresses: Sequence[str]) -> pd.DataFrame:
        """Geocode ``addresses``; one result row per address, failures included."""
        ...


def empty_result(addresses: Sequence[str]) -> pd.DataFrame:
    """A result frame where every address failed (the starting point of a backend)."""
    n = len(addresses)
    return pd.DataFrame({"address": list(addresses), "lat": np.full(n, np.nan),
                         "lon": np.full(n, np.nan), "level": ["失敗"] * n,
                         "matched": pd.Series([None] * n, dtype=object),
                         "coarse": np.zeros(n, dtype=bool)})


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame["coarse"] = frame["level"].isin(COARSE_LEVELS)
    return frame[list(RESULT_COLUMNS)]


class MemoryCache:
    """A cache in memory (``{(backend, address): row}``); the default in tests and notebooks."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict] = {}

    def get(self, backend: str, addresses: Sequence[str]) -> pd.DataFrame:
        """Cached rows for these addresses (possibly fewer than asked)."""
        found = [self.rows[(backend, a)] for a in addresses if (backend, a) in self.rows]
        return pd.DataFrame(found, columns=list(RESULT_COLUMNS))

    def put(self, backend: str, results: pd.DataFrame) -> None:
        """Store results (failures too: they are not retried until the cache is cleared)."""
        for row in results.to_dict("records"):
            self.rows[(backend, row["address"])] = row


class GeocodeCache(MemoryCache):
    """A cache kept in an SQLite file (e.g. next to a workspace: ``izumo.geocache.sqlite``).

    The table ``geocode_cache(backend, address, lat, lon, level, matched, at)`` is plain SQLite,
    readable by any tool.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        with sqlite3.connect(self.path) as con:
            con.execute("CREATE TABLE IF NOT EXISTS geocode_cache (backend TEXT, address TEXT, "
                        "lat REAL, lon REAL, level TEXT, matched TEXT, at TEXT, "
                        "PRIMARY KEY (backend, address))")
            rows = con.execute("SELECT backend, address, lat, lon, level, matched "
                               "FROM geocode_cache").fetchall()
        con.close()
        for backend, address, lat, lon, level, matched in rows:
            self.rows[(backend, address)] = {
                "address": address, "lat": np.nan if lat is None else lat,
                "lon": np.nan if lon is None else lon, "level": level, "matched": matched,
                "coarse": level in COARSE_LEVELS}

    def put(self, backend: str, results: pd.DataFrame) -> None:
        """Store results in memory and in the file."""
        super().put(backend, results)
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        rows = [(backend, r["address"], None if pd.isna(r["lat"]) else float(r["lat"]),
                 None if pd.isna(r["lon"]) else float(r["lon"]), r["level"], r["matched"], at)
                for r in results.to_dict("records")]
        with sqlite3.connect(self.path) as con:
            con.executemany("INSERT OR REPLACE INTO geocode_cache VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        con.close()


def workspace_cache(workspace: object) -> GeocodeCache:
    """The geocoding cache of a workspace: ``<workspace stem>.geocache.sqlite`` next to it.

    It is kept beside the GeoPackage rather than inside it because the workspace's
    transactions copy the whole file on every write, and a cache is written often; it holds
    addresses, so it stays with the workspace and is never exported.
    """
    path = Path(getattr(workspace, "path", workspace))
    return GeocodeCache(path.with_name(f"{path.stem}.geocache.sqlite"))


def geocode(addresses: Sequence[str], geocoder: Geocoder, *, cache: MemoryCache | None = None,
            progress: Callable[[int, int], None] | None = None,
            chunk_size: int = 50) -> pd.DataFrame:
    """Geocode a column of addresses with a backend, a cache and a progress callback.

    Parameters
    ----------
    addresses
        Addresses as typed (duplicates are geocoded once; blanks fail).
    geocoder
        A :class:`Geocoder` backend (:class:`~scgeo.geocode.Gazetteer`, …).
    cache
        Where results are kept between runs (:class:`GeocodeCache`, :func:`workspace_cache`).
    progress
        Called as ``progress(done, total)`` after each chunk (the CLI prints it).
    chunk_size
        Addresses per call of the backend.

    Returns
    -------
    pandas.DataFrame
        One row per input address, in order, with :data:`RESULT_COLUMNS`; failures are kept
        (level 失敗, NaN coordinates), never dropped.
    """
    addresses = ["" if a is None or (isinstance(a, float) and np.isnan(a)) else str(a)
                 for a in addresses]
    unique = list(dict.fromkeys(a for a in addresses if a.strip()))
    known = cache.get(geocoder.name, unique) if cache else pd.DataFrame(columns=list(RESULT_COLUMNS))
    todo = [a for a in unique if a not in set(known["address"])]
    parts = [known]
    total = len(unique)
    done = len(unique) - len(todo)
    if progress:
        progress(done, total)
    for start in range(0, len(todo), chunk_size):
        chunk = todo[start:start + chunk_size]
        result = _finish(geocoder.geocode(chunk))
        if cache:
            cache.put(geocoder.name, result)
        parts.append(result)
        done += len(chunk)
        if progress:
            progress(done, total)
    found = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else pd.DataFrame(columns=list(RESULT_COLUMNS))
    lookup = found.drop_duplicates("address").set_index("address")
    out = empty_result(addresses)
    hit = out["address"].isin(lookup.index)
    for col in ("lat", "lon", "level", "matched"):
        out.loc[hit, col] = lookup.loc[out.loc[hit, "address"], col].to_numpy()
    out["lat"] = pd.to_numeric(out["lat"])
    out["lon"] = pd.to_numeric(out["lon"])
    matched = out["matched"].astype(object)
    out["matched"] = matched.where(matched.notna(), None)
    return _finish(out)
