"""``scgeo build``: a municipality's workspace from public data files in one command."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from scgeo._errors import InputError

__all__ = ["build_workspace", "register"]

_KSJ_RESOURCES = ("P14", "P04")


def register(sub) -> None:
    """Add ``scgeo build`` to the CLI."""
    p = sub.add_parser("build", help="公開データ(国土数値情報・e-Stat・介護サービス情報など)から"
                                     "ワークスペースを一度に作る")
    p.add_argument("path", help="作成するワークスペース (.gpkg)")
    p.add_argument("--muni-code", required=True, help="全国地方公共団体コード (例: 32203)")
    p.add_argument("--name", default="", help="市町村名 (例: 出雲市。既定: 市町村コードから引く)")
    p.add_argument("--municipality", help="国土数値情報 N03 行政区域 (.zip/.shp/.geojson)")
    p.add_argument("--districts", action="append", default=[],
                   help="国土数値情報 A32 中学校区 / A27 小学校区 (繰り返し指定可)")
    p.add_argument("--blocks", help="e-Stat 小地域の境界 (.shp/.zip) か、代表点付きの属性表 (.csv)")
    p.add_argument("--ages", help="e-Stat 小地域の年齢(5歳階級)別人口 CSV、"
                                  "または市の町丁目×年齢の表 (.xlsx/.csv、--age-layout)")
    p.add_argument("--age-layout", default=None,
                   help="市の町丁目×年齢の表の形式 (既定: e-Stat の CSV、standard = 地域・年齢別人口)")
    p.add_argument("--mesh", help="地域メッシュ人口の表 (メッシュコード、人口総数、65歳以上、75歳以上)。"
                                  "--ages がないとき、面積按分で町丁目の人口にする")
    p.add_argument("--resources", action="append", default=[],
                   help="社会資源の一覧 (介護サービス情報公表 CSV、自治体標準オープンデータ、"
                        "国土数値情報 P14/P04)。1種類だけの一覧は consultation=FILE のように"
                        "カテゴリを前に付ける (繰り返し指定可)")
    p.add_argument("--facility-config", help="施設の種別→カテゴリの対応ファイル (TOML)")
    p.add_argument("--geocode", help="座標のない住所の位置の求め方: gazetteer:FILE[,FILE…] "
                                     "(位置参照情報・Geolonia の町丁目代表点)、jageocoder:DIR か "
                                     "jageocoder:URL、gsi (国土地理院の住所検索、インターネット)")
    p.add_argument("--force", action="store_true", help="既存のワークスペースを上書きする")
    p.set_defaults(func=_cmd_build)


def _geocoder(spec: str | None):
    if not spec:
        return None
    from scgeo.geocode import Gazetteer, GsiGeocoder, JageocoderGeocoder

    kind, _, arg = spec.partition(":")
    if kind == "gazetteer" and arg:
        return Gazetteer.from_files([p for p in arg.split(",") if p])
    if kind == "jageocoder" and arg:
        return JageocoderGeocoder(url=arg) if arg.startswith("http") else JageocoderGeocoder(db_dir=arg)
    if kind == "gsi":
        return GsiGeocoder(url=arg) if arg else GsiGeocoder()
    raise InputError(f"--geocode「{spec}」が分かりません。gazetteer:FILE、jageocoder:DIR、"
                     "jageocoder:URL、gsi のいずれかにしてください。")


def _columns(path: Path) -> list[str]:
    if path.is_dir() or path.suffix.lower() == ".zip":
        return []
    try:
        return [str(c) for c in pyogrio.read_info(path)["fields"]]
    except Exception:  # not a vector file: a table
        return []


def _read_resources(arg: str, *, number: int, within, geocoder, config, existing: set[str],
                    cache=None, progress=None):
    from scgeo import io

    category, _, file = arg.rpartition("=") if "=" in arg else ("", "", arg)
    path = Path(file)
    if not path.exists():
        raise InputError(f"ファイル {path} が見つかりません。")
    upper = path.name.upper()
    fields = _columns(path) if path.suffix.lower() in (".shp", ".geojson", ".gpkg") else []
    dataset = next((d for d in _KSJ_RESOURCES if upper.startswith(d) or
                    any(f.upper().startswith(d + "_") for f in fields)), None)
    if dataset == "P14":
        return io.read_ksj_facilities(path, within=within, config=config)
    if dataset == "P04":
        return io.read_ksj_medical(path, within=within, config=config)
    return io.read_facility_list(path, category=category or None, geocoder=geocoder,
                                 id_prefix=f"R{number}-", existing_ids=existing,
                                 geocode_cache=cache, progress=progress)


def build_workspace(path: str | Path, *, muni_code: str, name: str = "",
                    municipality: str | None = None, districts: list[str] = (),
                    blocks: str | None = None, ages: str | None = None,
                    age_layout: str | None = None, mesh: str | None = None,
                    resources: list[str] = (),
                    facility_config: str | None = None, geocode: str | None = None,
                    force: bool = False, log=None) -> dict:
    """Build a workspace from public data files; returns the counts (for the CLI and tests).

    ``log(text)`` receives progress lines in Japanese. See ``docs/public_data.md``.
    """
    from scgeo import io
    from scgeo.workspace import Workspace

    from scgeo.municipalities import muni_name

    log = log or (lambda text: None)
    started = time.perf_counter()
    name = muni_name(muni_code, name)
    ws = Workspace.create(path, muni_code=muni_code, muni_name=name, overwrite=force)
    summary: dict = {"layers": {}, "rejected": {}, "messages": [], "geocode": {}}
    rejected_dir = Path(path).with_suffix("")

    def record(label: str, result) -> None:
        summary["rejected"][label] = len(result.rejected)
        summary["messages"] += [f"{label}: {m}" for m in result.messages]
        if len(result.rejected):
            out = Path(f"{rejected_dir}_rejected_{label}.csv")
            result.rejected.to_csv(out, index=False, encoding="utf-8-sig")
            log(f"  除外 {len(result.rejected)} 件 → {out}")

    outline = None
    if municipality:
        result = io.read_ksj_municipality(municipality, muni_code=muni_code)
        ws.import_result("areas", result, source=Path(municipality).name)
        record("municipality", result)
        outline = result.accepted.union_all()
        log(f"行政区域: {len(result.accepted)} 件")
    for file in districts:
        result = io.read_ksj_school_districts(file, muni_code=muni_code)
        ws.import_result("areas", result, source=Path(file).name)
        record(Path(file).stem, result)
        level = result.accepted["level"].iloc[0] if len(result.accepted) else "areas"
        summary["layers"][level] = summary["layers"].get(level, 0) + len(result.accepted)
        log(f"{Path(file).name}: {result.summary()}")
        if outline is None and level == "jhs_district" and len(result.accepted):
            outline = shapely.make_valid(result.accepted.union_all())
    if outline is not None and not municipality:
        muni = gpd.GeoDataFrame({"area_id": [str(muni_code)], "name": [name or str(muni_code)],
                                 "level": ["municipality"]}, geometry=[outline], crs="EPSG:6668")
        from scgeo.schema import validate

        result = validate(muni, "areas")
        result.messages.append("行政区域のファイルがないため、中学校区を合わせて市町村の範囲にしました。")
        ws.import_result("areas", result, source="中学校区の合併")
        record("municipality", result)
    if outline is not None:
        summary["layers"] = {"municipality": 1, **summary["layers"]}
    if blocks:
        result = _blocks(blocks, ages, age_layout, muni_code=muni_code, outline=outline)
        if mesh and not ages:
            result = _mesh_population(result, mesh, muni_code=muni_code)
        layer = "town_blocks" if "pop_total" in result.accepted else "areas"
        ws.import_result(layer, result, source=Path(blocks).name)
        record("town_blocks", result)
        summary["layers"]["town_block"] = len(result.accepted)
        if "pop_total" in result.accepted:
            summary["population"] = {k: int(result.accepted[k].sum()) if result.accepted[k].notna().any()
                                     else None for k in ("pop_total", "pop_65plus", "pop_75plus")}
        log(f"町丁目: {result.summary()}")
    geocoder = _geocoder(geocode)
    cache = None
    if geocoder is not None:
        from scgeo.geocode import workspace_cache

        cache = workspace_cache(ws.path)

    def progress(done: int, total: int) -> None:
        if total:
            log(f"  住所から位置を求めています: {done}/{total}")

    frames = []
    for number, arg in enumerate(resources, 1):
        existing = set().union(*(set(f["resource_id"]) for f in frames)) if frames else set()
        result = _read_resources(arg, number=number, within=outline, geocoder=geocoder,
                                 config=facility_config, existing=existing, cache=cache,
                                 progress=progress)
        frames.append(result.accepted)
        ws.import_result("resources", result, source=Path(arg.rpartition("=")[2]).name)
        record(Path(arg.rpartition("=")[2]).stem, result)
        log(f"{Path(arg.rpartition('=')[2]).name}: {result.summary()}")
    if frames:
        allres = pd.concat(frames, ignore_index=True)
        summary["layers"]["resources"] = len(allres)
        notes = allres["notes"].fillna("")
        levels = notes.str.extract(r"位置: (\S+?)レベル")[0].dropna()
        summary["geocode"] = levels.value_counts().to_dict()
    summary["seconds"] = round(time.perf_counter() - started, 2)
    summary["info"] = ws.info()
    return summary


def _blocks(blocks: str, ages: str | None, age_layout: str | None, *, muni_code: str, outline):
    from scgeo import io

    path = Path(blocks)
    municipal_ages = ages and (age_layout or Path(ages).suffix.lower() in (".xlsx", ".xlsm"))
    estat_ages = None if municipal_ages else ages
    if path.suffix.lower() == ".csv":
        if outline is None:
            raise InputError("代表点の表から町丁目を作るには市町村の範囲が必要です。"
                             "--municipality か --districts (中学校区) も指定してください。")
        result = io.town_blocks_from_points(path, clip=outline, ages=estat_ages, muni_code=muni_code)
    else:
        result = io.read_estat_town_blocks(path, ages=estat_ages, muni_code=muni_code)
    if municipal_ages:
        joined = io.read_age_table(ages, blocks=result.accepted, layout=age_layout or "standard")
        joined.messages[:0] = result.messages
        return joined
    return result


def _mesh_population(result, mesh: str, *, muni_code: str):
    """Town blocks without population + a mesh table → town blocks with interpolated population."""
    from scgeo.io.mesh import interpolate_population, read_mesh_population, round_preserving_total
    from scgeo.schema import ImportResult, validate

    meshes, messages = read_mesh_population(mesh)
    blocks = result.accepted
    estimate = interpolate_population(meshes, blocks, muni_code=muni_code)
    work = blocks.copy()
    for col in ("pop_total", "pop_65plus", "pop_75plus"):
        if col not in estimate:
            raise InputError(f"{Path(mesh).name} に {col} の列がありません(65歳以上・75歳以上の人口が必要です)。")
        work[col] = round_preserving_total(estimate[col])
    lost = meshes["pop_total"].sum() - estimate["pop_total"].sum()
    messages.append(f"地域メッシュの人口を面積按分で町丁目に割り当てました(町丁目の外に落ちた人口 {lost:,.0f} 人)。")
    checked = validate(work, "town_blocks")
    return ImportResult(checked.accepted, checked.rejected, [*result.messages, *messages])


def _cmd_build(args) -> int:
    print(f"ワークスペースを作成します: {args.path} (市町村コード {args.muni_code})")
    summary = build_workspace(
        args.path, muni_code=args.muni_code, name=args.name, municipality=args.municipality,
        districts=args.districts, blocks=args.blocks, ages=args.ages, age_layout=args.age_layout,
        mesh=args.mesh,
        resources=args.resources, facility_config=args.facility_config, geocode=args.geocode,
        force=args.force, log=lambda text: print(text, flush=True))
    print("―― 結果 ――")
    labels = {"municipality": "市町村", "jhs_district": "中学校区", "es_district": "小学校区",
              "town_block": "町丁目", "resources": "社会資源"}
    for key, count in summary["layers"].items():
        print(f"  {labels.get(key, key)}: {count} 件")
    if "population" in summary:
        pop = summary["population"]
        if pop["pop_65plus"] is None:
            print(f"  人口 {pop['pop_total']:,} 人 (65歳以上・75歳以上は不明: 分析は総人口で計算します)")
        else:
            print(f"  人口 {pop['pop_total']:,} 人 (65歳以上 {pop['pop_65plus']:,} 人、"
                  f"75歳以上 {pop['pop_75plus'] or 0:,} 人)")
    total_rejected = sum(summary["rejected"].values())
    print(f"  除外した行: {total_rejected} 件" + (" (理由は *_rejected_*.csv)" if total_rejected else ""))
    if summary["geocode"]:
        coarse = {k: v for k, v in summary["geocode"].items() if k != "街区"}
        print("  住所から求めた位置: " + "、".join(f"{k} {v} 件" for k, v in summary["geocode"].items())
              + (f"(町丁目以上のおおまかな位置 {sum(coarse.values())} 件は地図で区別されます)"
                 if coarse else ""))
    for message in summary["messages"][:30]:
        print(f"  注意: {message}", file=sys.stdout)
    print(f"完了 ({summary['seconds']} 秒)")
    return 0
