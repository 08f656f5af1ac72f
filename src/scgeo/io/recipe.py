"""The build recipe: what each of a city's files is, guessed from its content, ready to edit.

:func:`make_recipe` looks at every file given (folders are walked), decides its role
(``boundary`` of a level, ``population`` table, ``resources`` list, ``venues`` list,
``network``, ``reference`` = understood but not imported, ``unknown``) from its geometry type,
columns and content, and records each guess with its reason. :func:`recipe_toml` writes it as a
commented TOML that a coordinator can edit; :func:`read_recipe` reads it back for
``scgeo build --recipe``.

Examples
--------
>>> recipe = Recipe(muni_code="32203", name="出雲市")
>>> recipe.inputs.append(RecipeInput("a.geojson", "boundary", {"level": "jhs_district"},
...                                  {"role": "面のデータ", "level": "名称が〜中学校"}))
>>> back = parse_recipe(recipe_toml(recipe))
>>> back.inputs[0].role, back.inputs[0].options["level"], back.name
('boundary', 'jhs_district', '出雲市')
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scgeo._errors import InputError
from scgeo._text import normalise_header
from scgeo._toml import toml_key, toml_value
from scgeo.io import _inspect as look
from scgeo.io._inspect import FileSample
from scgeo.schema import AREA_LEVEL_LABELS as LEVEL_LABELS

__all__ = ["ROLES", "ROLE_LABELS", "Recipe", "RecipeInput", "classify", "make_recipe",
           "parse_recipe", "read_recipe", "recipe_toml", "summary_table"]

ROLES = ("boundary", "population", "resources", "venues", "network", "reference", "unknown")
ROLE_LABELS = {"boundary": "区域の境界", "population": "人口の表", "resources": "社会資源の一覧",
               "venues": "活動の場(会場)の一覧", "network": "歩行ネットワーク",
               "reference": "参考(取り込まない)", "unknown": "不明(取り込まない)"}
FORMATS = {
    "boundary": ("estat", "ksj", "n03", "generic"),
    "population": ("estat_age", "estat_points", "age_bands", "plain", "mesh"),
    "resources": ("list", "ksj_p14", "ksj_p04"),
}
_DATA_SUFFIXES = (".geojson", ".json", ".shp", ".gpkg", ".zip", ".csv", ".tsv", ".txt",
                  ".xlsx", ".xlsm", ".dbf", ".osm", ".pbf", ".graphml")


@dataclass
class RecipeInput:
    """One file of a recipe: its role, the options to read it, and why each was chosen."""

    path: str | Path
    role: str
    options: dict = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    found: str = ""

    def __post_init__(self) -> None:
        self.path = Path(self.path)


@dataclass
class Recipe:
    """How to build one municipality's workspace from its files.

    ``options``: ``aging_rate`` (share of 65+ in the total population, to estimate 65+ when no
    age table exists), ``facility_config`` (TOML of header aliases and category rules),
    ``categories`` (the reviewed ``<workspace>.categories.toml``), ``geocode``.
    """

    muni_code: str
    name: str = ""
    inputs: list[RecipeInput] = field(default_factory=list)
    options: dict = field(default_factory=dict)

    def by_role(self, role: str) -> list[RecipeInput]:
        """The inputs of one role, in recipe order."""
        return [i for i in self.inputs if i.role == role]


# ---------------------------------------------------------------- finding the files


def data_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every data file under ``paths`` (folders walked, sorted), without Shapefile side files."""
    out: list[Path] = []
    for item in map(Path, paths):
        if not item.exists():
            raise InputError(f"ファイルまたはフォルダ {item} が見つかりません。")
        files = sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
        for path in files:
            suffix = path.suffix.lower()
            if path.name.startswith(".") or suffix in look.SIDECAR_SUFFIXES:
                continue
            if suffix == ".dbf" and any(path.with_suffix(s).is_file() for s in (".shp", ".SHP")):
                continue  # the attribute part of a Shapefile
            if path not in out:
                out.append(path)
    return out


