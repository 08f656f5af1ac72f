"""``scgeo org``, ``scgeo ties`` and ``scgeo hsds``: the coordinator's network (ネットワーク構築).

- ``scgeo org add|import|list``: organisations (and, with ``import --layer``, ties, 協議体, their
  meetings and 担い手 counts; a Kumu workbook is recognised by its two sheets);
- ``scgeo ties import|export|report|propose|view``: ties, Kumu xlsx / GraphML, the figures of
  function B (brokers, isolates, change since a date, ties per 圏域), ties proposed from
  meetings, ecomaps and area networks (HTML / PDF / PNG);
- ``scgeo hsds export|import``: Open Referral HSDS 3.0 tabular packages.
"""

from __future__ import annotations

import json
from pathlib import Path

from scgeo._errors import InputError
from scgeo.commands import parse_mapping, write_rejected

__all__ = ["register"]

_TABLE_LAYERS = ("organisations", "ties", "councils", "council_meetings", "helpers")
_LAYER_LABELS = {
    "organisations": "関係団体",
    "ties": "つながり",
    "councils": "協議体",
    "council_meetings": "協議体の開催",
    "helpers": "担い手(人数)",
    "resources": "社会資源",
}


def _is_kumu(path: Path) -> bool:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True)
    except Exception:  # not a workbook: read_table reports it properly
        return False
    names = set(workbook.sheetnames)
    workbook.close()
    return {"Elements", "Connections"} <= names


def _report(layer: str, result, source: Path, ws) -> None:
    print(f"{_LAYER_LABELS.get(layer, layer)}: 取込 {len(result.accepted)} 件、除外 {len(result.rejected)} 件")
    for message in result.messages:
        print(f"  注意: {message}")
    for _, row in result.rejected.head(5).iterrows():
        print(f"  {row['source_row']}行目: {row['reason']}")
    if len(result.rejected):
        out = write_rejected(result.rejected, ws.path, source, layer=layer, name=f"{source.stem}_{layer}_rejected.csv")
        print(f"  除外した行と理由: {out}")


def _write(ws, results: dict, source: Path, *, replace: bool, user: str | None) -> int:
    written = 0
    for layer, result in results.items():
        _report(layer, result, source, ws)
        if len(result.accepted) or replace:
            written += ws.import_result(
                layer, result, mode="replace" if replace else "append", user=user, source=source.name
            )
    if not written:
        raise InputError(f"{source.name} から取り込める行がありませんでした(除外の理由は上のとおりです)。")
    return 0


def _known_nodes(ws) -> dict[str, str]:
    """``{name: node key}`` of resources and councils, for Kumu elements that are not organisations."""
    nodes: dict[str, str] = {}
    for layer, id_col, kind in (("resources", "resource_id", "resource"), ("councils", "council_id", "council")):
        frame = ws.read(layer)
        for name, node_id in zip(frame["name"], frame[id_col], strict=True):
            nodes.setdefault(str(name), f"{kind}:{node_id}")
    return nodes


def _cmd_import(args) -> int:
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    source = Path(args.file)
    if not source.is_file():
        raise InputError(f"ファイル {source} が見つかりません。")
    existing = (lambda layer: None) if args.replace else ws.ids
    if _is_kumu(source):
        from scgeo.io.network_exchange import read_kumu

        results = read_kumu(
            source,
            existing_org_ids=existing("organisations"),
            existing_tie_ids=existing("ties"),
            known_nodes=_known_nodes(ws),
        )
    else:
        from scgeo.io.organisations import read_network_table

        layer = args.layer or args.default_layer
        results = {
            layer: read_network_table(
                source, layer, mapping=parse_mapping(args.mapping), sheet=args.sheet, existing_ids=existing(layer)
            )
        }
    return _write(ws, results, source, replace=args.replace, user=args.user)


def _cmd_org_add(args) -> int:
    import pandas as pd

    from scgeo.io.organisations import load_organisation_kinds, resolve_codes
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    kinds = load_organisation_kinds()
    kind = resolve_codes(pd.Series([args.kind]), kinds).iloc[0]
    if kind is None:
        raise InputError(
            f"団体の種類「{args.kind}」は一覧にありません。使える種類: {'、'.join(k.label for k in kinds.values())}"
        )
    ids = ws.ids("organisations")
    org_id = args.id or next(f"O{i:04d}" for i in range(1, len(ids) + 2) if f"O{i:04d}" not in ids)
    row = ws.add_feature(
        "organisations",
        {
            "org_id": org_id,
            "name": args.name,
            "kind": kind,
            "area_id": args.area,
            "address": args.address,
            "contact": args.contact,
            "lat": args.lat,
            "lon": args.lon,
            "notes": args.notes,
        },
        user=args.user,
    )
    print(f"関係団体を追加しました: {row['org_id']} {row['name']}({kinds[kind].label})")
    return 0


