"""``scgeo build``: a municipality's workspace from a recipe or from public data files, in one go."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio

from scgeo._errors import InputError

__all__ = ["build_workspace", "recipe_from_flags", "register"]

_KSJ_RESOURCES = ("P14", "P04")
_ROLE_JA = {"boundary": "区域", "population": "人口", "resources": "社会資源", "venues": "活動の場",
            "network": "歩行ネットワーク", "reference": "参考", "unknown": "不明"}
_LAYER_JA = {"municipality": "市町村", "living_area": "日常生活圏域", "jhs_district": "中学校区",
             "es_district": "小学校区", "community": "地区・自治会", "town_block": "町丁目",
             "resources": "社会資源", "venues": "活動の場(会場)", "network_edges": "歩行ネットワークの道"}
_BASIS_JA = {"age": "年齢別の表から", "estimated": "総人口 × 高齢化率で推計",
             "total": "総人口のみ(65歳以上人口は不明)", "none": "人口なし"}


def register(sub) -> None:
    """Add ``scgeo build`` to the CLI."""
    p = sub.add_parser("build", help="レシピ、または公開データ(国土数値情報・e-Stat・介護サービス情報など)から"
                                     "ワークスペースを一度に作る")
    p.add_argument("path", help="作成するワークスペース (.gpkg)")
    p.add_argument("--recipe", help="scgeo recipe で作ったレシピ (.toml)")
    p.add_argument("--json", action="store_true", help="結果を JSON で出力する")
    p.add_argument("--muni-code", help="全国地方公共団体コード (例: 32203)。--recipe がないときは必須")
    p.add_argument("--name", default="", help="市町村名 (例: 出雲市。既定: 市町村コードから引く)")
    p.add_argument("--municipality", help="国土数値情報 N03 行政区域 (.zip/.shp/.geojson)")
    p.add_argument("--districts", action="append", default=[],
                   help="国土数値情報 A32 中学校区 / A27 小学校区 (繰り返し指定可)")
    p.add_argument("--blocks", help="e-Stat 小地域の境界 (.shp/.zip) か、代表点付きの属性表 (.csv)")
    p.add_argument("--ages", help="e-Stat 小地域の年齢(5歳階級)別人口 CSV、"
                                  "または市の町丁目×年齢の表 (.xlsx/.csv)")
    p.add_argument("--age-layout", default=None,
                   help="市の町丁目×年齢の表の形式 (standard = 地域・年齢別人口)")
    p.add_argument("--mesh", help="地域メッシュ人口の表 (メッシュコード、人口総数、65歳以上、75歳以上)。"
                                  "--ages がないとき、面積按分で町丁目の人口にする")
    p.add_argument("--resources", action="append", default=[],
                   help="社会資源の一覧 (介護サービス情報公表 CSV、自治体標準オープンデータ、"
                        "国土数値情報 P14/P04)。1種類だけの一覧は consultation=FILE のように"
                        "カテゴリを前に付ける (繰り返し指定可)")
    p.add_argument("--venues", action="append", default=[],
                   help="公民館・集会所・交流センターなど活動の場(会場)の一覧 (繰り返し指定可)")
    p.add_argument("--aging-rate", type=float, help="年齢別人口がないとき 65歳以上人口を推計する高齢化率 (例: 0.3)")
    p.add_argument("--facility-config", help="施設の種別→カテゴリの対応ファイル (TOML)")
    p.add_argument("--geocode", help="座標のない住所の位置の求め方: gazetteer:FILE[,FILE…] "
                                     "(位置参照情報・Geolonia の町丁目代表点)、jageocoder:DIR か "
                                     "jageocoder:URL、gsi (国土地理院の住所検索、インターネット)")
    p.add_argument("--force", action="store_true", help="既存のワークスペースを上書きする")
    p.add_argument("--rejected-dir", help="除外した行のファイルを書くフォルダ (既定: ワークスペースの隣の rejected/)")
    p.set_defaults(func=_cmd_build)


def _fields(path: Path) -> list[str]:
    if path.suffix.lower() not in (".shp", ".geojson", ".gpkg"):
        return []
    try:
        return [str(c) for c in pyogrio.read_info(path)["fields"]]
    except Exception:  # not a vector file: a table
        return []


def _exists(file: str | Path) -> Path:
    path = Path(file)
    if not path.exists():
        raise InputError(f"ファイル {path} が見つかりません。")
    return path


def recipe_from_flags(*, muni_code: str, name: str = "", municipality: str | None = None,
                      districts=(), blocks: str | None = None, ages: str | None = None,
                      age_layout: str | None = None, mesh: str | None = None, resources=(),
                      venues=(), facility_config: str | None = None, geocode: str | None = None,
                      aging_rate: float | None = None):
    """The recipe that the classic ``scgeo build`` flags stand for.

    Every file is inspected as by ``scgeo recipe`` (encodings, columns), then given the role
    its flag says.
    """
    from scgeo.io._inspect import inspect_file
    from scgeo.io.recipe import Recipe, RecipeInput, classify
    from scgeo.municipalities import muni_name, normalise_code

    if not muni_code:
        raise InputError("--recipe を使わないときは --muni-code (市町村コード) が必要です。")
    code = normalise_code(muni_code)
    name = muni_name(code, name)
    recipe = Recipe(muni_code=code, name=name)
    for key, value in (("facility_config", facility_config), ("geocode", geocode), ("aging_rate", aging_rate)):
        if value:
            recipe.options[key] = value

    def guess(file: str | Path, role: str, **options) -> RecipeInput:
        path = _exists(file)
        item = classify(inspect_file(path), muni_code=recipe.muni_code, name=name)
        kept = {k: v for k, v in item.options.items() if k in ("encoding", "layer", "name_column",
                                                                 "type_columns", "points", "columns",
                                                                 "age_columns", "filter")}
        return RecipeInput(path, role, {**kept, **options}, found=item.found)

    if municipality:
        recipe.inputs.append(RecipeInput(_exists(municipality), "boundary", {"format": "n03"}))
    for file in districts:
        recipe.inputs.append(RecipeInput(_exists(file), "boundary", {"format": "ksj"}))
    if blocks:
        if Path(blocks).suffix.lower() == ".csv":
            recipe.inputs.append(guess(blocks, "population", format="estat_points"))
        else:
            recipe.inputs.append(RecipeInput(_exists(blocks), "boundary", {"format": "estat", "level": "town_block"}))
    if ages:
        municipal = age_layout or Path(ages).suffix.lower() in (".xlsx", ".xlsm")
        item = guess(ages, "population", format="age_bands" if municipal else "estat_age")
        item.options.pop("points", None)
        recipe.inputs.append(item)
    if mesh and not ages:
        recipe.inputs.append(RecipeInput(_exists(mesh), "population", {"format": "mesh"}))
    for arg in resources:
        category, _, file = arg.rpartition("=") if "=" in arg else ("", "", arg)
        path = _exists(file)
        upper = path.name.upper()
        dataset = next((d for d in _KSJ_RESOURCES if upper.startswith(d) or
                        any(f.upper().startswith(d + "_") for f in _fields(path))), None)
        if dataset:
            recipe.inputs.append(RecipeInput(path, "resources", {"format": f"ksj_{dataset.lower()}"}))
            continue
        options = {"category": category} if category else {}
        recipe.inputs.append(guess(path, "resources", **options))
    for file in venues:
        recipe.inputs.append(guess(file, "venues"))
    return recipe


def build_workspace(path: str | Path, *, muni_code: str, name: str = "",
                    municipality: str | None = None, districts=(), blocks: str | None = None,
                    ages: str | None = None, age_layout: str | None = None, mesh: str | None = None,
                    resources=(), facility_config: str | None = None, geocode: str | None = None,
                    force: bool = False, rejected_dir: str | Path | None = None, log=None) -> dict:
    """Build a workspace from public data files (the classic flags); returns the counts.

    A shorthand for :func:`scgeo.builder.build` on :func:`recipe_from_flags`. Returns
    ``layers`` (count per level, ``resources``), ``rejected`` (per file), ``messages``,
    ``geocode`` (match levels of geocoded resources), ``population``, ``seconds``, ``info``
    and ``report`` (the :class:`scgeo.builder.BuildReport` as a dict).
    """
    from scgeo.builder import build
    from scgeo.workspace import Workspace

    recipe = recipe_from_flags(muni_code=muni_code, name=name, municipality=municipality,
                               districts=districts, blocks=blocks, ages=ages, age_layout=age_layout,
                               mesh=mesh, resources=resources, facility_config=facility_config,
                               geocode=geocode)
    report = build(recipe, path, force=force, log=log, rejected_dir=rejected_dir)
    return _summary(report, Workspace.open(path))


def _summary(report, ws) -> dict:
    return {
        "layers": {k: v for k, v in report.layers.items() if k != "venues" or v},
        "rejected": {Path(i.path).stem: i.rejected for i in report.inputs},
        "messages": [f"{Path(i.path).name}: {w}" for i in report.inputs for w in i.warnings] + report.notes,
        "geocode": report.geocode,
        "population": report.population,
        "seconds": report.seconds,
        "info": ws.info(),
        "report": report.to_dict(),
    }


def _cmd_build(args) -> int:
    from scgeo.builder import build
    from scgeo.io.recipe import read_recipe

    if args.recipe:
        recipe = read_recipe(args.recipe)
        from scgeo.municipalities import normalise_code

        if args.muni_code and normalise_code(args.muni_code) != recipe.muni_code:
            raise InputError(f"--muni-code {args.muni_code} とレシピの市町村コード {recipe.muni_code} が違います。")
        for key in ("facility_config", "geocode", "aging_rate"):
            if getattr(args, key):
                recipe.options[key] = getattr(args, key)
        if args.name:
            recipe.name = args.name
    else:
        recipe = recipe_from_flags(
            muni_code=args.muni_code, name=args.name, municipality=args.municipality,
            districts=args.districts, blocks=args.blocks, ages=args.ages, age_layout=args.age_layout,
            mesh=args.mesh, resources=args.resources, venues=args.venues,
            facility_config=args.facility_config, geocode=args.geocode, aging_rate=args.aging_rate)
    if args.json:
        report = build(recipe, args.path, force=args.force, rejected_dir=args.rejected_dir)
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"ワークスペースを作成します: {args.path} (市町村コード {recipe.muni_code})")
    report = build(recipe, args.path, force=args.force, rejected_dir=args.rejected_dir,
                   log=lambda text: print(f"  {text}", flush=True))
    print(_japanese(report))
    return 0


def _japanese(report) -> str:
    lines = ["―― ファイルごとの結果 ――"]
    for entry in report.inputs:
        shown = Path(entry.path)
        lines.append(f"  {shown.parent.name}/{shown.name} [{_ROLE_JA.get(entry.role, entry.role)}]: "
                     f"{entry.rows} 行 → 取込 {entry.accepted}、除外 {entry.rejected}")
        lines += [f"      注意: {w}" for w in entry.warnings[:8]]
    lines.append("―― ワークスペース ――")
    lines += [f"  {_LAYER_JA.get(k, k)}: {v} 件" for k, v in report.layers.items()]
    pop = report.population
    if pop.get("pop_total") is not None and pop.get("pop_65plus") is None:
        lines.append(f"  人口 {pop['pop_total']:,} 人 (65歳以上・75歳以上は不明: 分析は総人口で計算します)")
    elif pop.get("pop_total") is not None:
        very = f"、75歳以上 {pop['pop_75plus']:,} 人" if pop.get("pop_75plus") is not None else "、75歳以上は不明"
        lines.append(f"  人口 {pop['pop_total']:,} 人 (65歳以上 {pop['pop_65plus']:,} 人{very}; "
                     f"{_BASIS_JA[report.population_basis]})")
    cats = report.categories
    if cats.get("mapped"):
        lines.append("  社会資源の種別: " + "、".join(f"{k} {v}" for k, v in cats["mapped"].items()))
    if cats.get("top_reasons"):
        lines.append("  除外の主な理由: " + "、".join(f"{k} {v} 件" for k, v in cats["top_reasons"].items()))
    lines += [f"  注意: {n}" for n in report.notes]
    if report.geocode:
        coarse = sum(v for k, v in report.geocode.items() if k != "街区")
        lines.append("  住所から求めた位置: " + "、".join(f"{k} {v} 件" for k, v in report.geocode.items())
                     + (f"(町丁目以上のおおまかな位置 {coarse} 件は地図で区別されます)" if coarse else ""))
    if report.review_file:
        lines.append(f"  種別の対応表: {report.review_file}(直すと次の build で使われます)")
    if report.rejected_files:
        folder = Path(report.rejected_files[0]).parent
        lines.append(f"  除外した行と理由: {len(report.rejected_files)} ファイル ({folder})")
    lines.append(f"完了 ({report.seconds} 秒)")
    return "\n".join(lines)