def make_recipe(paths: Sequence[str | Path], *, muni_code: str, name: str = "") -> Recipe:
    """Look at every file under ``paths`` and guess how to build ``muni_code``'s workspace.

    Files that repeat an earlier file's rows (the same list as CSV and xlsx) become
    ``reference``; files nothing can be made of are ``unknown`` with the reason. Nothing is
    left out silently.
    """
    from scgeo.municipalities import muni_name, normalise_code

    code = normalise_code(muni_code)
    recipe = Recipe(muni_code=code, name=muni_name(code, name))
    seen: dict[tuple, Path] = {}
    for path in data_files(paths):
        sample = look.inspect_file(path)
        item = classify(sample, muni_code=recipe.muni_code, name=name)
        key = _fingerprint(sample)
        if key and key in seen and item.role in ("resources", "venues"):
            first = f"{seen[key].parent.name}/{seen[key].name}"
            item = RecipeInput(path, "reference", {},
                               {"role": f"{first} と同じ行が並んでいるため(二重に数えないよう取り込みません)"},
                               item.found)
        elif key:
            seen.setdefault(key, path)
        recipe.inputs.append(item)
    _prefer_polygons(recipe)
    return recipe


def _fingerprint(sample: FileSample) -> tuple | None:
    if sample.kind not in ("table", "vector") or sample.frame.empty:
        return None
    column = look.name_column(sample.frame)
    if column is None:
        return None
    names = sample.frame[column].dropna().astype(str).map(normalise_header)
    return (len(sample.frame), tuple(sorted(names)))


def _prefer_polygons(recipe: Recipe) -> None:
    """Representative points make town blocks only when no boundary file gives them."""
    polygons = any(i.options.get("level") == "town_block" for i in recipe.by_role("boundary"))
    for item in recipe.by_role("population"):
        if "points" in item.options and polygons:
            item.options["make_blocks"] = False
            item.reasons["make_blocks"] = "町丁目の境界ファイルがあるため、代表点からは境界を作りません"


# ---------------------------------------------------------------- classifying one file


def classify(sample: FileSample, *, muni_code: str, name: str = "") -> RecipeInput:
    """Guess the role of one inspected file (see :func:`scgeo.io._inspect.inspect_file`)."""
    path = sample.path
    if sample.error:
        return RecipeInput(path, "unknown", reasons={"role": sample.error})
    if sample.kind == "network":
        return RecipeInput(path, "network", reasons={"role": "OpenStreetMap / graphml の道路データ"})
    if sample.kind == "other":
        return RecipeInput(path, "unknown", reasons={
            "role": f"読める形式ではありません(拡張子 {path.suffix or 'なし'})"})
    item = RecipeInput(path, "unknown", found=_found(sample))
    if sample.encoding:
        item.options["encoding"] = sample.encoding
        item.reasons["encoding"] = ("; ".join(sample.notes) if sample.notes else
                                    "ファイルの内容から判定")
    if sample.layer:
        item.options["layer"] = sample.layer
    if not _filter(sample, item, muni_code, name):
        return item
    geometry = (sample.geometry_type or "").replace(" Z", "")
    if sample.kind == "vector" and geometry in ("Polygon", "MultiPolygon"):
        _boundary(sample, item, muni_code)
    elif sample.kind == "vector" and geometry in ("LineString", "MultiLineString"):
        item.reasons["role"] = ("線のデータです。道路なら OpenStreetMap の .osm/.pbf を歩行ネットワーク"
                                "として使います")
    else:
        _table_role(sample, item)
    if sample.kind == "vector" and item.role in ("boundary", "resources", "venues"):
        _crs(sample, item, muni_code)
    return item


def _found(sample: FileSample) -> str:
    what = f"{len(sample.frame)} 行"
    if sample.kind == "vector":
        what = f"{len(sample.frame)} 図形 ({sample.geometry_type or '形なし'})"
    return f"{what}、列: {', '.join(sample.columns[:12])}" + (" …" if len(sample.columns) > 12 else "")


def _filter(sample: FileSample, item: RecipeInput, muni_code: str, name: str) -> bool:
    """Add the filter to the municipality; False when the file has none of its rows."""
    found = look.code_filter(sample.frame, muni_code)
    kind, value = (found or {}).get("kind"), muni_code
    if found is None and name:
        found = _name_filter(sample, name)
        kind, value = "name", name
    if found is None:
        return True
    matched, total = found["matched"], found["total"]
    if matched == 0:
        item.role = "reference"
        item.reasons["role"] = (f"列 {found['column']} に市町村 {value} の行がありません"
                                f"(全 {total} 行が他の市町村)")
        return False
    if matched < total:
        item.options["filter"] = {"column": found["column"], "kind": kind, "value": value}
        item.reasons["filter"] = (f"列 {found['column']} で市町村 {value} の {matched} 行だけを使います"
                                  f"(全 {total} 行、ほかは対象外)")
    return True


