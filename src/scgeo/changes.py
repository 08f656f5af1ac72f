"""Signed change-sets: the changes since a version, carried to another copy of the workspace and applied.

For offices that cannot reach the shared server (LGWAN-side PCs): a GeoPackage copy made at
version ``V`` (``scgeo migrate URL 写し.gpkg`` keeps the version) is edited offline;
:func:`export_changes` writes what changed after ``V`` — per feature, its values now (or that it
was deleted) and which fields changed — to a JSON file signed with HMAC-SHA256; on the other
side :func:`apply_changes` checks the signature and the municipality, then applies each feature
against version ``V`` through the workspace API: a feature someone changed there after ``V`` is
not overwritten but reported as a conflict (both values, per field). Needs (要配慮個人情報) and
users never travel in a change-set. The key is a shared secret of the offices (``SCGEO_CHANGES_KEY``
or a key file), never stored in the file.

Examples
--------
>>> sign({"a": 1}, b"key") == sign({"a": 1}, b"key"), sign({"a": 1}, b"key") == sign({"a": 2}, b"key")
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scgeo._errors import InputError, WorkspaceConflictError
from scgeo._frames import text_of
from scgeo.workspace import STORED_LAYERS, Workspace

__all__ = ["FORMAT", "KEY_ENV", "ApplyReport", "apply_changes", "export_changes", "load_key", "sign"]

FORMAT = "scgeo-changes/1"
KEY_ENV = "SCGEO_CHANGES_KEY"
#: The layers a change-set carries (never needs, users, the history itself or derived tables).
CARRIED = ("resources", "venues", "organisations", "ties", "councils", "council_meetings", "helpers", "activities",
           "plans")


# Fields that follow other records (a resource's last_confirmed follows its confirmations, not carried).
_DERIVED = {"resources": ("last_confirmed",)}


def load_key(key_file: str | Path | None = None) -> bytes:
    """The shared signing key: the file's contents, else ``$SCGEO_CHANGES_KEY`` (``InputError`` without one)."""
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes().strip()
        except OSError as exc:
            raise InputError(f"鍵のファイル {key_file} を読めません: {exc}") from exc
    else:
        key = os.environ.get(KEY_ENV, "").encode("utf-8")
    if len(key) < 16:
        raise InputError(f"変更ファイルの署名には16文字以上の共通の鍵が必要です(--key-file か環境変数 {KEY_ENV})。")
    return key


