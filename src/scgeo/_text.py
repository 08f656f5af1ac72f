"""Normalisation of text cells as they come from spreadsheets typed by people."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = ["normalise_cell", "normalise_header", "normalise_series"]

_SPACES = re.compile(r"\s+")


def normalise_cell(value: object) -> object:
    r"""Return ``value`` with NFKC applied, line breaks and runs of spaces folded, ends stripped.

    NFKC turns full-width digits and letters into ASCII (``１２`` → ``12``) and half-width
    katakana into full-width. Empty strings become ``None``; non-strings pass through.

    Examples
    --------
    >>> normalise_cell("  さくら\n ふれあい　サロン ")
    'さくら ふれあい サロン'
    >>> normalise_cell("１２３") , normalise_cell("   ")
    ('123', None)
    """
    if not isinstance(value, str):
        return value
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    return text or None


def normalise_series(series: pd.Series) -> pd.Series:
    """Apply :func:`normalise_cell` to a column of strings (other dtypes are returned as is)."""
    if not (pd.api.types.is_string_dtype(series) or series.dtype == object):
        return series
    return series.map(normalise_cell, na_action="ignore")


def normalise_header(name: object) -> str:
    """Fold a column header for alias matching: NFKC, lower case, no spaces or separators."""
    text = unicodedata.normalize("NFKC", str(name)).lower()
    return re.sub(r"[\s_\-・()（）\[\]]", "", text)
