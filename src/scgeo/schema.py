"""The layers of a workspace, their columns, the category taxonomy, and validation.

Every column name, dtype and category in scgeo is defined here. Importers map foreign headers
onto these names (through ``Column.aliases``) and call :func:`validate`, which returns the rows
it accepted, coerced to the schema, and the rows it rejected, each with its original values and
a reason in Japanese.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo._text import normalise_cell, normalise_header, normalise_series
from scgeo.settings import get_settings

__all__ = [
    "AREAS",
    "AREA_LEVELS",
    "AREA_LEVEL_ALIASES",
    "BASEMAP_LINES",
    "COARSE_MATCH_LEVELS",
    "CONFIRMATIONS",
    "CONFIRMATION_FINDINGS",
    "CONFIRMATION_METHODS",
    "COUNCILS",
    "COUNCIL_MEETINGS",
    "COUNCIL_TIERS",
    "EDITS",
    "HELPERS",
    "LAYERS",
    "MATCH_LEVELS",
    "MATCH_LEVEL_LABELS",
    "NEEDS",
    "NEED_STATUSES",
    "NEED_STATUS_LABELS",
    "NETWORK_EDGES",
    "NETWORK_NODES",
    "NODE_TYPES",
    "NODE_TYPE_LABELS",
    "ORGANISATIONS",
    "PERSON_NAME_HEADERS",
    "POPULATION",
    "PUBLICATIONS",
    "RESOURCES",
    "RESOURCE_STATUSES",
    "RESOURCE_STATUS_LABELS",
    "REVIEW_FLAGS",
    "SITING_AREAS",
    "SITING_SCENARIOS",
    "SITING_SITES",
    "TIES",
    "TIE_KINDS",
    "TIE_KIND_LABELS",
    "TIE_STATUSES",
    "TIE_STATUS_LABELS",
    "TIE_STRENGTHS",
    "TIE_STRENGTH_LABELS",
    "TOWN_BLOCKS",
    "UNKNOWN_CATEGORY",
    "UNPLACED",
    "VENUES",
    "VENUE_KINDS",
    "VENUE_KIND_LABELS",
    "WEEKDAYS",
    "Category",
    "Column",
    "ImportResult",
    "Layer",
    "Taxonomy",
    "coded",
    "coerce",
    "empty_frame",
    "load_taxonomy",
    "parse_date",
    "resolve_level",
    "resolve_venue_kind",
    "unknown_categories",
    "validate",
]

AREA_LEVELS = ("municipality", "living_area", "jhs_district", "es_district", "community", "town_block")
AREA_LEVEL_LABELS = {
    "municipality": "市町村",
    "living_area": "日常生活圏域",
    "jhs_district": "中学校区",
    "es_district": "小学校区",
    "community": "地区・自治会",
    "town_block": "町丁目",
}
AREA_LEVEL_ALIASES = {normalise_header(k): code for code, label in AREA_LEVEL_LABELS.items() for k in (code, label)} | {
    normalise_header(k): code for k, code in (
        ("圏域", "living_area"), ("生活圏域", "living_area"), ("中学校", "jhs_district"),
        ("小学校", "es_district"), ("町丁・字", "town_block"), ("小地域", "town_block"),
        ("町丁", "town_block"), ("市区町村", "municipality"), ("自治会", "community"),
        ("町内会", "community"), ("地区", "community"))}


def resolve_level(value: str) -> str:
    """The area-level code for a code or a Japanese name (``中学校区`` → ``jhs_district``).

    Raises ``InputError`` naming the accepted names when ``value`` is none of them.
    """
    code = AREA_LEVEL_ALIASES.get(normalise_header(value)) if _present(value) else None
    if code is None:
        names = "、".join(f"{label} ({code})" for code, label in AREA_LEVEL_LABELS.items())
        raise InputError(f"区域の種類「{value}」は使えません。{names} のいずれかを指定してください。")
    return code


RESOURCE_STATUSES = ("active", "paused", "closed", "planned")
NEED_STATUSES = ("open", "matched", "resolved")
RESOURCE_STATUS_LABELS = {"active": "活動中", "paused": "休止中", "closed": "廃止", "planned": "計画中(案)"}
NEED_STATUS_LABELS = {"open": "未対応", "matched": "対応済み(つなぎ済み)", "resolved": "解決"}
WEEKDAYS = ("月", "火", "水", "木", "金", "土", "日")
# How a point was placed, finest first (``match_level``): coordinates in the file, a house
# number (番地・住居番号), a block (街区), a 丁目 or 小字, an 大字・町, the municipality, by hand.
MATCH_LEVELS = ("source", "banchi", "gaiku", "chome", "oaza", "municipality", "manual")
MATCH_LEVEL_LABELS = {"source": "ファイルの座標", "banchi": "番地", "gaiku": "街区", "chome": "町丁目",
                      "oaza": "大字・町", "municipality": "市区町村", "manual": "手動で配置"}
# Placed at the representative point of a 町丁目 or 大字: drawn hollow, counted apart.
COARSE_MATCH_LEVELS = ("chome", "oaza")
# How a resource was confirmed, and what was found (codes → Japanese labels).
CONFIRMATION_METHODS = {"phone": "電話", "visit": "訪問", "letter": "書面", "provider_reply": "事業者の回答",
                        "open_data": "公開データの更新", "prior_record": "以前の記録"}
CONFIRMATION_FINDINGS = {"unchanged": "変わりなし", "changed": "内容変更", "paused": "休止", "closed": "廃止",
                         "unreachable": "連絡つかず"}

_STATUS_ALIASES = {
    "active": ("active", "活動中", "実施中", "開催中", "運営中", "稼働", "有効", "営業中"),
    "paused": ("paused", "休止", "休止中", "一時休止", "中断", "休会"),
    "closed": ("closed", "廃止", "終了", "閉鎖", "解散", "閉所"),
    "planned": ("planned", "計画中", "計画中(案)", "計画", "予定", "開設予定"),
    "open": ("open", "未対応", "対応中", "受付", "未解決", "新規"),
    # 対応済み(つなぎ済み) is the app's own label: what the app shows, an import must take back
    "matched": ("matched", "マッチング済", "マッチング済み", "つなぎ済", "つなぎ済み", "紹介済", "対応済", "対応済み",
                "対応済み(つなぎ済み)"),
    "resolved": ("resolved", "解決", "解決済", "解決済み", "完了", "終結"),
}


@dataclass(frozen=True)
class Column:
    """One column of a layer.

    ``dtype`` is one of ``str``, ``int``, ``float``, ``date``; ``choices`` restricts the values;
    ``aliases`` are headers met in the wild that mean this column (matched after NFKC, lower
    case, without spaces).
    """

    name: str
    dtype: str
    label: str
    required: bool = False
    choices: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layer:
    """A layer (table) of the workspace: its columns, geometry type and id column."""

    name: str
    label: str
    columns: tuple[Column, ...]
    geometry: str | None = None
    id_column: str | None = None

    @property
    def names(self) -> list[str]:
        """Column names in schema order (without geometry)."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _c(name, dtype, label, *aliases, required=False, choices=None) -> Column:
    return Column(name, dtype, label, required, choices, (name, label, *aliases))