def _name_filter(sample: FileSample, name: str) -> dict | None:
    target = normalise_header(name)
    for column in sample.frame.columns:
        values = sample.frame[column].dropna().astype(str).map(normalise_header)
        keep = values == target
        if keep.any() and values.nunique() > 1 and (values.str.endswith(("市", "町", "村", "区")).mean() > 0.9):
            return {"column": str(column), "matched": int(keep.sum()), "total": len(sample.frame)}
    return None


def _boundary(sample: FileSample, item: RecipeInput, muni_code: str) -> None:
    columns = sample.columns
    upper = {c.upper() for c in columns}
    item.role = "boundary"
    if "KEY_CODE" in upper and upper & {"MOJI", "S_NAME"}:
        item.options.update(format="estat", level="town_block")
        item.reasons["role"] = "e-Stat 国勢調査 小地域の境界 (KEY_CODE と町丁名 MOJI/S_NAME の列)"
        if "JINKO" in upper:
            item.options["population"] = "total"
            item.reasons["population"] = "JINKO (総人口) の列があります。年齢別の人口はありません"
        return
    if "N03_007" in upper:
        item.options.update(format="n03", level="municipality")
        item.reasons["role"] = "国土数値情報 N03 行政区域 (N03_007 = 行政区域コード)"
        return
    ksj = next((c[:3].upper() for c in columns if c[:4].upper() in ("A32_", "A27_")), None)
    column, level, share = look.level_by_content(sample.frame)
    if ksj and column and level in ("jhs_district", "es_district"):
        item.options.update(format="ksj", level=level, name_column=column)
        item.reasons["role"] = f"国土数値情報 {ksj} の学校区 (列 {column} の {share:.0%} が「〜学校」)"
        return
    item.options["format"] = "generic"
    by_header = _header(columns, ("名称", "区域名", "校区名", "圏域名", "地区名", "名前", "name", "s_name", "moji"))
    if column is None and by_header:
        column = by_header
    if column is None:
        column = look.name_column(sample.frame)
    level, why = _level(sample, level, share, column)
    if column:
        item.options["name_column"] = column
        item.reasons["name_column"] = (f"列 {column} の値が区域の名前です(例: "
                                       f"{', '.join(map(str, sample.frame[column].dropna().head(3)))})")
    if level is None:
        item.role = "unknown"
        item.reasons["role"] = ("面のデータですが、区域の種類(中学校区・町丁目…)が分かりません。"
                                "role = \"boundary\" と level を書けば取り込めます")
        return
    item.options["level"] = level
    item.reasons["role"] = "面(ポリゴン)のデータ"
    item.reasons["level"] = why
    identifier = _id_column(sample, column)
    if identifier:
        item.options["id_column"] = identifier
        item.reasons["id_column"] = f"列 {identifier} の値が重複のない番号・コードです"
    pops = look.population_columns(columns)
    if pops:
        item.options["population"] = pops
        item.reasons["population"] = "人口の列: " + ", ".join(f"{k}={v}" for k, v in pops.items())


def _level(sample: FileSample, level: str | None, share: float, column: str | None
           ) -> tuple[str | None, str]:
    if level:
        return level, f"列 {column} の値の {share:.0%} が「{LEVEL_LABELS[level]}」らしい名前で終わります"
    stem = normalise_header(sample.path.stem)
    hints = (("jhs_district", ("中学校区", "中学校", "chugaku", "middleschool", "jhs")),
             ("es_district", ("小学校区", "小学校", "shogaku", "elementary", "es_district")),
             ("living_area", ("日常生活圏域", "圏域", "living")),
             ("community", ("自治会", "町内会", "地区")),
             ("town_block", ("町丁", "小地域", "chome", "town_block")),
             ("municipality", ("行政区域", "市域", "municipality")))
    for code, words in hints:
        if any(normalise_header(w) in stem for w in words):
            return code, f"ファイル名「{sample.path.name}」から{LEVEL_LABELS[code]}と判断"
    return None, ""


def _header(columns: list[str], aliases: Iterable[str]) -> str | None:
    folded = {normalise_header(c): c for c in reversed(columns)}
    return next((folded[normalise_header(a)] for a in aliases if normalise_header(a) in folded), None)


