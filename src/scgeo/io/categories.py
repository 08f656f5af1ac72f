"""Which resource category a facility of a city's own list is: ordered rules a coordinator can check.

Cities classify their facilities in their own words, in several columns (区分, 種別, 分類,
サービス種類, 備考 …) and sometimes several types in one cell (「通所介護、短期入所生活介護」).
:func:`categorise_frame` reads every such column, splits the cells, and gives each row the
category of its most specific type: rules are ordered (``data/facility_categories.toml``,
specific before generic) so that 放課後等デイサービス is a children's service — outside the
taxonomy — before 「デイサービス」 could make it 介護. Types outside the taxonomy (schools,
nurseries, children's and disability services) are *excluded* with the reason
:data:`EXCLUDED_REASON`, and counted.

The texts met and the category each got are written by the build into a review file
(``<workspace>.categories.toml``, :func:`write_review`); a coordinator edits it and the next
build reads it back (:func:`read_review`): an edited text wins over every rule.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"名称": ["ひまわり", "さくら", "みどり保育園"],
...                       "種別": ["放課後等デイサービス", "通所介護、短期入所生活介護", None]})
>>> guess = categorise_frame(frame, name_column="名称")
>>> guess.category.tolist(), guess.excluded.tolist()
([None, 'care_service', None], [True, False, True])
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo._text import normalise_header
from scgeo._toml import toml_value

__all__ = ["EXCLUDED", "EXCLUDED_REASON", "CategoryGuess", "categorise_frame", "load_rules",
           "read_review", "review_path", "status_from_names", "type_columns", "write_review"]

EXCLUDED = "excluded"
EXCLUDED_REASON = "高齢者の生活支援の対象外の種別"
_EXCLUDED_WORDS = ("対象外", "excluded")
_TYPE_WORDS = ("区分", "種別", "分類", "種類", "サービス", "備考", "業種", "業態", "事業内容", "施設の種類",
               "type", "kind", "service", "category", "note", "remarks")
_NOT_TYPE = ("名", "name", "住所", "所在", "address", "電話", "tel", "fax", "url", "緯度", "経度", "時間",
             "曜日", "定員", "id", "番号", "コード", "code", "日", "date", "time")
_SPLIT = re.compile(r"[、,，/／;；]|\s{2,}")
_STATUS_WORDS = (("paused", ("休止",)), ("closed", ("廃止", "閉鎖", "閉所", "対象外")))


@dataclass
class CategoryGuess:
    """Per row: ``category`` code (``None`` when excluded or unknown), ``excluded`` (bool),
    ``texts`` (the type text that decided, or all the row's type texts when none did),
    ``rules`` (the rule or review entry that decided); ``type_columns`` read, and
    ``table``: every distinct type text with its category and count (for the review file).
    """

    category: pd.Series
    excluded: pd.Series
    texts: pd.Series
    rules: pd.Series
    type_columns: list[str]
    table: pd.DataFrame


def load_rules(config: str | Path | None = None) -> list[dict]:
    """The ordered rules: ``[{"match": [...], "category": code | "excluded"}]``.

    From ``config`` (a city's copy of ``data/facility_categories.toml``) or the bundled file.
    """
    try:
        text = (Path(config).read_text(encoding="utf-8") if config else
                files("scgeo").joinpath("data/facility_categories.toml").read_text("utf-8"))
        rules = tomllib.loads(text).get("rules", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"分類対応ファイル {config} を読めません: {exc}") from exc
    for rule in rules:
        if not rule.get("match") or "category" not in rule:
            raise InputError(f"分類対応ファイル {config} の [[rules]] には match と category が必要です: {rule}")
    return rules


def type_columns(headers: list[str], *, name_column: str | None = None) -> list[str]:
    """The headers that hold facility types (区分, 種別, 分類, サービス種類, 備考 …)."""
    out = []
    for header in headers:
        key = normalise_header(header)
        if header == name_column or not any(w.lower() in key for w in _TYPE_WORDS):
            continue
        if any(w.lower() in key for w in _NOT_TYPE) and not any(
                w in key for w in ("区分", "種別", "分類", "種類", "備考")):
            continue
        out.append(str(header))
    return out


def _fold(text: object) -> str:
    """NFKC, line breaks inside a cell removed (a word wrapped in Excel is one word)."""
    return re.sub(r"\s*[\r\n]+\s*", "", unicodedata.normalize("NFKC", str(text))).strip()


def _items(values: pd.Series) -> pd.Series:
    """Each cell split into its type texts (a list per row)."""
    def split(value: object) -> list[str]:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return []
        return [t for t in (_fold(p) for p in _SPLIT.split(str(value))) if t]
    return values.map(split)


def categorise_frame(frame: pd.DataFrame, *, name_column: str,
                     columns: list[str] | None = None, rules: list[dict] | None = None,
                     review: Mapping[str, str | None] | None = None,
                     taxonomy: object = None) -> CategoryGuess:
    """Categorise every row of a facility list by its type columns (else its name).

    Parameters
    ----------
    frame
        The list as read (text cells).
    name_column
        The header of the names: used when a row has no type text any rule knows.
    columns
        Type columns to read; by default :func:`type_columns` of the headers.
    rules
        Ordered rules (:func:`load_rules`); earlier rules are more specific and win.
    review
        ``{type text: category code | label | "対象外" | ""}`` from the review file: an entry
        wins over every rule ("" = no decision: the rules and the row's other types decide).
    taxonomy
        To resolve labels in ``review`` (default: :func:`scgeo.load_taxonomy`).
    """
    from scgeo.schema import load_taxonomy

    rules = load_rules() if rules is None else rules
    columns = type_columns(list(frame.columns), name_column=name_column) if columns is None else columns
    tax = taxonomy or load_taxonomy()
    decided = _review_codes(review or {}, tax)
    patterns = [(i, rule["category"], [_fold(m) for m in rule["match"]]) for i, rule in enumerate(rules)]
    cache: dict[str, tuple[float, str | None, str]] = {}

    def decide(text: str) -> tuple[float, str | None, str]:
        if text not in cache:
            hit = next(((i, cat, m) for i, cat, words in patterns for m in words if m in text), None)
            by_rule = (float(hit[0]), hit[1], f"規則「{hit[2]}」") if hit else (np.inf, None, "")
            key = normalise_header(text)
            # an entry of the review file that says what the rules say changes nothing; one the
            # coordinator changed wins over every rule
            changed = key in decided and decided[key] != by_rule[1]
            cache[text] = (-1.0, decided[key], "対応表で指定") if changed else by_rule
        return cache[text]

    typed = pd.Series([[] for _ in range(len(frame))], index=frame.index, dtype=object)
    for column in columns:
        typed = typed + _items(frame[column].astype(object))
    names = frame[name_column].astype(object).map(lambda v: _fold(v) if isinstance(v, str) else "")
    category, excluded, texts, used = [], [], [], []
    for items, name in zip(typed, names, strict=True):
        candidates = [*items, name] if name else items  # the name too: 「…地域包括支援センター」
        best = min(((*decide(t), t) for t in candidates), key=lambda b: b[0],
                   default=(np.inf, None, "", ""))
        rank, code, rule, text = best
        known = np.isfinite(rank)
        excluded.append(known and code == EXCLUDED)
        category.append(code if known and code not in (EXCLUDED, None) else None)
        texts.append(text if known else "、".join(items) or name)
        used.append(rule)
    index = frame.index
    guess = CategoryGuess(pd.Series(category, index=index, dtype=object),
                          pd.Series(excluded, index=index, dtype=bool),
                          pd.Series(texts, index=index, dtype=object),
                          pd.Series(used, index=index, dtype=object), columns, pd.DataFrame())
    guess.table = _table(typed, names, decide)
    return guess


def _review_codes(review: Mapping[str, str | None], tax) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for text, value in review.items():
        value = "" if value is None else str(value).strip()
        if value == "":
            continue  # no decision: the rules (and the row's other types) decide
        if value in _EXCLUDED_WORDS:
            code = EXCLUDED
        else:
            code = tax.resolve_category(value)
            if code is None:
                raise InputError(f"種別の対応表の「{text}」= 「{value}」はカテゴリ一覧にありません。"
                                 f"使えるカテゴリ: {', '.join(tax.categories)}、または \"対象外\"、\"\"")
        out[normalise_header(text)] = code
    return out


def _table(typed: pd.Series, names: pd.Series, decide) -> pd.DataFrame:
    rows: dict[str, list] = {}
    for items, name in zip(typed, names, strict=True):
        for text in items or ([name] if name else []):
            rank, code, rule = decide(text)
            entry = rows.setdefault(text, [code if np.isfinite(rank) else None, rule, 0])
            entry[2] += 1
    return pd.DataFrame([(t, c, r, n) for t, (c, r, n) in rows.items()],
                        columns=["text", "category", "rule", "count"])


def status_from_names(names: pd.Series) -> pd.Series:
    """Status told by words in names (「(※休止)…」 → ``paused``; 廃止/閉鎖/対象外 → ``closed``)."""
    out = pd.Series(None, index=names.index, dtype=object)
    text = names.fillna("").astype(str).map(_fold)
    for code, words in _STATUS_WORDS:
        out[out.isna() & text.str.contains("|".join(words))] = code
    return out


# ---------------------------------------------------------------- the review file


def review_path(workspace: str | Path) -> Path:
    """``<workspace>.categories.toml`` beside the workspace (``izumo.gpkg`` → ``izumo.categories.toml``)."""
    workspace = Path(workspace)
    return workspace.with_name(f"{workspace.stem}.categories.toml")


def read_review(path: str | Path) -> dict[str, str]:
    """``{type text: value}`` from a review file (empty when the file does not exist)."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"種別の対応表 {path} を読めません: {exc}") from exc
    table = data.get("categories", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise InputError(f"種別の対応表 {path} の [categories] は \"種別\" = \"カテゴリ\" の形にしてください。")
    return dict(table)


def write_review(path: str | Path, table: pd.DataFrame, *, taxonomy: object = None) -> Path:
    """Write the review file: every distinct type text, its category and how many rows had it.

    ``table`` has ``text``, ``category`` (code, ``excluded`` or ``None``), ``rule`` and
    ``count`` (rows of every input summed). Written atomically (a temporary file replaced).
    """
    from scgeo.schema import load_taxonomy

    tax = taxonomy or load_taxonomy()
    path = Path(path)
    merged = (table.groupby("text", sort=False)
              .agg(category=("category", "first"), rule=("rule", "first"), count=("count", "sum"))
              .reset_index().sort_values(["count", "text"], ascending=[False, True]))
    lines = ["# 種別の対応表: scgeo build が一覧の種別(区分・種別・分類・サービス種類・備考)ごとに",
             "# 付けたカテゴリと件数です。右辺を直して保存すると、次の build でその種別はこの対応になります",
             "# (規則より優先)。右辺: カテゴリのコードか日本語名、\"対象外\"(高齢者の生活支援の対象外)、",
             "# \"\"(決めない: 規則と同じ行のほかの種別で決まり、決まらなければ除外)。使えるカテゴリ: "
             + "、".join(f"{c} {tax.label(c)}" for c in tax.categories),
             "", "[categories]"]
    for row in merged.itertuples(index=False):
        if row.category == EXCLUDED:
            value, what = "対象外", EXCLUDED_REASON
        elif isinstance(row.category, str) and row.category:
            value, what = str(row.category), tax.label(str(row.category))
        else:
            value, what = "", "分類できない(除外)"
        how = f"、{row.rule}" if row.rule else ""
        lines.append(f"# {int(row.count)} 件 — {what}{how}")
        lines.append(f"{toml_value(str(row.text))} = {toml_value(value)}")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