AREAS = Layer(
    "areas",
    "区域",
    (
        _c("area_id", "str", "区域ID", "id", "code", "コード", "key_code", "区域コード", required=True),
        _c("name", "str", "名称", "区域名", "名前", "s_name", "moji", "町丁名", "校区名", required=True),
        _c("level", "str", "区域の種類", "種別", "レベル", required=True, choices=AREA_LEVELS),
        _c("parent_id", "str", "上位区域ID", "parent", "上位コード"),
    ),
    geometry="MultiPolygon",
    id_column="area_id",
)

_POPULATION_COLUMNS = (
    _c("pop_total", "int", "総人口", "人口", "jinko", "population", "総数", required=True),
    _c("pop_65plus", "int", "65歳以上人口", "高齢者人口", "65歳以上", "pop65"),  # null = unknown
    _c("pop_75plus", "int", "75歳以上人口", "後期高齢者人口", "75歳以上", "pop75"),  # null = unknown
    _c("pop_65plus_alone", "int", "65歳以上単身者", "高齢単身者", "独居高齢者", "高齢者単身世帯"),
)

POPULATION = Layer(
    "population",
    "町丁目別人口",
    (_c("area_id", "str", "区域ID", "key_code", "町丁目コード", required=True), *_POPULATION_COLUMNS),
    id_column="area_id",
)

TOWN_BLOCKS = Layer(
    "town_blocks",
    "町丁目(人口付き)",
    (*AREAS.columns, *_POPULATION_COLUMNS),
    geometry="MultiPolygon",
    id_column="area_id",
)

RESOURCES = Layer(
    "resources",
    "社会資源",
    (
        _c("resource_id", "str", "資源ID", "id", "no", "番号", "施設番号", "事業所番号", required=True),
        _c("name", "str", "名称", "施設名", "事業所名", "団体名", "資源名", "活動名", required=True),
        _c("category", "str", "種別", "カテゴリ", "分類", "資源の種類", "type", required=True),
        _c("provider_type", "str", "提供主体", "運営主体", "実施主体", "provider", "運営"),
        _c("operator_id", "str", "運営団体ID", "運営団体", "operator"),
        _c("address", "str", "住所", "所在地", "場所", "開催場所", "addr"),
        _c("schedule", "str", "曜日・時間", "開催日時", "日時", "開催日", "時間", "活動日"),
        _c("days_of_week", "str", "曜日", "開催曜日", "days", "weekday"),
        _c("capacity", "int", "定員", "受入人数", "人数"),
        _c("fee", "str", "費用", "参加費", "料金", "利用料"),
        _c("contact", "str", "連絡先", "電話番号", "電話", "tel", "phone", "telephonenumber"),
        _c("target", "str", "対象", "対象者"),
        _c("served_area_id", "str", "対象区域ID", "サービス提供区域", "served_area"),
        _c("status", "str", "状態", "活動状況", "状況", choices=RESOURCE_STATUSES),
        _c("last_confirmed", "date", "最終確認日", "確認日", "更新日", "confirmed"),
        _c("source", "str", "出典", "情報源"),
        _c("notes", "str", "備考", "メモ", "note", "remarks"),
        _c("match_level", "str", "位置の精度", choices=MATCH_LEVELS),
        _c("matched_address", "str", "位置を求めた地名"),
    ),
    geometry="Point",
    id_column="resource_id",
)

NEEDS = Layer(
    "needs",
    "ニーズ",
    (
        _c("need_id", "str", "ニーズID", "id", "番号", "整理番号", "no", required=True),
        _c("category", "str", "種別", "ニーズ種別", "カテゴリ", "分類", "内容", required=True),
        _c("recorded_date", "date", "記録日", "受付日", "相談日", "date", required=True),
        _c("status", "str", "状態", "対応状況", "状況", choices=NEED_STATUSES),
        _c("status_date", "date", "状態更新日", "対応日"),
        _c("town_block_id", "str", "町丁目ID", "町丁目コード", "town_block"),
        # no matched_address: for a need it would be close to the person's address
        _c("match_level", "str", "位置の精度", choices=MATCH_LEVELS),
        _c("wanted_days", "str", "希望の曜日", "希望曜日", "曜日の希望", "都合のよい曜日"),
        _c("wanted_time", "str", "希望の時間帯", "希望時間", "時間帯の希望", "都合のよい時間"),
    ),
    geometry="Point",
    id_column="need_id",
)

# Rows whose address was found only at municipality level or not at all: kept here, off the
# map and out of the analyses, until the coordinator places them (``Workspace.place_unplaced``).
UNPLACED = Layer(
    "unplaced",
    "位置未確定",
    (
        _c("unplaced_id", "str", "位置未確定ID", required=True),
        _c("layer", "str", "取込先", required=True),
        _c("feature_id", "str", "取込後のID", required=True),
        _c("name", "str", "名称"),
        _c("category", "str", "種別"),
        _c("address", "str", "住所"),
        _c("match_level", "str", "見つかった精度"),
        _c("matched_address", "str", "見つかった地名"),
        _c("source", "str", "取込元のファイル"),
        _c("file_row", "int", "ファイルの行"),
        _c("row_values", "str", "取込内容(JSON)", required=True),
        _c("added_at", "str", "登録日時"),
    ),
    id_column="unplaced_id",
)

EDITS = Layer(
    "edits",
    "編集履歴",
    (
        _c("edit_id", "int", "編集番号", required=True),
        _c("at", "str", "日時", required=True),
        _c("user", "str", "編集者", required=True),
        _c("layer", "str", "レイヤ", required=True),
        _c("feature_id", "str", "対象ID"),
        _c("action", "str", "操作", required=True),
        _c("field", "str", "項目"),
        _c("old_value", "str", "変更前"),
        _c("new_value", "str", "変更後"),
        _c("note", "str", "メモ"),
        _c("version", "int", "版"),  # the workspace version the commit made (empty in older files)
    ),
    id_column="edit_id",
)

