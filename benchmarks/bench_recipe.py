"""Wall time of ``scgeo recipe`` + ``scgeo build --recipe`` on the real cities of ``../shared/data``.

Run: ``.venv/bin/python benchmarks/bench_recipe.py``. For 出雲市 (A32/A27 GeoJSON + e-Stat subset),
高松市 (its open-data folder) and 鳥取市 (the 鳥取県 e-Stat Shapefile), side by side with the floor
of reading the same files once (pyogrio / pandas, no classification, no writing): the recipe and the
build should cost a small multiple of just opening the files. Prints one line per city with the
counts the build reports.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyogrio

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CITIES = {
    "出雲市": ("32203", [DATA / "izumo", DATA / "estat_chome2015" / "subsets" / "izumo_32203.csv"]),
    "高松市": ("37201", [DATA / "takamatsu"]),
    "鳥取市": ("31201", [DATA / "estat_chome2015" / "31-tottori-all.shp"]),
}


def _read_once(paths: list[Path]) -> float:
    """The floor: open every data file once with pyogrio / pandas."""
    from scgeo.io.recipe import data_files

    started = time.perf_counter()
    for path in data_files(paths):
        suffix = path.suffix.lower()
        with contextlib.suppress(Exception):
            if suffix in (".xlsx", ".xlsm"):
                pd.read_excel(path, header=None)
            elif suffix in (".csv", ".tsv", ".txt"):
                pd.read_csv(path, header=None, encoding_errors="replace")
            else:
                pyogrio.read_dataframe(path)
    return time.perf_counter() - started


def main() -> int:
    from scgeo.cli import main as scgeo

    print(f"{'市':<6}{'ファイルを読むだけ':>12}{'recipe':>10}{'build':>10}  結果")
    for city, (code, paths) in CITIES.items():
        if not all(p.exists() for p in paths):
            print(f"{city}: ../shared/data がないため省略")
            continue
        floor = _read_once(paths)
        with tempfile.TemporaryDirectory() as tmp:
            recipe = Path(tmp) / "recipe.toml"
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                scgeo(["recipe", *map(str, paths), "--muni-code", code, "--out", str(recipe)])
            t_recipe = time.perf_counter() - started
            out = io.StringIO()
            started = time.perf_counter()
            with contextlib.redirect_stdout(out):
                scgeo(["build", str(Path(tmp) / "ws.gpkg"), "--recipe", str(recipe), "--json"])
            t_build = time.perf_counter() - started
        report = json.loads(out.getvalue())
        roles = pd.Series([e["role"] for e in report["inputs"]]).value_counts().to_dict()
        print(f"{city:<6}{floor:>12.1f}s{t_recipe:>9.1f}s{t_build:>9.1f}s  {report['layers']} "
              f"人口 {report['population']} ({report['population_basis']}) "
              f"種別 {report['categories']['mapped']} 除外 {report['categories']['top_reasons']} 役割 {roles}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
