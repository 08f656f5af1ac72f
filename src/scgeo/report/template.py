"""Filling a municipality's own report form (xlsx) with a report's figures.

Municipalities have their own forms for the 月次報告 and the 年次報告書. A form names the cells to
fill in one of two ways: **defined names** in the workbook (a cell named ``activities`` gets the
figure ``activities``), or a **mapping** in TOML, ``figure = "Sheet!B3"`` (or ``"B3"`` for the
first sheet), for forms that cannot be edited. Everything else in the form is left as it was.
Text is written as text: a value that Excel would run as a formula is neutralised
(:func:`scgeo.sheets.neutralise_text`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from scgeo._errors import InputError
from scgeo.sheets import neutralise_text

__all__ = ["fill_template", "read_mapping"]

def read_mapping(path: str | Path) -> dict[str, str]:
    """``{figure: "Sheet!B3"}`` from a TOML file (top-level keys, or a ``[cells]`` table)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"セルの対応ファイル {path} を読めません: {exc}") from exc
    table = data.get("cells", data)
    if not all(isinstance(v, str) for v in table.values()):
        raise InputError(f"セルの対応ファイル {path} は「項目 = \"シート名!B3\"」の形で書いてください。")
    return dict(table)


def _target(workbook, ref: str):
    sheet_name, _, address = ref.rpartition("!")
    sheet_name = sheet_name.strip("'")
    if sheet_name and sheet_name not in workbook.sheetnames:
        raise InputError(f"様式にシート「{sheet_name}」がありません(シート: {'、'.join(workbook.sheetnames)})。")
    sheet = workbook[sheet_name] if sheet_name else workbook.worksheets[0]
    try:
        return sheet[address.replace("$", "")]
    except ValueError as exc:
        raise InputError(f"セル「{ref}」を読めません(例: 月次!B3)。") from exc


def fill_template(template: str | Path, values: Mapping[str, object], path: str | Path, *,
                  mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """Write ``values`` into the cells a form names, saving the filled form as ``path``.

    Parameters
    ----------
    template
        The form (.xlsx); it is not changed.
    values
        ``{figure: value}`` (e.g. :attr:`scgeo.report.monthly.MonthlyReport.summary`).
    path
        The filled form.
    mapping
        ``{figure: "Sheet!B3"}``; without it, the workbook's defined names that are figures are used.

    Returns
    -------
    dict
        ``{figure: cell}`` for every cell filled.

    Raises
    ------
    InputError
        The form cannot be read, names a figure scgeo does not have, or names no cell at all.
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(template)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"様式 {template} を Excel (.xlsx) として読めません: {exc}") from exc
    targets: dict[str, str] = {}
    if mapping:
        unknown = sorted(set(mapping) - set(values))
        if unknown:
            raise InputError(f"セルの対応にある項目 {', '.join(unknown)} は報告にありません。"
                             f"使える項目: {', '.join(values)}")
        targets = dict(mapping)
    else:
        for name, defined in workbook.defined_names.items():
            if name in values:
                sheet, address = next(iter(defined.destinations))
                targets[name] = f"{sheet}!{address}"
    if not targets:
        raise InputError("様式に埋めるセルがありません。セルに項目名(例: activities)の名前を付けるか、"
                         "--mapping でセルの対応 (TOML) を指定してください。")
    for figure, ref in targets.items():
        value = values[figure]
        target = _target(workbook, ref)
        target.value = neutralise_text(value.item() if hasattr(value, "item") else value)
        if target.data_type == "f":  # openpyxl would keep a text starting with "=" as a formula
            target.data_type = "s"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return targets