CONFIRMATIONS = Layer(
    "confirmations",
    "確認の記録",
    (
        _c("confirmation_id", "str", "確認番号", required=True),
        _c("resource_id", "str", "資源ID", required=True),
        _c("confirmed_on", "date", "確認日", required=True),
        _c("method", "str", "確認方法", required=True, choices=tuple(CONFIRMATION_METHODS)),
        _c("found", "str", "確認結果", required=True, choices=tuple(CONFIRMATION_FINDINGS)),
        _c("confirmed_by", "str", "確認者"),
        _c("changes", "str", "変更内容"),
        _c("source", "str", "記録元"),
        _c("note", "str", "メモ"),
    ),
    id_column="confirmation_id",
)

REVIEW_FLAGS = Layer(
    "review_flags",
    "要確認の知らせ",
    (
        _c("flag_id", "str", "番号", required=True),
        _c("resource_id", "str", "資源ID", required=True),
        _c("raised_on", "date", "日付", required=True),
        _c("reason", "str", "理由", required=True,
           choices=("missing_from_source", "failed_referral", "unreachable")),
        _c("source", "str", "出どころ"),
        _c("resolved_on", "date", "解消日"),
    ),
    id_column="flag_id",
)

PUBLICATIONS = Layer(
    "publications",
    "公開台帳(ニーズの集計)",
    (
        _c("release_id", "str", "公開番号", required=True),
        _c("released_at", "str", "公開日時", required=True),
        _c("user", "str", "公開者", required=True),
        _c("purpose", "str", "用途"),
        _c("unit_system", "str", "集計単位", required=True),
        _c("categories", "str", "種別", required=True),
        _c("statuses", "str", "状態", required=True),
        _c("period_start", "str", "期間の始め"),
        _c("period_end", "str", "期間の終わり"),
        _c("period_field", "str", "期間で数える日付"),  # recorded_date (受付日, the default) or status_date
        _c("threshold", "int", "秘匿の基準", required=True),
        _c("n_cells", "int", "セル数", required=True),
        _c("n_hidden", "int", "秘匿セル数", required=True),
        _c("cells", "str", "公開した値", required=True),
        _c("outputs", "str", "出力"),
    ),
    id_column="release_id",
)

NETWORK_NODES = Layer(
    "network_nodes",
    "歩行ネットワークの交点",
    (_c("node_id", "int", "交点ID", required=True),),
    geometry="Point",
    id_column="node_id",
)

NETWORK_EDGES = Layer(
    "network_edges",
    "歩行ネットワークの道",
    (
        _c("edge_id", "int", "道ID", required=True),
        _c("u", "int", "始点ID", required=True),
        _c("v", "int", "終点ID", required=True),
        _c("length_m", "float", "長さ(m)", required=True),
        _c("highway", "str", "道路の種類"),
        _c("name", "str", "名称"),
    ),
    geometry="LineString",
    id_column="edge_id",
)

# Venues: places where an activity could be held (資源開発の候補地). Not services: they are never
# counted in coverage. ``kind`` is stored as a code; the Japanese label comes from VENUE_KIND_LABELS.
VENUE_KINDS = ("kominkan", "shukaijo", "koryu_center", "fukushi_kaikan", "other")
VENUE_KIND_LABELS = {"kominkan": "公民館", "shukaijo": "集会所", "koryu_center": "地域交流センター",
                     "fukushi_kaikan": "福祉会館", "other": "その他"}
# Words in a kind or a name that tell the kind, most specific first (福祉会館 before 会館 …).
_VENUE_KIND_WORDS = (
    ("fukushi_kaikan", ("福祉会館", "福祉センター", "老人福祉センター", "老人憩の家", "いこいの家")),
    ("koryu_center", ("交流センター", "コミュニティセンター", "コミュニティーセンター", "市民センター",
                      "地区センター", "ふれあいセンター", "交流館", "交流プラザ")),
    ("kominkan", ("公民館", "公民分館")),
    ("shukaijo", ("集会所", "集会場", "集会施設", "自治会館", "町内会館", "会館", "集落センター")),
)

VENUES = Layer(
    "venues",
    "活動の場(会場)",
    (
        _c("venue_id", "str", "会場ID", "id", "no", "番号", "施設番号", required=True),
        _c("name", "str", "名称", "施設名", "会場名", "館名", "公民館名", "集会所名", "name",
           required=True),
        _c("kind", "str", "種類", "種別", "施設種別", "区分", "分類", "kind"),
        _c("address", "str", "住所", "所在地", "address", "addr"),
        _c("capacity", "int", "定員", "収容人数", "収容人員", "最大収容人数", "capacity"),
        _c("opening_hours", "str", "利用時間", "開館時間", "開所時間", "利用可能時間", "opening_hours"),
        _c("contact", "str", "連絡先", "電話番号", "電話", "tel", "phone", "telephonenumber"),
        _c("area_id", "str", "区域ID", "area", "地区コード"),
        _c("notes", "str", "備考", "メモ", "note", "remarks"),
        _c("source", "str", "出典", "情報源"),
        _c("match_level", "str", "位置の精度", choices=MATCH_LEVELS),
        _c("matched_address", "str", "位置を求めた地名"),
    ),
    geometry="Point",
    id_column="venue_id",
)

BASEMAP_LINES = Layer(
    "basemap_lines",
    "背景の線(川・鉄道)",
    (
        _c("feature_id", "str", "地物ID", required=True),
        _c("kind", "str", "種類", required=True, choices=("river", "stream", "canal", "rail")),
        _c("name", "str", "名称"),
    ),
    geometry="LineString",
    id_column="feature_id",
)

# 資源開発 scenarios (scgeo.report.scenarios): inputs and figures, proposed sites, coverage per area.
SITING_SCENARIOS = Layer(
    "siting_scenarios",
    "資源開発シナリオ",
    (
        _c("scenario_id", "str", "シナリオID", required=True),
        _c("name", "str", "シナリオ名", required=True),
        _c("created_at", "str", "作成日時", required=True),
        _c("author", "str", "作成者"),
        _c("category", "str", "種別", required=True),
        _c("model", "str", "モデル", required=True, choices=("mclp", "pmedian", "lscp")),
        _c("k_new", "int", "新しい場所の数"),
        _c("minutes", "float", "徒歩(分)"),
        _c("speed_m_per_min", "float", "歩行速度(m/分)"),
        _c("demand", "str", "数えた人"),
        _c("candidates", "str", "候補地"),
        _c("optimal", "int", "最適解"),
        _c("covered_before", "float", "徒歩圏内(前)"),
        _c("covered_after", "float", "徒歩圏内(後)"),
        _c("demand_total", "float", "対象の人(合計)"),
        _c("greedy_gap_pct", "float", "貪欲法との差(%)"),
        _c("seconds", "float", "計算時間(秒)"),
        _c("note", "str", "注意"),
        _c("params", "str", "入力と結果(JSON)"),
    ),
    id_column="scenario_id",
)

