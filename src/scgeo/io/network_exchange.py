"""The coordinator's network to and from other tools: Kumu-style xlsx and GraphML.

Kumu users keep a map as a workbook of two sheets: **Elements** (``Label``, ``Type``,
``Description``, ``Tags`` …) and **Connections** (``From``, ``To``, ``Type``, …, where From and To
are element labels). scgeo writes that layout (adding ``ID``, ``種類``, ``区域``, ``強さ``, ``開始日``,
``終了日``, ``確認状態`` columns, which Kumu keeps as fields) and reads it back, so a map drawn by hand
in Kumu can come into the workspace. GraphML (``networkx.write_graphml``) is for Gephi, yEd or
a notebook.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo._text import normalise_header
from scgeo.io._tables import read_table
from scgeo.io.organisations import load_organisation_kinds, read_network_table
from scgeo.schema import (
    NODE_TYPE_LABELS,
    TIE_KIND_LABELS,
    TIE_STATUS_LABELS,
    TIE_STRENGTH_LABELS,
    ImportResult,
    load_taxonomy,
)
from scgeo.sheets import write_workbook

__all__ = ["read_kumu", "write_graphml", "write_kumu"]

_ELEMENT_COLUMNS = ["Label", "Type", "Description", "Tags", "ID", "種類", "区域"]
_CONNECTION_COLUMNS = ["From", "To", "Type", "Direction", "強さ", "開始日", "終了日", "確認状態", "Description", "ID"]


def _labels(nodes: pd.DataFrame) -> pd.Series:
    """Element labels, made unique (Kumu joins connections to elements by label)."""
    names = nodes["name"].astype(str)
    repeated = names.duplicated(keep=False)
    return names.where(~repeated, names + " (" + nodes["node_id"].astype(str) + ")")


def _type_label(node_type: str, kind: object) -> str:
    if node_type == "organisation":
        kinds = load_organisation_kinds()
        return kinds[kind].label if kind in kinds else str(kind or "")
    if node_type == "resource":
        return load_taxonomy().label(str(kind))
    return NODE_TYPE_LABELS.get(node_type, node_type)


def write_kumu(
    nodes: pd.DataFrame, ties: pd.DataFrame, path: str | Path, *, area_names: dict[str, str] | None = None
) -> Path:
    """Write nodes and ties as a Kumu-style workbook (sheets ``Elements`` and ``Connections``).

    Parameters
    ----------
    nodes
        ``TieGraph.nodes`` (every organisation, resource, council … to include).
    ties
        The ``ties`` rows to write (all of them, or those in force on a day).
    path
        The ``.xlsx`` file.
    area_names
        ``{area_id: name}`` for the 区域 column.
    """
    labels = _labels(nodes)
    label_of = dict(zip(nodes["node"], labels, strict=True))
    elements = pd.DataFrame(
        {
            "Label": labels,
            "Type": [_type_label(t, k) for t, k in zip(nodes["node_type"], nodes["kind"], strict=True)],
            "Description": None,
            "Tags": nodes["node_type"].map(NODE_TYPE_LABELS),
            "ID": nodes["node"],
            "種類": nodes["node_type"].map(NODE_TYPE_LABELS),
            "区域": nodes["area_id"].map(lambda a: (area_names or {}).get(a, a) if isinstance(a, str) else None),
        },
        columns=_ELEMENT_COLUMNS,
    )
    src = ties["source_type"] + ":" + ties["source_id"].astype(str)
    dst = ties["target_type"] + ":" + ties["target_id"].astype(str)
    connections = pd.DataFrame(
        {
            "From": src.map(label_of).fillna(src),
            "To": dst.map(label_of).fillna(dst),
            "Type": ties["kind"].map(TIE_KIND_LABELS),
            "Direction": np.where(ties["kind"] == "partner", "mutual", "directed"),
            "強さ": ties["strength"].map(TIE_STRENGTH_LABELS),
            "開始日": _dates(ties["started"]),
            "終了日": _dates(ties["ended"]),
            "確認状態": ties["status"].map(TIE_STATUS_LABELS),
            "Description": ties["notes"],
            "ID": ties["tie_id"],
        },
        columns=_CONNECTION_COLUMNS,
    )
    return write_workbook({"Elements": elements, "Connections": connections}, path)


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").where(pd.to_datetime(values).notna(), None)


def read_kumu(
    path: str | Path,
    *,
    existing_org_ids: set[str] | None = None,
    existing_tie_ids: set[str] | None = None,
    known_nodes: dict[str, str] | None = None,
) -> dict[str, ImportResult]:
    """Read a Kumu-style workbook into ``organisations`` and ``ties``.

    Elements whose ``種類`` (or ``Tags``) says 社会資源 or 協議体 are not new organisations: they
    are matched to the workspace's resources and councils by ``ID`` (``resource:R0001``) or by
    name through ``known_nodes`` (``{label: node key}``). Every other element is an organisation
    whose ``Type`` is its kind. A connection whose From or To names no element is rejected with
    the reason.

    Returns
    -------
    dict
        ``{"organisations": ImportResult, "ties": ImportResult}``.
    """
    path = Path(path)
    try:
        elements = read_table(path, sheet="Elements")
        connections = read_table(path, sheet="Connections")
    except InputError as exc:
        raise InputError(
            f"{path.name} は Kumu 形式(シート Elements と Connections)の Excel ではありません。({exc})"
        ) from exc
    if "Label" not in elements:
        raise InputError(f"{path.name} のシート Elements に見出し Label がありません。")
    kind_col = next((c for c in ("種類", "Tags") if c in elements), None)
    node_type = elements[kind_col].map(_node_type) if kind_col else pd.Series("organisation", index=elements.index)
    ids = elements["ID"] if "ID" in elements else pd.Series(None, index=elements.index, dtype=object)
    is_org = node_type == "organisation"
    org_ids = ids.where(ids.fillna("").str.startswith("organisation:"), None).str.removeprefix("organisation:")
    orgs = pd.DataFrame(
        {
            "org_id": org_ids[is_org],
            "name": elements.loc[is_org, "Label"],
            "kind": elements.loc[is_org, "Type"] if "Type" in elements else "other",
            "notes": elements.loc[is_org, "Description"] if "Description" in elements else None,
        }
    )
    if orgs["org_id"].isna().all():
        orgs = orgs.drop(columns="org_id")
    else:
        missing = orgs["org_id"].isna()
        orgs.loc[missing, "org_id"] = [f"K{i:04d}" for i in range(1, int(missing.sum()) + 1)]
    org_result = read_network_table(orgs, "organisations", existing_ids=existing_org_ids)
    # every element's node key: organisations as accepted, others by ID or known name
    label_key: dict[str, str] = {}
    accepted = org_result.accepted
    for label, org_id in zip(accepted["name"], accepted["org_id"], strict=True):
        label_key.setdefault(label, f"organisation:{org_id}")
    for label, key, kind in zip(elements["Label"], ids, node_type, strict=True):
        if kind != "organisation":
            label_key.setdefault(label, key if isinstance(key, str) and ":" in key else (known_nodes or {}).get(label))
    label_key = {k: v for k, v in label_key.items() if v}
    folded = {normalise_header(k): v for k, v in label_key.items()}
    src = connections["From"].map(lambda v: folded.get(normalise_header(v)) if isinstance(v, str) else None)
    dst = connections["To"].map(lambda v: folded.get(normalise_header(v)) if isinstance(v, str) else None)
    frame = pd.DataFrame(
        {
            "tie_id": connections["ID"] if "ID" in connections else None,
            "kind": connections.get("Type", pd.Series("連携", index=connections.index)).fillna("連携"),
            "source_type": src.str.split(":").str[0],
            "source_id": src.str.split(":", n=1).str[1],
            "target_type": dst.str.split(":").str[0],
            "target_id": dst.str.split(":", n=1).str[1],
            "strength": connections.get("強さ", connections.get("Strength")),
            "started": connections.get("開始日"),
            "ended": connections.get("終了日"),
            "status": connections.get("確認状態"),
            "origin": f"Kumu: {path.name}",
            "notes": connections.get("Description"),
        },
        index=connections.index,
    )
    if frame["tie_id"].isna().all():
        frame = frame.drop(columns="tie_id")
    unknown = src.isna() | dst.isna()
    tie_result = read_network_table(frame[~unknown], "ties", existing_ids=existing_tie_ids)
    if unknown.any():
        bad = connections[unknown].reset_index()
        bad["reason"] = [
            f"「{a if s is None else b}」は要素(Elements)の一覧にありません"
            for a, b, s in zip(
                connections.loc[unknown, "From"], connections.loc[unknown, "To"], src[unknown], strict=True
            )
        ]
        tie_result = ImportResult(
            tie_result.accepted, pd.concat([tie_result.rejected, bad], ignore_index=True), tie_result.messages
        )
    return {"organisations": org_result, "ties": tie_result}


def _node_type(value: object) -> str:
    key = normalise_header(value) if isinstance(value, str) else ""
    for code, label in NODE_TYPE_LABELS.items():
        if key in (normalise_header(code), normalise_header(label)):
            return code
    return "organisation"


def write_graphml(nodes: pd.DataFrame, edges: pd.DataFrame, path: str | Path) -> Path:
    """Write the network as GraphML (node attributes name/type/kind/area; edge kind/strength/weight)."""
    import networkx as nx

    g = nx.Graph()
    for row in nodes.itertuples(index=False):
        g.add_node(
            row.node,
            name=str(row.name),
            node_type=row.node_type,
            kind=str(row.kind or ""),
            area_id=str(row.area_id or ""),
        )
    for row in edges.itertuples(index=False):
        g.add_edge(
            row.source,
            row.target,
            tie_id=row.tie_id,
            kind=row.kind,
            strength=str(row.strength or ""),
            weight=float(row.weight),
        )
    path = Path(path)
    nx.write_graphml(g, path, encoding="utf-8")
    return path