def _cmd_org_list(args) -> int:
    from scgeo.io.organisations import load_organisation_kinds
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    orgs = ws.read("organisations")
    if args.kind:
        orgs = orgs[orgs["kind"] == args.kind]
    if args.area:
        orgs = orgs[orgs["area_id"] == args.area]
    if args.json:
        print(orgs.to_json(orient="records", force_ascii=False, date_format="iso"))
        return 0
    kinds = load_organisation_kinds()
    print(f"関係団体 {len(orgs)} 件")
    for row in orgs.itertuples(index=False):
        label = kinds[row.kind].label if row.kind in kinds else row.kind
        print(f"  {row.org_id}  {row.name}  [{label}]  {row.area_id or ''}")
    return 0


def _day(text: str | None):
    if text is None:
        return None
    import pandas as pd

    try:
        return pd.Timestamp(text).normalize()
    except ValueError as exc:
        raise InputError(f"日付「{text}」を読めません。2026-10-01 のように指定してください。") from exc


def _cmd_ties_export(args) -> int:
    from scgeo.report.network import workspace_graph
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    out = Path(args.out)
    graph = workspace_graph(ws, on=_day(args.on), include_proposed=args.include_proposed)
    if out.suffix.lower() == ".graphml":
        from scgeo.io.network_exchange import write_graphml

        write_graphml(graph.nodes, graph.edges, out)
    elif out.suffix.lower() in (".xlsx", ".xlsm"):
        from scgeo.io.network_exchange import write_kumu

        ties = ws.read("ties")
        areas = ws.areas()
        write_kumu(
            graph.nodes,
            ties if args.all else ties[ties["tie_id"].isin(graph.edges["tie_id"])],
            out,
            area_names=dict(zip(areas["area_id"], areas["name"], strict=True)),
        )
    else:
        raise InputError("--out は .xlsx (Kumu 形式) か .graphml にしてください。")
    print(f"つながりを書き出しました: 要素 {len(graph.nodes)}、つながり {len(graph.edges)} → {out}")
    return 0


def _cmd_ties_report(args) -> int:
    from scgeo.report.network import network_summary
    from scgeo.workspace import Workspace

    summary = network_summary(Workspace.open(args.path), on=_day(args.on), since=_day(args.since), level=args.level)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"関係者ネットワーク({summary['on']} 時点)")
    print(
        f"  団体 {summary['organisations']}、つながり {summary['ties']}、まとまり {summary['components']}"
        f"(最大 {summary['largest_component']})、コミュニティ {summary['communities']}"
    )
    print(
        f"  {summary['since']} からの変化: 新しいつながり {summary['new_ties']}、"
        f"途切れたつながり {summary['lost_ties']}"
    )
    print(
        "  橋渡し役: " + ("、".join(f"{b['name']}({b['betweenness']:.2f})" for b in summary["brokers"][:8]) or "なし")
    )
    print(f"  つながりのない団体 {len(summary['isolated'])}: " + ("、".join(summary["isolated"][:15]) or "なし"))
    for row in summary["by_area"]:
        a, b = row["name_a"] or "市全域・区域なし", row["name_b"] or "市全域・区域なし"
        print(f"    {a} — {b}: {row['ties']}" if not row["within"] else f"    {a} の中: {row['ties']}")
    if summary["dangling"]:
        print(f"  注意: 相手が見つからないつながり {summary['dangling']} 件(団体や資源の削除・ID の誤り)")
    return 0


def _cmd_ties_propose(args) -> int:
    import pandas as pd

    from scgeo.analysis.ties import propose_ties
    from scgeo.report.year import meetings_for_proposals
    from scgeo.schema import ImportResult
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    ties = ws.read("ties")
    # 協議体 meetings and the activity log's meetings with several organisations
    proposals = propose_ties(meetings_for_proposals(ws), ties, min_meetings=args.min_meetings)
    taken = set(ties["tie_id"])
    proposals["tie_id"] = [i if i not in taken else f"P{n}-{i}" for n, i in enumerate(proposals["tie_id"])]
    if not len(proposals):
        print("新しく提案できるつながりはありません(同じ会議に出た団体どうしは、すでにつながっています)。")
        return 0
    result = ImportResult(proposals.assign(started=pd.to_datetime(proposals["started"])), pd.DataFrame())
    from scgeo.schema import TIES, validate

    result = validate(result.accepted, TIES, existing_ids=taken)
    ws.import_result("ties", result, user=args.user, source="協議体の出席と活動記録から提案")
    print(
        f"つながりを {len(result.accepted)} 件提案しました(状態: 提案)。"
        "アプリの「関係者ネットワーク」で確認してください。"
    )
    return 0


