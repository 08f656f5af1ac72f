"""Reading the schedule text of a resource: on which weekdays, at what times, and how often.

Resource lists describe when an activity is held in free text (``毎週水曜 10:00-12:00``,
``第2・第4火曜``, ``月1回``, ``平日 8:30-17:15``, ``24時間`` …). :func:`parse_schedule` turns one
text into a :class:`Schedule`: the weekdays, the opening windows per weekday, and the
**weekly-available share**: the share of weeks in which one can go at least once (every week:
1.0; 第2・第4: 24/52 ≈ 0.46; 月1回: 12/52 ≈ 0.23; 年6回: 6/52). A daily and a weekly
activity both count as 1.0: the reference is the weekly 通いの場 (週1回以上), and the share
says how often a resident *can* go, not how many hours a place is open.

A text that names no weekday and no frequency gives ``weekly_share=None`` (unknown): unknown is
not absence, so supply weights treat it as 1.0 and say so (:mod:`scgeo.analysis.freshness`).

Examples
--------
>>> s = parse_schedule("毎月第2・第4火曜 13:00-15:00")
>>> s.days, s.weeks_of_month, round(s.weekly_share, 3)
(('火',), (2, 4), 0.462)
>>> s.is_open("火", 14 * 60, 15 * 60), s.is_open("水")
(True, False)
>>> parse_schedule("月〜金 9:00-12:00, 15:00-18:00 / 土 9:00-12:00").windows[-1]
('土', 540, 720)
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

__all__ = ["WEEKS_PER_YEAR", "Schedule", "parse_schedule", "parse_time_window", "schedule_table"]

WEEKDAYS = ("月", "火", "水", "木", "金", "土", "日")
WEEKS_PER_YEAR = 52.0
_DAY = "[月火水木金土日]"
_KANJI_DIGITS = str.maketrans({"一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6"})
_RANGE = r"(?:[〜~\-―ー−]|から)"
_TIME = re.compile(
    r"(午前|午後)?\s*(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分|(半))?)\s*" + _RANGE
    + r"\s*(午前|午後)?\s*(?:(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分|(半))?)?)?")
_PART_OF_DAY = {"午前中": (540, 720), "午前": (540, 720), "午後": (780, 1020), "朝": (360, 540),
                "昼食": (660, 840), "昼": (660, 840), "夕方": (960, 1140), "夕食": (960, 1140),
                "夜": (1080, 1260)}
_ALWAYS = re.compile(r"24時間(?!連絡)|随時|常時|年中無休|いつでも")
_EVERY_DAY = re.compile(r"毎日|毎朝|毎晩|毎夕")
_WEEKDAYS_WORD = re.compile(r"平日")
_WEEKEND = re.compile(r"土日(?:祝日?)?|週末")
_NTH = re.compile(r"第\s*(\d)((?:\s*(?:[・、,/]|及び|と)\s*第?\s*\d)*)")
_PER = re.compile(r"(月|週|年)\s*(\d+)\s*回")
_DATES = re.compile(r"(?<![\d:])(\d{1,2})\s*日(?!曜)((?:\s*[・、,と]\s*\d{1,2}\s*日(?!曜))*)")
_MONTHLY = re.compile(r"毎月|月例")
_BIWEEKLY = re.compile(r"隔週")
_NOISE = re.compile(r"祝日|祝|休日|料金|年金|金額|月末|月初|\d+\s*月(?!曜)|[月週年]\s*\d+\s*回")
# weekdays in a row, with or without separators: 月・水・金, 月〜金, 火曜と金曜, 月火水木金 (自治体標準オープンデータ)
_GROUP = re.compile(_DAY + r"(?:曜日?)?(?:\s*(?:[・、,/]|" + _RANGE + r"|と|及び)?\s*" + _DAY + r"(?:曜日?)?)*")
_BEFORE_OK = re.compile(r"(?:^|[\s/、,;・(]|毎週|隔週|週|第\s*\d(?:\s*[・、,]\s*第?\s*\d)*)$")
_AFTER_OK = re.compile(r"^(?:$|[\s)\d、,/;・]|曜|午前|午後|朝|昼|夕|夜)")
_PAREN = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class Schedule:
    """When a resource is open, as read from its schedule text.

    Attributes
    ----------
    text
        The text as given.
    days
        Weekdays on which it is held (``月`` … ``日``), empty when the text names none.
    windows
        ``(weekday, start_min, end_min)`` opening windows in minutes after midnight; a weekday
        with no time in the text is open all day (0–1440).
    weeks_of_month
        ``(2, 4)`` for 第2・第4; empty for every week or when not said.
    weekly_share
        Share of weeks in which it is open at least once (0–1); ``None`` when the text does
        not say how often.
    always
        Open at any time (``24時間``, ``随時``, ``年中無休``).
    """

    text: str
    days: tuple[str, ...] = ()
    windows: tuple[tuple[str, int, int], ...] = ()
    weeks_of_month: tuple[int, ...] = ()
    weekly_share: float | None = None
    always: bool = False

    @property
    def known(self) -> bool:
        """Whether the text says how often it is held."""
        return self.weekly_share is not None

    def is_open(self, weekday: str | None = None, start_min: int | None = None,
                end_min: int | None = None) -> bool:
        """Whether it is held on ``weekday`` with a window overlapping ``start_min``–``end_min``.

        With no weekday, any day counts; with no window, any time of the day counts. A schedule
        that names no weekday is not known to be open on any day (``False``), unless ``always``.
        """
        if self.always:
            return True
        start = 0 if start_min is None else start_min
        end = 24 * 60 if end_min is None else end_min
        return any((weekday is None or day == weekday) and a < end and b > start
                   for day, a, b in self.windows)


def _minutes(ampm: str | None, hour: str | None, minute: str | None, extra: str | None,
             half: str | None) -> int | None:
    if hour is None:
        return None
    h = int(hour)
    if ampm == "午後" and h < 12:
        h += 12
    m = int(minute or extra or 0) + (30 if half else 0)
    return min(h * 60 + m, 24 * 60)


def _times(text: str) -> list[tuple[int, tuple[int, int]]]:
    """``(position, (start, end))`` of every time range in ``text`` (end defaults to +2 h)."""
    out = []
    for m in _TIME.finditer(text):
        start = _minutes(m.group(1), m.group(2), m.group(3), m.group(4), m.group(5))
        end = _minutes(m.group(6) or (m.group(1) if m.group(7) else None), m.group(7), m.group(8),
                       m.group(9), m.group(10))
        if end is not None and end <= start < end + 12 * 60:
            end += 12 * 60  # 10時〜2時: the end is in the afternoon
        if end is None or end <= start:
            end = start + 120  # 10時〜: two hours
        out.append((m.start(), (start, min(end, 24 * 60))))
    return out


def _spans(text: str) -> list[tuple[int, int]]:
    """The time ranges of ``text``, else the first part of the day it names (朝, 午後 …)."""
    return [span for _, span in _times(text)] or [span for word, span in _PART_OF_DAY.items() if word in text][:1]


def _expand(group: str) -> list[str]:
    """Weekdays of a group such as ``月〜金``, ``火・金曜``, ``月、水、金``."""
    group = re.sub("曜日?", "", group)
    days = re.findall(_DAY, group)
    out: list[str] = []
    ranges = re.finditer(_DAY + r"\s*" + _RANGE + r"\s*" + _DAY, group)
    spans = [(WEEKDAYS.index(m.group(0)[0]), WEEKDAYS.index(m.group(0)[-1])) for m in ranges]
    for a, b in spans:
        out.extend(WEEKDAYS[a:b + 1] if a <= b else WEEKDAYS[a:] + WEEKDAYS[:b + 1])
    out.extend(days)
    return [d for d in WEEKDAYS if d in set(out)]


def _day_groups(text: str) -> list[tuple[int, list[str]]]:
    """``(position, weekdays)`` of every weekday mention, read in context (not 料金, 毎月 …)."""
    found = []
    for pattern, days in ((_EVERY_DAY, WEEKDAYS), (_WEEKDAYS_WORD, WEEKDAYS[:5]), (_WEEKEND, WEEKDAYS[5:])):
        for m in pattern.finditer(text):
            found.append((m.start(), list(days)))
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    text = _NOISE.sub(lambda m: " " * len(m.group(0)), text)
    for m in _GROUP.finditer(text):
        group = m.group(0)
        days = _expand(group)
        several = len(re.findall(_DAY, re.sub("曜日?", "", group))) > 1
        if several or "曜" in group or (_BEFORE_OK.search(text[:m.start()]) and _AFTER_OK.match(text[m.end():])):
            found.append((m.start(), days))
    return sorted(found)


def _windows(text: str) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Weekdays and their windows: a time belongs to the weekdays named before it."""
    groups = _day_groups(text)
    times = _times(text) or [(text.find(word), span) for word, span in _PART_OF_DAY.items() if word in text][:1]
    days = [d for d in WEEKDAYS if any(d in g for _, g in groups)]
    if not groups:
        return [], []
    pairs: dict[int, list[tuple[int, int]]] = {}
    for pos, span in times:
        before = [i for i, (g_pos, _) in enumerate(groups) if g_pos <= pos]
        pairs.setdefault(before[-1] if before else 0, []).append(span)
    windows = []
    for i, (_, group) in enumerate(groups):
        spans = pairs.get(i) or [(0, 24 * 60)]
        windows.extend((d, a, b) for d in group for a, b in spans)
    order = {d: i for i, d in enumerate(WEEKDAYS)}
    return days, sorted(set(windows), key=lambda w: (order[w[0]], w[1], w[2]))


