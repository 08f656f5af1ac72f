"""``scgeo recipe``: look at a city's files and write the build recipe (commented TOML)."""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["register"]


def register(sub) -> None:
    """Add ``scgeo recipe`` to the CLI."""
    p = sub.add_parser("recipe", help="市の公開ファイル(フォルダ)を調べ、ワークスペースの作り方(レシピ)を書き出す")
    p.add_argument("paths", nargs="+", metavar="FOLDER_OR_FILE",
                   help="調べるファイルまたはフォルダ (Shapefile, zip, GeoJSON, GeoPackage, CSV, TSV, xlsx, dbf …)")
    p.add_argument("--muni-code", required=True, help="全国地方公共団体コード (例: 32203)")
    p.add_argument("--name", default="", help="市町村名 (例: 出雲市。既定: 市町村コードから引く)")
    p.add_argument("--out", required=True, help="書き出すレシピ (.toml)")
    p.set_defaults(func=_cmd_recipe)


def _cmd_recipe(args) -> int:
    from scgeo.io.recipe import make_recipe, recipe_toml, summary_table
    from scgeo.municipalities import muni_name, normalise_code

    started = time.perf_counter()
    name = muni_name(normalise_code(args.muni_code), args.name)
    recipe = make_recipe(args.paths, muni_code=args.muni_code, name=name)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(recipe_toml(recipe, base=out.parent), encoding="utf-8")
    print(f"{len(recipe.inputs)} ファイルを調べました({recipe.name or recipe.muni_code}、"
          f"市町村コード {recipe.muni_code})。")
    print(summary_table(recipe))
    print(f"レシピを書き出しました: {out} ({time.perf_counter() - started:.1f} 秒)")
    print(f"内容を確かめてから `scgeo build {recipe.muni_code}.gpkg --recipe {out}` で作成します。")
    return 0
