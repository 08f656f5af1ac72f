"""Pages of the printed reports (月次報告, 年次報告書, 協議体 pack): A4 figures with a header, tables,
and the PDF writer (IPAex Gothic embedded as TrueType). Text from data is made safe for matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib import rc_context
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from scgeo.maps.static import japanese_font

__all__ = ["A4", "A4_LANDSCAPE", "Pages", "cell", "number"]

A4 = (8.27, 11.69)
A4_LANDSCAPE = (11.69, 8.27)
_INK = "#14304f"


def cell(value: object, limit: int = 40) -> str:
    """Text from data for a page: ``—`` for missing, cut at ``limit``, dollar signs and backslashes made literal."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    text = " ".join(str(value).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("\\", "＼").replace("$", r"\$")


def number(value: object, digits: int = 0, unit: str = "") -> str:
    """A number for a page (``—`` when missing), thousands separated."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, str):
        return cell(value)
    text = f"{float(value):,.{digits}f}"
    return text + unit


class Pages:
    """The pages of one printed report.

    Parameters
    ----------
    title
        The report's title (PDF metadata, every page's footer).
    footer
        Left footer text (the municipality, the period).
    """

    def __init__(self, title: str, footer: str) -> None:
        self.title = title
        self.footer = footer
        self.font = japanese_font()
        self.figures: list[Figure] = []
        self._own: set[int] = set()

    def text(self, fig: Figure, x: float, y: float, text: str, *, size: float = 9, **kwargs) -> None:
        """Text at figure coordinates in the Japanese font."""
        fig.text(x, y, text, fontproperties=self.font, fontsize=size, transform=fig.transFigure, **kwargs)

    def page(self, heading: str, *, subheading: str = "", landscape: bool = False) -> Figure:
        """A new page with its heading band; returns the figure (drawn on in figure coordinates)."""
        fig = Figure(figsize=A4_LANDSCAPE if landscape else A4)
        self.text(fig, 0.06, 0.955, heading, size=16, weight="bold", color=_INK)
        if subheading:
            self.text(fig, 0.06, 0.93, subheading, size=9, color="#444")
        fig.add_artist(Line2D([0.06, 0.94], [0.922, 0.922], transform=fig.transFigure, color=_INK, lw=1.2))
        self.figures.append(fig)
        self._own.add(id(fig))
        return fig

    def add(self, fig: Figure) -> None:
        """Add a page drawn elsewhere (a map page)."""
        self.figures.append(fig)

    def section(self, fig: Figure, y: float, title: str) -> float:
        """A section title at ``y``; returns the y under it."""
        self.text(fig, 0.06, y, title, size=11.5, weight="bold", color=_INK)
        return y - 0.028

    def paragraph(self, fig: Figure, y: float, lines: Sequence[str], *, size: float = 9, color: str = "#222",
                  step: float = 0.019) -> float:
        """Lines of text from ``y`` down; returns the y under them."""
        for line in lines:
            self.text(fig, 0.07, y, cell(line, 62), size=size, color=color)
            y -= step
        return y - 0.006

    def table(self, fig: Figure, y: float, frame: pd.DataFrame, *, widths: Sequence[float] | None = None,
              size: float = 8.2, step: float = 0.0185, limit: int = 40, max_rows: int | None = None,
              right: Sequence[str] = ()) -> float:
        """``frame`` as a ruled table from ``y`` down (headers = its columns); returns the y under it.

        Rows beyond ``max_rows`` are left out with a line saying how many.
        """
        columns = list(frame.columns)
        widths = list(widths or [0.88 / max(len(columns), 1)] * len(columns))
        xs = [0.06]
        for w in widths[:-1]:
            xs.append(xs[-1] + w)
        right_edge = 0.06 + sum(widths)

        def put(values, yy, *, bold=False):
            for x, w, col, value in zip(xs, widths, columns, values, strict=True):
                align_right = col in right
                self.text(fig, x + w - 0.006 if align_right else x + 0.004, yy, value, size=size,
                          ha="right" if align_right else "left", weight="bold" if bold else "normal", color="#1a1a1a")

        fig.add_artist(Line2D([0.06, right_edge], [y + 0.013, y + 0.013], transform=fig.transFigure,
                              color="#555", lw=0.8))
        put([cell(c, limit) for c in columns], y, bold=True)
        y -= 0.006
        fig.add_artist(Line2D([0.06, right_edge], [y, y], transform=fig.transFigure, color="#555", lw=0.6))
        y -= step - 0.004
        shown = frame if max_rows is None else frame.head(max_rows)
        for row in shown.itertuples(index=False):
            put([cell(v, limit) if not isinstance(v, float) else number(v, 1 if v % 1 else 0) for v in row], y)
            y -= step
        fig.add_artist(Line2D([0.06, right_edge], [y + step - 0.006] * 2, transform=fig.transFigure,
                              color="#555", lw=0.8))
        if max_rows is not None and len(frame) > max_rows:
            self.text(fig, 0.07, y, f"(ほか {len(frame) - max_rows} 件は表に載せていません)", size=7.5, color="#555")
            y -= step
        return y - 0.012

    def save(self, path: str | Path) -> tuple[Path, int]:
        """Write the pages to ``path`` (.pdf), numbered in the footer; returns the path and the page count."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        total = len(self.figures)
        for i, fig in enumerate(self.figures, start=1):
            own = id(fig) in self._own  # a page drawn elsewhere (a map) keeps its own footer
            if own:
                fig.text(0.06, 0.02, cell(self.footer, 90), fontproperties=self.font, fontsize=7, color="#555")
            fig.text(0.94 if own else 0.985, 0.02 if own else 0.985, f"{i} / {total}", fontproperties=self.font,
                     fontsize=7, color="#555", ha="right", va="bottom" if own else "top")
        metadata = {"Title": self.title, "Creator": "scgeo"}
        with rc_context({"pdf.fonttype": 42}), PdfPages(path, metadata=metadata) as pdf:  # TrueType, not Type 3
            for fig in self.figures:
                pdf.savefig(fig, facecolor="white")
        return path, total