def _share(text: str, days: list[str]) -> tuple[float | None, tuple[int, ...]]:
    nth = _NTH.search(text)
    if nth:
        weeks = sorted({int(n) for n in re.findall(r"\d", nth.group(0)) if 1 <= int(n) <= 5})
        per_year = sum(12 if n <= 4 else 4 for n in weeks)
        return min(1.0, per_year / WEEKS_PER_YEAR), tuple(weeks)
    per = _PER.search(text)
    if per:
        unit, n = per.group(1), int(per.group(2))
        per_year = {"月": 12 * n, "週": WEEKS_PER_YEAR * n, "年": n}[unit]
        return min(1.0, per_year / WEEKS_PER_YEAR), ()
    dates = _DATES.search(text)
    if dates:
        return min(1.0, 12 * len(re.findall(r"\d{1,2}\s*日", dates.group(0))) / WEEKS_PER_YEAR), ()
    if _BIWEEKLY.search(text):
        return 0.5, ()
    if days:
        return 1.0, ()
    if _MONTHLY.search(text):
        return 12 / WEEKS_PER_YEAR, ()
    return None, ()


@functools.lru_cache(maxsize=4096)
def parse_schedule(text: str | None, days_of_week: str | None = None) -> Schedule:
    """Read a schedule text (and, as a fallback for the weekdays, the ``days_of_week`` column).

    Parameters
    ----------
    text
        The schedule as written (``毎週水曜 10:00-12:00``, ``第1・第3土曜``, ``月2回``, …).
    days_of_week
        Weekdays as stored by the importer (``水`` or ``月,木``), used when the text names none.

    Returns
    -------
    Schedule
    """
    raw = "" if text is None or (isinstance(text, float) and text != text) else str(text)
    norm = unicodedata.normalize("NFKC", raw).translate(_KANJI_DIGITS)
    norm = re.sub(r"(\d)時半", r"\1:30", norm)
    outside = _PAREN.sub(" ", norm)
    always = bool(_ALWAYS.search(outside)) and not _day_groups(outside)
    days, windows = _windows(outside)
    if not days:  # e.g. 可燃ごみ収集日の朝(月・木): the weekdays are in the remark
        inner = " ".join(_PAREN.findall(norm))
        days, inner_windows = _windows(inner)
        spans = _spans(outside)
        windows = [(d, a, b) for d in days for a, b in spans] if spans else inner_windows
    if not days and days_of_week:
        days = [d for d in WEEKDAYS if d in str(days_of_week)]
        windows = [(d, a, b) for d in days for a, b in _spans(outside) or [(0, 24 * 60)]]
    if always:
        days = list(WEEKDAYS)
        windows = [(d, 0, 24 * 60) for d in WEEKDAYS]
        return Schedule(raw, tuple(days), tuple(windows), (), 1.0, True)
    share, weeks = _share(norm, days)
    return Schedule(raw, tuple(days), tuple(windows), weeks, share, False)


