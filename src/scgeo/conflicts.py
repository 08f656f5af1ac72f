"""A save that met someone else's change: both values per field, and the changes that resolve it.

When :meth:`~scgeo.Workspace.update_feature` raises :class:`~scgeo.WorkspaceConflictError`, the
caller still has three things: the feature as it read it (``base``), its own changes (``mine``)
and the feature as it is now (``theirs``, read after the conflict). :func:`field_diffs` lines them
up field by field; :func:`resolve` turns a choice per field (``mine`` or ``theirs``) into the
changes to save against the version read with ``theirs``. Pure: no workspace, no UI.

Examples
--------
>>> diffs = field_diffs({"name": "A", "fee": "無料"}, {"name": "B", "fee": "100円"}, {"name": "C", "fee": "無料"})
>>> [(d.field, d.mine, d.theirs, d.they_changed) for d in diffs]
[('name', 'B', 'C', True), ('fee', '100円', '無料', False)]
>>> resolve(diffs, {"name": "theirs"})
{'fee': '100円'}
>>> resolve(diffs, {"name": "mine", "fee": "theirs"})
{'name': 'B'}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scgeo._frames import text_of

__all__ = ["CHOICES", "FieldDiff", "field_diffs", "resolve", "theirs_only"]

#: The choices per field, as the app labels them.
CHOICES = {"mine": "自分の値", "theirs": "相手の値"}


def _same(a: object, b: object) -> bool:
    if hasattr(a, "equals") and hasattr(b, "equals") and a is not None and b is not None:
        try:
            return bool(a.equals(b))  # shapely geometries
        except (TypeError, AttributeError):
            pass
    return text_of(a) == text_of(b)


@dataclass(frozen=True)
class FieldDiff:
    """One field the caller changed: its value as read, the caller's and the current one."""

    field: str
    base: object
    mine: object
    theirs: object

    @property
    def they_changed(self) -> bool:
        """Whether the other writer changed this field too (a real clash, not only a stale read)."""
        return not _same(self.base, self.theirs)

    @property
    def agree(self) -> bool:
        """Whether both ended with the same value (nothing to choose)."""
        return _same(self.mine, self.theirs)


def field_diffs(base: Mapping[str, object], mine: Mapping[str, object],
                theirs: Mapping[str, object]) -> list[FieldDiff]:
    """One :class:`FieldDiff` per field of ``mine`` (in its order); ``base``/``theirs`` map field → value."""
    return [FieldDiff(f, base.get(f), value, theirs.get(f)) for f, value in mine.items()]


def theirs_only(base: Mapping[str, object], mine: Mapping[str, object], theirs: Mapping[str, object]) -> list[str]:
    """The fields the other writer changed that the caller did not touch (kept as they are now)."""
    return [f for f in theirs if f not in mine and f in base and not _same(base[f], theirs[f])]


def resolve(diffs: list[FieldDiff], choices: Mapping[str, str]) -> dict[str, object]:
    """The changes to save: the caller's value of each field chosen ``mine`` (the default) that differs now.

    A field chosen ``theirs`` keeps the current value, so it is not in the changes; an empty dict
    means there is nothing left to save.
    """
    unknown = sorted(set(choices.values()) - set(CHOICES))
    if unknown:
        raise ValueError(f"choices are 'mine' or 'theirs', got {unknown}")
    return {d.field: d.mine for d in diffs if choices.get(d.field, "mine") == "mine" and not d.agree}