SITING_SITES = Layer(
    "siting_sites",
    "資源開発シナリオの候補地",
    (
        _c("site_id", "str", "ID", required=True),
        _c("scenario_id", "str", "シナリオID", required=True),
        _c("rank", "int", "順位", required=True),
        _c("candidate_id", "str", "候補地ID", required=True),
        _c("name", "str", "名称"),
        _c("address", "str", "住所"),
        _c("kind", "str", "種類"),
        _c("capacity", "int", "定員"),
        _c("gain_65plus", "float", "新たに徒歩圏の65歳以上"),
        _c("gain_75plus", "float", "新たに徒歩圏の75歳以上"),
        _c("gain_demand", "float", "新たに徒歩圏の人"),
        _c("source", "str", "出典"),
    ),
    geometry="Point",
    id_column="site_id",
)

SITING_AREAS = Layer(
    "siting_areas",
    "資源開発シナリオの区域別の前後",
    (
        _c("scenario_id", "str", "シナリオID", required=True),
        _c("level", "str", "区域の種類", required=True),
        _c("area_id", "str", "区域ID", required=True),
        _c("area_name", "str", "区域"),
        _c("demand", "float", "対象の人"),
        _c("covered_before", "float", "徒歩圏内(前)"),
        _c("covered_after", "float", "徒歩圏内(後)"),
        _c("gain", "float", "増える人"),
        _c("pop_65plus", "float", "65歳以上人口"),
        _c("gain_65plus", "float", "増える65歳以上"),
    ),
)

# ---------------------------------------------------------------- ネットワーク構築 (organisations and ties)

TIE_KINDS = ("operates", "partner", "member", "referral", "support")
TIE_KIND_LABELS = {"operates": "運営", "partner": "連携", "member": "参加", "referral": "紹介", "support": "支援"}
TIE_STRENGTHS = ("weak", "medium", "strong")
TIE_STRENGTH_LABELS = {"weak": "弱", "medium": "中", "strong": "強"}
TIE_STATUSES = ("accepted", "proposed")
TIE_STATUS_LABELS = {"accepted": "確認済み", "proposed": "提案(未確認)"}
#: What a tie's end can be: an organisation, a resource, a 協議体, or the coordinator (``sc``).
NODE_TYPES = ("organisation", "resource", "council", "coordinator")
NODE_TYPE_LABELS = {"organisation": "団体", "resource": "社会資源", "council": "協議体",
                    "coordinator": "生活支援コーディネーター"}
COUNCIL_TIERS = ("1", "2")

ORGANISATIONS = Layer(
    "organisations",
    "関係団体",
    (
        _c("org_id", "str", "団体ID", "id", "番号", "団体番号", required=True),
        _c("name", "str", "団体名", "名称", "label", "機関名", "組織名", required=True),
        _c("kind", "str", "団体の種類", "種別", "種類", "type", "分類", required=True),
        _c("area_id", "str", "活動区域ID", "区域ID", "担当区域", "area"),
        _c("address", "str", "住所", "所在地", "addr"),
        _c("contact", "str", "連絡先(団体)", "連絡先", "電話番号", "電話", "tel", "email", "メール"),
        _c("status", "str", "状態", "活動状況", "状況", choices=RESOURCE_STATUSES),
        _c("lat", "float", "緯度", "latitude", "y"),
        _c("lon", "float", "経度", "longitude", "lng", "x"),
        _c("notes", "str", "備考", "description", "説明", "メモ"),
        _c("source", "str", "出典", "情報源"),
    ),
    id_column="org_id",
)

TIES = Layer(
    "ties",
    "つながり",
    (
        _c("tie_id", "str", "つながりID", "id", required=True),
        _c("kind", "str", "つながりの種類", "種類", "type", required=True, choices=TIE_KINDS),
        _c("source_type", "str", "起点の種類", required=True, choices=NODE_TYPES),
        _c("source_id", "str", "起点ID", "from", required=True),
        _c("target_type", "str", "終点の種類", required=True, choices=NODE_TYPES),
        _c("target_id", "str", "終点ID", "to", required=True),
        _c("strength", "str", "強さ", "strength", choices=TIE_STRENGTHS),
        _c("started", "date", "開始日", "start", "開始"),
        _c("ended", "date", "終了日", "end", "終了"),
        _c("status", "str", "確認状態", choices=TIE_STATUSES),
        _c("origin", "str", "記録のもと", "origin"),
        _c("notes", "str", "備考", "description", "説明", "メモ"),
    ),
    id_column="tie_id",
)

COUNCILS = Layer(
    "councils",
    "協議体",
    (
        _c("council_id", "str", "協議体ID", "id", required=True),
        _c("name", "str", "協議体名", "名称", required=True),
        _c("tier", "str", "層", "第何層", "tier", required=True, choices=COUNCIL_TIERS),
        _c("area_id", "str", "区域ID", "担当区域"),
        _c("notes", "str", "備考", "メモ"),
    ),
    id_column="council_id",
)

COUNCIL_MEETINGS = Layer(
    "council_meetings",
    "協議体の開催",
    (
        _c("meeting_id", "str", "開催ID", "id", required=True),
        _c("council_id", "str", "協議体ID", required=True),
        _c("date", "date", "開催日", "日付", required=True),
        _c("attendees", "str", "参加団体ID", "参加団体", "出席団体"),
        _c("agenda", "str", "議題", "テーマ"),
        _c("notes", "str", "記録", "議事メモ", "メモ"),
    ),
    id_column="meeting_id",
)

#: 担い手 are kept as counts per organisation or area and activity, never as named people.
HELPERS = Layer(
    "helpers",
    "担い手(人数)",
    (
        _c("helper_id", "str", "記録ID", "id", required=True),
        _c("org_id", "str", "団体ID", "団体"),
        _c("area_id", "str", "区域ID", "区域"),
        _c("activity", "str", "できる活動", "活動", "種別", required=True),
        _c("trained", "int", "養成講座修了者数", "修了者数", "養成数"),
        _c("active", "int", "活動中の人数", "活動者数", "活動人数", required=True),
        _c("as_of", "date", "時点", "基準日", "集計日"),
        _c("notes", "str", "備考", "メモ"),
    ),
    id_column="helper_id",
)

