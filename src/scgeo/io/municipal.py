"""Municipal files in the wild: facility lists and 町丁目 × 年齢 population tables.

- :func:`read_facility_list`: 自治体標準オープンデータセット (施設一覧, 介護サービス事業所一覧 …),
  介護サービス情報公表システム open data and city lists such as 高松市's, mapped to resource
  categories by ``data/facility_categories.toml`` (or a city's copy), geocoding addresses
  when the file has no coordinates and a geocoder is given.
- :func:`read_age_table`: a 町丁目 × 年齢 table (CSV/xlsx) joined by normalised town name to
  town-block polygons; text garbled by a wrong encoding (文字化け) is detected and rejected.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo._text import normalise_header, normalise_series
from scgeo.crs import WORKSPACE_CRS
from scgeo.geocode.normalise import normalise_address
from scgeo.io._points import parse_coordinate, rejected_rows
from scgeo.io._tables import read_table
from scgeo.schema import RESOURCES, TOWN_BLOCKS, ImportResult, Taxonomy, validate

__all__ = ["AGE_LAYOUTS", "garbled_mask", "read_age_table", "read_care_services",
           "read_facility_list"]

# ---------------------------------------------------------------- 文字化け


_LATIN1_MOJIBAKE = re.compile(r"[\u00c0-\u00ff][\u0080-\u00bf]")
_HALFWIDTH_KANA = re.compile(r"[\uff61-\uff9f]")
_CJK = re.compile(r"[\u3400-\u9fff]")
# first characters of UTF-8 Japanese decoded as cp932 (縺 = "\xe3\x81", 繧/繝 = katakana …)
_UTF8_AS_CP932 = set("縺繧繝譁蜿髢荳蠎鬮髱驕")


def garbled_mask(values: pd.Series) -> pd.Series:
    r"""Which text cells look garbled (文字化け).

    A cell is garbled when it holds the replacement character ``�`` (bytes lost when the
    file was decoded), UTF-8 read as latin-1 (``é«\\x98`` pairs), half-width katakana mixed
    with kanji (UTF-8 read as cp932: ``迚ｹ蛻･``) or mostly characters that open UTF-8
    sequences misread as cp932 (``縺``, ``繧``, ``繝`` …).
    """
    text = values.astype(object).where(values.notna(), "").astype(str)
    odd = text.map(lambda s: sum(c in _UTF8_AS_CP932 for c in s) / max(len(s), 1))
    return (text.str.contains("\ufffd", regex=False)
            | text.str.contains(_LATIN1_MOJIBAKE)
            | (text.str.contains(_HALFWIDTH_KANA) & text.str.contains(_CJK))
            | (odd > 0.25))


# ---------------------------------------------------------------- facility lists


def _config(path: str | Path | None) -> dict:
    try:
        text = (Path(path).read_text(encoding="utf-8") if path else
                files("scgeo").joinpath("data/facility_categories.toml").read_text("utf-8"))
        return tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"分類対応ファイル {path} を読めません: {exc}") from exc


def _match_headers(headers: list[str], columns: Mapping[str, list[str]],
                   mapping: Mapping[str, str] | None) -> dict[str, str]:
    folded = {normalise_header(h): h for h in reversed(headers)}
    out: dict[str, str] = {}
    for field, header in (mapping or {}).items():
        if header not in headers:
            raise InputError(f"列の対応に指定された見出し「{header}」がファイルにありません。"
                             f"ファイルの見出し: {', '.join(headers)}")
        out[field] = header
    for field, aliases in columns.items():
        if field in out:
            continue
        for alias in aliases:
            header = folded.get(normalise_header(alias))
            if header is not None and header not in out.values():
                out[field] = header
                break
    return out


_PROVIDERS = (("社会福祉協議会", "shakyo"), ("社会福祉法人", "social_welfare_corp"),
              ("医療法人", "medical_corp"), ("特定非営利活動法人", "npo"), ("NPO", "npo"),
              ("協同組合", "coop"), ("株式会社", "company"), ("有限会社", "company"),
              ("合同会社", "company"))


def _provider(values: pd.Series) -> pd.Series:
    out = pd.Series(None, index=values.index, dtype=object)
    text = values.fillna("").astype(str)
    for word, code in _PROVIDERS:
        out[out.isna() & text.str.contains(word, regex=False)] = code
    return out


def read_facility_list(path: str | Path, *, category: str | None = None,
                       config: str | Path | None = None, mapping: Mapping[str, str] | None = None,
                       sheet: str | int | None = None, encoding: str | None = None,
                       geocoder: object = None, id_prefix: str = "F",
                       taxonomy: Taxonomy | None = None, existing_ids: set[str] | None = None,
                       source: str | None = None, geocode_cache: object = None,
                       progress: object = None, type_columns: list[str] | None = None,
                       review: Mapping[str, str] | None = None, row_filter: dict | None = None,
                       layer: str | None = None) -> ImportResult:
    """Read a facility list (CSV/xlsx, JSON array, point layer) as resources, whatever its layout.

    Parameters
    ----------
    path
        The list: 自治体標準オープンデータセット, 介護サービス情報公表 open data, a city's own
        (a 要配慮者利用施設 list mixing elderly, disability, children's and school facilities).
    category
        The category of rows no rule recognises (for single-kind files: ``consultation`` for
        a list of 地域包括支援センター …). Without it such rows are rejected with the reason.
        Rows of a type outside the taxonomy stay rejected.
    config
        A TOML in the layout of ``data/facility_categories.toml`` (header aliases, ordered rules).
    mapping
        ``{field: header}`` overriding the header recognition (fields of the config's
        ``[columns]``: ``name``, ``kind``, ``address``, ``lat``, ``lon`` …).
    geocoder
        A :class:`scgeo.geocode.Geocoder`: when the file has no coordinates, or a row has
        none, its address is geocoded. The match level is noted in ``notes``
        (``位置: 町丁目レベル``) so coarse points can be told apart.
    id_prefix
        Prefix of generated ids when the file has no id column.
    geocode_cache, progress
        Passed to :func:`scgeo.geocode.geocode` (a cache such as
        :func:`scgeo.geocode.workspace_cache`, a ``progress(done, total)`` callback).
    type_columns
        Headers holding facility types; by default every type-like column (区分, 種別, 分類,
        サービス種類, 備考 …, see :func:`scgeo.io.categories.type_columns`).
    review
        The reviewed type → category table (:func:`scgeo.io.categories.read_review`); its
        entries win over the rules.
    row_filter
        Keep one municipality's rows (a recipe's ``filter``, see
        :func:`scgeo.io._inspect.filter_rows`).
    layer
        Layer of a GeoPackage / file inside a zip, for point layers.

    Returns
    -------
    ImportResult
        Resources; the facility type is kept in ``notes`` (``種別: 訪問介護``), the capacity
        (``定員``) in ``capacity``, the provider type guessed from the operator's name
        (社会福祉法人, 医療法人, 株式会社 …), the status from words in the name (休止 →
        paused; 廃止・閉鎖・対象外 → closed). Rejected: types outside the taxonomy
        (「高齢者の生活支援の対象外の種別」), types no rule knows, rows without a position …
        ``details["categories"]``: every distinct type text with its category, rule and count.
    """
    from scgeo.io._inspect import filter_rows, read_rows
    from scgeo.io.categories import EXCLUDED_REASON, categorise_frame, status_from_names
    from scgeo.io.categories import type_columns as find_type_columns

    path = Path(path)
    cfg = _config(config)
    raw = read_rows(path, sheet=sheet, encoding=encoding, layer=layer)
    messages: list[str] = []
    raw, note = filter_rows(raw, row_filter)
    if note:
        messages.append(note)
    headers = [str(h) for h in raw.columns]
    cols = _match_headers(headers, cfg["columns"], mapping)
    if "name" not in cols:
        raise InputError(f"{path.name} に名称の列が見つかりません。レシピ (scgeo recipe) に "
                         "name_column = \"施設名\" と書くか、Python では mapping={'name': '施設名'} の"
                         f"ように指定してください。ファイルの見出し: {', '.join(headers)}")
    text = {k: normalise_series(raw[h].astype(object)) for k, h in cols.items()}
    garbled = garbled_mask(raw[cols["name"]])
    if garbled.mean() > 0.5:
        raise InputError(f"{path.name} の名称が文字化けしています(例: {raw[cols['name']].iloc[0]})。"
                         "元の文字コードで保存し直したファイルを使ってください。")
    name = text["name"]
    kind = text.get("kind", pd.Series(None, index=raw.index, dtype=object))
    columns = list(type_columns) if type_columns is not None else find_type_columns(headers, name_column=cols["name"])
    if "kind" in cols and cols["kind"] not in columns:
        columns.insert(0, cols["kind"])
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise InputError(f"種別の列 {', '.join(missing)} が {path.name} にありません。")
    guess = categorise_frame(raw, name_column=cols["name"], columns=columns,
                             rules=cfg.get("rules", []),
                             review=review, taxonomy=taxonomy)
    resolved = guess.category.copy()
    excluded = guess.excluded
    if category:
        resolved = resolved.where(resolved.notna() | excluded, category)
    unknown = resolved.isna() & ~excluded
    shown = guess.texts.astype(str)
    resolved = resolved.where(resolved.notna(), "分類不明: " + shown)
    notes = ("種別: " + kind.astype(str)).where(kind.notna(), None)
    frame = pd.DataFrame({"name": name, "category": resolved, "notes": notes,
                          "source": source or path.name}, index=raw.index)
    status = status_from_names(name)
    if status.notna().any():
        frame["status"] = status
        messages.append(f"名称に「休止」「廃止」「閉鎖」「対象外」などがある {int(status.notna().sum())} 件は"
                        "状態を休止中・廃止にしました。")
    for field in ("address", "contact", "capacity", "schedule"):
        if field in text:
            frame[field] = text[field]
    if "capacity" in frame:
        frame["capacity"] = frame["capacity"].where(
            pd.to_numeric(frame["capacity"], errors="coerce").notna(), None)
    if "provider_name" in text:
        frame["provider_type"] = _provider(text["provider_name"])
    if "resource_id" in text and text["resource_id"].notna().all() \
            and not text["resource_id"].duplicated().any():
        frame["resource_id"] = text["resource_id"].astype(str)
        if "kind" in text and "事業所番号" in cols["resource_id"]:
            frame["resource_id"] = frame["resource_id"] + ":" + kind.fillna("").astype(str)
        if existing_ids and frame["resource_id"].isin(existing_ids).any():
            frame["resource_id"] = id_prefix + frame["resource_id"]
            messages.append(f"ファイルの番号 ({cols['resource_id']}) がほかの一覧と重なるため、"
                            f"{id_prefix} を前に付けた ID にしました。")
    else:
        frame["resource_id"] = [f"{id_prefix}{i:04d}" for i in range(1, len(frame) + 1)]
    lat = parse_coordinate(raw[cols["lat"]], "緯度") if "lat" in cols else None
    lon = parse_coordinate(raw[cols["lon"]], "経度") if "lon" in cols else None
    lat_v = lat[0] if lat else pd.Series(np.nan, index=raw.index)
    lon_v = lon[0] if lon else pd.Series(np.nan, index=raw.index)
    missing = lat_v.isna() | lon_v.isna()
    if missing.any() and geocoder is not None and "address" in frame:
        from scgeo.geocode import geocode

        found = geocode(frame.loc[missing, "address"].tolist(), geocoder, cache=geocode_cache,
                        progress=progress)
        found.index = frame.index[missing]
        lat_v = lat_v.fillna(found["lat"])
        lon_v = lon_v.fillna(found["lon"])
        frame.loc[missing, "notes"] = (frame.loc[missing, "notes"].fillna("") + " 位置: "
                                       + found["level"] + "レベル(住所から)").str.strip()
        coarse = int(found["coarse"].sum())
        failed = int((found["level"] == "失敗").sum())
        messages.append(f"座標のない {int(missing.sum())} 件を住所から位置を求めました"
                        f"(おおまかな位置 {coarse} 件、失敗 {failed} 件)。")
    geometry = gpd.GeoSeries(gpd.points_from_xy(lon_v.fillna(0), lat_v.fillna(0)),
                             index=frame.index, crs=WORKSPACE_CRS)
    geometry = geometry.where(lat_v.notna() & lon_v.notna(), None)
    work = gpd.GeoDataFrame(frame, geometry=geometry, crs=WORKSPACE_CRS)
    work["source_row"] = raw.index.to_numpy()
    work.loc[garbled.to_numpy(), "name"] = None
    result = validate(work.reset_index(drop=True), RESOURCES, taxonomy=taxonomy,
                      existing_ids=existing_ids)
    reasons = result.rejected.set_index("source_row")["reason"]
    for row in raw.index[garbled.to_numpy()]:
        reasons[row] = "名称が文字化けしています"
    for row in raw.index[(excluded & ~garbled).to_numpy()]:
        reasons[row] = f"{EXCLUDED_REASON}(「{shown[row]}」)"
    for row in raw.index[(unknown & ~garbled).to_numpy()]:
        reasons[row] = (f"種別「{shown[row]}」をカテゴリに対応づけられません"
                        "(category= か分類対応ファイルで指定してください)")
    if excluded.any():
        messages.append(f"{EXCLUDED_REASON}(子ども・障害・学校・保育など) {int(excluded.sum())} 件は"
                        "除外一覧に入れました。")
    if unknown.any():
        messages.append(f"種別からカテゴリが分からない {int(unknown.sum())} 件は除外一覧に"
                        "入れました。category= か分類対応ファイルで指定できます。")
    table = guess.table.assign(source=path.name)
    return ImportResult(result.accepted.reset_index(drop=True),
                        rejected_rows(raw, reasons.sort_index()), messages,
                        {"categories": table, "type_columns": columns})


def read_care_services(path: str | Path, **kwargs) -> ImportResult:
    """Read 介護サービス情報公表システム open data (one CSV per service type) as resources.

    Columns such as ``事業所番号, 事業所名, 住所, 緯度, 経度, サービスの種類, 定員, 法人の名称``.
    Every row is of category ``care_service`` unless a rule says otherwise
    (地域包括支援センター → ``consultation``); the service type is kept in ``notes``
    (``種別: 訪問介護``) and ids are ``事業所番号:サービスの種類``. Other keywords as
    :func:`read_facility_list`.
    """
    kwargs.setdefault("category", "care_service")
    kwargs.setdefault("source", "介護サービス情報公表システム")
    return read_facility_list(path, **kwargs)


# ---------------------------------------------------------------- 町丁目 × 年齢


AGE_LAYOUTS: dict[str, dict] = {
    # 「地域・年齢別人口」(自治体標準オープンデータセット; 高松市 0066_*.xlsx): man1..man18 /
    # woman1..woman18 are 0–4 … 80–84, 85+; 14 = 65–69, 16 = 75–79.
    "standard": {
        "name": "regionName",
        "pop_total": ["totalPopulation"],
        "pop_65plus": [f"{s}{i}" for s in ("man", "woman") for i in range(14, 19)],
        "pop_75plus": [f"{s}{i}" for s in ("man", "woman") for i in range(16, 19)],
    },
}


def read_age_table(path: str | Path, *, blocks: gpd.GeoDataFrame, layout: str | Mapping = "standard",
                   sheet: str | int | None = None, encoding: str | None = None) -> ImportResult:
    """Join a 町丁目 × 年齢 table to town-block polygons by normalised town name.

    Parameters
    ----------
    path
        CSV or xlsx with one row per 町 / 丁目.
    blocks
        Town-block areas (``area_id``, ``name``, geometry), e.g. from
        :func:`scgeo.io.read_estat_town_blocks` without an age table.
    layout
        A name in :data:`AGE_LAYOUTS` or a mapping (from a TOML) with ``name`` (header of the
        town name) and ``pop_total`` / ``pop_65plus`` / ``pop_75plus`` (lists of headers to add).
    sheet, encoding
        As :func:`scgeo.io.read_table`.

    Returns
    -------
    ImportResult
        Town blocks with population; ``rejected`` holds the table rows whose name matched no
        block (or matched after the block was taken) and rows with garbled names; blocks
        without a row are named in ``messages``.

    Raises
    ------
    InputError
        Most town names are garbled (文字化け): the file must be re-saved in its original
        encoding rather than loaded as nonsense.
    """
    path = Path(path)
    spec = AGE_LAYOUTS[layout] if isinstance(layout, str) else dict(layout)
    raw = read_table(path, sheet=sheet, encoding=encoding)
    needed = [spec["name"], *spec["pop_total"], *spec["pop_65plus"], *spec["pop_75plus"]]
    absent = [h for h in needed if h not in raw.columns]
    if absent:
        raise InputError(f"{path.name} に列 {', '.join(absent[:8])} がありません。"
                         f"ファイルの見出し: {', '.join(map(str, raw.columns[:20]))} …")
    names = raw[spec["name"]]
    garbled = garbled_mask(names)
    if garbled.mean() > 0.5:
        example = next((str(v) for v in names if isinstance(v, str)), "")
        raise InputError(f"{path.name} の町名 ({spec['name']}) の {int(garbled.sum())}/{len(names)} 件が"
                         f"文字化けしています(例: 「{example}」)。このファイルは読み込めません。"
                         "作成元の文字コードで開き直して保存したファイルか、別の時点のファイルを"
                         "使ってください。")
    numbers = {key: raw[spec[key]].apply(pd.to_numeric, errors="coerce").sum(axis=1, min_count=1)
               for key in ("pop_total", "pop_65plus", "pop_75plus")}
    key = names.map(normalise_address)
    block_key = blocks["name"].map(normalise_address)
    lookup = pd.Series(blocks["area_id"].to_numpy(), index=block_key.to_numpy())
    lookup = lookup[~lookup.index.duplicated()]
    area_id = key.map(lookup)
    taken = area_id.duplicated() & area_id.notna()
    reasons = pd.Series(dtype=object)
    for row in raw.index[garbled.to_numpy()]:
        reasons[row] = "町名が文字化けしています"
    for row in raw.index[(area_id.isna() & ~garbled).to_numpy()]:
        reasons[row] = f"町名「{names[row]}」に対応する町丁目の区域がありません"
    for row in raw.index[taken.to_numpy()]:
        reasons[row] = f"町名「{names[row]}」の区域には別の行が既に対応しています"
    ok = area_id.notna() & ~garbled & ~taken
    table = pd.DataFrame({"area_id": area_id[ok], **{k: v[ok] for k, v in numbers.items()}})
    merged = blocks[["area_id", "name", "geometry"]].merge(table, on="area_id", how="inner")
    merged["level"] = "town_block"
    merged["source_row"] = raw.index[ok.to_numpy()][
        pd.Index(area_id[ok]).get_indexer(merged["area_id"])]
    result = validate(gpd.GeoDataFrame(merged, geometry="geometry", crs=blocks.crs), TOWN_BLOCKS)
    own = result.rejected.set_index("source_row")["reason"] if len(result.rejected) else reasons[:0]
    reasons = pd.concat([reasons, own])
    messages = []
    unmatched = blocks.loc[~blocks["area_id"].isin(table["area_id"]), "name"]
    if len(unmatched):
        messages.append(f"人口の表に行がない町丁目 {len(unmatched)} 件: "
                        f"{', '.join(map(str, unmatched[:10]))}" + (" …" if len(unmatched) > 10 else ""))
    return ImportResult(result.accepted, rejected_rows(raw, reasons.sort_index()), messages)
