"""The verification cycle of a workspace: what is due, the work list on disk, returned answers.

``due_work_list`` lists the resources to confirm by the end of a month (every state but
確認済み), with a per-resource **確認コード** (the resource id and a check letter, so that a
code typed back from a paper sheet with a slip is refused rather than applied to the wrong
resource), grouped by provider (same contact: one 社協 office for its 26 groups) or by area.
``write_work_list`` writes it as xlsx with empty answer columns; ``read_answers`` reads the
returned xlsx / CSV, or plain lines of codes typed from the paper sheets (``R0001-K 1``), and
``import_answers`` records them as confirmations (with history) in one transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import pandas as pd

from scgeo._errors import InputError
from scgeo.analysis.freshness import FreshnessRules, due_list
from scgeo.filters import resources_in_area
from scgeo.schema import CONFIRMATION_FINDINGS, CONFIRMATION_METHODS, RESOURCES, ImportResult, Taxonomy, load_taxonomy

__all__ = [
    "ANSWER_COLUMNS",
    "FINDING_NUMBERS",
    "WORK_LIST_COLUMNS",
    "check_code",
    "due_work_list",
    "import_answers",
    "month_end",
    "read_answers",
    "write_work_list",
]

_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY"  # no B/8, I/1, O/0, S/5, Z/2 look-alikes
# Numbers printed beside the tick boxes of the paper sheet, for typing answers back.
FINDING_NUMBERS = {"1": "unchanged", "2": "changed", "3": "paused", "4": "closed", "5": "unreachable"}
CORRECTABLE = ("name", "address", "schedule", "contact", "capacity", "fee", "target")
WORK_LIST_COLUMNS = {
    "code": "確認コード", "resource_id": "資源ID", "name": "名称", "category_label": "種別",
    "provider_label": "提供主体", "contact": "連絡先", "address": "住所", "schedule": "曜日・時間",
    "capacity": "定員", "area_name": "中学校区", "last_confirmed": "最終確認日", "due_date": "確認期限",
    "state_label": "確認の状態", "review_reason": "要確認の理由", "group_label": "送付先",
}
ANSWER_COLUMNS = ["確認結果", "確認方法", "確認日", "確認者",
                  *(f"訂正: {RESOURCES.column(c).label}" for c in CORRECTABLE), "メモ"]


def check_code(resource_id: str) -> str:
    """The 確認コード of a resource: its id, a hyphen and a check letter.

    Examples
    --------
    >>> check_code("R0001")
    'R0001-C'
    """
    total = sum((i + 1) * ord(ch) for i, ch in enumerate(str(resource_id)))
    return f"{resource_id}-{_ALPHABET[total % len(_ALPHABET)]}"


def _resource_of(code: object, known: set[str]) -> tuple[str | None, str]:
    """The resource id of a typed code (or a bare id), or None and why not."""
    text = unicodedata.normalize("NFKC", str(code)).strip().upper()
    match = re.fullmatch(r"(.+)-([A-Z])", text)
    rid = match.group(1) if match else text
    ids = {r.upper(): r for r in known}
    if rid not in ids:
        return None, f"確認コード「{code}」の資源はありません"
    if match and check_code(ids[rid]) != f"{ids[rid]}-{match.group(2)}":
        return None, f"確認コード「{code}」の確認文字が合いません(打ち間違いの可能性があります)"
    return ids[rid], ""


def month_end(month: str | None, *, today: dt.date | None = None) -> dt.date:
    """The last day of ``month`` (``2026-12``, ``2026/12``, ``令和8年12月``); today without one."""
    if not month:
        return today or dt.date.today()
    text = unicodedata.normalize("NFKC", month).strip()
    era = re.fullmatch(r"令和(\d+|元)年(\d{1,2})月?", text)
    plain = re.fullmatch(r"(\d{4})[-/年.](\d{1,2})月?", text)
    if era:
        year, mon = 2018 + (1 if era.group(1) == "元" else int(era.group(1))), int(era.group(2))
    elif plain:
        year, mon = int(plain.group(1)), int(plain.group(2))
    else:
        raise InputError(f"--month「{month}」は 2026-12 のように年と月で指定してください。")
    if not 1 <= mon <= 12:
        raise InputError(f"--month「{month}」の月が正しくありません。")
    return (pd.Timestamp(year=year, month=mon, day=1) + pd.offsets.MonthEnd(0)).date()


def _area_id(areas: pd.DataFrame, area: str) -> str:
    hit = areas[(areas["area_id"] == area) | (areas["name"] == area)]
    hit = hit[hit["level"] != "town_block"] if len(hit) > 1 else hit
    if not len(hit):
        raise InputError(f"区域「{area}」はありません。圏域・中学校区の名前か区域IDで指定してください。")
    return str(hit["area_id"].iloc[0])


def due_work_list(workspace, *, month: str | None = None, area: str | None = None, by: str = "provider",
                  today: dt.date | None = None, rules: FreshnessRules | None = None,
                  taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Resources to confirm by the end of ``month`` (or ``today``), optionally inside ``area``.

    Parameters
    ----------
    workspace
        An open :class:`scgeo.Workspace`.
    month
        ``2026-12`` (states as they will be on the month's last day); default: today.
    area
        A 日常生活圏域 / 中学校区 name or area id.
    by
        ``provider`` (same contact together) or ``area`` (中学校区): the ``group`` column, one
        request sheet per group.

    Returns
    -------
    DataFrame
        One row per resource with the columns of :data:`WORK_LIST_COLUMNS` (codes as keys),
        sorted by group then due date.
    """
    if by not in ("provider", "area"):
        raise InputError(f"--by は provider か area です(指定: {by})")
    taxonomy = taxonomy or load_taxonomy()
    on = month_end(month, today=today)
    resources, areas = workspace.read("resources"), workspace.areas()
    if area:
        resources = resources[resources_in_area(resources, areas, _area_id(areas, area))]
    rules = rules or FreshnessRules.from_settings(taxonomy=taxonomy)
    due = due_list(resources, on=on, rules=rules, flags=workspace.review_flags())
    districts = areas[areas["level"] == "jhs_district"][["name", "geometry"]]
    located = due[["geometry"]].sjoin(districts.to_crs(due.crs), predicate="intersects", how="left")
    located = located[~located.index.duplicated()]
    out = pd.DataFrame({
        "code": due["resource_id"].map(check_code), "resource_id": due["resource_id"], "name": due["name"],
        "category_label": due["category"].map(taxonomy.label),
        "provider_label": due["provider_type"].map(taxonomy.label, na_action="ignore"),
        "contact": due["contact"], "address": due["address"], "schedule": due["schedule"],
        "capacity": due["capacity"], "area_name": located["name"].reindex(due.index),
        "last_confirmed": due["last_confirmed"].dt.date, "due_date": due["due_date"].dt.date,
        "state_label": due["state_label"], "review_reason": due["review_reason"],
    })
    if by == "provider":
        key = due["contact"].fillna("").map(lambda v: unicodedata.normalize("NFKC", v).strip())
        out["group"] = key.where(key != "", due["name"])
    else:
        out["group"] = out["area_name"].fillna("中学校区外")
    size = out.groupby("group")["resource_id"].transform("size")
    out["group_label"] = out["group"].where((size > 1) | (by == "area"), out["name"])
    out.attrs["on"] = on
    return out.sort_values(["group", "due_date", "resource_id"], na_position="first").reset_index(drop=True)


