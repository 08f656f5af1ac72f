"""Workspace-level runs for the coordinator's network: the graph of a day, an area's part, the summary.

These read the workspace and call the pure functions of :mod:`scgeo.analysis.ties`; the CLI, the
app page and the notebook use them, so the three show the same figures.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from scgeo.analysis.ties import TieGraph, network_metrics, node_areas, tie_changes, tie_graph, ties_by_area

__all__ = ["area_subgraph", "network_summary", "workspace_graph"]


def workspace_graph(
    workspace, *, on: object = None, include_proposed: bool = False, with_resources: bool = True
) -> TieGraph:
    """The network in force on ``on`` (default today) from the workspace's layers."""
    return tie_graph(
        workspace.read("ties"),
        organisations=workspace.read("organisations"),
        resources=workspace.read("resources") if with_resources else None,
        councils=workspace.read("councils"),
        on=on,
        include_proposed=include_proposed,
    )


def area_subgraph(graph: TieGraph, areas, area_id: str, *, level: str | None = None) -> TieGraph:
    """The nodes in area ``area_id`` (any level) and everything they are tied to directly."""
    if level is None:
        match = areas.loc[areas["area_id"] == area_id, "level"]
        if not len(match):
            from scgeo._errors import InputError

            raise InputError(f"区域「{area_id}」はワークスペースにありません。")
        level = str(match.iloc[0])
    where = node_areas(graph, areas, level=level)
    inside = set(where.index[where == area_id])
    touching = set(graph.edges.loc[graph.edges["source"].isin(inside), "target"]) | set(
        graph.edges.loc[graph.edges["target"].isin(inside), "source"]
    )
    keep = inside | touching
    nodes = graph.nodes[graph.nodes["node"].isin(keep)].reset_index(drop=True)
    edges = graph.edges[
        graph.edges["source"].isin(keep)
        & graph.edges["target"].isin(keep)
        & (graph.edges["source"].isin(inside) | graph.edges["target"].isin(inside))
    ]
    return TieGraph(nodes, edges.reset_index(drop=True), graph.dangling, graph.on, graph.closed_ties)


def network_summary(workspace, *, on: object = None, since: object = None, level: str = "living_area") -> dict:
    """The figures of ネットワーク構築 for a report: counts, brokers, isolates, change, ties by area.

    Returns
    -------
    dict
        ``on``, ``since``, ``organisations``, ``ties`` (in force), ``components``, ``largest_component``,
        ``isolated`` (organisations with no tie: names), ``brokers`` (name, betweenness, degree),
        ``communities``, ``by_kind`` (ties per kind), ``new_ties`` / ``lost_ties`` since ``since``
        (default: a year before ``on``), ``by_area`` (rows of :func:`ties_by_area`), ``dangling``.
    """
    day = pd.Timestamp(on if on is not None else dt.date.today()).normalize()
    start = pd.Timestamp(since).normalize() if since is not None else day - pd.DateOffset(years=1)
    graph = workspace_graph(workspace, on=day, with_resources=True)
    metrics = network_metrics(graph)
    orgs = metrics[metrics["node_type"] == "organisation"]
    changes = tie_changes(workspace.read("ties"), start, day)
    brokers = metrics[metrics["broker"]].sort_values(["betweenness", "name"], ascending=[False, True])
    return {
        "on": day.date().isoformat(),
        "since": start.date().isoformat(),
        "organisations": len(orgs),
        "ties": len(graph.edges),
        "components": int(metrics.loc[~metrics["isolated"], "component"].nunique()),
        "largest_component": int(metrics["component_size"].max()) if len(metrics) else 0,
        "isolated": orgs.loc[orgs["isolated"], "name"].astype(str).tolist(),
        "brokers": [
            {"name": str(r.name_), "betweenness": round(float(r.betweenness), 4), "degree": int(r.degree)}
            for r in brokers.rename(columns={"name": "name_"}).itertuples()
        ],
        "communities": int(metrics["community"].nunique()) if len(metrics) else 0,
        "by_kind": {str(k): int(v) for k, v in graph.edges["kind"].value_counts().sort_index().items()},
        "new_ties": len(changes["new"]),
        "lost_ties": len(changes["lost"]),
        "by_area": ties_by_area(graph, workspace.areas(), level=level).to_dict("records"),
        "dangling": len(graph.dangling),
        "closed_ties": int(graph.closed_ties),
    }