def _cmd_ties_view(args) -> int:
    from scgeo.maps.network_view import save_network_view
    from scgeo.report.network import area_subgraph, workspace_graph
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    graph = workspace_graph(ws, on=_day(args.on), with_resources=args.resources or bool(args.focus))
    title = f"{ws.meta().get('muni_name', '')} 関係者ネットワーク".strip()
    if args.area:
        graph = area_subgraph(graph, ws.areas(), args.area)
        names = ws.areas().set_index("area_id")["name"]
        title = f"{names.get(args.area, args.area)} の関係者ネットワーク"
    focus = None
    if args.focus:
        focus = (
            args.focus
            if ":" in args.focus
            else next((k for k in graph.nodes["node"] if k.split(":", 1)[1] == args.focus), args.focus)
        )
        name = graph.nodes.set_index("node")["name"].get(focus, args.focus)
        title = f"エコマップ: {name}"
    out = save_network_view(graph, args.out, title=title, focus=focus, depth=args.depth)
    print(f"{title} → {out}")
    return 0


def _cmd_org_helpers(args) -> int:
    from scgeo.analysis.helpers import helpers_vs_needs
    from scgeo.privacy import publish_needs
    from scgeo.schema import load_taxonomy
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    areas = ws.areas()
    # the need counts leave the workspace: audited against every earlier release and recorded
    needs = publish_needs(ws, level=args.level, purpose="担い手とニーズ (scgeo org helpers)")
    table = helpers_vs_needs(ws.read("helpers"), needs.table, areas=areas, organisations=ws.read("organisations"),
                             level=args.level, as_of=_day(args.on))
    if args.json:
        print(table.drop(columns=["needs_count"]).to_json(orient="records", force_ascii=False))
        return 0
    tax = load_taxonomy()
    print("担い手(活動中の人数)と未対応のニーズ(件数、5未満は秘匿)")
    for row in table.itertuples(index=False):
        print(f"  {row.area_name} {tax.label(row.activity)}: 未対応のニーズ {row.needs} 件、"
              f"活動中の担い手 {row.active} 人(養成講座修了 {row.trained} 人)")
    return 0


def _cmd_hsds_export(args) -> int:
    from scgeo.io.hsds import export_hsds
    from scgeo.municipalities import lookup
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    meta = ws.meta()
    muni = lookup(meta.get("muni_code", ""))
    written = export_hsds(
        args.out,
        resources=ws.read("resources"),
        organisations=ws.read("organisations"),
        areas=ws.areas(),
        muni_code=meta.get("muni_code", ""),
        muni_name=meta.get("muni_name", ""),
        prefecture=args.prefecture or (muni.prefecture if muni else ""),
    )
    print(f"HSDS 3.0 の表形式で書き出しました: {len(written)} ファイル → {args.out}")
    return 0


def _cmd_hsds_import(args) -> int:
    from scgeo.io.hsds import read_hsds
    from scgeo.workspace import Workspace

    ws = Workspace.open(args.path)
    folder = Path(args.folder)
    results = read_hsds(
        folder,
        existing_resource_ids=None if args.replace else ws.ids("resources"),
        existing_org_ids=None if args.replace else ws.ids("organisations"),
    )
    return _write(ws, results, folder / "services.csv", replace=args.replace, user=args.user)


