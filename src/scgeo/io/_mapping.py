"""Recognising a file's headers as schema columns (``Column.aliases``), overridable by the user."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

from scgeo._errors import InputError
from scgeo._text import normalise_header
from scgeo.schema import PERSONAL_HEADERS, Layer

__all__ = ["COORDINATE_ALIASES", "match_columns", "personal_headers", "read_columns"]

COORDINATE_ALIASES = {
    "lat": ("lat", "緯度", "latitude", "y", "y座標", "ido", "緯度(世界測地系)", "緯度(10進)",
            "北緯", "y_code", "fy"),
    "lon": ("lon", "経度", "longitude", "lng", "long", "x", "x座標", "keido",
            "経度(世界測地系)", "経度(10進)", "東経", "x_code", "fx"),
}

_PERSONAL = {normalise_header(h) for h in PERSONAL_HEADERS}
_PERSONAL_JA = {h for h in _PERSONAL if not h.isascii()}


def match_columns(headers: Iterable[str], layer: Layer, *, mapping: Mapping[str, str] | None = None,
                  extra: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """Match a file's headers to the columns of ``layer`` (and to the ``extra`` names).

    Parameters
    ----------
    headers
        The file's headers.
    layer
        The target layer; its columns' ``aliases`` are compared after
        :func:`scgeo._text.normalise_header`. Among several matching headers, the one matching
        an earlier alias (the column name, then its Japanese label, …) wins.
    mapping
        ``{column name: header}`` chosen by the user; it wins over automatic recognition.
    extra
        More target names with their aliases (``lat``/``lon`` for point tables).

    Returns
    -------
    dict
        ``{column name: header}`` for every recognised column; each header is used once.

    Raises
    ------
    InputError
        ``mapping`` names a column the layer does not have, or a header the file does not have.
    """
    headers = list(headers)
    targets = {c.name: c.aliases for c in layer.columns} | dict(extra or {})
    folded = {normalise_header(h): h for h in reversed(headers)}  # first header wins on ties
    matched: dict[str, str] = {}
    for name, header in (mapping or {}).items():
        if name not in targets:
            raise InputError(f"列の対応に指定された「{name}」は{layer.label}の列ではありません。"
                             f"使える列: {', '.join(targets)}")
        found = header if header in headers else folded.get(normalise_header(header))
        if found is None:
            raise InputError(f"列の対応に指定された見出し「{header}」がファイルにありません。"
                             f"ファイルの見出し: {', '.join(map(str, headers))}")
        matched[name] = found
    used = set(matched.values())
    for name, aliases in targets.items():
        if name in matched:
            continue
        for alias in aliases:
            header = folded.get(normalise_header(alias))
            if header is not None and header not in used:
                matched[name] = header
                used.add(header)
                break
    return matched


def personal_headers(headers: Iterable[str]) -> list[str]:
    """Headers that would identify a person (``schema.PERSONAL_HEADERS``).

    A header matches when, folded, it equals a personal header, or contains a Japanese one
    (``氏名(カナ)``, ``本人電話番号``): over-dropping is the safe side for 要配慮個人情報.
    """
    out = []
    for header in headers:
        key = normalise_header(header)
        if key in _PERSONAL or any(p in key for p in _PERSONAL_JA):
            out.append(header)
    return out


def read_columns(path: str | Path | pd.DataFrame, layer: Layer, *, mapping: Mapping[str, str] | None,
                 sheet: str | int | None, encoding: str | None, people: Callable[[list], list],
                 people_message: str, keep: Iterable[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Read a table, drop the columns that name people, and match the rest to ``layer``'s columns.

    ``people(headers)`` lists the headers to drop (never those the ``mapping`` names, nor
    ``keep``); ``people_message`` is the Japanese note that says so, ``{columns}`` naming them.

    Returns
    -------
    (table, frame, messages)
        The table as read (people's columns dropped; index ``source_row``, 1 = first data row),
        the matched columns (with ``source_row``, same index) and the notes for the user.
    """
    from scgeo.io._tables import read_table

    if isinstance(path, pd.DataFrame):
        table, name = path.copy(), "表"
        if table.index.name != "source_row":
            table.index = pd.RangeIndex(1, len(table) + 1, name="source_row")
    else:
        table, name = read_table(path, sheet=sheet, encoding=encoding), Path(path).name
    messages: list[str] = []
    spared = set((mapping or {}).values()) | set(keep)
    dropped = people([c for c in table.columns if c not in spared])
    if dropped:
        table = table.drop(columns=dropped)
        messages.append(people_message.format(columns=", ".join(map(str, dropped))))
    matched = match_columns(table.columns, layer, mapping=mapping)
    frame = pd.DataFrame({col: table[header] for col, header in matched.items()}, index=table.index)
    frame["source_row"] = table.index.to_numpy()
    unused = [str(c) for c in table.columns if c not in matched.values()]
    if unused:
        messages.append(f"{name} の列 {', '.join(unused)} は使いませんでした。")
    return table, frame, messages