#: Headers that name people: never imported into the network layers (organisations only).
PERSON_NAME_HEADERS = ("氏名", "代表者", "代表者名", "担当者", "担当者名", "会長", "会長名", "責任者",
                       "person", "contactperson", "フリガナ", "ふりがな", "生年月日")

LAYERS = {
    layer.name: layer
    for layer in (AREAS, POPULATION, TOWN_BLOCKS, RESOURCES, NEEDS, EDITS, CONFIRMATIONS, REVIEW_FLAGS,
                  NETWORK_NODES, NETWORK_EDGES, BASEMAP_LINES, VENUES, SITING_SCENARIOS, SITING_SITES, SITING_AREAS,
                  PUBLICATIONS, UNPLACED)
}
LAYERS.update({layer.name: layer for layer in (ORGANISATIONS, TIES, COUNCILS, COUNCIL_MEETINGS, HELPERS)})

# ---------------------------------------------------------------- the coordinator's year (plans, log, snapshots)

#: The functions of an activity (MHLW guideline's three, and the work around them).
ACTIVITY_FUNCTIONS = ("resource_development", "networking", "matching", "needs_assessment", "council", "other")
ACTIVITY_FUNCTION_LABELS = {"resource_development": "資源開発", "networking": "ネットワーク構築",
                            "matching": "マッチング", "needs_assessment": "ニーズ把握", "council": "協議体",
                            "other": "その他"}
#: Plan indicators: computed from the snapshots and the log, except ``manual`` (typed by the coordinator).
PLAN_INDICATORS = ("resources_created", "resources_total", "coverage_pct", "activities", "activity_hours",
                   "needs_matched", "council_meetings", "manual")
PLAN_INDICATOR_LABELS = {"resources_created": "新しく生まれた資源の数", "resources_total": "活動中の資源の数",
                         "coverage_pct": "カバー率(%)", "activities": "活動の回数", "activity_hours": "活動の時間",
                         "needs_matched": "つないだニーズの件数", "council_meetings": "協議体の開催回数",
                         "manual": "手入力"}

ACTIVITIES = Layer(
    "activities",
    "活動記録",
    (
        _c("activity_id", "str", "活動ID", "id", "番号", "no", required=True),
        _c("date", "date", "日付", "活動日", "実施日", "年月日", required=True),
        _c("hours", "float", "時間", "時間数", "活動時間", "所要時間"),
        _c("tier", "str", "層", "コーディネーターの層", "第何層", choices=COUNCIL_TIERS),
        _c("user", "str", "記録者", "担当SC", "コーディネーター", "sc"),
        _c("area_id", "str", "区域ID", "区域", "圏域", "地区"),
        _c("function", "str", "機能", "機能区分", "取組の区分", "区分", required=True, choices=ACTIVITY_FUNCTIONS),
        _c("type", "str", "活動の種類", "種類", "活動内容の種類", "活動種別", required=True),
        _c("counterparts", "str", "相手の団体", "相手先", "関係団体", "団体", "連携先"),
        _c("resource_ids", "str", "関係する資源", "資源ID", "資源"),
        _c("need_ids", "str", "関係するニーズ", "ニーズID"),
        _c("scenario_ids", "str", "資源開発シナリオ", "シナリオID"),
        _c("meeting_id", "str", "協議体の開催ID", "開催ID"),
        _c("participants", "int", "参加人数", "参加者数", "人数"),
        _c("outcome", "str", "成果", "結果", "内容", "概要"),
        _c("source", "str", "記録元", "出典"),
    ),
    id_column="activity_id",
)

PLANS = Layer(
    "plans",
    "年間事業計画",
    (
        _c("goal_id", "str", "目標ID", "id", "番号", "no", required=True),
        _c("fy", "int", "年度", "fiscal_year", required=True),
        _c("area_id", "str", "区域ID", "区域", "圏域"),
        _c("function", "str", "機能", "機能区分", "区分", required=True, choices=ACTIVITY_FUNCTIONS),
        _c("goal", "str", "目標", "目標の内容", "取組", required=True),
        _c("indicator", "str", "指標", "指標の種類", required=True, choices=PLAN_INDICATORS),
        _c("category", "str", "資源の種別", "種別"),
        _c("activity_type", "str", "活動の種類"),
        _c("minutes", "float", "徒歩(分)", "徒歩分"),
        _c("baseline", "float", "基準値", "現状値", "年度初め"),
        _c("target", "float", "目標値", "目標", required=True),
        _c("unit", "str", "単位"),
        _c("result_manual", "float", "実績(手入力)", "実績"),
        _c("achievements", "str", "成果", "取組の成果"),
        _c("issues", "str", "課題", "今後の課題"),
    ),
    id_column="goal_id",
)

#: One row per snapshot: what it describes (``month``, ``as_of``) and how it was made.
SNAPSHOTS = Layer(
    "snapshots",
    "月次スナップショット",
    (
        _c("snapshot_id", "str", "スナップショットID", required=True),
        _c("month", "str", "月", required=True),
        _c("as_of", "date", "基準日", required=True),
        _c("kind", "str", "種類", required=True, choices=("month_end", "on_demand")),
        _c("taken_at", "str", "作成日時", required=True),
        _c("taken_by", "str", "作成者"),
        _c("scgeo_version", "str", "scgeo のバージョン", required=True),
        _c("settings", "str", "設定(JSON)", required=True),
        _c("checksum", "str", "数値の検査値 (SHA-256)", required=True),
        _c("note", "str", "注意"),
    ),
    id_column="snapshot_id",
)

#: The figures of a snapshot in long form: ``table`` names the figure group (resources, coverage,
#: needs, activities …), ``area_id`` / ``key`` / ``key2`` its cell, ``value`` the number.
SNAPSHOT_FIGURES = Layer(
    "snapshot_figures",
    "スナップショットの数値",
    (
        _c("figure_id", "str", "番号", required=True),
        _c("snapshot_id", "str", "スナップショットID", required=True),
        _c("table", "str", "表", required=True),
        _c("level", "str", "区域の種類"),
        _c("area_id", "str", "区域ID"),
        _c("key", "str", "項目"),
        _c("key2", "str", "項目2"),
        _c("metric", "str", "指標", required=True),
        _c("value", "float", "値"),
    ),
    id_column="figure_id",
)

LAYERS.update({layer.name: layer for layer in (ACTIVITIES, PLANS, SNAPSHOTS, SNAPSHOT_FIGURES)})
__all__ += ["ACTIVITIES", "ACTIVITY_FUNCTIONS", "ACTIVITY_FUNCTION_LABELS", "PLANS", "PLAN_INDICATORS",
            "PLAN_INDICATOR_LABELS", "SNAPSHOTS", "SNAPSHOT_FIGURES"]

