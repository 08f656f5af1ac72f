"""Japan's municipalities: name, prefecture and 役場 point from a 全国地方公共団体コード.

The national table (code4fukui/localgovjp, CC0; 1,916 団体, 政令指定都市の区 as rows of their
own) ships as package data (``data/localgovjp.csv``). A code is given with 5 digits or with 6
(the 6th is the check digit, which is verified). The fictional sample town (99201) is not in
the table: :func:`lookup` returns ``None`` for codes it does not know.

Examples
--------
>>> m = lookup("32203")
>>> m.name, m.prefecture, m.lgcode
('出雲市', '島根県', '322032')
>>> lookup("322032") == m
True
>>> lookup("99201") is None
True
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib.resources import files

from scgeo._errors import InputError

__all__ = ["Municipality", "check_digit", "lookup", "muni_name", "municipalities", "normalise_code", "plane_zone_epsg"]

_WEIGHTS = (6, 5, 4, 3, 2)


@dataclass(frozen=True)
class Municipality:
    """One 地方公共団体: ``code`` (5 digits), ``lgcode`` (6, with check digit), names, 役場 point."""

    code: str
    lgcode: str
    prefecture: str
    name: str
    kana: str
    lat: float
    lon: float

    @property
    def hall(self) -> str:
        """The name of its office: 「出雲市役所」「奥出雲町役場」「札幌市 中央区役所」."""
        return self.name + ("役所" if self.name.endswith(("市", "区")) else "役場")


def check_digit(code: str) -> int:
    """The check digit of a 5-digit code (JIS X 0402: weights 6…2, modulus 11).

    Examples
    --------
    >>> check_digit("32203")
    2
    """
    total = sum(int(d) * w for d, w in zip(code[:5], _WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def normalise_code(code: object) -> str:
    """The 5-digit code of a 5- or 6-digit 全国地方公共団体コード; raise ``InputError`` if invalid.

    A 6-digit code must carry the right check digit. Surrounding spaces and full-width
    digits are accepted.
    """
    import unicodedata

    text = unicodedata.normalize("NFKC", str(code)).strip()
    if not text.isdigit() or len(text) not in (5, 6):
        raise InputError(f"市町村コード「{code}」は5桁(または検査数字付きの6桁)の数字で指定してください(例: 32203)。")
    if len(text) == 6 and int(text[5]) != check_digit(text):
        raise InputError(f"市町村コード「{code}」の6桁目(検査数字)が正しくありません"
                         f"(正しくは {text[:5]}{check_digit(text)})。5桁で指定することもできます。")
    return text[:5]


@functools.cache
def _table() -> dict[str, Municipality]:
    text = files("scgeo").joinpath("data/localgovjp.csv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    return {r["lgcode"][:5]: Municipality(r["lgcode"][:5], r["lgcode"], r["pref"], r["city"],
                                          r["citykana"], float(r["lat"]), float(r["lng"]))
            for r in rows}


def lookup(code: object) -> Municipality | None:
    """The municipality of a 5- or 6-digit code, or ``None`` when the table does not have it.

    Raises
    ------
    InputError
        The code is not 5 or 6 digits, or its check digit is wrong.
    """
    return _table().get(normalise_code(code))


def muni_name(code: object, name: str | None = None) -> str:
    """``name`` when given, else the table's name for ``code`` (``""`` when unknown)."""
    if name:
        return name
    found = lookup(code)
    return found.name if found else ""


def municipalities() -> list[Municipality]:
    """Every municipality of the table, in code order."""
    return sorted(_table().values(), key=lambda m: m.code)


# 平面直角座標系 zone (I–XIX) by prefecture code, for the prefecture's main part
# (国土交通省告示「平面直角座標系」; islands of 東京都, 鹿児島県, 沖縄県, 北海道 have zones of their own).
_PREF_ZONE = {
    1: 12, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 9, 8: 9, 9: 9, 10: 9, 11: 9, 12: 9, 13: 9,
    14: 9, 15: 8, 16: 7, 17: 7, 18: 6, 19: 8, 20: 8, 21: 7, 22: 8, 23: 7, 24: 6, 25: 6, 26: 6,
    27: 6, 28: 5, 29: 6, 30: 6, 31: 5, 32: 3, 33: 5, 34: 3, 35: 3, 36: 4, 37: 4, 38: 4, 39: 4,
    40: 2, 41: 2, 42: 1, 43: 2, 44: 2, 45: 2, 46: 2, 47: 15,
}


def plane_zone_epsg(muni_code: str | None) -> int | None:
    """EPSG code of the JGD2011 plane-rectangular zone for a municipality code, if known.

    Examples
    --------
    >>> plane_zone_epsg("32203")  # 出雲市, 島根県: zone III
    6671
    >>> plane_zone_epsg("99201") is None  # no such prefecture (the sample town)
    True
    """
    if not muni_code or not str(muni_code)[:2].isdigit():
        return None
    zone = _PREF_ZONE.get(int(str(muni_code)[:2]))
    return None if zone is None else 6668 + zone
