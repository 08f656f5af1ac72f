"""Japanese address normalisation for matching (not for display).

Both sides of a match (the gazetteer's town names and the user's addresses) go through
:func:`normalise_address` (one address) or :func:`normalise_addresses` (a column, vectorised),
so that 「大牟田市 南船津町3丁目1-2」, 「南船津町三丁目１番２号」 and 「南船津町３－１－２」
meet on the same key ``南船津町3丁目1-2``. The rules, in order:

1. NFKC (全角英数 → 半角, 半角カナ → 全角); 〒 postal codes and (…) notes removed;
2. a building, room or floor after the house number is cut: what follows a space or a
   comma after the number (``1-2 サンハイツ101``), and ``101号室`` / ``3F`` / ``2階`` at the end;
3. spaces removed; dashes of every kind (－ − ‐ ― ー after a digit) → ``-``;
4. old spellings → the forms in 位置参照情報 (澤 → 沢, 濱 → 浜, 邊 → 辺, 﨑 → 崎, 髙 → 高 …);
5. kanji numerals before 丁目 / 番地 / 番 / 号 / 地割 / 線 and between dashes → arabic
   (``十二丁目`` → ``12丁目``, ``七―五`` → ``7-5``);
6. ``地先`` dropped; ``1番2号``, ``1番地2``, ``1番地の2``, ``1番の2``, ``1の2`` → ``1-2``;
7. ケ / ヶ / ヵ / が / ガ between kanji → ``ケ``; の / ノ / 之 between kanji → ``ノ``;
8. 「大字」 and 「字」 before a name dropped (often written, often not); a 郡 before a 町 or 村
   dropped (「香川郡直島町」 → 「直島町」).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pandas as pd

__all__ = ["PREFECTURES", "kanji_to_int", "normalise_address", "normalise_addresses",
           "strip_prefecture"]

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)
_DIGITS = {"〇": 0, "零": 0, "一": 1, "壱": 1, "二": 2, "弐": 2, "三": 3, "参": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "拾": 10, "百": 100, "千": 1000}
_KANJI_NUM = "〇零一壱二弐三参四五六七八九十拾百千"
_KANJI = r"[\u3400-\u9fff々〆]"
# Old (旧字体) or variant forms of characters found in place names → the forms MLIT uses.
_OLD_FORMS = str.maketrans({
    "澤": "沢", "濱": "浜", "邊": "辺", "邉": "辺", "齋": "斎", "齊": "斉", "嶋": "島", "嶌": "島",
    "龍": "竜", "櫻": "桜", "廣": "広", "國": "国", "縣": "県", "眞": "真", "會": "会", "淺": "浅",
    "藏": "蔵", "靜": "静", "當": "当", "壽": "寿", "彌": "弥", "﨑": "崎", "嵜": "崎", "髙": "高",
    "槇": "槙", "冨": "富", "德": "徳", "兒": "児", "驛": "駅", "與": "与", "舊": "旧", "瀨": "瀬",
    "樂": "楽", "榮": "栄", "實": "実", "萬": "万", "圓": "円", "燈": "灯", "桒": "桑",
    "曾": "曽", "檜": "桧", "淵": "渕",
})
_PREF = re.compile("^(" + "|".join(PREFECTURES) + ")")

# (pattern, replacement) in order; a replacement may be a function of the match.
_Rule = tuple[re.Pattern, str | Callable[[re.Match], str]]


def kanji_to_int(text: str) -> int:
    """Value of a kanji numeral (``三`` → 3, ``十二`` → 12, ``二十三`` → 23, ``一〇五`` → 105).

    Examples
    --------
    >>> [kanji_to_int(t) for t in ("三", "十", "十二", "二十三", "百五", "一〇五")]
    [3, 10, 12, 23, 105, 105]
    """
    if any(c in _UNITS for c in text):
        total, current = 0, 0
        for char in text:
            if char in _UNITS:
                total += (current or 1) * _UNITS[char]
                current = 0
            else:
                current = current * 10 + _DIGITS[char]
        return total + current
    return int("".join(str(_DIGITS[c]) for c in text))


def _arabic(match: re.Match) -> str:
    return str(kanji_to_int(match.group(1)))


_N = f"[{_KANJI_NUM}]+"
# (pattern, replacement, trigger): a rule runs only on the addresses its trigger finds (a plain
# regex without look-arounds, so that pandas runs it in C on Arrow strings); most addresses
# need only a few of the rules, and the trigger test is much cheaper than the substitution.
_RULES: list[tuple[re.Pattern, str | Callable[[re.Match], str], str]] = [
    (re.compile(r"〒?\s*\d{3}[-‐－ー−]?\d{4}\s*"), "", r"\d{3}[-‐－ー−]?\d{4}"),          # 1
    (re.compile(r"[(（][^)）]*[)）]"), "", r"[(（]"),
    (re.compile(r"(?<=\d)(号|番地|番)?[\s,、，]+\S.*$"), r"\1", r"\d(?:号|番地|番)?[\s,、，]+\S"),  # 2
    (re.compile(r"(?<=\d)(?:-?\d+号室|号室|[FＦ階]|-?\d+[FＦ階])$"), "", r"(?:号室|[FＦ階])$"),
    (re.compile(r"\s+"), "", r"\s"),                                                               # 3
    (re.compile(r"[‐‑‒–—―−－ｰ─━]|(?<=\d)ー(?=\d)"), "-", r"[‐‑‒–—―−－ｰ─━]|\dー\d"),
    (re.compile(rf"({_N})(?=丁目|丁(?!目)|番地|番|号|地割|線)"), _arabic,                              # 5
     rf"[{_KANJI_NUM}](?:丁|番|号|地割|線)"),
    (re.compile(rf"(?<=[番目\d-])({_N})(?=-|号|$)"), _arabic, rf"[番目\d-][{_KANJI_NUM}]"),
    (re.compile(r"(\d+)丁(?!目)"), r"\1丁目", r"\d丁"),
    (re.compile(r"(?<=\d)番?地先$"), "", r"地先$"),                                                 # 6
    (re.compile(r"(\d+)番地?の?(\d+)号?"), r"\1-\2", r"\d番"),
    (re.compile(r"(\d+)番地?(?!\d)"), r"\1", r"\d番"),
    (re.compile(r"(\d+)号"), r"\1", r"\d号"),
    (re.compile(r"(?<=\d)[のノ](?=\d)"), "-", r"\d[のノ]\d"),
    (re.compile(rf"(?<={_KANJI})[ヶケヵがガ](?={_KANJI})"), "ケ", r"[ヶケヵがガ]"),                  # 7
    (re.compile(rf"(?<={_KANJI})[のノ之](?={_KANJI})"), "ノ", r"[のノ之]"),
    (re.compile(r"大字"), "", r"大字"),                                                               # 8
    (re.compile(rf"字(?={_KANJI})"), "", r"字"),
    (re.compile(rf"(?:^|(?<=[都道府県]))(?!{'|'.join(PREFECTURES)}){_KANJI}{{1,4}}郡"
                rf"(?=(?:(?![市区]){_KANJI}){{1,6}}[町村])"), "", r"郡"),
    (re.compile(r"^-+|-+$"), "", r"^-|-$"),
]


def strip_prefecture(text: str) -> str:
    """``text`` without a leading prefecture name."""
    return _PREF.sub("", text)


def normalise_address(text: object) -> str:
    """The matching key of an address (see the module docstring).

    Examples
    --------
    >>> normalise_address("福岡県大牟田市 南船津町三丁目１番２号")
    '福岡県大牟田市南船津町3丁目1-2'
    >>> normalise_address("自由ヶ丘２－５ サンハイツ101"), normalise_address("大字稲岡字上ノ町")
    ('自由ケ丘2-5', '稲岡上ノ町')
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    s = unicodedata.normalize("NFKC", str(text)).translate(_OLD_FORMS)
    for pattern, repl, _ in _RULES:
        s = pattern.sub(repl, s)
    return s


def normalise_addresses(values: pd.Series) -> pd.Series:
    """:func:`normalise_address` over a column, vectorised (pandas string methods per rule).

    Missing values become ``""``; the index is kept.
    """
    s = values.astype(object).where(values.notna(), "").astype(str)
    s = s.str.normalize("NFKC").str.translate(_OLD_FORMS)
    for pattern, repl, trigger in _RULES:
        hit = s.str.contains(trigger, regex=True).to_numpy(dtype=bool)
        if hit.any():
            s[hit] = s[hit].str.replace(pattern, repl, regex=True)
    return s