def parse_time_window(text: str | None) -> tuple[int, int] | None:
    """``"10:00-12:00"`` (or ``10時〜12時``, ``午前``, ``午後``) as minutes; ``None`` for no text.

    Raises ``ValueError`` for a text that is not a time window.

    Examples
    --------
    >>> parse_time_window("10:00-12:00"), parse_time_window("午後")
    ((600, 720), (780, 1020))
    """
    if text is None or not str(text).strip():
        return None
    norm = unicodedata.normalize("NFKC", str(text)).strip()
    times = _times(norm)
    if times:
        return times[0][1]
    if norm in _PART_OF_DAY:
        return _PART_OF_DAY[norm]
    raise ValueError(f"time window {text!r} is not like 10:00-12:00")


def schedule_table(resources: pd.DataFrame) -> pd.DataFrame:
    """The parsed schedule of every resource (index of ``resources``).

    Columns: ``days`` (``月,木``), ``weekly_share`` (NaN: unknown), ``schedule_known``,
    ``always``, ``schedule`` (the :class:`Schedule` itself, for :meth:`Schedule.is_open`).
    Each distinct text is parsed once.
    """
    text = resources["schedule"] if "schedule" in resources else pd.Series(None, index=resources.index)
    days = resources["days_of_week"] if "days_of_week" in resources else pd.Series(None, index=resources.index)
    keys = list(zip(text.astype(object).where(text.notna(), None), days.astype(object).where(days.notna(), None),
                    strict=True))
    parsed = {key: parse_schedule(*key) for key in set(keys)}
    schedules = pd.Series([parsed[k] for k in keys], index=resources.index, dtype=object)
    return pd.DataFrame({
        "days": schedules.map(lambda s: ",".join(s.days)),
        "weekly_share": schedules.map(lambda s: s.weekly_share).astype("float64"),
        "schedule_known": schedules.map(lambda s: s.known).astype(bool),
        "always": schedules.map(lambda s: s.always).astype(bool),
        "schedule": schedules,
    }, index=resources.index)
