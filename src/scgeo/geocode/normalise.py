"""Japanese address normalisation for matching (not for display).

Both sides of a match (the gazetteer's town names and the user's addresses) go through
:func:`normalise_address`, so that 「大牟田市 南船津町3丁目1-2」, 「南船津町三丁目１番２号」 and
「南船津町３－１－２」 meet on the same key ``南船津町3丁目1-2``:

- NFKC (全角英数 → 半角, 半角カナ → 全角), spaces and 〒 postal codes removed;
- dashes of every kind (－ − ‐ ― ー after a digit) → ``-``;
- kanji numerals before 丁目 / 番地 / 番 / 号 / 地割 / 線 → arabic (``十二丁目`` → ``12丁目``);
- ``1番2号``, ``1番地2``, ``1番地の2``, ``1の2`` → ``1-2``;
- ケ / ヶ / ヵ / が / ガ between kanji → ``ケ``; の / ノ / 之 between kanji → ``ノ``;
- 「大字」 and 「字」 before a name are dropped (often written, often not).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["PREFECTURES", "kanji_to_int", "normalise_address", "strip_prefecture"]

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
_DASHES = re.compile(r"[‐‑‒–—―−－ｰ─━]|(?<=\d)ー")
_POSTAL = re.compile(r"〒?\s*\d{3}-?\d{4}")
_NUM_BEFORE = re.compile(rf"([{_KANJI_NUM}]+)(?=丁目|丁(?!目)|番地|番|号|地割|線)")
_PREF = re.compile("^(" + "|".join(PREFECTURES) + ")")


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


def strip_prefecture(text: str) -> str:
    """``text`` without a leading prefecture name."""
    return _PREF.sub("", text)


def normalise_address(text: object) -> str:
    """The matching key of an address (see the module docstring).

    Examples
    --------
    >>> normalise_address("福岡県大牟田市 南船津町三丁目１番２号")
    '福岡県大牟田市南船津町3丁目1-2'
    >>> normalise_address("自由ヶ丘２－５"), normalise_address("大字稲岡字上ノ町")
    ('自由ケ丘2-5', '稲岡上ノ町')
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = _POSTAL.sub("", s)
    s = re.sub(r"\s+", "", s)
    s = _DASHES.sub("-", s)
    s = _NUM_BEFORE.sub(lambda m: str(kanji_to_int(m.group(1))), s)
    s = re.sub(r"(\d+)丁(?!目)", r"\1丁目", s)
    s = re.sub(r"(\d+)番地?の?(\d+)号?", r"\1-\2", s)
    s = re.sub(r"(\d+)番地?(?!\d)", r"\1", s)
    s = re.sub(r"(\d+)号", r"\1", s)
    s = re.sub(r"(?<=\d)の(?=\d)", "-", s)
    s = re.sub(rf"(?<={_KANJI})[ヶケヵがガ](?={_KANJI})", "ケ", s)
    s = re.sub(rf"(?<={_KANJI})[のノ之](?={_KANJI})", "ノ", s)
    s = s.replace("大字", "")
    s = re.sub(rf"字(?={_KANJI})", "", s)
    return s.strip("-")