# Headers that would carry a person's identity: never imported into the needs layer.
PERSONAL_HEADERS = ("氏名", "名前", "name", "フリガナ", "ふりがな", "生年月日", "電話番号", "電話", "住所",
                    "address", "tel", "phone", "連絡先", "相談内容", "詳細")




def resolve_venue_kind(*texts: object) -> str:
    """The venue kind code told by a kind text or a name (the first that tells one), else ``other``.

    Codes or labels are accepted as they are; otherwise the words of ``_VENUE_KIND_WORDS`` are
    looked for inside the text (NFKC-folded).

    Examples
    --------
    >>> resolve_venue_kind("", "西部地区公民館"), resolve_venue_kind("福祉会館"), resolve_venue_kind("体育館")
    ('kominkan', 'fukushi_kaikan', 'other')
    """
    by_label = {normalise_header(v): k for k, v in VENUE_KIND_LABELS.items()}
    for text in texts:
        if not _present(text):
            continue
        key = normalise_header(text)
        if key in VENUE_KINDS:
            return key
        if key in by_label and by_label[key] != "other":
            return by_label[key]
        for code, words in _VENUE_KIND_WORDS:
            if any(normalise_header(w) in key for w in words):
                return code
    return "other"


# ---------------------------------------------------------------- taxonomy


@dataclass(frozen=True)
class Category:
    """A resource or need category."""

    code: str
    label: str
    mode: str = "place"
    color: str = "#666666"
    icon: str = "circle"
    aliases: tuple[str, ...] = ()
    serves_needs: tuple[str, ...] = ()
    confirm_months: int | None = None


@dataclass(frozen=True)
class Taxonomy:
    """Resource/need categories and provider types, with alias lookup."""

    categories: dict[str, Category]
    provider_types: dict[str, Category]
    _lookup: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for kind, entries in (("category", self.categories), ("provider", self.provider_types)):
            table: dict[str, str] = {}
            for code, entry in entries.items():
                for alias in (code, entry.label, *entry.aliases):
                    table.setdefault(normalise_header(alias), code)
            self._lookup[kind] = table

    def resolve_category(self, value: object) -> str | None:
        """The category code for a code, a label or an alias, or ``None`` if unknown."""
        return self._lookup["category"].get(normalise_header(value)) if _present(value) else None

    def resolve_provider(self, value: object) -> str | None:
        """The provider-type code for a code, a label or an alias, or ``None`` if unknown."""
        return self._lookup["provider"].get(normalise_header(value)) if _present(value) else None

    def label(self, code: str) -> str:
        """The Japanese label of a category or provider-type code (the code itself if unknown)."""
        entry = self.categories.get(code) or self.provider_types.get(code)
        return entry.label if entry else code

    def resource_categories_for_need(self, need_category: str) -> list[str]:
        """Resource categories that can answer a need of ``need_category``."""
        return [c.code for c in self.categories.values() if need_category in c.serves_needs]

    def area_served(self) -> list[str]:
        """Codes of categories whose resources come to people (``mode = "area"``)."""
        return [c.code for c in self.categories.values() if c.mode == "area"]


UNKNOWN_CATEGORY = "種別「{}」はカテゴリ一覧にありません"  # the reason of a row whose category is unknown


def unknown_categories(reasons: pd.Series) -> pd.Series:
    """The category texts that rejected rows for being unknown (``UNKNOWN_CATEGORY``), most frequent first."""
    pattern = re.escape(UNKNOWN_CATEGORY).replace(re.escape("{}"), "(.+?)")
    return reasons.astype(str).str.extract(pattern)[0].dropna().value_counts()


NUL = "\x00"
NUL_MARK = "\u2400"  # ␀: what the CSV reader puts where the file had a NUL byte


_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{3}")


def _entries(table: dict, base: dict[str, Category] | None = None) -> dict[str, Category]:
    out = dict(base or {})
    for code, spec in table.items():
        old = out.get(code)
        merged = {**(old.__dict__ if old else {}), **spec, "code": code}
        if old:  # a city adds aliases to a bundled category rather than replacing them
            merged["aliases"] = tuple(dict.fromkeys((*old.aliases, *spec.get("aliases", ()))))
        merged["aliases"] = tuple(merged.get("aliases", ()))
        merged["serves_needs"] = tuple(merged.get("serves_needs", (code,)))
        if "label" not in merged:
            raise InputError(f"カテゴリ {code} に label (日本語名) がありません")
        if not _HEX_COLOR.fullmatch(str(merged.get("color", "#666666"))):  # colours go into the maps' CSS
            raise InputError(f"カテゴリ {code} の color「{merged['color']}」は #RRGGBB の形で指定してください")
        months = merged.get("confirm_months")
        if months is not None and (not isinstance(months, int) or isinstance(months, bool) or months < 1):
            raise InputError(f"{code} の confirm_months (確認の間隔、月) は1以上の整数にしてください(値: {months})")
        out[code] = Category(**merged)
    return out


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """The bundled taxonomy, extended by a city's TOML file.

    Parameters
    ----------
    path
        A TOML file with ``[categories.CODE]`` and ``[provider_types.CODE]`` tables in the
        bundled layout; defaults to ``settings.taxonomy_file``.

    Examples
    --------
    >>> tax = load_taxonomy()
    >>> tax.resolve_category("サロン"), tax.label("meal_delivery")
    ('salon', '配食')
    """
    bundled = tomllib.loads(files("scgeo").joinpath("data/taxonomy.toml").read_text("utf-8"))
    categories = _entries(bundled["categories"])
    providers = _entries(bundled["provider_types"])
    path = path or get_settings().taxonomy_file
    if path:
        try:
            extra = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"カテゴリ定義ファイル {path} を読めません: {exc}") from exc
        categories = _entries(extra.get("categories", {}), categories)
        providers = _entries(extra.get("provider_types", {}), providers)
    return Taxonomy(categories, providers)


# ---------------------------------------------------------------- results and validation


