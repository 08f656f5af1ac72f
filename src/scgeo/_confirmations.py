"""Confirmation records of resources: building, checking and deriving (used by the workspace).

``last_confirmed`` of a resource is derived: the latest ``confirmed_on`` of its confirmations
whose finding is not 連絡つかず (a call nobody answered confirms nothing). A workspace made
before the ``confirmations`` layer existed is read as if each resource's ``last_confirmed`` had
been one confirmation (method ``prior_record`` 以前の記録), so nothing is lost on migration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from scgeo._errors import InputError
from scgeo._frames import apply_changes, concat_frames
from scgeo._text import normalise_header
from scgeo.schema import (
    CONFIRMATION_FINDINGS,
    CONFIRMATION_METHODS,
    CONFIRMATIONS,
    RESOURCES,
    REVIEW_FLAGS,
    coerce,
    empty_frame,
    validate,
)

__all__ = ["FINDING_STATUS", "ConfirmationStore", "derive_last_confirmed", "migrated", "new_confirmations",
           "new_flags", "resolve_code"]

# What a finding does to the resource's status (unchanged / changed keep it; a paused resource
# found running again is set active by its corrections, not by the finding alone).
FINDING_STATUS = {"paused": "paused", "closed": "closed"}
MIGRATED_SOURCE = "旧版の最終確認日から移行"
_COUNTING = [k for k in CONFIRMATION_FINDINGS if k != "unreachable"]


def resolve_code(value: object, table: dict[str, str], what: str) -> str:
    """The code for a code or its Japanese label (NFKC-folded); ``InputError`` otherwise."""
    key = normalise_header(value)
    for code, label in table.items():
        if key in (normalise_header(code), normalise_header(label)):
            return code
    raise InputError(f"{what}「{value}」は使えません。使える値: {'、'.join(table.values())}")


def migrated(resources: pd.DataFrame) -> pd.DataFrame:
    """Confirmations standing for the ``last_confirmed`` dates of an older workspace."""
    dated = resources[resources["last_confirmed"].notna()]
    frame = pd.DataFrame({
        "confirmation_id": "M-" + dated["resource_id"].astype(str), "resource_id": dated["resource_id"],
        "confirmed_on": dated["last_confirmed"], "method": "prior_record", "found": "unchanged",
        "source": MIGRATED_SOURCE,
    })
    return coerce(frame, CONFIRMATIONS) if len(frame) else empty_frame(CONFIRMATIONS)


def new_confirmations(rows: pd.DataFrame, existing: pd.DataFrame, resource_ids: set[str], *,
                      source: str | None = None) -> pd.DataFrame:
    """Check new confirmation rows and number them after ``existing``.

    ``method`` and ``found`` may be codes or Japanese labels. Raises ``InputError`` with the
    first problem (unknown resource, unreadable date, unknown method or finding).
    """
    rows = rows.copy()
    for col, table, what in (("method", CONFIRMATION_METHODS, "確認方法"),
                             ("found", CONFIRMATION_FINDINGS, "確認結果")):
        rows[col] = [resolve_code(v, table, what) for v in rows[col]]
    unknown = sorted(set(rows["resource_id"].astype(str)) - resource_ids)
    if unknown:
        raise InputError(f"資源ID {', '.join(unknown[:5])} は社会資源にありません。")
    numbers = pd.to_numeric(existing["confirmation_id"].str.extract(r"^C(\d+)$")[0], errors="coerce")
    start = int(numbers.max()) + 1 if numbers.notna().any() else 1
    rows["confirmation_id"] = [f"C{n:06d}" for n in range(start, start + len(rows))]
    if "source" not in rows:
        rows["source"] = source
    checked = validate(rows, CONFIRMATIONS)
    if len(checked.rejected):
        raise InputError(f"確認の記録: {checked.rejected['reason'].iloc[0]}")
    return checked.accepted


def derive_last_confirmed(resources: pd.DataFrame, confirmations: pd.DataFrame) -> pd.Series:
    """The latest counting confirmation of every resource (NaT: never confirmed)."""
    counting = confirmations[confirmations["found"].isin(_COUNTING)]
    latest = counting.groupby("resource_id")["confirmed_on"].max()
    found = resources["resource_id"].map(dict(zip(latest.index, latest, strict=True)))
    return pd.to_datetime(found.astype(object)).astype("datetime64[ms]")


def new_flags(existing: pd.DataFrame, resource_ids: list[str], *, reason: str, on: pd.Timestamp,
              source: str | None) -> pd.DataFrame:
    """Review flags for ``resource_ids`` (those with the same open reason already are skipped)."""
    live = existing[existing["resolved_on"].isna() & (existing["reason"] == reason)]
    ids = [r for r in dict.fromkeys(resource_ids) if r not in set(live["resource_id"])]
    numbers = pd.to_numeric(existing["flag_id"].str.extract(r"^F(\d+)$")[0], errors="coerce")
    start = int(numbers.max()) + 1 if numbers.notna().any() else 1
    frame = pd.DataFrame({"flag_id": [f"F{n:06d}" for n in range(start, start + len(ids))], "resource_id": ids,
                          "raised_on": on, "reason": reason, "source": source})
    return coerce(frame, REVIEW_FLAGS)


class ConfirmationStore:
    """The confirmation records and review flags of a :class:`scgeo.workspace.Workspace` (mixed in)."""

    def confirmations(self) -> pd.DataFrame:
        """The confirmation records, oldest first.

        A resource whose ``last_confirmed`` no record explains (a workspace made before this
        layer existed, or resources written without going through an import, such as
        ``scgeo build``) reads as one record of that date (method ``prior_record``, 以前の
        記録); the next confirmation written stores it, so no date is lost.
        """
        resources = self.read("resources")
        stored = self.read("confirmations") if "confirmations" in self.layer_names() else empty_frame(CONFIRMATIONS)
        derived = derive_last_confirmed(resources, stored)
        unexplained = resources["last_confirmed"].notna() & (derived.isna() | (derived < resources["last_confirmed"]))
        frame = concat_frames(stored, migrated(resources[unexplained.to_numpy()]))
        return frame.sort_values(["confirmed_on", "confirmation_id"]).reset_index(drop=True)

    def review_flags(self) -> pd.DataFrame:
        """Staleness signals (要確認): missing from a re-imported list, failed referral, no answer."""
        return self.read("review_flags")

    def record_confirmations(self, rows: pd.DataFrame | list[dict], *,
                             corrections: Mapping[str, Mapping[str, object]] | None = None,
                             user: str | None = None, source: str | None = None,
                             expected_version: int | None = None) -> pd.DataFrame:
        """Record confirmations (and the corrections they brought) in one transaction.

        Parameters
        ----------
        rows
            One row per confirmation: ``resource_id``, ``confirmed_on``, ``method`` (電話, 訪問,
            書面, 事業者の回答, 公開データの更新, or the codes), ``found`` (変わりなし, 内容変更,
            休止, 廃止, 連絡つかず), optional ``confirmed_by``, ``changes``, ``note``.
        corrections
            ``{resource_id: {column: value}}``: corrected fields (validated like an edit).
        user, source
            Recorded in the history and on the rows.
        expected_version
            The workspace version the caller read (``WorkspaceConflictError`` when it changed since).

        Returns
        -------
        DataFrame
            The confirmation rows written, with their ``confirmation_id``.

        Notes
        -----
        ``last_confirmed`` of each resource becomes its latest confirmation that is not
        連絡つかず; 休止 and 廃止 set the status; a confirmation resolves the resource's open
        review flags; 連絡つかず raises one.
        """
        rows = pd.DataFrame(rows)
        with self.transaction(expected_version=expected_version) as tx:  # read under the lock
            resources = self.read("resources")
            stored = self.confirmations()
            new = new_confirmations(rows, stored, set(resources["resource_id"]), source=source)
            changes = {rid: dict(c) for rid, c in (corrections or {}).items()}
            for rid, found in zip(new["resource_id"], new["found"], strict=True):
                if found in FINDING_STATUS:
                    changes.setdefault(rid, {})["status"] = FINDING_STATUS[found]
            updated, history = apply_changes(resources, RESOURCES, changes) if changes else (resources, [])
            before = updated.set_index("resource_id")["last_confirmed"]
            every = concat_frames(stored, new)
            updated["last_confirmed"] = derive_last_confirmed(updated, every).to_numpy()
            after = updated.set_index("resource_id")["last_confirmed"]
            flags = self.review_flags()
            counting = new[new["found"] != "unreachable"].groupby("resource_id")["confirmed_on"].max()
            open_ = flags["resolved_on"].isna() & flags["resource_id"].isin(counting.index)
            if open_.any():
                latest = dict(zip(counting.index, counting, strict=True))
                flags.loc[open_, "resolved_on"] = pd.to_datetime(flags.loc[open_, "resource_id"].map(latest)).to_numpy()
            unreachable = new[new["found"] == "unreachable"]
            if len(unreachable):
                raised = new_flags(flags, unreachable["resource_id"].tolist(), reason="unreachable",
                                   on=unreachable["confirmed_on"].max(), source=source or "確認")
                flags = concat_frames(flags, raised)
            tx.write("resources", updated)
            tx.write("confirmations", every)
            tx.write("review_flags", flags)
            for row in new.itertuples():
                note = f"{CONFIRMATION_METHODS[row.method]} / {CONFIRMATION_FINDINGS[row.found]}"
                tx.record(user=user, layer="resources", action="confirm", feature_id=row.resource_id,
                          field="last_confirmed", old=before.get(row.resource_id),
                          new=after.get(row.resource_id), note=note)
            for row in history:
                tx.record(user=user, layer="resources", action="update", **row)
        return new

    def confirm_resource(self, resource_id: str, *, on: dt.date | None = None, user: str | None = None,
                         method: str = "phone", found: str = "unchanged", note: str | None = None,
                         expected_version: int | None = None) -> pd.Series:
        """Record that a resource was confirmed today (or ``on``); returns the updated resource.

        ``method`` (電話 by default) and ``found`` (変わりなし by default) take codes or labels.
        """
        day = pd.Timestamp(on or dt.date.today())
        self.record_confirmations([{"resource_id": resource_id, "confirmed_on": day, "method": method,
                                    "found": found, "confirmed_by": user, "note": note}], user=user,
                                  expected_version=expected_version)
        resources = self.read("resources")
        return resources[resources["resource_id"] == resource_id].iloc[0]

    def flag_resources(self, resource_ids: list[str], *, reason: str, source: str | None = None,
                       on: dt.date | None = None, user: str | None = None) -> int:
        """Mark resources 要確認 (``reason``: ``missing_from_source``, ``failed_referral``,
        ``unreachable``) with where the signal came from; returns how many flags were added.
        """
        known = self.ids("resources")
        unknown = sorted(set(resource_ids) - known)
        if unknown:
            raise InputError(f"資源ID {', '.join(unknown[:5])} は社会資源にありません。")
        if reason not in REVIEW_FLAGS.column("reason").choices:
            raise InputError(f"要確認の理由「{reason}」は使えません。")
        with self.transaction() as tx:  # read under the lock: a concurrent flag is not lost
            flags = self.review_flags()
            raised = new_flags(flags, list(resource_ids), reason=reason, on=pd.Timestamp(on or dt.date.today()),
                               source=source)
            if not len(raised):
                return 0
            tx.write("review_flags", concat_frames(flags, raised))
            for rid in raised["resource_id"]:
                tx.record(user=user, layer="resources", action="flag", feature_id=rid, new=reason, note=source)
        return len(raised)

    def _import_resources(self, tx, current: pd.DataFrame, frame: pd.DataFrame, *, mode: str,
                          list_name: str | None, user: str | None, source: str | None, method: str) -> None:
        """Resources of an import, with their dates as confirmations and the review flags of a refresh."""
        incoming = set(frame["resource_id"])
        clash = set(current["resource_id"]) & incoming
        if clash and mode != "refresh":
            raise InputError(f"ID {', '.join(sorted(clash)[:5])} は既に登録されています。"
                             "置き換える場合は --replace を付けてください。")
        kept = current[~current["resource_id"].isin(incoming)]
        merged = concat_frames(kept, frame)
        stored = self.confirmations()
        dated = frame[frame["last_confirmed"].notna()]
        rows = pd.DataFrame({"resource_id": dated["resource_id"], "confirmed_on": dated["last_confirmed"],
                             "method": method, "found": "unchanged", "note": "取込ファイルの最終確認日"})
        new = new_confirmations(rows, stored, set(merged["resource_id"]), source=source) if len(rows) else None
        every = concat_frames(stored, new) if new is not None else stored
        merged["last_confirmed"] = derive_last_confirmed(merged, every).to_numpy()
        tx.write("resources", merged)
        tx.write("confirmations", every)
        if mode != "refresh":
            return
        flags = self.review_flags()
        back = flags["resolved_on"].isna() & (flags["reason"] == "missing_from_source") & \
            flags["resource_id"].isin(incoming)
        flags.loc[back, "resolved_on"] = pd.Timestamp(dt.date.today())
        from_list = kept["source"].fillna("").str.contains(list_name, regex=False) & (kept["status"] != "closed")
        missing = kept.loc[from_list, "resource_id"].tolist()
        raised = new_flags(flags, missing, reason="missing_from_source", on=pd.Timestamp(dt.date.today()),
                           source=f"{list_name}({source})" if source else list_name)
        tx.write("review_flags", concat_frames(flags, raised))
        for rid in raised["resource_id"]:
            tx.record(user=user, layer="resources", action="flag", feature_id=rid, new="missing_from_source",
                      note=f"{list_name} の再取込に見当たりません")
