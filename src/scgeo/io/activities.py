"""Importing the coordinator's year: the activity log and the annual plan, from CSV or Excel.

Coordinators keep their log in Excel, one row per activity: date, hours, what kind of work, with
whom, and what came of it. Headers are recognised in Japanese or English (``schema.ACTIVITIES``
aliases), Japanese words for functions, types and tiers (「資源開発」「立ち上げ支援」「第2層」)
become codes, and the counterparts are matched to the organisations of the network (by id or by
name). Columns that would name a resident or any person (氏名, 利用者名, 相談者 …) are never read:
the log holds work, not people.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo._text import normalise_cell, normalise_header
from scgeo.io._mapping import personal_headers, read_columns
from scgeo.io.organisations import person_name_headers
from scgeo.schema import (
    ACTIVITIES,
    ACTIVITY_FUNCTION_LABELS,
    PLAN_INDICATOR_LABELS,
    PLANS,
    ImportResult,
    Layer,
    validate,
)
from scgeo.settings import get_settings

__all__ = [
    "ActivityType",
    "id_list",
    "load_activity_types",
    "read_activities",
    "read_plans",
    "resident_headers",
    "resolve_function",
]

#: Headers in an activity log that name residents or other people: never read.
_RESIDENT_WORDS = ("氏名", "名前", "利用者", "相談者", "対象者名", "住民名", "本人", "家族", "フリガナ", "ふりがな",
                   "生年月日", "住所", "電話", "連絡先", "担当者", "代表者")
_SPLIT = re.compile(r"[;；、,，/／\s]+")


@dataclass(frozen=True)
class ActivityType:
    """A type of activity (個別訪問, 立ち上げ支援 …) with its label, usual function and aliases."""

    code: str
    label: str
    function: str = "other"
    aliases: tuple[str, ...] = ()


def load_activity_types(path: str | Path | None = None) -> dict[str, ActivityType]:
    """The bundled activity types, extended by ``[activity_types.CODE]`` tables of a city's file.

    Parameters
    ----------
    path
        A TOML file (default: ``settings.taxonomy_file``, the file that extends the categories).

    Examples
    --------
    >>> types = load_activity_types()
    >>> types["startup_support"].label, types["startup_support"].function
    ('立ち上げ支援', 'resource_development')
    """
    tables = [tomllib.loads(files("scgeo").joinpath("data/activity_types.toml").read_text("utf-8"))]
    path = path or get_settings().taxonomy_file
    if path:
        try:
            tables.append(tomllib.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"定義ファイル {path} を読めません: {exc}") from exc
    types: dict[str, ActivityType] = {}
    for table in tables:
        for code, spec in table.get("activity_types", {}).items():
            old = types.get(code)
            if old is None and "label" not in spec:
                raise InputError(f"活動の種類 {code} に label (日本語名) がありません")
            function = spec.get("function", old.function if old else "other")
            if function not in ACTIVITY_FUNCTION_LABELS:
                raise InputError(f"活動の種類 {code} の function「{function}」は使えません"
                                 f"(使える値: {', '.join(ACTIVITY_FUNCTION_LABELS)})")
            aliases = tuple(dict.fromkeys((*(old.aliases if old else ()), *spec.get("aliases", ()))))
            types[code] = ActivityType(code, spec.get("label", old.label if old else code), function, aliases)
    return types


def _lookup(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for word, code in pairs:
        table.setdefault(normalise_header(word), code)
    return table


_FUNCTIONS = _lookup([*((c, c) for c in ACTIVITY_FUNCTION_LABELS),
                      *((v, k) for k, v in ACTIVITY_FUNCTION_LABELS.items()),
                      ("A", "resource_development"), ("B", "networking"), ("C", "matching"),
                      ("資源開発(創出)", "resource_development"), ("担い手養成", "resource_development"),
                      ("ネットワーク", "networking"), ("連携", "networking"), ("ニーズと取組のマッチング", "matching"),
                      ("ニーズの把握", "needs_assessment"), ("実態把握", "needs_assessment")])
_TIERS = _lookup([("第1層", "1"), ("第2層", "2"), ("1層", "1"), ("2層", "2"), ("1", "1"), ("2", "2")])
_INDICATORS = _lookup([*((c, c) for c in PLAN_INDICATOR_LABELS), *((v, k) for k, v in PLAN_INDICATOR_LABELS.items()),
                       ("カバー率", "coverage_pct"), ("創出数", "resources_created"), ("開催回数", "activities"),
                       ("回数", "activities"), ("時間", "activity_hours"), ("マッチング件数", "needs_matched"),
                       ("資源数", "resources_total")])


def resolve_function(value: object) -> str | None:
    """The function code for a code or a Japanese word (``資源開発`` → ``resource_development``)."""
    return _FUNCTIONS.get(normalise_header(value)) if isinstance(value, str) and value.strip() else None


def resident_headers(headers: Iterable[object]) -> list[str]:
    """Headers of an activity log that would name a person: never read into the workspace."""
    headers = [str(h) for h in headers]
    found = set(person_name_headers(headers)) | set(personal_headers(headers))
    found |= {h for h in headers if any(w in normalise_header(h) for w in map(normalise_header, _RESIDENT_WORDS))}
    return [h for h in headers if h in found]


def id_list(value: object) -> list[str]:
    """The ids of a list cell (``G001;G017``, ``G001、G017`` …), in order, without repeats."""
    text = None if value is None or (not isinstance(value, str) and pd.isna(value)) else normalise_cell(value)
    if text is None or not str(text).strip():
        return []
    return list(dict.fromkeys(x for x in _SPLIT.split(str(text)) if x))


def _read(path: str | Path | pd.DataFrame, spec: Layer, *, mapping, sheet,
          encoding) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    table, frame, messages = read_columns(
        path, spec, mapping=mapping, sheet=sheet, encoding=encoding, people=resident_headers, keep=("記録者", "担当SC"),
        people_message="人の名前や連絡先にあたる列 {columns} は取り込みませんでした"
                       "(活動記録には住民・個人の名前を残しません)。")
    return table, frame.reset_index(drop=True), messages


def _next_ids(prefix: str, existing: Iterable[str], n: int) -> list[str]:
    numbers = [int(m.group(1)) for x in existing if (m := re.fullmatch(rf"{prefix}(\d+)", str(x)))]
    start = max(numbers, default=0) + 1
    return [f"{prefix}{i:05d}" for i in range(start, start + n)]


def _finish(table: pd.DataFrame, frame: pd.DataFrame, problems: dict[int, list[str]], spec: Layer,
            existing_ids: set[str] | None, messages: list[str]) -> ImportResult:
    bad = np.array([bool(problems.get(i)) for i in range(len(frame))], dtype=bool)
    result = validate(frame[~bad].reset_index(drop=True), spec, existing_ids=existing_ids)
    rejected = result.rejected
    if bad.any():
        unknown = table.loc[frame.loc[bad, "source_row"]].reset_index()
        unknown["reason"] = ["; ".join(problems[i]) for i in np.flatnonzero(bad)]
        rejected = pd.concat([rejected, unknown], ignore_index=True).sort_values("source_row", kind="stable")
    return ImportResult(result.accepted, rejected.reset_index(drop=True), [*result.messages, *messages])


def read_activities(
    path: str | Path | pd.DataFrame,
    *,
    mapping: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    existing_ids: set[str] | None = None,
    organisations: pd.DataFrame | None = None,
    known_ids: Mapping[str, set[str]] | None = None,
    types: Mapping[str, ActivityType] | None = None,
) -> ImportResult:
    """Read an activity log (CSV / Excel) into the ``activities`` schema.

    Parameters
    ----------
    path
        A ``.csv`` / ``.xlsx`` file, or a frame already read (headers as columns).
    mapping
        ``{column: header}`` overriding the automatic recognition of headers.
    sheet, encoding
        As for :func:`scgeo.io.read_table`.
    existing_ids
        Activity ids already in the workspace: rows reusing one are rejected; new ids continue
        after them (``A00001`` …) where the file has none.
    organisations
        The workspace's organisations: counterparts given by name become their ``org_id``; a
        counterpart that is neither an id nor a name of one is a reason to reject the row.
        Without it, counterparts are kept as written.
    known_ids
        ``{"resource_ids": ids, "need_ids": ids, "scenario_ids": ids, "meeting_id": ids,
        "area_id": ids}``: a reference to an id not in its set rejects the row.
    types
        Activity types (default: :func:`load_activity_types`).

    Returns
    -------
    ImportResult
        Accepted rows (function, type and tier as codes; the function taken from the type when
        the file has none), rejected rows with ``source_row`` and a Japanese ``reason``, and
        ``messages`` (columns left out because they name people, generated ids).

    Examples
    --------
    >>> rows = pd.DataFrame({"日付": ["2026-11-04"], "時間": ["1.5"], "種類": ["立ち上げ支援"],
    ...                      "利用者氏名": ["山田花子"], "成果": ["サロン開設の相談"]})
    >>> result = read_activities(rows)
    >>> result.accepted[["activity_id", "function", "type"]].values.tolist(), "利用者氏名" in result.accepted
    ([['A00001', 'resource_development', 'startup_support']], False)
    """
    types = types or load_activity_types()
    table, frame, messages = _read(path, ACTIVITIES, mapping=mapping, sheet=sheet, encoding=encoding)
    problems: dict[int, list[str]] = {i: [] for i in range(len(frame))}
    if "activity_id" not in frame:
        frame["activity_id"] = _next_ids("A", existing_ids or (), len(frame))
        messages.append("活動IDがないため、続きの番号 (A00001 …) を付けました。")
    type_table = _lookup((w, t.code) for t in types.values() for w in (t.code, t.label, *t.aliases))
    if "type" in frame:
        codes = frame["type"].map(lambda v: type_table.get(normalise_header(v)) if isinstance(v, str) else None)
        for pos in np.flatnonzero((frame["type"].notna() & codes.isna()).to_numpy()):
            problems[int(pos)].append(f"活動の種類「{normalise_cell(frame['type'].iloc[pos])}」は一覧にありません"
                                      f"(使える種類: {'、'.join(t.label for t in types.values())})")
        frame["type"] = codes.where(codes.notna(), frame["type"])
    if "function" in frame:
        codes = frame["function"].map(resolve_function)
        for pos in np.flatnonzero((frame["function"].notna() & codes.isna()).to_numpy()):
            problems[int(pos)].append(f"機能「{normalise_cell(frame['function'].iloc[pos])}」は使えません"
                                      f"(使える値: {'、'.join(ACTIVITY_FUNCTION_LABELS.values())})")
        frame["function"] = codes
    else:
        frame["function"] = None
    by_type = frame["type"].map(lambda t: types[t].function if t in types else None) if "type" in frame else None
    if by_type is not None:
        frame["function"] = frame["function"].where(frame["function"].notna(), by_type)
    if "tier" in frame:
        frame["tier"] = frame["tier"].map(lambda v: _TIERS.get(normalise_header(v), v) if isinstance(v, str) else v)
    if "hours" in frame:
        hours = pd.to_numeric(frame["hours"].map(lambda v: normalise_cell(v) if isinstance(v, str) else v)
                              .astype(object).map(lambda v: str(v).rstrip("時間h") if v is not None else v),
                              errors="coerce")
        for pos in np.flatnonzero(((hours < 0) | (hours > 24)).to_numpy()):
            problems[int(pos)].append(f"時間 {hours.iloc[pos]:g} は 0〜24 にしてください")
        frame["hours"] = hours.where(hours.notna(), frame["hours"])
    if organisations is not None and "counterparts" in frame:
        frame["counterparts"] = _counterparts(frame["counterparts"], organisations, problems)
    for col, ids in (known_ids or {}).items():
        if col not in frame or ids is None:
            continue
        for pos, value in enumerate(frame[col]):
            missing = [x for x in id_list(value) if x not in ids]
            if missing:
                label = ACTIVITIES.column(col).label
                problems[pos].append(f"{label} {', '.join(missing[:3])} はワークスペースにありません")
        frame[col] = frame[col].map(lambda v: ";".join(id_list(v)) or None)
    return _finish(table, frame, problems, ACTIVITIES, existing_ids, messages)


def _counterparts(values: pd.Series, organisations: pd.DataFrame, problems: dict[int, list[str]]) -> pd.Series:
    by_name = {normalise_header(n): i for i, n in zip(organisations["org_id"], organisations["name"], strict=True)}
    ids = set(organisations["org_id"].astype(str))
    out = []
    for pos, value in enumerate(values):
        found = []
        for item in id_list(value):
            org = item if item in ids else by_name.get(normalise_header(item))
            if org is None:
                problems[pos].append(f"相手の団体「{item}」は関係団体にありません(団体IDか団体名で書くか、"
                                     "先に `scgeo org add` で登録してください)")
            else:
                found.append(org)
        out.append(";".join(dict.fromkeys(found)) or None)
    return pd.Series(out, index=values.index, dtype=object)


def read_plans(
    path: str | Path | pd.DataFrame,
    *,
    mapping: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    existing_ids: set[str] | None = None,
    types: Mapping[str, ActivityType] | None = None,
) -> ImportResult:
    """Read the annual plan (one goal a row) into the ``plans`` schema.

    Indicators and functions may be codes or Japanese words (「カバー率」「資源開発」); an
    activity type in Japanese becomes its code; the category is checked against the taxonomy.
    A computed indicator needs what it counts: ``coverage_pct`` a category, ``activities`` an
    activity type or a function.

    Examples
    --------
    >>> rows = pd.DataFrame({"年度": [2026], "機能": ["資源開発"], "目標": ["通いの場を2か所創出"],
    ...                      "指標": ["新しく生まれた資源の数"], "種別": ["通いの場"], "目標値": [2]})
    >>> read_plans(rows).accepted[["goal_id", "indicator", "category"]].values.tolist()
    [['P00001', 'resources_created', 'kayoi_no_ba']]
    """
    types = types or load_activity_types()
    table, frame, messages = _read(path, PLANS, mapping=mapping, sheet=sheet, encoding=encoding)
    problems: dict[int, list[str]] = {i: [] for i in range(len(frame))}
    if "goal_id" not in frame:
        frame["goal_id"] = _next_ids("P", existing_ids or (), len(frame))
    if "function" in frame:
        frame["function"] = frame["function"].map(lambda v: resolve_function(v) or v)
    if "indicator" in frame:
        frame["indicator"] = frame["indicator"].map(
            lambda v: _INDICATORS.get(normalise_header(v), v) if isinstance(v, str) else v)
    type_table = _lookup((w, t.code) for t in types.values() for w in (t.code, t.label, *t.aliases))
    if "activity_type" in frame:
        frame["activity_type"] = frame["activity_type"].map(
            lambda v: type_table.get(normalise_header(v), v) if isinstance(v, str) else v)
        for pos, value in enumerate(frame["activity_type"]):
            if isinstance(value, str) and value not in types:
                problems[pos].append(f"活動の種類「{value}」は一覧にありません")
    indicator = frame.get("indicator", pd.Series(None, index=frame.index))
    category = frame.get("category", pd.Series(None, index=frame.index))
    for pos in np.flatnonzero((indicator.isin(["coverage_pct", "resources_created", "resources_total"])
                               & category.isna()).to_numpy()):
        problems[int(pos)].append("この指標には資源の種別が必要です")
    return _finish(table, frame, problems, PLANS, existing_ids, messages)
