"""The edit history and timestamps for people: Japanese words for actions and layers, JST times.

The workspace stores codes (``import:append``, ``resources``, ``salon``) and ISO timestamps with
their UTC offset; people read 「取込(追加)」「社会資源」「居場所・サロン」 and Japan time.

Examples
--------
>>> to_jst("2026-12-01T08:03:00+00:00")
'2026-12-01 17:03'
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from scgeo.schema import (
    EDITS,
    LAYERS,
    NEED_STATUS_LABELS,
    RESOURCE_STATUS_LABELS,
    Taxonomy,
    load_taxonomy,
)

__all__ = ["ACTION_LABELS", "JST", "LAYER_LABELS", "describe_edit", "labelled_edits", "to_jst"]

JST = dt.timezone(dt.timedelta(hours=9), "JST")  # Japan keeps no summer time
ACTION_LABELS = {
    "import:append": "取込(追加)", "import:replace": "取込(置き換え)", "import:refresh": "取込(一覧の再取込)",
    "import": "取込", "insert": "追加", "update": "変更", "delete": "削除", "restore": "バックアップから復元",
    "build": "作成", "confirm": "確認", "flag": "要確認", "place": "位置を配置", "publish": "ニーズの集計を公開",
    "migrate": "移行", "user:add": "利用者の追加", "user:disable": "利用者を無効に", "user:enable": "利用者を有効に",
    "user:reset": "パスワードの再設定", "user:rehash": "パスワードのハッシュを更新",
}
# Every layer by its schema label; the names the history uses besides the layers
LAYER_LABELS = {name: layer.label for name, layer in LAYERS.items()} | {
    "areas": "区域", "town_blocks": "町丁目", "population": "町丁目別人口", "resources": "社会資源",
    "needs": "ニーズ", "network": "歩行ネットワーク", "workspace": "ワークスペース",
}


def to_jst(value: object, *, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO timestamp (with or without offset; none means UTC) as Japan time text; "" for none."""
    if value is None or (not isinstance(value, str | dt.datetime) and pd.isna(value)):
        return ""
    try:
        stamp = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(JST).strftime(fmt)


def describe_edit(row: dict) -> str:
    """One history row (or a backup's ``last_*`` fields) in a line: 「12-01 17:03 山田 社会資源 変更」."""
    def get(key: str) -> str:
        value = row.get(key, row.get(f"last_{key}"))
        return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)

    if not get("action"):
        return "なし"
    parts = [to_jst(get("at")), get("user"), LAYER_LABELS.get(get("layer"), get("layer")),
             ACTION_LABELS.get(get("action"), get("action")), get("note")]
    return " ".join(p for p in parts if p)


def _field_label(layer: str, field: object) -> str:
    from scgeo.workspace import STORED_LAYERS

    if not isinstance(field, str) or not field:
        return ""
    try:
        return STORED_LAYERS[layer].column(field).label
    except KeyError:
        return {"geometry": "位置"}.get(field, field)


def labelled_edits(edits: pd.DataFrame, *, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """The history as people read it: JST times, Japanese actions, layers, fields and values.

    Codes in ``old_value`` / ``new_value`` (categories, provider types, statuses) become their
    labels; empty cells stay empty (never "None"). Headers are the schema's Japanese labels.
    """
    taxonomy = taxonomy or load_taxonomy()
    statuses = {**RESOURCE_STATUS_LABELS, **NEED_STATUS_LABELS}
    out = pd.DataFrame(edits).copy()
    layers = out["layer"].astype(str)

    def value(field: object, text: object) -> str:
        if text is None or (not isinstance(text, str) and pd.isna(text)):
            return ""
        if field in ("category", "provider_type"):
            return taxonomy.label(str(text))
        if field == "status":
            return statuses.get(str(text), str(text))
        return str(text)

    out["field"] = [_field_label(layer, f) for layer, f in zip(layers, out["field"], strict=True)]
    for column in ("old_value", "new_value"):
        out[column] = [value(f, v) for f, v in zip(edits["field"], edits[column], strict=True)]
    out["at"] = out["at"].map(to_jst)
    out["action"] = out["action"].map(lambda a: ACTION_LABELS.get(str(a), str(a)))
    out["layer"] = layers.map(lambda v: LAYER_LABELS.get(v, v))
    out = out.astype(object).where(out.notna(), "")
    return out.rename(columns={c.name: c.label for c in EDITS.columns} | {"at": "日時(日本時間)"})