@dataclass
class ImportResult:
    """What an importer accepted and rejected.

    Unpacks as ``accepted, rejected = result``. ``rejected`` keeps every original column plus
    ``source_row`` (1-based row in the source) and ``reason`` (Japanese). ``messages`` are
    notes about rows that were accepted after a repair (swapped coordinates, repaired polygons).
    ``details`` holds what a reader found beyond the rows (the facility-type table of
    :func:`scgeo.io.read_facility_list`, …).
    ``unplaced`` (point layers imported with a geocoder) holds the valid rows whose address was
    found only at municipality level or not at all, in the layout of :data:`UNPLACED`: they are
    neither accepted (no fake point) nor rejected (nothing is wrong with them).
    """

    accepted: pd.DataFrame
    rejected: pd.DataFrame
    messages: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    unplaced: pd.DataFrame | None = None

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.accepted
        yield self.rejected

    def summary(self) -> str:
        """A one-line Japanese summary: accepted, unplaced (位置未確定) and rejected counts."""
        pending = f"、位置未確定 {len(self.unplaced)} 件" if self.unplaced is not None and len(self.unplaced) else ""
        return f"取込 {len(self.accepted)} 件{pending}、除外 {len(self.rejected)} 件"


def _present(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


_INT = re.compile(r"^(-?\d+)(?:\.0+)?\s*(?:人|名|食|件|円|組|台)?$")
_ERA = re.compile(r"^(令和|平成|昭和|R|H|S)\s*(\d+|元)[年.\-/](\d+)[月.\-/](\d+)日?$", re.I)
_ERA_START = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988, "昭和": 1925, "s": 1925}


def _parse_int(value: object) -> int | None:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    m = _INT.match(str(normalise_cell(value)).replace(",", ""))
    return int(m.group(1)) if m else None


def _parse_date(value: object) -> pd.Timestamp | None:
    if isinstance(value, pd.Timestamp):
        return value.normalize()
    text = str(normalise_cell(value))
    m = _ERA.match(text)
    if m:
        era, year, month, day = m.groups()
        year = 1 if year == "元" else int(year)
        text = f"{_ERA_START[era.lower()] + year}-{int(month):02d}-{int(day):02d}"
    text = re.sub(r"[年月]", "-", text).rstrip("日")
    try:
        stamp = pd.Timestamp(text.replace("/", "-").replace(".", "-"))
    except (ValueError, TypeError):
        return None
    return None if pd.isna(stamp) else stamp.normalize()


def parse_date(value: object) -> pd.Timestamp | None:
    """A date as people type it (``2025-04-01``, ``2025/4/1``, ``令和7年4月1日``, ``R7.4.1``), or None."""
    return _parse_date(value) if _present(value) else None


def _parse_days(value: object) -> str | None:
    found = [d for d in WEEKDAYS if d in str(value)]
    return ",".join(found) or None


def _status(value: object, choices: tuple[str, ...]) -> str | None:
    key = normalise_header(value)
    for code in choices:
        if key in {normalise_header(a) for a in _STATUS_ALIASES.get(code, (code,))}:
            return code
    return None


def coded(values: dict, layer: Layer, taxonomy: Taxonomy | None = None) -> dict:
    """``values`` (column → value) with labels of 種別, 提供主体 and 状態 read as the codes stored.

    The same reading as :func:`validate`'s; a value that is no label is kept as it is (validation
    then says what is wrong with it).

    Examples
    --------
    >>> coded({"category": "サロン", "status": "休止中", "name": "x"}, RESOURCES)
    {'category': 'salon', 'status': 'paused', 'name': 'x'}
    """
    taxonomy = taxonomy or load_taxonomy()
    readers = {"category": taxonomy.resolve_category, "provider_type": taxonomy.resolve_provider}
    if "status" in layer.names:
        readers["status"] = lambda v: _status(v, layer.column("status").choices)
    return {k: (readers[k](v) or v) if k in readers and _present(v) else v for k, v in values.items()}


_PY_DTYPES = {"str": "str", "int": "Int64", "float": "float64", "date": "datetime64[ms]"}


def coerce(df: pd.DataFrame, layer: Layer) -> pd.DataFrame:
    """Return ``df`` with exactly the layer's columns (missing optional ones added) and dtypes.

    Values must already be valid (this is the last step of :func:`validate` and of reading a
    workspace layer); geometry, when the layer has one, is kept as the last column.
    """
    out = pd.DataFrame(index=df.index)
    for col in layer.columns:
        values = df[col.name] if col.name in df else pd.Series(None, index=df.index, dtype=object)
        if col.dtype == "date":
            values = pd.to_datetime(values).dt.normalize()
        elif col.dtype == "int":
            values = pd.to_numeric(values).round()
        elif col.dtype == "str":
            values = values.astype(object).where(values.notna(), None)
        out[col.name] = values.astype(_PY_DTYPES[col.dtype])
    if layer.geometry:
        geometry = df.geometry if isinstance(df, gpd.GeoDataFrame) else df["geometry"]
        return gpd.GeoDataFrame(out, geometry=geometry.values, crs=getattr(df, "crs", None))
    return out


def empty_frame(layer: Layer, crs: str | None = None) -> pd.DataFrame:
    """An empty frame with the layer's columns and dtypes."""
    frame = pd.DataFrame({c.name: pd.Series(dtype=_PY_DTYPES[c.dtype]) for c in layer.columns})
    if layer.geometry:
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    return frame