def _canonical(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(body: dict, key: bytes) -> str:
    """HMAC-SHA256 (hex) of ``body`` as canonical JSON."""
    return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()


def _values(row: pd.Series) -> dict:
    out = {}
    for name, value in row.items():
        if name == "geometry":
            out[name] = None if value is None or value.is_empty else value.wkt
        else:
            out[name] = text_of(value)
    return out


def export_changes(ws: Workspace, since: int, out: str | Path, *, key: bytes) -> dict:
    """Write the changes of ``ws`` after version ``since`` to ``out`` (signed JSON); returns the body.

    One entry per changed feature of :data:`CARRIED` layers: ``action`` (``upsert`` or ``delete``),
    the ``fields`` that changed (empty for a feature added or imported: all of them) and its
    ``values`` now. Whole-layer changes (an import) carry every feature of that layer.
    """
    since = int(since)
    edits = ws.edits()
    later = edits[(edits["version"].fillna(0) > since) & edits["layer"].isin(CARRIED)]
    entries = []
    for layer in CARRIED:
        rows = later[later["layer"] == layer]
        if not len(rows):
            continue
        frame = ws.read(layer)
        id_col = STORED_LAYERS[layer].id_column
        current = frame.set_index(frame[id_col].astype(str))
        whole = rows["feature_id"].isna().any()
        ids = list(dict.fromkeys([*rows["feature_id"].dropna().astype(str), *(current.index if whole else [])]))
        for fid in ids:
            mine = rows[rows["feature_id"] == fid]
            fields = sorted(set(mine.loc[mine["action"] == "update", "field"].dropna()))
            if whole or (mine["action"] != "update").any():
                fields = []  # added, imported, confirmed …: the whole feature
            if fid in current.index:
                entries.append({"layer": layer, "feature_id": fid, "action": "upsert", "fields": fields,
                                "values": _values(current.loc[fid])})
            elif (mine["action"] == "delete").any():
                entries.append({"layer": layer, "feature_id": fid, "action": "delete", "fields": [], "values": None})
    body = {"format": FORMAT, "muni_code": ws.meta().get("muni_code"), "since": since, "until": ws.version(),
            "source": ws.location, "changes": entries}
    Path(out).write_text(json.dumps({**body, "signature": sign(body, key)}, ensure_ascii=False, indent=1),
                         encoding="utf-8")
    return body


@dataclass
class ApplyReport:
    """What :func:`apply_changes` did: applied entries, and conflicts with both values per field."""

    applied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        """One line in Japanese."""
        return (f"反映 {len(self.applied)} 件、変更なし {len(self.unchanged)} 件、"
                f"衝突 {len(self.conflicts)} 件(衝突は反映していません)")


def _decode(layer: str, values: dict) -> dict:
    from shapely import wkt

    out = dict(values)
    if "geometry" in out:
        out["geometry"] = wkt.loads(out["geometry"]) if out["geometry"] else None
    return {k: v for k, v in out.items() if k in STORED_LAYERS[layer].names or k == "geometry"}


def apply_changes(ws: Workspace, path: str | Path, *, key: bytes, user: str | None = None) -> ApplyReport:
    """Apply a change-set written by :func:`export_changes` to ``ws`` (signature and municipality checked).

    Each feature is written against the change-set's ``since`` version: one changed in ``ws`` after
    that is left as it is and reported in ``conflicts`` (``{"layer", "feature_id", "fields":
    {field: {"theirs": value here, "mine": value in the file}}}``). Raises ``InputError`` on a bad
    signature, another format or another municipality (nothing applied).
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"変更ファイル {path} を読めません: {exc}") from exc
    signature = document.pop("signature", None)
    if not isinstance(signature, str) or not hmac.compare_digest(signature, sign(document, key)):
        raise InputError(f"変更ファイル {path} の署名が合いません(鍵が違うか、ファイルが書き換えられています)。"
                         "何も反映していません。")
    if document.get("format") != FORMAT:
        raise InputError(f"変更ファイルの形式 {document.get('format')} は読めません({FORMAT} だけ)。")
    if str(document.get("muni_code")) != str(ws.meta().get("muni_code")):
        raise InputError(f"変更ファイルは市町村コード {document.get('muni_code')} のものです"
                         f"(このワークスペースは {ws.meta().get('muni_code')})。何も反映していません。")
    since, report = int(document["since"]), ApplyReport()
    for entry in document["changes"]:
        layer, fid = entry["layer"], str(entry["feature_id"])
        if layer not in CARRIED:
            raise InputError(f"変更ファイルに運べないレイヤ {layer} があります。何も反映していません。")
        name = f"{STORED_LAYERS[layer].label} {fid}"
        frame = ws.read(layer)
        id_col = STORED_LAYERS[layer].id_column
        here = frame[frame[id_col].astype(str) == fid]
        try:
            if entry["action"] == "delete":
                if not len(here):
                    report.unchanged.append(name)
                    continue
                ws.delete_feature(layer, fid, user=user, feature_version=since)
            else:
                values = _decode(layer, entry["values"])
                if not len(here):
                    if ws.changed_since(layer, fid, since).empty:
                        ws.add_feature(layer, values, user=user)
                    else:  # deleted here after the copy was made
                        raise WorkspaceConflictError(f"{name} はこちらで削除されています。")
                else:
                    current = _values(here.iloc[0])
                    fields = [f for f in entry["fields"] or values if f not in (id_col, *_DERIVED.get(layer, ()))]
                    changes = {f: values[f] for f in fields
                               if (current.get(f) if f != "geometry" else current.get("geometry"))
                               != entry["values"].get(f)}
                    if not changes:
                        report.unchanged.append(name)
                        continue
                    ws.update_feature(layer, fid, changes, user=user, feature_version=since)
        except WorkspaceConflictError:
            current = _values(here.iloc[0]) if len(here) else {}
            theirs_values = entry["values"] or {}
            fields = entry["fields"] or sorted(set(current) | set(theirs_values))
            report.conflicts.append({"layer": layer, "feature_id": fid, "fields": {
                f: {"theirs": current.get(f), "mine": theirs_values.get(f)} for f in fields
                if current.get(f) != theirs_values.get(f)}})
            continue
        report.applied.append(name)
    return report
