"""Printable 確認依頼 sheets: one page per provider (continued when it runs many resources).

Each page says what the coordinator holds about each resource (種別, 住所, 曜日・時間, 連絡先,
定員, 最終確認日), with its 確認コード, numbered tick boxes (1 変わりなし … 5 連絡つかず is for
the coordinator), a box to write corrections in, and the return address. The numbers and codes
are what :func:`scgeo.report.verification.read_answers` reads back when typed in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from matplotlib import rc_context
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from scgeo._errors import InputError

__all__ = ["PER_PAGE", "write_request_sheets"]

PER_PAGE = 4
_A4 = (8.27, 11.69)
_TICKS = ("1 変わりなし", "2 内容変更", "3 休止", "4 廃止")
_HELD = (("category_label", "種別"), ("address", "住所"), ("schedule", "曜日・時間"), ("contact", "連絡先"),
         ("capacity", "定員"), ("last_confirmed", "最終確認日"))


def _t(value: object, limit: int = 60) -> str:
    """Text from data for matplotlib: ``$`` would start mathtext; long values are cut."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    text = str(value).replace("\n", " ")
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("\\", "＼").replace("$", r"\$")


def _box(fig: Figure, x: float, y: float, w: float, h: float, *, lw: float = 0.8, fill: str = "none") -> None:
    fig.add_artist(Rectangle((x, y), w, h, transform=fig.transFigure, fill=fill != "none", facecolor=fill,
                             edgecolor="#333333", linewidth=lw))


def _page(rows: pd.DataFrame, *, group: str, page: int, pages: int, font, muni_name: str, return_address: str,
          on: dt.date, issued: dt.date) -> Figure:
    fig = Figure(figsize=_A4)
    text = {"fontproperties": font, "transform": fig.transFigure}
    fig.text(0.07, 0.955, "社会資源情報の確認のお願い", fontsize=17, weight="bold", **text)
    fig.text(0.93, 0.958, f"{issued:%Y年%m月%d日}", fontsize=9, ha="right", **text)
    fig.text(0.07, 0.925, f"{_t(group, 40)} ご担当者様", fontsize=11, **text)
    fig.text(0.93, 0.925, f"{page} / {pages} ページ", fontsize=9, ha="right", **text)
    intro = (f"{_t(muni_name, 20)}の地域資源マップ・資源一覧に載せている内容です({on:%Y年%m月}末までの確認分)。"
             "\n内容に変わりがなければ「1 変わりなし」に、変わったところがあれば「2 内容変更」に✓を付け、"
             "\n訂正欄に正しい内容をご記入のうえ、下の返送先までお送りください。")
    fig.text(0.07, 0.872, intro, fontsize=8.5, linespacing=1.5, va="bottom", **text)
    top, height = 0.855, 0.185
    for i, (_, row) in enumerate(rows.iterrows()):
        y = top - (i + 1) * height
        _box(fig, 0.06, y + 0.006, 0.88, height - 0.012, lw=1.0)
        fig.text(0.075, y + height - 0.035, _t(row["name"], 34), fontsize=11.5, weight="bold", **text)
        _box(fig, 0.69, y + height - 0.045, 0.235, 0.028, fill="#f2f2f2")
        fig.text(0.70, y + height - 0.037, f"確認コード  {row['code']}", fontsize=10, **text)
        for j, (col, label) in enumerate(_HELD):
            fig.text(0.075, y + height - 0.058 - j * 0.0165, f"{label}:", fontsize=8, color="#555555", **text)
            fig.text(0.165, y + height - 0.058 - j * 0.0165, _t(row.get(col), 44), fontsize=8, **text)
        for k, label in enumerate(_TICKS):
            bx = 0.075 + k * 0.14
            _box(fig, bx, y + 0.018, 0.016, 0.012)
            fig.text(bx + 0.022, y + 0.019, label, fontsize=9, **text)
        fig.text(0.515, y + height - 0.058, "訂正欄(変わったところだけ)", fontsize=7.5, color="#555555", **text)
        _box(fig, 0.515, y + 0.042, 0.41, height - 0.108)
        for line in range(1, 4):
            ly = y + 0.042 + line * (height - 0.108) / 4
            fig.add_artist(Rectangle((0.52, ly), 0.40, 0.0, transform=fig.transFigure, edgecolor="#bbbbbb",
                                     linewidth=0.4, linestyle=(0, (2, 2))))
        if isinstance(row.get("review_reason"), str) and row["review_reason"]:
            fig.text(0.075, y + 0.045, f"要確認: {_t(row['review_reason'], 40)}", fontsize=7.5, color="#b00020",
                     **text)
    _box(fig, 0.06, 0.035, 0.88, 0.075, lw=1.0)
    fig.text(0.075, 0.092, "返送先", fontsize=8, color="#555555", **text)
    fig.text(0.075, 0.068, _t(return_address, 70), fontsize=9.5, **text)
    fig.text(0.075, 0.045, "ご記入者  ____________________    記入日  ______年____月____日    "
                           "電話での回答も受け付けます", fontsize=8, **text)
    return fig


def write_request_sheets(table: pd.DataFrame, path: str | Path, *, muni_name: str = "",
                         return_address: str | None = None, issued: dt.date | None = None) -> tuple[Path, int]:
    """Write the 確認依頼 sheets of a work list as one PDF (A4, IPAex Gothic embedded).

    Parameters
    ----------
    table
        :func:`scgeo.report.verification.due_work_list` (one sheet per ``group``).
    path
        ``.pdf``.
    muni_name, return_address
        Printed on every page (the return address defaults to the municipality's 生活支援
        コーディネーター).
    issued
        The date printed on the sheets (default: today).

    Returns
    -------
    (Path, int)
        The file and its number of pages.
    """
    from scgeo.maps.static import japanese_font

    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise InputError(f"確認依頼は .pdf で書き出します(指定: {path.name})")
    if not len(table):
        raise InputError("確認の時期になった資源はありません(確認依頼は作りません)。")
    path.parent.mkdir(parents=True, exist_ok=True)
    font = japanese_font()
    on = table.attrs.get("on", dt.date.today())
    issued = issued or dt.date.today()
    address = return_address or f"{muni_name} 生活支援コーディネーター"
    figures = []
    for _, rows in table.groupby("group", sort=True):
        group = rows["group_label"].iloc[0] if "group_label" in rows else rows["group"].iloc[0]
        chunks = [rows.iloc[i:i + PER_PAGE] for i in range(0, len(rows), PER_PAGE)]
        for n, chunk in enumerate(chunks, start=1):
            figures.append(_page(chunk, group=str(group), page=n, pages=len(chunks), font=font, muni_name=muni_name,
                                 return_address=address, on=on, issued=issued))
    metadata = {"Title": f"{muni_name} 社会資源情報の確認のお願い", "Creator": "scgeo"}
    with rc_context({"pdf.fonttype": 42}), PdfPages(path, metadata=metadata) as pdf:
        for fig in figures:
            pdf.savefig(fig, facecolor="white")
    return path, len(figures)