def _id_column(sample: FileSample, name_column: str | None) -> str | None:
    frame = sample.frame
    hints = ("id", "code", "コード", "番号", "no", "key", "番")
    for column in frame.columns:
        if column == name_column or not any(h in normalise_header(column) for h in hints):
            continue
        values = frame[column].dropna().astype(str).str.strip()
        if len(values) == len(frame) and values.is_unique and values.str.fullmatch(r"[A-Za-z]?\d+").all() \
                and normalise_header(column) not in ("objectid", "fid", "ogcfid", "origogcfid"):
            return str(column)
    return None


def _crs(sample: FileSample, item: RecipeInput, muni_code: str) -> None:
    from pyproj import CRS

    from scgeo.crs import plane_zone_epsg

    if sample.crs:
        crs = CRS.from_user_input(sample.crs)
        epsg = crs.to_epsg()
        item.options["crs"] = f"EPSG:{epsg}" if epsg else crs.to_wkt()
        item.reasons["crs"] = f"ファイルの座標系 ({crs.name})"
        return
    if look.looks_like_degrees(sample.bounds):
        item.options["crs"] = "EPSG:6668"
        item.reasons["crs"] = "座標系の指定 (.prj) がなく、座標が日本の緯度経度の範囲にあるため JGD2011 緯度経度と推定"
        return
    epsg = plane_zone_epsg(muni_code)
    if epsg:
        zone = epsg - 6668
        item.options["crs"] = f"EPSG:{epsg}"
        item.reasons["crs"] = (f"座標系の指定 (.prj) がなく座標がメートル単位のため、都道府県の平面直角座標系 "
                               f"第{zone}系 (JGD2011) と推定。JGD2000 なら EPSG:{2442 + zone} に直してください")


def _table_role(sample: FileSample, item: RecipeInput) -> None:
    frame, columns = sample.frame, sample.columns
    upper = {c.upper() for c in columns}
    if sample.labels and "KEY_CODE" in upper and look.age_band_columns(columns, sample.labels):
        item.role = "population"
        item.options["format"] = "estat_age"
        item.reasons["role"] = "e-Stat 小地域の年齢(5歳階級)別人口の表 (KEY_CODE と2行の見出し)"
        return
    if {"KEY_CODE", "X_CODE", "Y_CODE"} <= upper:
        item.role = "population"
        item.options.update(format="estat_points", points=True)
        item.reasons["role"] = ("e-Stat 小地域の集計表(代表点 X_CODE/Y_CODE 付き)"
                                + ("。総人口 JINKO のみで年齢別の人口はありません" if "JINKO" in upper else ""))
        item.reasons["points"] = "町丁目の境界がなければ、代表点のボロノイ分割でおおよその境界を作ります"
        return
    bands = look.age_band_columns(columns)
    pops = look.population_columns(columns)
    name = _header(columns, ("regionName", "町名", "町丁名", "町丁目名", "地区名", "字名", "地域名", "行政区名",
                             "町丁目", "町丁字名", "名称")) or look.name_column(frame)
    coords = look.coordinate_columns(columns)
    if (bands or {"pop_65plus", "pop_total"} & set(pops)) and name:
        from scgeo.io.municipal import garbled_mask

        garbled = garbled_mask(frame[name])
        if garbled.mean() > 0.5:
            item.role = "unknown"
            item.reasons["role"] = (f"人口の表ですが、町名 ({name}) の {int(garbled.sum())}/{len(frame)} 件が"
                                    "文字化けしています。作成元の文字コードで保存し直したファイルを使ってください")
            return
        item.role = "population"
        item.options["name_column"] = name
        item.reasons["name_column"] = f"列 {name} が町丁目の名前です(例: {', '.join(frame[name].dropna().head(3))})"
        if bands:
            item.options["format"] = "age_bands"
            old = sorted(c for c, s in bands.items() if s >= 65)
            item.options["age_columns"] = sorted(bands, key=lambda c: (bands[c], c))
            item.reasons["role"] = (f"町丁目 × 5歳階級の人口の表 (65歳以上: {', '.join(old[:4])} …"
                                    f" {len(old)} 列を合計)")
        else:
            item.options["format"] = "plain"
            item.reasons["role"] = "町丁目ごとの人口の表 (" + ", ".join(f"{k}={v}" for k, v in pops.items()) + ")"
        if pops:
            item.options["columns"] = pops
        if coords:
            item.options["points"] = coords
            item.reasons["points"] = ("町丁目ごとの代表点があります。町丁目の境界がなければ、"
                                      "ボロノイ分割でおおよその境界を作ります")
        return
    _list_role(sample, item, name, coords)