def register(sub) -> None:
    """Add ``scgeo org``, ``scgeo ties`` and ``scgeo hsds``."""
    org = sub.add_parser("org", help="関係団体(自治会・NPO・商店など)を追加・取込・一覧")
    org_sub = org.add_subparsers(dest="org_command", required=True, metavar="操作")
    p = org_sub.add_parser("add", help="関係団体を1件追加する")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--name", required=True, help="団体名")
    p.add_argument("--kind", required=True, help="団体の種類 (自治会・町内会、NPO法人、商店・企業 …)")
    p.add_argument("--id", help="団体ID (既定: O0001 からの番号)")
    p.add_argument("--area", help="活動区域ID")
    p.add_argument("--address", help="住所")
    p.add_argument("--contact", help="団体の連絡先 (個人名は書かない)")
    p.add_argument("--lat", type=float, help="緯度")
    p.add_argument("--lon", type=float, help="経度")
    p.add_argument("--notes", help="備考")
    p.add_argument("--user", help="編集履歴に記録する名前")
    p.set_defaults(func=_cmd_org_add)
    p = org_sub.add_parser("import", help="関係団体などの一覧 (CSV / Excel / Kumu 形式) を取り込む")
    _import_arguments(p, "organisations")
    p = org_sub.add_parser("list", help="関係団体の一覧を表示する")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--kind", help="団体の種類のコードで絞り込む")
    p.add_argument("--area", help="活動区域IDで絞り込む")
    p.add_argument("--json", action="store_true", help="JSON で出力する")
    p.set_defaults(func=_cmd_org_list)
    p = org_sub.add_parser("helpers", help="担い手の人数と未対応のニーズ(秘匿済みの件数)を区域・活動ごとに並べる")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--level", default="living_area", help="区域の種類 (既定: living_area)")
    p.add_argument("--on", help="この日までの人数の記録 (既定: 最新)")
    p.add_argument("--json", action="store_true", help="JSON で出力する")
    p.set_defaults(func=_cmd_org_helpers)

    ties = sub.add_parser("ties", help="団体・資源・協議体のつながり (取込・書き出し・分析・図)")
    ties_sub = ties.add_subparsers(dest="ties_command", required=True, metavar="操作")
    p = ties_sub.add_parser("import", help="つながりの一覧 (CSV / Excel / Kumu 形式) を取り込む")
    _import_arguments(p, "ties")
    p = ties_sub.add_parser("export", help="Kumu 形式の Excel (.xlsx) か GraphML に書き出す")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--out", required=True, help="出力ファイル (.xlsx または .graphml)")
    p.add_argument("--on", help="この日のつながり (既定: 今日)")
    p.add_argument("--all", action="store_true", help="終了したものも含めてすべてのつながりを書く (.xlsx)")
    p.add_argument("--include-proposed", action="store_true", help="提案中のつながりも含める")
    p.set_defaults(func=_cmd_ties_export)
    p = ties_sub.add_parser("report", help="ネットワークの分析 (橋渡し役・孤立・変化・圏域ごとのつながり)")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--on", help="この日の時点 (既定: 今日)")
    p.add_argument("--since", help="変化を数える開始日 (既定: 1年前)")
    p.add_argument("--level", default="living_area", help="圏域ごとの集計の区域 (既定: living_area)")
    p.add_argument("--json", action="store_true", help="JSON で出力する")
    p.set_defaults(func=_cmd_ties_report)
    p = ties_sub.add_parser("propose", help="協議体に一緒に出席した団体どうしのつながりを提案する")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--min-meetings", type=int, default=3, help="この回数以上一緒に出席したら提案 (既定: 3)")
    p.add_argument("--user", help="編集履歴に記録する名前")
    p.set_defaults(func=_cmd_ties_propose)
    p = ties_sub.add_parser("view", help="エコマップ・区域のネットワーク図を書き出す (.html / .pdf / .png)")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--out", required=True, help="出力ファイル (.html はオフラインで開ける1ファイル)")
    p.add_argument("--focus", help="エコマップの中心 (団体ID・資源ID、例 G001)")
    p.add_argument("--depth", type=int, default=1, choices=(1, 2), help="エコマップの輪の数 (既定: 1)")
    p.add_argument("--area", help="この区域のネットワーク (区域ID、例 LA1)")
    p.add_argument("--resources", action="store_true", help="社会資源も描く")
    p.add_argument("--on", help="この日の時点 (既定: 今日)")
    p.set_defaults(func=_cmd_ties_view)

    hsds = sub.add_parser("hsds", help="Open Referral HSDS 3.0 (表形式) の書き出し・取込")
    hsds_sub = hsds.add_subparsers(dest="hsds_command", required=True, metavar="操作")
    p = hsds_sub.add_parser("export", help="社会資源と関係団体を HSDS 3.0 の CSV 一式に書き出す")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--out", required=True, help="出力フォルダ")
    p.add_argument("--prefecture", help="住所の都道府県名 (既定: 市町村コードから)")
    p.set_defaults(func=_cmd_hsds_export)
    p = hsds_sub.add_parser("import", help="HSDS 3.0 の CSV 一式 (フォルダ) を取り込む")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("folder", help="organizations.csv・services.csv などのあるフォルダ")
    p.add_argument("--replace", action="store_true", help="社会資源と関係団体を置き換える")
    p.add_argument("--user", help="編集履歴に記録する名前")
    p.set_defaults(func=_cmd_hsds_import)


def _import_arguments(p, default_layer: str) -> None:
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("file", help="取り込むファイル (CSV / Excel、Kumu 形式の Excel も可)")
    p.add_argument("--layer", choices=_TABLE_LAYERS, help=f"取込先 (既定: {default_layer})")
    p.add_argument("--mapping", help="列の対応: name=団体名,kind=種別")
    p.add_argument("--sheet", help="Excel のシート名")
    p.add_argument("--replace", action="store_true", help="同じレイヤを置き換える")
    p.add_argument("--user", help="編集履歴に記録する名前")
    p.set_defaults(func=_cmd_import, default_layer=default_layer)
