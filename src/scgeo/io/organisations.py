"""Importing the coordinator's network: organisations, ties, 協議体, meetings and 担い手 counts.

The tables are what coordinators keep in Excel: one row per organisation (自治会, 老人クラブ, NPO,
商店 …), one row per tie between two of them, and so on. Headers are recognised in Japanese or
English (``schema.ORGANISATIONS`` … aliases); Japanese words for kinds, strengths and tie types
(「連携」「強」) become codes. Columns that would name a person (代表者, 担当者, 氏名 …) are never
read: the network holds organisations, not people.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo._text import normalise_cell, normalise_header
from scgeo.io._mapping import read_columns
from scgeo.schema import (
    COUNCIL_MEETINGS,
    COUNCILS,
    HELPERS,
    NODE_TYPE_LABELS,
    ORGANISATIONS,
    PERSON_NAME_HEADERS,
    TIE_KIND_LABELS,
    TIE_STATUS_LABELS,
    TIE_STRENGTH_LABELS,
    TIES,
    ImportResult,
    Layer,
    load_taxonomy,
    validate,
)
from scgeo.settings import get_settings

__all__ = [
    "NETWORK_LAYERS",
    "OrganisationKind",
    "load_organisation_kinds",
    "person_name_headers",
    "read_network_table",
    "resolve_codes",
]

#: The layers of the coordinator's network, by name.
NETWORK_LAYERS: dict[str, Layer] = {
    layer.name: layer for layer in (ORGANISATIONS, TIES, COUNCILS, COUNCIL_MEETINGS, HELPERS)
}
_PREFIX = {"organisations": "O", "ties": "T", "councils": "C", "council_meetings": "M", "helpers": "H"}
_PERSON = {normalise_header(h) for h in PERSON_NAME_HEADERS}


@dataclass(frozen=True)
class OrganisationKind:
    """A kind of organisation (自治会・町内会, NPO法人 …) with its label, colour and aliases."""

    code: str
    label: str
    color: str = "#17becf"
    aliases: tuple[str, ...] = ()


def load_organisation_kinds(path: str | Path | None = None) -> dict[str, OrganisationKind]:
    """The bundled organisation kinds, extended by ``[organisation_kinds.CODE]`` in a city's file.

    Parameters
    ----------
    path
        A TOML file (default: ``settings.taxonomy_file``, the same file that extends the
        resource categories).

    Examples
    --------
    >>> kinds = load_organisation_kinds()
    >>> kinds["jichikai"].label, resolve_codes(pd.Series(["町内会", "NPO"]), kinds).tolist()
    ('自治会・町内会', ['jichikai', 'npo'])
    """
    tables = [tomllib.loads(files("scgeo").joinpath("data/organisation_kinds.toml").read_text("utf-8"))]
    path = path or get_settings().taxonomy_file
    if path:
        try:
            tables.append(tomllib.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"定義ファイル {path} を読めません: {exc}") from exc
    kinds: dict[str, OrganisationKind] = {}
    for table in tables:
        for code, spec in table.get("organisation_kinds", {}).items():
            old = kinds.get(code)
            if old is None and "label" not in spec:
                raise InputError(f"団体の種類 {code} に label (日本語名) がありません")
            aliases = tuple(dict.fromkeys((*(old.aliases if old else ()), *spec.get("aliases", ()))))
            kinds[code] = OrganisationKind(
                code,
                spec.get("label", old.label if old else code),
                spec.get("color", old.color if old else "#17becf"),
                aliases,
            )
    return kinds


def resolve_codes(values: pd.Series, kinds: Mapping[str, OrganisationKind]) -> pd.Series:
    """Codes of organisation kinds for codes, labels or aliases (``None`` where unknown)."""
    table: dict[str, str] = {}
    for kind in kinds.values():
        for alias in (kind.code, kind.label, *kind.aliases):
            table.setdefault(normalise_header(alias), kind.code)
    return values.map(lambda v: table.get(normalise_header(v)) if isinstance(v, str) else None)


def _labels_to_codes(labels: Mapping[str, str]) -> dict[str, str]:
    return {normalise_header(k): k for k in labels} | {normalise_header(v): k for k, v in labels.items()}


_CODE_WORDS = {
    "kind": _labels_to_codes(TIE_KIND_LABELS)
    | {
        normalise_header(w): c
        for w, c in (
            ("運営する", "operates"),
            ("協力", "partner"),
            ("情報共有", "partner"),
            ("共同活動", "partner"),
            ("メンバー", "member"),
            ("構成員", "member"),
            ("委員", "member"),
            ("紹介先", "referral"),
            ("つなぎ", "referral"),
            ("立ち上げ支援", "support"),
            ("団体支援", "support"),
        )
    },
    "strength": _labels_to_codes(TIE_STRENGTH_LABELS)
    | {
        normalise_header(w): c
        for w, c in (
            ("弱い", "weak"),
            ("普通", "medium"),
            ("強い", "strong"),
            ("1", "weak"),
            ("2", "medium"),
            ("3", "strong"),
        )
    },
    "status": _labels_to_codes(TIE_STATUS_LABELS) | {normalise_header("提案"): "proposed"},
    "source_type": _labels_to_codes(NODE_TYPE_LABELS) | {normalise_header("SC"): "coordinator"},
    "target_type": _labels_to_codes(NODE_TYPE_LABELS) | {normalise_header("SC"): "coordinator"},
    "tier": {
        normalise_header(w): c
        for w, c in (("第1層", "1"), ("第2層", "2"), ("1層", "1"), ("2層", "2"), ("1", "1"), ("2", "2"))
    },
}


def person_name_headers(headers) -> list[str]:
    """Headers that would name a person (代表者, 担当者, 氏名 …): never read into the network."""
    return [
        h
        for h in headers
        if normalise_header(h) in _PERSON or any(p in normalise_header(h) for p in _PERSON if not p.isascii())
    ]


def read_network_table(
    path: str | Path | pd.DataFrame,
    layer: str,
    *,
    mapping: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    existing_ids: set[str] | None = None,
    kinds: Mapping[str, OrganisationKind] | None = None,
) -> ImportResult:
    """Read organisations, ties, councils, council meetings or 担い手 counts from a table.

    Parameters
    ----------
    path
        A ``.csv`` / ``.tsv`` / ``.xlsx`` file, or a frame already read (headers as columns).
    layer
        ``organisations``, ``ties``, ``councils``, ``council_meetings`` or ``helpers``.
    mapping
        ``{column: header}`` overriding the automatic recognition of headers.
    sheet, encoding
        As for :func:`scgeo.io.read_table`.
    existing_ids
        Ids already in the workspace: rows reusing one are rejected.
    kinds
        Organisation kinds (default: :func:`load_organisation_kinds`).

    Returns
    -------
    ImportResult
        Accepted rows in the layer's schema (codes for kinds, tie types, strengths; ids generated
        where the file has none), rejected rows with ``source_row`` and a Japanese ``reason``,
        and ``messages`` (columns left out because they name people, generated ids).

    Examples
    --------
    >>> rows = pd.DataFrame({"団体名": ["東町内会", "さくらNPO"], "種別": ["町内会", "NPO"],
    ...                      "代表者": ["山田太郎", "佐藤花子"]})
    >>> accepted, rejected = read_network_table(rows, "organisations")
    >>> accepted[["org_id", "kind"]].values.tolist(), "代表者" in accepted, len(rejected)
    ([['O0001', 'jichikai'], ['O0002', 'npo']], False, 0)
    """
    if layer not in NETWORK_LAYERS:
        raise InputError(f"レイヤ「{layer}」は取り込めません。使えるレイヤ: {', '.join(NETWORK_LAYERS)}")
    spec = NETWORK_LAYERS[layer]
    table, frame, messages = read_columns(
        path, spec, mapping=mapping, sheet=sheet, encoding=encoding, people=person_name_headers,
        people_message="個人の名前にあたる列 {columns} は取り込みませんでした(団体の情報だけを記録します)。")
    id_col = spec.id_column
    if id_col not in frame:
        frame[id_col] = [f"{_PREFIX[layer]}{i:04d}" for i in range(1, len(frame) + 1)]
        messages.append(f"{spec.label}のIDがないため {_PREFIX[layer]}0001 からの番号を付けました。")
    frame, problems = _codes(frame.reset_index(drop=True), layer, kinds or load_organisation_kinds())
    bad = frame.index.isin(list(problems))
    result = validate(frame[~bad].reset_index(drop=True), spec, taxonomy=load_taxonomy(), existing_ids=existing_ids)
    if bad.any():
        unknown = table.loc[frame.loc[bad, "source_row"]].reset_index()
        unknown["reason"] = [problems[i] for i in np.flatnonzero(bad)]
        rejected = pd.concat([result.rejected, unknown], ignore_index=True)
        result = ImportResult(
            result.accepted, rejected.sort_values("source_row", kind="stable").reset_index(drop=True), result.messages
        )
    result.messages.extend(messages)
    return result


def _codes(
    frame: pd.DataFrame, layer: str, kinds: Mapping[str, OrganisationKind]
) -> tuple[pd.DataFrame, dict[int, str]]:
    """Japanese words → codes; ``{row position: reason}`` for kinds that are not in the list."""
    frame = frame.copy()
    problems: dict[int, str] = {}
    for col, words in _CODE_WORDS.items():
        if col in frame and col in NETWORK_LAYERS[layer].names:
            frame[col] = frame[col].map(lambda v, w=words: w.get(normalise_header(v), v) if isinstance(v, str) else v)
    if layer == "organisations" and "kind" in frame:
        codes = resolve_codes(frame["kind"], kinds)
        for pos in np.flatnonzero((frame["kind"].notna() & codes.isna()).to_numpy()):
            problems[int(pos)] = (
                f"団体の種類「{normalise_cell(frame['kind'].iloc[pos])}」は一覧にありません"
                f"(使える種類: {'、'.join(k.label for k in kinds.values())})"
            )
        frame["kind"] = codes.where(codes.notna(), frame["kind"])
    if layer == "ties":
        for end in ("source_type", "target_type"):
            if end not in frame:
                frame[end] = "organisation"
    return frame, problems