def _list_role(sample: FileSample, item: RecipeInput, name: str | None, coords: dict) -> None:
    frame = sample.frame
    geometry = sample.kind == "vector"
    address = _header(sample.columns, ("住所", "所在地", "address", "所在地_連結表記", "addressarea"))
    if name is None or not (coords or geometry or address):
        item.reasons["role"] = ("名称の列と位置(緯度・経度または住所)の列が見つからないため、"
                                "何のデータか分かりません")
        return
    from scgeo.io.categories import categorise_frame
    from scgeo.schema import resolve_venue_kind

    if any(w in normalise_header(c) for c in sample.columns for w in ("aed", "defibrillator", "除細動")):
        item.role = "reference"
        item.reasons["role"] = ("AED の設置場所の一覧です(自治体標準オープンデータセット)。設置先の施設の一覧"
                                "ではないため、社会資源としては取り込みません")
        return

    names = frame[name].astype(object)
    venue = names.map(lambda v: resolve_venue_kind(v) != "other")
    item.options["name_column"] = name
    if venue.mean() >= 0.6:
        item.role = "venues"
        item.reasons["role"] = (f"名称の {venue.mean():.0%} が公民館・集会所・交流センター・福祉会館などの"
                                "会場です(活動の場の候補。サービスとしては数えません)")
        return
    guess = categorise_frame(frame, name_column=name)
    kinds = guess.type_columns
    accepted = guess.category.notna()
    excluded = guess.excluded
    if not accepted.any():
        item.role = "reference"
        what = ", ".join(f"{t} {n} 件" for t, n in guess.texts[excluded].value_counts().head(3).items())
        item.reasons["role"] = ("高齢者の生活支援の資源として分類できる行がありません"
                                f"(対象外の種別 {int(excluded.sum())} 件{': ' + what if what else ''}、"
                                f"分類できない {int((~excluded).sum())} 件)。社会資源なら role = \"resources\" と "
                                "category を書いてください")
        return
    item.role = "resources"
    counts = guess.category[accepted].value_counts()
    unknown = int((~accepted & ~excluded).sum())
    item.reasons["role"] = ("施設・活動の一覧。見込み: " + ", ".join(f"{c} {n} 件" for c, n in counts.items())
                            + f"、対象外 {int(excluded.sum())} 件、分類できない {unknown} 件")
    if kinds:
        item.options["type_columns"] = kinds
        item.reasons["type_columns"] = "種別を読む列(区分・種別・分類・サービス種類・備考など)"
    if len(counts) == 1 and accepted.mean() > 0.9 and not kinds:
        item.options["category"] = counts.index[0]
        item.reasons["category"] = f"名称から全体が {counts.index[0]} の一覧と判断"


# ---------------------------------------------------------------- TOML


def _comment(text: str) -> str:
    return "\n".join(f"# {line}" for line in str(text).splitlines() or [""])


def recipe_toml(recipe: Recipe, *, base: Path | None = None) -> str:
    """The recipe as a commented TOML (paths relative to ``base`` when given)."""
    lines = [
        "# scgeo のレシピ: この市町村のワークスペースを作るための、ファイルごとの読み方。",
        f"# 作成: {dt.date.today().isoformat()} scgeo recipe。推定の理由を各項目の上に書いています。",
        "# 直してから `scgeo build 市.gpkg --recipe このファイル` で使います。",
        "# role: boundary(区域の境界) population(人口) resources(社会資源) venues(活動の場)",
        "#       network(歩行ネットワーク) reference(参考・取り込まない) unknown(不明・取り込まない)",
        "",
        "[city]",
        f"muni_code = {toml_value(recipe.muni_code)}",
        f"name = {toml_value(recipe.name)}",
        "# 年齢別の人口がないとき、総人口 × 高齢化率で 65歳以上人口を推計します(推計と表示されます)。",
        "# aging_rate = 0.30",
    ]
    for key, value in recipe.options.items():
        lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for item in recipe.inputs:
        lines += ["", f"# ―― {item.path.name}: {ROLE_LABELS.get(item.role, item.role)}"]
        if item.found:
            lines.append(_comment(f"中身: {item.found}"))
        lines.append("[[input]]")
        lines.append(f"path = {toml_value(_relative(item.path, base))}")
        if "role" in item.reasons:
            lines.append(_comment(f"理由: {item.reasons['role']}"))
        lines.append(f"role = {toml_value(item.role)}")
        for key, value in item.options.items():
            if key in item.reasons:
                lines.append(_comment(f"理由: {item.reasons[key]}"))
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def _relative(path: Path, base: Path | None) -> str:
    if base is None:
        return str(path)
    try:
        return os.path.relpath(Path(path).resolve(), Path(base).resolve())
    except ValueError:  # another drive on Windows
        return str(Path(path).resolve())