def _safe(value: object) -> object:
    """A cell that a spreadsheet will not run as a formula (= + - @ at the start)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_work_list(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the work list as xlsx: what we hold, then empty answer columns to fill in.

    ``確認結果`` and ``確認方法`` offer drop-down lists; text from the data never becomes a
    formula. The same file, filled in, is what :func:`read_answers` reads back.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"確認リストは .xlsx で書き出します(指定: {path.name})")
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    sheet = book.active
    sheet.title = "確認リスト"
    headers = [*WORK_LIST_COLUMNS.values(), *ANSWER_COLUMNS]
    sheet.append(headers)
    for row in table[list(WORK_LIST_COLUMNS)].itertuples(index=False):
        sheet.append([_safe(None if pd.isna(v) else v) for v in row] + [None] * len(ANSWER_COLUMNS))
    answer = PatternFill("solid", fgColor="FFF6D5")
    for i, cell in enumerate(sheet[1]):
        cell.font = Font(bold=True)
        if i >= len(WORK_LIST_COLUMNS):
            cell.fill = answer
    first = len(WORK_LIST_COLUMNS) + 1
    last_row = max(len(table) + 1, 2)
    methods = {k: v for k, v in CONFIRMATION_METHODS.items() if k != "prior_record"}
    for offset, choices in ((0, CONFIRMATION_FINDINGS), (1, methods)):
        column = sheet.cell(row=1, column=first + offset).column_letter
        rule = DataValidation(type="list", formula1='"' + ",".join(choices.values()) + '"', allow_blank=True)
        rule.add(f"{column}2:{column}{last_row}")
        sheet.add_data_validation(rule)
    for cell, width in zip(sheet[1], [11, 9, 24, 16, 12, 22, 28, 26, 6, 14, 11, 11, 10, 26, 22], strict=False):
        sheet.column_dimensions[cell.column_letter].width = width
    dates = [i + 1 for i, h in enumerate(headers) if h in ("最終確認日", "確認期限", "確認日")]
    for row in sheet.iter_rows(min_row=2):
        for i in dates:
            row[i - 1].number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "C2"
    book.save(path)
    return path


def _answer_frame(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return pd.read_excel(path, dtype=object)
    from scgeo.io._encoding import detect_encoding

    raw = path.read_bytes()
    text = raw.decode(detect_encoding(raw))
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if suffix == ".csv" and ("確認コード" in first or "資源ID" in first):
        import io

        return pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=object)
    rows = []
    for line in text.splitlines():  # codes typed from the paper sheets: "R0001-C 1" or "R0001-C,変わりなし"
        parts = [p for p in re.split(r"[\s,、:：]+", unicodedata.normalize("NFKC", line).strip()) if p]
        if parts:
            rows.append({"確認コード": parts[0], "確認結果": parts[1] if len(parts) > 1 else None,
                         "メモ": " ".join(parts[2:]) or None})
    return pd.DataFrame(rows, columns=["確認コード", "確認結果", "メモ"])


def read_answers(path: str | Path, known_ids: set[str], *, method: str = "letter",
                 on: dt.date | None = None) -> tuple[ImportResult, dict[str, dict]]:
    """Read returned answers: the filled work list (xlsx / CSV) or lines of typed codes.

    Rows without an answer are skipped (not rejected: the resource was simply not answered yet).

    Returns
    -------
    (ImportResult, dict)
        Accepted confirmation rows (``resource_id``, ``confirmed_on``, ``method``, ``found``,
        ``confirmed_by``, ``note``) and rejected rows with a Japanese ``reason``; and the
        corrections ``{resource_id: {column: value}}`` from the ``訂正:`` columns.
    """
    from scgeo._confirmations import resolve_code
    from scgeo.schema import _parse_date

    path = Path(path)
    if not path.is_file():
        raise InputError(f"ファイル {path} が見つかりません。")
    frame = _answer_frame(path)
    key = "確認コード" if "確認コード" in frame else "資源ID" if "資源ID" in frame else None
    if key is None or "確認結果" not in frame:
        raise InputError("返送ファイルに「確認コード」(または「資源ID」)と「確認結果」の列がありません。")
    labels = {RESOURCES.column(c).label: c for c in CORRECTABLE}
    accepted, rejected, corrections = [], [], {}
    for pos, row in frame.iterrows():
        found_text = row.get("確認結果")
        if found_text is None or pd.isna(found_text) or not str(found_text).strip():
            continue
        reasons = []
        rid, why = _resource_of(row[key], known_ids)
        if rid is None:
            reasons.append(why)
        found_text = FINDING_NUMBERS.get(str(found_text).strip(), found_text)
        found = how = None
        try:
            found = resolve_code(found_text, CONFIRMATION_FINDINGS, "確認結果")
            given = row.get("確認方法")
            how = resolve_code(given if given is not None and pd.notna(given) else method, CONFIRMATION_METHODS,
                               "確認方法")
        except InputError as exc:
            reasons.append(str(exc))
        day = row.get("確認日")
        when = _parse_date(day) if day is not None and pd.notna(day) else pd.Timestamp(on or dt.date.today())
        if when is None:
            reasons.append(f"確認日「{day}」は日付として読めません")
        if reasons:
            rejected.append({**{str(k): v for k, v in row.items()}, "source_row": pos + 2,
                             "reason": "; ".join(reasons)})
            continue
        fixes = {labels[str(c).removeprefix("訂正: ")]: v for c, v in row.items()
                 if str(c).removeprefix("訂正: ") in labels and str(c).startswith("訂正: ")
                 and pd.notna(v) and str(v).strip()}
        if fixes:
            corrections[rid] = fixes
        accepted.append({"resource_id": rid, "confirmed_on": when, "method": how, "found": found,
                         "confirmed_by": None if pd.isna(row.get("確認者", None)) else row.get("確認者"),
                         "note": None if pd.isna(row.get("メモ", None)) else row.get("メモ")})
    columns = ["resource_id", "confirmed_on", "method", "found", "confirmed_by", "note"]
    result = ImportResult(pd.DataFrame(accepted, columns=columns), pd.DataFrame(rejected))
    return result, corrections


def import_answers(workspace, path: str | Path, *, method: str = "letter", on: dt.date | None = None,
                   user: str | None = None) -> ImportResult:
    """Record the answers of a returned work list (or typed codes) as confirmations.

    One transaction: confirmations, corrections, statuses (休止, 廃止), resolved review flags and
    history rows all land, or none does. Returns what was accepted and rejected.
    """
    result, corrections = read_answers(path, workspace.ids("resources"), method=method, on=on)
    if len(result.accepted):
        written = workspace.record_confirmations(result.accepted, corrections=corrections, user=user,
                                                 source=Path(path).name)
        result = ImportResult(written, result.rejected, result.messages)
    return result