def validate(
    df: pd.DataFrame,
    layer: Layer | str,
    *,
    taxonomy: Taxonomy | None = None,
    existing_ids: set[str] | None = None,
) -> ImportResult:
    """Check rows against a layer's schema.

    Parameters
    ----------
    df
        Rows whose columns already carry schema names (an importer's column mapping has run).
        A ``source_row`` column, when present, numbers the rows in their source file.
    layer
        A :class:`Layer` or its name.
    taxonomy
        Categories and provider types (default: :func:`load_taxonomy`).
    existing_ids
        Ids already in the workspace: rows reusing one are rejected.

    Returns
    -------
    ImportResult
        ``accepted``: valid rows coerced to the schema (text normalised, categories and statuses
        as codes, dates parsed); ``rejected``: the original rows with ``source_row`` and a
        Japanese ``reason``.

    Raises
    ------
    InputError
        When a required column is missing altogether.
    """
    layer = LAYERS[layer] if isinstance(layer, str) else layer
    taxonomy = taxonomy or load_taxonomy()
    missing = [c for c in layer.columns if c.required and c.name not in df.columns]
    if missing:
        wanted = "、".join(f"「{c.label}」({c.name})" for c in missing)
        raise InputError(f"{layer.label}に必須の列 {wanted} がありません。"
                         "列名を確認するか、列の対応を指定してください。")

    original = df.copy()
    if "source_row" not in original:
        original["source_row"] = np.arange(1, len(df) + 1)
    work = df.copy()
    reasons: list[list[str]] = [[] for _ in range(len(df))]

    def flag(mask: pd.Series, message: pd.Series | str) -> None:
        texts = message if isinstance(message, pd.Series) else pd.Series(message, index=df.index)
        for pos in np.flatnonzero(mask.to_numpy(dtype=bool)):
            reasons[pos].append(texts.iloc[pos])

    for name in df.columns:  # a NUL byte cuts a text short in most programs: the row is refused
        if name != "geometry" and df[name].dtype in (object, "str", "string"):
            nul = df[name].map(lambda v: isinstance(v, str) and (NUL in v or NUL_MARK in v)).astype(bool)
            label = layer.column(name).label if name in layer.names else str(name)
            flag(nul, f"「{label}」に NUL 文字(0x00)が含まれています。ファイルが壊れていないか確かめてください")
    if "status" in layer.names and "status" not in work:
        work["status"] = None  # statuses default to their first choice (active / open)
    for col in layer.columns:
        if col.name not in work:
            continue
        values = normalise_series(work[col.name])
        present = values.map(_present).astype(bool)
        if col.required:
            flag(~present, f"必須項目「{col.label}」が空です")
        if col.dtype == "int":
            parsed = values.map(lambda v: _parse_int(v) if _present(v) else None)
            flag(present & parsed.isna(),
                 values.map(lambda v, c=col: f"「{c.label}」は整数で入力してください(値: {v})"))
            values = parsed
        elif col.dtype == "float":
            parsed = pd.to_numeric(values, errors="coerce")
            flag(present & parsed.isna(), f"「{col.label}」は数値で入力してください")
            values = parsed
        elif col.dtype == "date":
            parsed = values.map(lambda v: _parse_date(v) if _present(v) else None)
            flag(present & parsed.isna(), values.map(lambda v, c=col: f"「{c.label}」は日付として読めません(値: {v})"))
            values = parsed
        if col.name == "category":
            codes = values.map(lambda v: taxonomy.resolve_category(v) if _present(v) else None)
            flag(present & codes.isna(), values.map(lambda v: UNKNOWN_CATEGORY.format(v)))
            values = codes
        elif col.name == "provider_type":
            codes = values.map(lambda v: taxonomy.resolve_provider(v) if _present(v) else None)
            flag(present & codes.isna(), values.map(lambda v: f"提供主体「{v}」は一覧にありません"))
            values = codes
        elif col.name == "kind" and layer.name == "venues":
            values = values.map(lambda v: resolve_venue_kind(v) if _present(v) else None)
        elif col.name in ("days_of_week", "wanted_days"):
            values = values.map(lambda v: _parse_days(v) if _present(v) else None)
        elif col.name == "status":
            codes = values.map(lambda v, c=col: _status(v, c.choices) if _present(v) else c.choices[0])
            flag(present & codes.isna(), values.map(lambda v: f"状態「{v}」は使えません"))
            values = codes
        elif col.choices:
            flag(present & ~values.isin(col.choices),
                 f"「{col.label}」は {', '.join(col.choices)} のいずれかにしてください")
        work[col.name] = values

    if layer.id_column and layer.id_column in work:
        ids = work[layer.id_column].astype(object)
        rows = original["source_row"].to_numpy()
        repeated = ids.duplicated() & ids.map(_present).astype(bool)
        first = dict(zip(ids[~repeated].iloc[::-1], rows[~repeated.to_numpy()][::-1], strict=True))
        for pos in np.flatnonzero(repeated.to_numpy()):
            reasons[pos].append(f"IDが重複しています({first[ids.iloc[pos]]}行目と同じ ID {ids.iloc[pos]})")
        if existing_ids:
            flag(ids.isin(existing_ids), ids.map(lambda v: f"ID {v} は既にワークスペースに登録されています"))

    if layer.geometry:
        geoms = gpd.GeoSeries(work.geometry if "geometry" in work else None, index=df.index)
        empty = geoms.isna() | geoms.is_empty
        flag(empty, "座標(位置)がありません")
        if layer.geometry == "Point":
            xmin, ymin, xmax, ymax = get_settings().japan_bbox
            x = geoms.x.where(~empty)
            y = geoms.y.where(~empty)
            outside = ~empty & ~(x.between(xmin, xmax) & y.between(ymin, ymax))
            flag(outside, pd.Series([f"日本の範囲外の座標です(緯度 {b:.5f}, 経度 {a:.5f})"
                                     for a, b in zip(x, y, strict=True)], index=df.index))
        elif layer.geometry == "MultiPolygon":
            polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"])
            flag(~empty & ~polygonal, "区域の形が面(ポリゴン)ではありません")

    bad = np.array([bool(r) for r in reasons], dtype=bool)
    rejected = pd.DataFrame(original[bad]).copy()
    if "geometry" in rejected:
        rejected["geometry"] = rejected["geometry"].map(lambda g: None if g is None else g.wkt)
        rejected = pd.DataFrame(rejected)
    rejected["reason"] = pd.Series(["; ".join(r) for r, b in zip(reasons, bad, strict=True) if b],
                                   index=rejected.index, dtype="str")
    accepted = coerce(work[~bad], layer)
    if layer.geometry == "MultiPolygon" and len(accepted):
        accepted = accepted.set_geometry(_to_multi(accepted.geometry))
    return ImportResult(accepted, rejected.reset_index(drop=True))


def _to_multi(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    from shapely.geometry import MultiPolygon

    return geoms.map(lambda g: MultiPolygon([g]) if g.geom_type == "Polygon" else g)

# ---------------------------------------------------------------- users and roles (scgeo.users)

#: The roles, each with everything of the ones before it: 閲覧 public map and aggregates only,
#: 編集 resources, venues, activities, organisations, 内部 also the needs and internal outputs,
#: 管理 also users and settings.
USER_ROLES = {"viewer": "閲覧", "editor": "編集", "internal": "内部", "admin": "管理"}
USER_STATUSES = ("active", "disabled")

USERS = Layer(
    "users",
    "利用者",
    (
        _c("login", "str", "ログイン名", required=True),
        _c("display_name", "str", "表示名"),
        _c("role", "str", "役割", required=True, choices=tuple(USER_ROLES)),
        _c("status", "str", "状態", required=True, choices=USER_STATUSES),
        _c("password_hash", "str", "パスワードのハッシュ (argon2id)", required=True),
        _c("created_at", "str", "登録日時"),
        _c("password_set_at", "str", "パスワードの設定日時"),
        _c("area_id", "str", "担当区域 (日常生活圏域・中学校区の区域ID。編集はこの区域の中だけ)"),
    ),
    id_column="login",
)
LAYERS[USERS.name] = USERS
__all__ += ["USERS", "USER_ROLES", "USER_STATUSES"]
