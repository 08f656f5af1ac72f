"""Offline geocoding from 位置参照情報-style tables of town names with a point each.

Sources read by :meth:`Gazetteer.from_file`:

- Geolonia's ``[{town, koaza, lat, lng}]`` JSON (derived from 位置参照情報; the file name
  ``県名_市名.json`` gives the prefecture and city);
- MLIT 位置参照情報 大字・町丁目レベル CSV (``都道府県名, 市区町村名, 大字町丁目名, 緯度, 経度``)
  and 街区レベル CSV (``…, 大字・丁目名, 小字・通称名, 街区符号・地番, …, 緯度, 経度``), cp932;
- any CSV/xlsx with columns ``town`` (町名), ``lat``, ``lon`` and optionally ``city``, ``block``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from scgeo._errors import InputError
from scgeo._text import normalise_header
from scgeo.geocode.base import empty_result
from scgeo.geocode.normalise import normalise_address, strip_prefecture
from scgeo.io._tables import read_table
from scgeo.settings import get_settings

__all__ = ["Gazetteer"]

_ALIASES = {
    "pref": ("pref", "都道府県名", "都道府県"),
    "city": ("city", "市区町村名", "市区町村", "市町村名"),
    "town": ("town", "大字町丁目名", "大字・丁目名", "町丁目名", "町名", "町丁名", "大字・町丁目名"),
    "koaza": ("koaza", "小字・通称名", "小字"),
    "block": ("block", "街区符号・地番", "街区符号", "街区"),
    "lat": ("lat", "緯度", "latitude"),
    "lon": ("lon", "lng", "経度", "longitude"),
}


def _pick(headers: Sequence[str]) -> dict[str, str]:
    folded = {normalise_header(h): h for h in headers}
    out = {}
    for key, aliases in _ALIASES.items():
        for alias in aliases:
            if normalise_header(alias) in folded:
                out[key] = folded[normalise_header(alias)]
                break
    return out


class Gazetteer:
    """An offline geocoder over a table of places (town, optional block, lat, lon).

    Matching: the address and every place name are normalised the same way
    (:func:`~scgeo.geocode.normalise.normalise_address`); the leftmost, then longest, place
    name found in the address wins (「南船津町3丁目」 beats 「南船津町」, 「一本町」 beats
    「本町」), a bare ``3-1-2`` after a town with 丁目 is read as 3丁目1番2号 (not after
    「大字」), and a town found in several cities is resolved by the city in the address.
    Levels: 街区 when a block table matches the number after the town,
    町丁目 for names with 丁目 or a 小字, 大字 for other towns, 市区町村 when only the city
    is recognised (its point is the mean of its towns).

    Examples
    --------
    >>> gaz = Gazetteer(pd.DataFrame({"city": ["大牟田市"], "town": ["南船津町三丁目"],
    ...                               "lat": [33.02], "lon": [130.45]}))
    >>> gaz.geocode(["南船津町３－１－２"]).loc[0, ["level", "matched"]].tolist()
    ['町丁目', '南船津町三丁目']
    """

    name = "gazetteer"

    def __init__(self, places: pd.DataFrame) -> None:
        cols = _pick(list(places.columns))
        if not {"town", "lat", "lon"} <= set(cols):
            raise InputError("地名辞書には町名 (town)、緯度 (lat)、経度 (lon) の列が必要です。"
                             f"列: {', '.join(map(str, places.columns))}")
        frame = pd.DataFrame({k: places[v] for k, v in cols.items()})
        for key in ("city", "koaza", "block", "pref"):
            if key not in frame:
                frame[key] = ""
        frame = frame.fillna("")
        frame["lat"] = pd.to_numeric(frame["lat"], errors="coerce")
        frame["lon"] = pd.to_numeric(frame["lon"], errors="coerce")
        frame = frame[frame["lat"].notna() & frame["lon"].notna()]
        name = frame["town"].astype(str) + frame["koaza"].astype(str)
        frame["display"] = name
        frame["key"] = name.map(normalise_address)
        frame["city_key"] = frame["city"].astype(str).map(normalise_address)
        has_block = frame["block"].astype(str).str.len() > 0
        frame["level"] = "大字"
        frame.loc[name.str.contains("丁目") | (frame["koaza"].astype(str).str.len() > 0),
                  "level"] = "町丁目"
        blocks = frame[has_block]
        towns = frame[~has_block]
        if len(blocks):  # a block table also gives its towns (mean of their blocks)
            derived = (blocks.groupby(["city_key", "key"], as_index=False)
                       .agg(lat=("lat", "mean"), lon=("lon", "mean"), display=("display", "first"),
                            city=("city", "first"), level=("level", "first")))
            towns = pd.concat([towns, derived], ignore_index=True)
        towns = towns.drop_duplicates(["city_key", "key"])
        self._towns: dict[str, list[dict]] = {}
        for row in towns.to_dict("records"):
            self._towns.setdefault(row["key"], []).append(row)
        self._blocks = {(r["city_key"], r["key"], normalise_address(r["block"])): r
                        for r in blocks.to_dict("records")}
        cities = towns[towns["city_key"] != ""].groupby("city_key").agg(
            lat=("lat", "mean"), lon=("lon", "mean"), display=("city", "first"))
        self._cities = cities.to_dict("index")
        self._max_len = max((len(k) for k in self._towns), default=0)
        self.n_places = len(towns) + len(blocks)

    @classmethod
    def from_file(cls, path: str | Path, *, city: str | None = None,
                  encoding: str | None = None) -> Gazetteer:
        """Build from a Geolonia JSON, a 位置参照情報 CSV, or any town/lat/lon table."""
        return cls(cls.read_places(path, city=city, encoding=encoding))

    @classmethod
    def from_files(cls, paths: Sequence[str | Path]) -> Gazetteer:
        """Build from several files (e.g. one per city)."""
        return cls(pd.concat([cls.read_places(p) for p in paths], ignore_index=True))

    @staticmethod
    def read_places(path: str | Path, *, city: str | None = None,
                    encoding: str | None = None) -> pd.DataFrame:
        """The places of one file as a frame (``pref, city, town, koaza, block, lat, lon``)."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"地名辞書のファイル {path} が見つかりません。")
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise InputError(f"{path.name} を JSON として読めません。({exc})") from exc
            frame = pd.DataFrame(data)
        else:
            # 位置参照情報 of a whole prefecture (街区) can hold millions of rows: 25 times the table limit
            frame = read_table(path, encoding=encoding, max_rows=25 * get_settings().max_rows)
        if city is None and "_" in path.stem and "city" not in _pick(list(frame.columns)):
            pref, _, city = path.stem.partition("_")
            frame["pref"] = pref
        if city is not None and "city" not in _pick(list(frame.columns)):
            frame["city"] = city
        return frame

    # ------------------------------------------------------------ matching

    def _find_town(self, q: str, city_key: str | None) -> tuple[dict | None, int, int]:
        """The leftmost, then longest, place name in ``q``: (row, start, end)."""
        n = len(q)
        for start in range(n):
            for end in range(min(n, start + self._max_len), start, -1):
                rows = self._towns.get(q[start:end])
                if rows:
                    chosen = [r for r in rows if city_key and r["city_key"] == city_key] or rows
                    return chosen[0], start, end
        return None, n, n

    def _city(self, q: str) -> str | None:
        found = [c for c in self._cities if c and q.startswith(c)]
        return max(found, key=len) if found else None

    def _one(self, address: str) -> tuple[float, float, str, str | None]:
        q = strip_prefecture(normalise_address(address))
        if not q:
            return float("nan"), float("nan"), "失敗", None
        city_key = self._city(q)
        if city_key:
            q = q[len(city_key):]
        # 「町名3-1-2」: the first number after a town may be its 丁目 (not after 「大字」: a
        # town written as 大字 has 番地, and 大字X and X一丁目 can coexist, as in 枚方市)
        variants = [q]
        if "大字" not in str(address):
            variants.append(re.sub(r"(?<=[^\d\-])(\d+)-(?=\d)", r"\1丁目", q, count=1))
        best, best_rank, rest = None, None, ""
        for variant in variants:
            row, start, end = self._find_town(variant, city_key)
            rank = (start, -(end - start))
            if row and (best_rank is None or rank < best_rank):
                best, best_rank, rest = row, rank, variant[end:]
        if best is None:
            if city_key:
                c = self._cities[city_key]
                return c["lat"], c["lon"], "市区町村", c["display"]
            return float("nan"), float("nan"), "失敗", None
        number = re.match(r"^-?(\d+)", rest)
        if number and self._blocks:
            block = self._blocks.get((best["city_key"], best["key"], number.group(1)))
            if block:
                return block["lat"], block["lon"], "街区", f"{best['display']}{number.group(1)}番"
        return best["lat"], best["lon"], best["level"], best["display"]

    def geocode(self, addresses: Sequence[str]) -> pd.DataFrame:
        """Geocode addresses offline; see the class docstring for the matching rules."""
        out = empty_result(addresses)
        found = [self._one(a) for a in out["address"]]
        if found:
            lat, lon, level, matched = zip(*found, strict=True)
            out["lat"], out["lon"], out["level"] = list(lat), list(lon), list(level)
            out["matched"] = pd.Series(matched, dtype=object)
        return out