def parse_recipe(text: str, *, base: Path | None = None) -> Recipe:
    """A recipe from its TOML text; relative paths are taken from ``base``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"レシピを TOML として読めません: {exc}") from exc
    city = data.get("city", {})
    if "muni_code" not in city:
        raise InputError("レシピの [city] に muni_code (5桁の市町村コード) がありません。")
    from scgeo.municipalities import normalise_code

    code = normalise_code(city["muni_code"])
    options = {k: v for k, v in city.items() if k not in ("muni_code", "name")}
    rate = options.get("aging_rate")
    if rate is not None and not (isinstance(rate, int | float) and 0 < rate < 1):
        raise InputError(f"aging_rate は 0 より大きく 1 より小さい数です(例: 0.30)。指定: {rate}")
    for key in ("facility_config", "categories"):  # files named in the recipe: beside the recipe
        if key in options and base is not None and not Path(options[key]).is_absolute():
            options[key] = os.path.normpath(Path(base).resolve() / options[key])
    recipe = Recipe(muni_code=code, name=str(city.get("name", "")), options=options)
    for number, raw in enumerate(data.get("input", []), 1):
        if "path" not in raw or "role" not in raw:
            raise InputError(f"レシピの {number} 番目の [[input]] に path と role が必要です。")
        role = raw["role"]
        if role not in ROLES:
            raise InputError(f"レシピの {raw['path']} の role「{role}」は使えません。"
                             f"使える role: {', '.join(ROLES)}")
        path = Path(raw["path"])
        if base is not None and not path.is_absolute():
            path = Path(os.path.normpath(Path(base).resolve() / path))
        options = {k: v for k, v in raw.items() if k not in ("path", "role")}
        allowed = FORMATS.get(role)
        if allowed and options.get("format", allowed[-1 if role == "boundary" else 0]) not in allowed:
            raise InputError(f"レシピの {raw['path']} の format「{options['format']}」は使えません。"
                             f"{role} の format: {', '.join(allowed)}")
        recipe.inputs.append(RecipeInput(path, role, options))
    return recipe


def read_recipe(path: str | Path) -> Recipe:
    """Read a recipe file written by :func:`recipe_toml` (and maybe edited)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"レシピ {path} が見つかりません。`scgeo recipe` で作れます。")
    return parse_recipe(path.read_text(encoding="utf-8"), base=path.parent)


def summary_table(recipe: Recipe) -> str:
    """A Japanese table: one line per file with its role, level or format, and the reason."""
    rows = [("ファイル", "役割", "詳細", "理由")]
    names = [i.path.name for i in recipe.inputs]
    for item in recipe.inputs:
        shown = item.path.name if names.count(item.path.name) == 1 else f"{item.path.parent.name}/{item.path.name}"
        detail = item.options.get("level") or item.options.get("format") or item.options.get("category") or ""
        detail = LEVEL_LABELS.get(detail, detail)
        if "filter" in item.options:
            detail += " (市町村で絞り込み)"
        reason = item.reasons.get("role", "")
        rows.append((shown, ROLE_LABELS.get(item.role, item.role), str(detail),
                     reason[:70] + ("…" if len(reason) > 70 else "")))
    widths = [max(_width(r[i]) for r in rows) for i in range(3)]
    out = [" | ".join([*(_pad(c, w) for c, w in zip(r[:3], widths, strict=True)), r[3]]) for r in rows]
    out.insert(1, "-+-".join("-" * w for w in [*widths, 10]))
    unknown = [i.path.name for i in recipe.inputs if i.role == "unknown"]
    if unknown:
        out.append(f"不明なファイル {len(unknown)} 件(取り込みません): {', '.join(unknown)}")
    return "\n".join(out)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _width(text))
