"""Offline geocoding from 位置参照情報-style tables of town names with a point each.

Sources read by :meth:`Gazetteer.from_file`:

- Geolonia's ``[{town, koaza, lat, lng}]`` JSON (derived from 位置参照情報; the file name
  ``県名_市名.json`` gives the prefecture and city);
- MLIT 位置参照情報 大字・町丁目レベル CSV (``都道府県名, 市区町村名, 大字町丁目名, 緯度, 経度,
  …, 大字・字・丁目区分コード``) and 街区レベル CSV (``…, 大字・丁目名, 小字・通称名,
  街区符号・地番, …, 緯度, 経度, 住居表示フラグ, …``), cp932;
- a gazetteer written by :func:`write_gazetteer` (``scgeo gazetteer``), or any CSV/xlsx with
  columns ``town`` (町名), ``lat``, ``lon`` and optionally ``city``, ``koaza``, ``block``.

Matching is vectorised over unique addresses: one compiled trie pattern of every town key,
pandas string methods and merges, no Python loop over the rows (:meth:`Gazetteer.geocode`).
:meth:`Gazetteer.geocode_each` is the plain per-address loop over the same tables, kept as the
reference the tests and the benchmark compare with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo._text import normalise_header
from scgeo.geocode.base import empty_result
from scgeo.geocode.normalise import PREFECTURES, normalise_address, normalise_addresses
from scgeo.io._encoding import detect_encoding
from scgeo.io._tables import read_table
from scgeo.settings import get_settings
from scgeo.sheets import write_csv

__all__ = ["GAZETTEER_COLUMNS", "Gazetteer", "write_gazetteer"]

GAZETTEER_COLUMNS = ("pref", "city", "town", "koaza", "block", "level", "lat", "lon")
_ALIASES = {
    "pref": ("pref", "都道府県名", "都道府県"),
    "city": ("city", "市区町村名", "市区町村", "市町村名"),
    "town": ("town", "大字町丁目名", "大字・丁目名", "町丁目名", "町名", "町丁名", "大字・町丁目名"),
    "koaza": ("koaza", "小字・通称名", "小字"),
    "block": ("block", "街区符号・地番", "街区符号", "街区"),
    "lat": ("lat", "緯度", "latitude"),
    "lon": ("lon", "lng", "経度", "longitude"),
    "level": ("level",),
    "residential": ("residential", "住居表示フラグ"),
    "kind_code": ("kind_code", "大字・字・丁目区分コード"),
}
_LEVEL_LABEL = {"banchi": "番地", "gaiku": "街区", "chome": "町丁目", "oaza": "大字"}
_PREF_RE = "^(?:" + "|".join(PREFECTURES) + ")"


def _pick(headers: Sequence[str]) -> dict[str, str]:
    folded = {normalise_header(h): h for h in headers}
    out = {}
    for key, aliases in _ALIASES.items():
        for alias in aliases:
            if normalise_header(alias) in folded:
                out[key] = folded[normalise_header(alias)]
                break
    return out


def _keys(values: pd.Series) -> pd.Series:
    """Normalised keys of place names, computed once per distinct name."""
    text = values.astype(str)
    unique = pd.Series(text.unique())
    lookup = dict(zip(unique, normalise_addresses(unique), strict=True))
    return text.map(lookup)


def _numbers(values: pd.Series) -> pd.Series:
    """Coordinates as floats: a direct cast (in C) when every cell is a number, else per cell."""
    try:
        return values.astype("float64")
    except (TypeError, ValueError):
        return pd.to_numeric(values, errors="coerce")


def _trie_pattern(keys) -> str:
    """A regex matching any of ``keys``, the longest one at the leftmost position.

    At every node the alternatives start with different characters and the optional longer
    branch comes before stopping, so the first match Python's ``re`` finds is the longest.
    """
    trie: dict = {}
    for key in keys:
        node = trie
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        children = sorted(c for c in node if c)
        if not children:
            return ""
        alts = [re.escape(c) + emit(node[c]) for c in children]
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:
            return f"(?:{body})?" if len(alts) > 1 or len(body) > 1 else f"{body}?"
        return body

    return emit(trie)


def _with_derived_names(towns: pd.DataFrame) -> pd.DataFrame:
    """Towns plus two kinds of names people write that the tables do not list.

    - A town known only by its 丁目 (「北山一丁目」「北山二丁目」): 「北山」 alone, at the mean of
      its 丁目 points, level 大字.
    - A town named after a merged municipality (「斐川町沖洲」 in 出雲市 since 2011): 「沖洲」
      alone, when the prefix 「…町」 or 「…村」 begins at least 5 names of the city and the short
      name is unique and no town of its own. Found only where no listed name matches.
    """
    have = pd.MultiIndex.from_frame(towns[["city_key", "key"]])
    known = set(towns["key"])
    chome = towns["key"].str.extract(r"^(.+?)\d+丁目$", expand=False)
    parent = towns[chome.notna()].assign(key=chome.dropna())
    parent = parent[~pd.MultiIndex.from_frame(parent[["city_key", "key"]]).isin(have)]
    parents = (parent.groupby(["city_key", "key"], as_index=False, sort=False)
               .agg(lat=("lat", "mean"), lon=("lon", "mean"), display=("display", "first"), city=("city", "first")))
    parents["display"] = parents["display"].str.replace(r"[0-9０-９〇一二三四五六七八九十]+丁目$", "", regex=True)
    parents["level"] = "oaza"
    split = towns["key"].str.extract(r"^(.{1,4}?[町村])(.{2,})$")
    merged = towns.assign(prefix=split[0], short=split[1])[split[0].notna()]
    size = merged.groupby(["city_key", "prefix"])["key"].transform("size")
    merged = merged[(size >= 5) & ~merged["short"].isin(known)]
    merged = merged[~merged.duplicated(["city_key", "short"], keep=False)]
    aliases = merged.assign(key=merged["short"])[towns.columns]
    return pd.concat([towns, parents[towns.columns], aliases], ignore_index=True) \
        .drop_duplicates(["city_key", "key"])


def _chome_variant(q: pd.Series, raw: pd.Series) -> pd.Series:
    """「町名3-1-2」 read as 3丁目1-2 (not after 「大字」: there the first number is a 番地)."""
    variant = q.str.replace(r"(?<=[^\d\-])(\d+)-(?=\d)", r"\1丁目", n=1, regex=True)
    return variant.where(~raw.str.contains("大字", regex=False), q)


class Gazetteer:
    """An offline geocoder over a table of places (town, optional block, lat, lon).

    Matching: the address and every place name are normalised the same way
    (:func:`~scgeo.geocode.normalise.normalise_address`); the prefecture and the city are
    taken off the front, then the leftmost, then longest, place name found wins
    (「南船津町3丁目」 beats 「南船津町」, 「一本町」 beats 「本町」), a bare ``3-1-2`` after
    a town with 丁目 is read as 3丁目1番2号 (not after 「大字」), and a town found in several
    cities is resolved by the city in the address. Levels: 街区 (住居表示) or 番地 (地番)
    when a block table matches the number after the town, 町丁目 for names with 丁目 or a
    小字, 大字 for other towns, 市区町村 when only the city is recognised (its point is the
    mean of its towns).

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
        for key in ("city", "koaza", "block", "pref", "level", "residential", "kind_code"):
            frame[key] = frame[key].fillna("").astype(str) if key in frame else ""
        frame["lat"], frame["lon"] = _numbers(frame["lat"]), _numbers(frame["lon"])
        frame = frame[frame["lat"].notna() & frame["lon"].notna()].copy()
        frame["town"] = frame["town"].fillna("").astype(str)
        name = frame["town"] + frame["koaza"]
        frame["display"] = name
        frame["key"] = _keys(name)
        frame["city_key"] = _keys(frame["city"])
        frame["block"] = _keys(frame["block"])
        has_block = frame["block"].str.len() > 0
        level = pd.Series("oaza", index=frame.index)
        level[name.str.contains("丁目") | (frame["koaza"].str.len() > 0)
              | frame["kind_code"].isin(["2", "3"])] = "chome"
        level[has_block] = np.where(frame.loc[has_block, "residential"] == "0", "banchi", "gaiku")
        given = frame["level"].isin(list(_LEVEL_LABEL))
        frame["level"] = level.where(~given, frame["level"])
        blocks = frame[has_block]
        towns = frame[~has_block]
        if len(blocks):  # a block table also gives its towns (mean of their blocks)
            derived = (blocks.groupby(["city_key", "key"], as_index=False, sort=False)
                       .agg(lat=("lat", "mean"), lon=("lon", "mean"), display=("display", "first"),
                            city=("city", "first"), koaza=("koaza", "first")))
            derived["level"] = np.where(derived["display"].str.contains("丁目")
                                        | (derived["koaza"].str.len() > 0), "chome", "oaza")
            towns = pd.concat([towns, derived], ignore_index=True)
        keep = ["city_key", "key", "display", "city", "level", "lat", "lon"]
        towns = towns[towns["key"] != ""].drop_duplicates(["city_key", "key"])[keep]
        self.n_places = len(towns) + len(blocks)  # as listed; the derived names are not counted
        self._towns = _with_derived_names(towns).reset_index(drop=True)
        self._blocks = blocks.drop_duplicates(["city_key", "key", "block"])[
            ["city_key", "key", "block", "display", "level", "lat", "lon"]].reset_index(drop=True)
        self._cities = (self._towns[self._towns["city_key"] != ""]
                        .groupby("city_key", sort=False)
                        .agg(lat=("lat", "mean"), lon=("lon", "mean"), display=("city", "first")))
        self._town_re: re.Pattern | None = None
        self._city_re: re.Pattern | None = None
        self._index: dict | None = None

    # ------------------------------------------------------------ reading

    @classmethod
    def from_file(cls, path: str | Path, *, city: str | None = None,
                  encoding: str | None = None) -> Gazetteer:
        """Build from a Geolonia JSON, a 位置参照情報 CSV, or any town/lat/lon table."""
        return cls(cls.read_places(path, city=city, encoding=encoding))

    @classmethod
    def from_files(cls, paths: Sequence[str | Path]) -> Gazetteer:
        """Build from several files (e.g. one per city, or 大字・町丁目 and 街区 together)."""
        return cls(pd.concat([cls.read_places(p) for p in paths], ignore_index=True))

    @staticmethod
    def read_places(path: str | Path, *, city: str | None = None,
                    encoding: str | None = None) -> pd.DataFrame:
        """The places of one file with our column names (``pref, city, town, koaza, block, lat, lon``
        and ``residential`` / ``kind_code`` / ``level`` when the file has them), so that files of
        different layouts can be stacked.
        """
        path = Path(path)
        if not path.is_file():
            raise InputError(f"地名辞書のファイル {path} が見つかりません。")
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise InputError(f"{path.name} を JSON として読めません。({exc})") from exc
            frame = pd.DataFrame(data)
        elif path.suffix.lower() in (".csv", ".txt"):
            frame = _read_csv(path, encoding)
        else:
            # 位置参照情報 of a whole prefecture (街区) can hold millions of rows: 25 times the table limit
            frame = read_table(path, encoding=encoding, max_rows=25 * get_settings().max_rows)
        picked = _pick(list(frame.columns))
        if not {"town", "lat", "lon"} <= set(picked):
            raise InputError(f"{path.name} は地名辞書として読めません: 町名・緯度・経度の列が"
                             "見つかりません。位置参照情報の CSV か Geolonia の JSON を指定してください。"
                             f"ファイルの見出し: {', '.join(map(str, frame.columns[:12]))}")
        frame = pd.DataFrame({key: frame[header] for key, header in picked.items()})
        if city is None and "_" in path.stem and "city" not in picked:
            pref, _, city = path.stem.partition("_")
            frame["pref"] = pref
        if city is not None and "city" not in picked:
            frame["city"] = city
        return frame

    # ------------------------------------------------------------ matching, vectorised

    def _patterns(self) -> tuple[re.Pattern, re.Pattern | None]:
        if self._town_re is None:
            keys = self._towns["key"].unique()
            self._town_re = re.compile(f"^(.*?)({_trie_pattern(keys)})(.*)$") if len(keys) else None
            cities = [c for c in self._cities.index if c]
            self._city_re = re.compile(f"^({_trie_pattern(cities)})") if cities else None
        return self._town_re, self._city_re

    def _split(self, addresses: pd.Series) -> pd.DataFrame:
        """Normalised key, recognised city and the rest of each address."""
        q = normalise_addresses(addresses).str.replace(_PREF_RE, "", regex=True)
        _, city_re = self._patterns()
        if city_re is None:
            return pd.DataFrame({"q": q, "city_key": "", "rest": q})
        city = q.str.extract(city_re, expand=False).fillna("")
        return pd.DataFrame({"q": q, "city_key": city, "rest": q.str.replace(city_re, "", regex=True)})

    def geocode(self, addresses: Sequence[str]) -> pd.DataFrame:
        """Geocode addresses offline (see the class docstring for the rules); vectorised."""
        out = empty_result(addresses)
        if not len(out):
            return out
        unique = pd.Series(out["address"].unique())
        found = self._match(unique)
        found.index = unique
        pick = found.loc[out["address"]]
        for col in ("lat", "lon", "level", "matched"):
            out[col] = pick[col].to_numpy()
        out["matched"] = out["matched"].astype(object).where(out["matched"].notna(), None)
        return out

    def _match(self, addresses: pd.Series) -> pd.DataFrame:
        parts = self._split(addresses.reset_index(drop=True))
        town_re, _ = self._patterns()
        n = len(parts)
        result = pd.DataFrame({"lat": np.full(n, np.nan), "lon": np.full(n, np.nan),
                               "level": "失敗", "matched": pd.Series([None] * n, dtype=object)})
        if town_re is None:
            return result
        best_start = np.full(n, np.iinfo(np.int64).max)
        best_len = np.zeros(n, dtype=np.int64)
        best_key = pd.Series("", index=parts.index, dtype=object)
        best_after = pd.Series("", index=parts.index, dtype=object)
        raw = addresses.reset_index(drop=True).astype(str)
        for variant in (parts["rest"], _chome_variant(parts["rest"], raw)):
            m = variant.str.extract(town_re)
            ok = m[1].notna().to_numpy()
            start = m[0].str.len().fillna(0).to_numpy(dtype=np.int64)
            length = m[1].str.len().fillna(0).to_numpy(dtype=np.int64)
            better = ok & ((start < best_start) | ((start == best_start) & (length > best_len)))
            best_start = np.where(better, start, best_start)
            best_len = np.where(better, length, best_len)
            best_key[better] = m.loc[better, 1]
            best_after[better] = m.loc[better, 2]
        hit = best_key != ""
        # candidates: the town in the address's city when there is one, else the first
        cand = pd.DataFrame({"row": np.flatnonzero(hit), "key": best_key[hit].to_numpy(),
                             "want": parts.loc[hit, "city_key"].to_numpy()})
        cand = cand.merge(self._towns, on="key", how="left")
        cand["other"] = cand["city_key"] != cand["want"]
        cand = cand.sort_values(["row", "other"], kind="stable").drop_duplicates("row")
        cand["number"] = best_after.to_numpy()[cand["row"].to_numpy()]
        cand["number"] = cand["number"].astype(str).str.extract(r"^-?(\d+)", expand=False)
        if len(self._blocks):
            blocks = self._blocks.rename(columns={"block": "number", "lat": "b_lat", "lon": "b_lon",
                                                  "level": "b_level", "display": "b_display"})
            cand = cand.merge(blocks, on=["city_key", "key", "number"], how="left")
        else:
            cand["b_lat"] = np.nan
        block = cand["b_lat"].notna()
        rows = cand["row"].to_numpy()
        result.loc[rows, "lat"] = cand["lat"].where(~block, cand.get("b_lat")).to_numpy()
        result.loc[rows, "lon"] = cand["lon"].where(~block, cand.get("b_lon")).to_numpy()
        level = cand["level"].where(~block, cand.get("b_level"))
        result.loc[rows, "level"] = level.map(_LEVEL_LABEL).to_numpy()
        matched = cand["display"].where(~block, cand["display"] + cand["number"].astype(str) + "番")
        result.loc[rows, "matched"] = matched.to_numpy()
        # only the city recognised: its mean point
        city_only = ~hit.to_numpy() & (parts["city_key"] != "").to_numpy()
        if city_only.any():
            city = self._cities.loc[parts.loc[city_only, "city_key"]]
            result.loc[city_only, ["lat", "lon"]] = city[["lat", "lon"]].to_numpy()
            result.loc[city_only, "level"] = "市区町村"
            result.loc[city_only, "matched"] = city["display"].to_numpy()
        return result

    # ------------------------------------------------------------ matching, one by one

    def geocode_each(self, addresses: Sequence[str]) -> pd.DataFrame:
        """The same rules as :meth:`geocode`, as a plain Python loop over the addresses.

        Slow on large inputs; the reference that the tests and ``benchmarks/bench_geocode.py``
        compare the vectorised matcher with.
        """
        if self._index is None:
            towns: dict[str, list[dict]] = {}
            for row in self._towns.to_dict("records"):
                towns.setdefault(row["key"], []).append(row)
            blocks = {(r["city_key"], r["key"], r["block"]): r for r in self._blocks.to_dict("records")}
            cities = self._cities.to_dict("index")
            self._index = {"towns": towns, "blocks": blocks, "cities": cities,
                           "max_len": max((len(k) for k in towns), default=0)}
        out = empty_result(addresses)
        found = [self._one(a) for a in out["address"]]
        if found:
            lat, lon, level, matched = zip(*found, strict=True)
            out["lat"], out["lon"], out["level"] = list(lat), list(lon), list(level)
            out["matched"] = pd.Series(matched, dtype=object)
        return out

    def _one(self, address: str) -> tuple[float, float, str, str | None]:
        index = self._index
        q = re.sub(_PREF_RE, "", normalise_address(address))
        if not q:
            return float("nan"), float("nan"), "失敗", None
        found = [c for c in index["cities"] if q.startswith(c)]
        city_key = max(found, key=len) if found else ""
        q = q[len(city_key):]
        variants = [q]
        if "大字" not in str(address):
            variants.append(re.sub(r"(?<=[^\d\-])(\d+)-(?=\d)", r"\1丁目", q, count=1))
        best, best_rank, rest = None, None, ""
        for variant in variants:
            n = len(variant)
            for start in range(n):
                hit = next((variant[start:end] for end in range(min(n, start + index["max_len"]), start, -1)
                            if variant[start:end] in index["towns"]), None)
                if hit:
                    rank = (start, -len(hit))
                    if best_rank is None or rank < best_rank:
                        rows = index["towns"][hit]
                        best = next((r for r in rows if r["city_key"] == city_key), rows[0])
                        best_rank, rest = rank, variant[start + len(hit):]
                    break
        if best is None:
            if city_key:
                c = index["cities"][city_key]
                return c["lat"], c["lon"], "市区町村", c["display"]
            return float("nan"), float("nan"), "失敗", None
        number = re.match(r"^-?(\d+)", rest)
        if number:
            block = index["blocks"].get((best["city_key"], best["key"], number.group(1)))
            if block:
                return (block["lat"], block["lon"], _LEVEL_LABEL[block["level"]],
                        f"{best['display']}{number.group(1)}番")
        return best["lat"], best["lon"], _LEVEL_LABEL[best["level"]], best["display"]


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    """A 位置参照情報-sized CSV, read by pandas' C parser (a prefecture's 街区 file in seconds)."""
    with open(path, "rb") as handle:
        head = handle.read(1_000_000)
    enc = encoding or detect_encoding(head)
    try:
        return pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False)
    except (UnicodeDecodeError, LookupError, pd.errors.ParserError) as exc:
        raise InputError(f"{path.name} を CSV (文字コード {enc}) として読めません。({exc})") from exc


def write_gazetteer(out: str | Path, paths: Sequence[str | Path]) -> pd.DataFrame:
    """Merge place files (位置参照情報 CSV, Geolonia JSON …) into one gazetteer CSV (UTF-8).

    Columns :data:`GAZETTEER_COLUMNS`; ``level`` is ``gaiku`` / ``banchi`` for block rows
    (from 住居表示フラグ) and ``chome`` / ``oaza`` for towns. Returns the table written.
    """
    gaz = Gazetteer.from_files(paths)
    towns = gaz._towns.assign(block="")
    blocks = gaz._blocks.merge(gaz._towns[["city_key", "key", "city"]], on=["city_key", "key"], how="left")
    table = pd.concat([towns, blocks], ignore_index=True)
    table = pd.DataFrame({"pref": "", "city": table["city"].fillna(""), "town": table["display"],
                          "koaza": "", "block": table["block"], "level": table["level"],
                          "lat": table["lat"].round(6), "lon": table["lon"].round(6)})
    out = write_csv(table, out)  # opened in Excel too: UTF-8 with BOM, formulas neutralised
    return table
