"""Offline geocoding speed: 10,000 addresses against a prefecture-size gazetteer.

A synthetic prefecture in the published 位置参照情報 layout (cp932 CSV): 20 municipalities,
about 5,000 大字・町丁目 and 250,000 街区・地番 points (香川県's files have about 3,500 and
180,000). Timed, in one run:

1. ``scgeo gazetteer``: reading both CSVs and writing the merged gazetteer (the target: a
   prefecture in seconds);
2. loading that gazetteer;
3. geocoding 10,000 addresses typed in the ways people type them (kanji or full-width digits,
   ``2-7-5``, 番地の, building names, no city, some not found) with the vectorised matcher
   (:meth:`Gazetteer.geocode`, target < 5 s on a 2-core machine), side by side with
   :meth:`Gazetteer.geocode_each`, the plain per-address loop over the same tables; both must
   give the same answer.

Run: ``.venv/bin/python benchmarks/bench_geocode.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scgeo.geocode import Gazetteer, write_gazetteer

N_CITIES, TOWNS_PER_CITY, N_ADDRESSES = 20, 250, 10_000
_CHARS = list("上下東西南北中本新大小山川田原野沢島井谷浜松竹梅桜岡森林石寺宮前後高平若富福豊栄旭春日"
              "朝夕緑青白黒赤金銀鶴亀龍鷹鳩花菊藤柳杉桧榎栗柿桃梨")
_SUFFIX = ["町", "", "台", "ケ丘", "通", "原", "浦", "崎"]
_KANJI = "一二三四五六七八九"
_WIDE = str.maketrans("0123456789-", "０１２３４５６７８９－")


def _prefecture(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(大字・町丁目 rows, 街区 rows) of a synthetic prefecture, in MLIT's column layout."""
    towns, blocks = [], []
    for c in range(N_CITIES):
        city = ("".join(rng.choice(_CHARS, 2)) + ("市" if c < 12 else "町"))
        city = city if c < 12 else f"{''.join(rng.choice(_CHARS, 2))}郡{city}"
        lat0, lon0 = 34.0 + rng.random(), 133.5 + rng.random()
        names: set[str] = set()
        while len(names) < TOWNS_PER_CITY:
            names.add("".join(rng.choice(_CHARS, rng.integers(2, 4))) + str(rng.choice(_SUFFIX)))
        for t, name in enumerate(sorted(names)):
            chome = t % 2 == 0
            for k in range(1, (rng.integers(2, 6) if chome else 1) + 1):
                town = f"{name}{_KANJI[k - 1]}丁目" if chome else name
                lat, lon = lat0 + rng.normal(0, 0.05), lon0 + rng.normal(0, 0.05)
                towns.append(["香川県", city, town, lat, lon, "3" if chome else "1"])
                n_blocks = rng.integers(8, 25) if chome else rng.integers(20, 60)
                for b in range(1, n_blocks + 1):
                    blocks.append(["香川県", city, town, "", str(b if chome else b * 7), lat + rng.normal(0, 0.002),
                                   lon + rng.normal(0, 0.002), "1" if chome else "0"])
    town_cols = ["都道府県名", "市区町村名", "大字町丁目名", "緯度", "経度", "大字・字・丁目区分コード"]
    block_cols = ["都道府県名", "市区町村名", "大字・丁目名", "小字・通称名", "街区符号・地番", "緯度", "経度",
                  "住居表示フラグ"]
    return pd.DataFrame(towns, columns=town_cols), pd.DataFrame(blocks, columns=block_cols)


def _addresses(towns: pd.DataFrame, rng: np.random.Generator) -> list[str]:
    picks = towns.sample(N_ADDRESSES, replace=True, random_state=1).reset_index(drop=True)
    out = []
    for i, (city, town) in enumerate(zip(picks["市区町村名"], picks["大字町丁目名"], strict=True)):
        a, b, c = (int(v) for v in rng.integers(1, 40, 3))
        form = i % 6
        if form == 0:
            text = f"香川県{city}{town}{a}番{b}号"
        elif form == 1:
            text = f"{city} {town}{a}-{b}-{c} コーポ{c}号室".translate(_WIDE)
        elif form == 2:
            text = f"{city.split('郡')[-1]}{town}{a}番地の{b}"
        elif form == 3:
            text = f"{town}{a}-{b}、{c}階"
        elif form == 4:
            text = f"{city}{town.replace('丁目', '')}{a}-{b}" if "丁目" in town else f"{city}大字{town}{a}"
        else:
            text = f"{city}架空{i}町{a}" if i % 30 == 5 else f"{city}{town}{a}"
        out.append(text)
    return out


def main() -> int:
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as tmp:
        towns, blocks = _prefecture(rng)
        town_csv, block_csv = Path(tmp) / "37000-16.0b.csv", Path(tmp) / "37000-21.0a.csv"
        towns.to_csv(town_csv, index=False, encoding="cp932")
        blocks.to_csv(block_csv, index=False, encoding="cp932")
        size_mb = (town_csv.stat().st_size + block_csv.stat().st_size) / 1e6
        print(f"synthetic prefecture: {len(towns):,} 大字・町丁目, {len(blocks):,} 街区・地番 ({size_mb:.1f} MB cp932)")

        t0 = time.perf_counter()
        write_gazetteer(Path(tmp) / "gaz.csv", [town_csv, block_csv])
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        gaz = Gazetteer.from_file(Path(tmp) / "gaz.csv")
        t_load = time.perf_counter() - t0
        addresses = _addresses(towns, rng)

        t0 = time.perf_counter()
        fast = gaz.geocode(addresses)
        t_fast = time.perf_counter() - t0
        t0 = time.perf_counter()
        slow = gaz.geocode_each(addresses)
        t_slow = time.perf_counter() - t0
    same = fast.fillna(0).equals(slow.fillna(0))
    print(f"scgeo gazetteer (read 2 CSVs, write): {t_build:6.2f} s")
    print(f"load gazetteer:                       {t_load:6.2f} s")
    print(f"{N_ADDRESSES:,} addresses, vectorised:          {t_fast:6.2f} s   (target < 5 s)")
    print(f"{N_ADDRESSES:,} addresses, per-row loop:        {t_slow:6.2f} s   ({t_slow / t_fast:.1f}× slower)")
    print(f"same results: {same}; levels: {fast['level'].value_counts().to_dict()}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
