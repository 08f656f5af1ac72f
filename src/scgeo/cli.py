"""The ``scgeo`` command. Help and messages are in Japanese.

Exit codes: 0 success, 2 bad input (a message, never a traceback), 1 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from scgeo._errors import InputError, ScgeoError
from scgeo.commands import level_arg, parse_mapping, rejected_path, write_rejected

__all__ = ["main", "rejected_path"]

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2
def _point_imports() -> tuple[str, ...]:
    from scgeo.schema import LAYERS

    return tuple(n for n in ("resources", "needs", "venues") if n in LAYERS)


POINT_IMPORTS = _point_imports()  # tables of points, geocoded when coordinates are missing
IMPORT_LAYERS = ("areas", "town_blocks", *POINT_IMPORTS, "network")


# argparse's own messages, in Japanese (Python's wording of 3.11–3.13)
_ARGPARSE_MESSAGES = (
    (r"the following arguments are required: (.*)", r"次の引数が必要です: \1"),
    (r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)", r"\1 に \2 は指定できません(指定できるもの: \3)"),
    (r"argument (\S+): invalid (?:int|float) value: (.*)", r"\1 には数を指定してください(指定: \2)"),
    (r"argument (\S+): invalid \S+ value: (.*)", r"\1 に \2 は指定できません"),
    (r"argument (\S+): expected one argument", r"\1 には値を1つ指定してください"),
    (r"argument (\S+): expected at least one argument", r"\1 には値を指定してください"),
    (r"argument (\S+): not allowed with argument (.*)", r"\1 と \2 は一緒に指定できません"),
    (r"argument (\S+): ignored explicit argument (.*)", r"\1 には値を付けられません(指定: \2)"),
    (r"argument (\S+): (.*)", r"\1: \2"),
    (r"unrecognized arguments: (.*)", r"知らない引数です: \1"),
    (r"ambiguous option: (\S+) could match (.*)", r"\1 は複数のオプション (\2) に当てはまります"),
)


def _japanese(message: str) -> str:
    for pattern, replacement in _ARGPARSE_MESSAGES:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, replacement, message)
    return message


# Japanese placeholders in the help for argument values (argparse would show PATH, OUT …)
_METAVARS = {
    "path": "ワークスペース", "file": "ファイル", "generation": "世代", "out": "出力", "category": "種別",
    "minutes": "分", "max_minutes": "分", "level": "区域の種類", "k": "件数", "provider": "提供主体",
    "area": "区域", "mapping": "列の対応", "crs": "座標系", "encoding": "文字コード", "sheet": "シート",
    "user": "名前", "muni_code": "コード", "name": "名前", "port": "番号", "address": "アドレス",
    "data": "フォルダ", "seed": "数", "threshold": "数", "hex": "m", "mesh": "m",
}


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "使い方: " if prefix is None else prefix)

    def _get_default_metavar_for_optional(self, action):
        return _METAVARS.get(action.dest, "値")

    def _get_default_metavar_for_positional(self, action):
        return _METAVARS.get(action.dest, action.dest)


class _Parser(argparse.ArgumentParser):
    """argparse with its help and messages in Japanese."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "引数"
        self._optionals.title = "オプション"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="この説明を表示して終了する")

    def error(self, message: str):  # argparse's own errors, in Japanese and with exit code 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"エラー: 引数が正しくありません ({_japanese(message)})。"
                              f"`{self.prog} --help` で使い方を表示します。\n")


def _cmd_init(args) -> int:
    from scgeo.workspace import Workspace

    ws = Workspace.create(args.path, muni_code=args.muni_code, muni_name=args.name or "",
                          overwrite=args.force)
    name = ws.meta()["muni_name"]
    print(f"ワークスペースを作成しました: {ws.location} ({name or '名称不明'}、市町村コード {args.muni_code})")
    if ws.backend == "postgis" and not ws.meta().get("database_roles"):
        print("注意: データベースの役割(閲覧・編集・内部・管理)は作れませんでした(CREATEROLE の権限がありません)。"
              "CREATEROLE のある利用者で一度開く(例: scgeo info)と作られ、ニーズが分けられます。")
    return EXIT_OK


def _point_geocoder(args, ws):
    """The geocoder for a point import: --geocode, else the workspace's default source."""
    from scgeo.geocode import default_source, geocoder_from_source, workspace_cache

    if args.no_geocode:
        return None, None, None
    source = args.geocode or default_source(ws)
    if not source:
        return None, None, None
    return source, geocoder_from_source(source, workspace=ws), workspace_cache(ws)


def _progress(done: int, total: int) -> None:
    if total >= 50:
        print(f"\r  住所から位置を求めています… {done}/{total}", end="\n" if done == total else "",
              file=sys.stderr, flush=True)


def _read_for_layer(args, ws):
    from scgeo import io

    mapping = parse_mapping(args.mapping)
    existing = None if args.replace or getattr(args, "refresh", None) else ws.ids(
        "areas" if args.layer in ("areas", "town_blocks") else args.layer)
    common = {"mapping": mapping, "encoding": args.encoding}
    if args.layer in POINT_IMPORTS:
        source, geocoder, cache = _point_geocoder(args, ws)
        points = {"sheet": args.sheet, "existing_ids": existing, "geocoder": geocoder,
                  "geocode_cache": cache, "progress": _progress}
        if args.layer != "needs":
            points["as_of"] = _as_of(args.as_of)
        result = getattr(io, f"read_{args.layer}")(args.file, **points, **common)
        if geocoder is not None and args.save_geocode:
            ws.set_meta({"geocode_source": source}, user=args.user)
            print(f"位置の求め方「{source}」をこのワークスペースの既定にしました。")
        return result
    from scgeo.location import Expected

    replaced = () if not args.replace else ("town_block",) if args.layer == "town_blocks" else (
        tuple(ws.areas()["level"].unique()) if args.level is None else (args.level,))
    expect = Expected.for_workspace(ws, exclude_levels=replaced)
    if args.layer == "areas":
        result = io.read_areas(args.file, level=args.level, crs=args.crs, expect=expect, **common)
    else:
        result = io.read_town_blocks(args.file, crs=args.crs, expect=expect, **common)
    if existing and len(result.accepted):
        clash = result.accepted["area_id"].isin(existing)
        if clash.any():
            raise InputError(f"区域ID {', '.join(result.accepted.loc[clash, 'area_id'][:5])} は既に登録されています。"
                             "置き換える場合は --replace を付けてください。")
    return result


def _as_of(text: str | None):
    if not text:
        return None
    from scgeo.schema import parse_date

    day = parse_date(text)
    if day is None:
        raise InputError(f"--as-of「{text}」を日付として読めません(例: 2025-04-01、令和7年4月1日)。")
    return day


def _duplicates(args, ws, result):
    """Apply --on-duplicate to the rows that repeat a workspace feature or an earlier row."""
    from scgeo.io.duplicates import DUPLICATE_KINDS, apply_duplicate_choices, find_duplicates
    from scgeo.schema import LAYERS

    layer = LAYERS[args.layer]
    if "name" not in layer.names or not len(result.accepted):
        return result, None
    current = None if args.replace else ws.read(args.layer)
    dups = find_duplicates(result.accepted, current, id_column=layer.id_column)
    found = dups["kind"].notna()
    if not found.any():
        return result, None
    print(f"注意: 重複の可能性がある行 {int(found.sum())} 件(--on-duplicate {args.on_duplicate}):")
    for pos in found[found].index[:10]:
        row = result.accepted.iloc[pos]
        other = (f"既存の {dups.at[pos, 'existing_id']}" if dups.at[pos, "existing_id"] is not None
                 else f"このファイルの {result.accepted.iloc[dups.at[pos, 'file_row']]['name']}")
        print(f"  {row['name']}: {other} と{DUPLICATE_KINDS[dups.at[pos, 'kind']]}")
    add, updates = apply_duplicate_choices(result.accepted, dups, args.on_duplicate,
                                           id_column=layer.id_column)
    result.accepted = add
    return result, updates


def _cmd_import(args) -> int:
    from scgeo.schema import unknown_categories
    from scgeo.workspace import Workspace

    if not Path(args.file).is_file():
        raise InputError(f"ファイル {args.file} が見つかりません。")
    ws = Workspace.open(args.path)
    if args.layer == "network":
        return _import_network(args, ws)
    result = _read_for_layer(args, ws)
    for message in result.messages:
        print(f"注意: {message}")
    if args.refresh and args.layer != "resources":
        raise InputError("--refresh(一覧の再取込)は --layer resources のときだけ使えます。")
    mode = "refresh" if args.refresh else "replace" if args.replace else "append"
    updates, offered = None, len(result.accepted)
    if args.layer in POINT_IMPORTS and not args.refresh:  # a refresh re-imports known ids by design
        result, updates = _duplicates(args, ws, result)
    skipped = offered - len(result.accepted) - (0 if updates is None else len(updates))
    before = len(ws.review_flags())
    pending = result.unplaced if result.unplaced is not None else []
    written = 0
    if len(result.accepted) or (updates is not None and len(updates)) or len(pending):
        written = ws.import_result(args.layer, result, mode=mode, user=args.user, source=Path(args.file).name,
                                   list_name=args.refresh, updates=updates)
    updated = f"(うち既存の更新 {len(updates)} 件)" if updates is not None and len(updates) else ""
    unplaced = f"、位置未確定 {len(pending)} 件" if len(pending) else ""
    dropped = f"、重複のため取り込まなかった行 {skipped} 件" if skipped else ""
    print(f"{args.layer}: 取込 {written} 件{updated}{unplaced}{dropped}、除外 {len(result.rejected)} 件")
    if len(pending):
        print("位置未確定の行は地図に載りません。`scgeo unplaced` で一覧を表示し、--place で配置できます:")
        for _, row in pending.head(5).iterrows():
            print(f"  {row['file_row']}行目 {row['name'] or row['feature_id']}: {row['address'] or '(住所なし)'}")
    if args.refresh:
        missing = len(ws.review_flags()) - before
        print(f"「{args.refresh}」の一覧に見当たらなくなった資源: {missing} 件を要確認にしました")
    if len(result.rejected):
        out = rejected_path(ws.path, Path(args.file), layer=args.layer, folder=args.rejected_dir)
        if args.layer == "needs":  # 要配慮個人情報: internal, marked, schema columns only unless --internal
            from scgeo.privacy import rejected_needs, write_internal_table

            rows = rejected_needs(result.rejected, mapping=parse_mapping(args.mapping), internal=args.internal)
            out = write_internal_table(rows, out)
            kept = "すべての列" if args.internal else "スキーマの列と理由のみ(自由記述・要介護度・座標は除外)"
            print(f"除外した行と理由(内部資料 — 個人情報を含む、{kept}): {out}")
        else:
            write_rejected(result.rejected, ws.path, Path(args.file), layer=args.layer, folder=args.rejected_dir)
            print(f"除外した行と理由: {out}")
        for _, row in result.rejected.head(5).iterrows():
            print(f"  {row.get('file_row', row['source_row'])}行目: {row['reason']}")
        names = unknown_categories(result.rejected["reason"]).index
        if len(names):
            print(f"カテゴリ一覧にない種別: {'、'.join(names[:5])}。既存のカテゴリの別名か新しいカテゴリにするには、"
                  f"市のカテゴリ定義ファイル (scgeo.toml の taxonomy_file) に [categories.kayoi_no_ba] "
                  f"aliases = [\"{names[0]}\"] のように書きます")
    if not written and not len(pending) and not skipped:
        raise InputError(f"{Path(args.file).name} から取り込める行がありませんでした(ワークスペースは変えていません)。"
                         + ("除外の理由を確かめてください。" if len(result.rejected) else ""))
    return EXIT_OK


def _import_network(args, ws) -> int:
    from scgeo.io.osm import read_osm
    from scgeo.network import WalkNetwork

    source = Path(args.file)
    if source.suffix.lower() == ".graphml":
        net = WalkNetwork.from_graphml(source)
        nodes, edges = net.to_frames()
        lines = None
    else:
        data = read_osm(source, muni_code=ws.meta().get("muni_code"))
        nodes, edges, lines = data.nodes, data.edges, data.lines
        net = WalkNetwork.from_frames(nodes, edges)
        if data.cut_ways:
            print(f"ファイルの範囲の端で切れている道 {data.cut_ways:,} 本は、範囲内の部分を取り込みました。")
    from scgeo.location import Expected, check_location

    check_location(nodes, Expected.for_workspace(ws), what=source.name)
    ws.write_network(nodes, edges, lines, user=args.user, source=source.name)
    print(f"歩行ネットワーク: 交点 {len(nodes)}、道 {len(edges)}、"
          f"最大の連結成分 {net.component_share():.1%}")
    return EXIT_OK


def _cmd_info(args) -> int:
    from scgeo.schema import AREA_LEVEL_LABELS
    from scgeo.workspace import Workspace

    info = Workspace.open(args.path).info()
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"ワークスペース: {info['path']}")
    print(f"市町村: {info['muni_name']} ({info['muni_code']})  座標系: {info['crs']}  scgeo {info['scgeo_version']}")
    labels = {"areas": "区域", "population": "町丁目別人口", "resources": "社会資源",
              "needs": "ニーズ", "unplaced": "位置未確定", "edits": "編集履歴",
              "network_nodes": "歩行ネットワークの交点",
              "network_edges": "歩行ネットワークの道", "basemap_lines": "背景の線(川・鉄道)",
              "confirmations": "確認の記録", "review_flags": "要確認の知らせ",
              "venues": "活動の場(会場)"}
    for name, count in info["layers"].items():
        print(f"  {labels.get(name, name)} ({name}): {count} 件")
    for level, count in info["area_levels"].items():
        print(f"    {AREA_LEVEL_LABELS.get(level, level)} ({level}): {count}")
    if info["extent"]:
        print("範囲 (経度・緯度): {:.5f}, {:.5f} – {:.5f}, {:.5f}".format(*info["extent"]))
    from scgeo.report import describe_edit

    last = info["last_edit"]
    print(f"最終更新 (日本時間): {describe_edit(last)}" if last else "最終更新: なし")
    return EXIT_OK


def _cmd_demo(args) -> int:
    from scgeo.demo import run_demo

    run_demo(args.out, data_dir=args.data, serve=False if args.no_serve else None, port=args.port)
    return EXIT_OK


def _cmd_app(args) -> int:
    from scgeo.app_runner import serve_app, streamlit_command
    from scgeo.workspace import Workspace

    path = args.path or os.environ.get("SCGEO_WORKSPACE") or "out/workspace.gpkg"
    Workspace.open(path)
    streamlit_command(path, port=args.port, address=args.address)  # refuses before announcing anything
    print(f"アプリを起動します: http://{args.address}:{args.port}  (終了は Ctrl+C)")
    return serve_app(path, port=args.port, address=args.address)


def _cmd_sample(args) -> int:
    from scgeo.sample import SAMPLE_SEED, generate

    seed = args.seed if args.seed is not None else SAMPLE_SEED
    if args.town_nodes is not None and args.towns is None:
        raise InputError("--town-nodes は --towns と一緒に指定してください。")
    if args.towns is not None:
        from scgeo.sample.region import MAX_TOWNS, TOWN_NODES_RANGE, generate_region

        if not 1 <= args.towns <= MAX_TOWNS:
            raise InputError(f"--towns は 1〜{MAX_TOWNS} にしてください。")
        low, high = TOWN_NODES_RANGE
        if args.town_nodes is not None and not low <= args.town_nodes <= high:
            raise InputError(f"--town-nodes は {low:,}〜{high:,} にしてください。")
        manifest = generate_region(args.out, towns=args.towns, seed=seed, town_nodes=args.town_nodes)
        print(f"隣り合う架空の市町村 {args.towns} を作りました: {manifest}"
              f"(scgeo batch {manifest.parent} で処理できます)")
        return EXIT_OK
    paths = generate(args.out, seed=seed)
    for name, path in paths.items():
        print(f"  {name}: {path}")
    return EXIT_OK


def _command_modules() -> list:
    """The modules of :mod:`scgeo.commands`; each adds its subcommands with ``register(sub)``."""
    from scgeo import commands

    names = sorted(info.name for info in pkgutil.iter_modules(commands.__path__))
    return [importlib.import_module(f"scgeo.commands.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and tests)."""
    parser = _Parser(prog="scgeo", description="生活支援コーディネーターのための地域資源マップと空白地帯分析")
    parser.add_argument("--debug", action="store_true", help="内部エラーのとき詳細(トレースバック)を表示する")
    from scgeo._version import __version__

    parser.add_argument("--version", action="version", version=f"scgeo {__version__}",
                        help="バージョンを表示して終了する")
    sub = parser.add_subparsers(dest="command", required=True, metavar="コマンド", parser_class=_Parser)

    p = sub.add_parser("demo", help="サンプルの町でワークスペースと地図を作り、アプリを起動する")
    p.add_argument("--out", default="out", help="出力フォルダ (既定: out)")
    p.add_argument("--data", help="サンプルデータのフォルダ (既定: data/)")
    p.add_argument("--no-serve", action="store_true", help="出力を書いたら終了する (SCGEO_NO_SERVE=1 と同じ)")
    p.add_argument("--port", type=int, default=8501, help="アプリのポート (既定: 8501)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("init", help="空のワークスペース(GeoPackage、または PostgreSQL + PostGIS)を作る")
    p.add_argument("path", help="作成するファイル (例: izumo.gpkg) またはデータベース (例: postgresql://server/izumo)")
    p.add_argument("--muni-code", required=True, help="全国地方公共団体コード (5桁または6桁)")
    p.add_argument("--name", help="市町村名 (既定: 市町村コードから全国地方公共団体コードの表で引く)")
    p.add_argument("--force", action="store_true", help="既存のファイルを上書きする")
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("import", help="ファイルをワークスペースに取り込む")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("file", help="取り込むファイル (GeoJSON, Shapefile, GeoPackage, CSV, Excel, .osm/.osm.pbf/.graphml)")
    p.add_argument("--layer", required=True, choices=IMPORT_LAYERS, help="取込先のレイヤ")
    p.add_argument("--mapping", help="列の対応: JSON/TOML ファイル、または name=施設名,lat=緯度")
    p.add_argument("--level", type=level_arg,
                   help="区域の種類 (日常生活圏域、中学校区、小学校区 … または living_area …)")
    p.add_argument("--crs", help="ファイルに座標系がないときの座標系 (例: EPSG:6668)")
    p.add_argument("--encoding", help="文字コード (既定: 自動判定)")
    p.add_argument("--sheet", help="Excel のシート名")
    p.add_argument("--replace", action="store_true", help="同じレイヤ(区域は同じ種類)を置き換える")
    p.add_argument("--geocode", metavar="SOURCE",
                   help="座標のない行の位置を住所から求める方法 (既定: ワークスペースの既定、なければ "
                        "町丁目があるとき town-blocks)。gazetteer:FILE[,FILE…]、jageocoder:DIR|URL、"
                        "gsi (インターネット)、town-blocks")
    p.add_argument("--no-geocode", action="store_true", help="住所から位置を求めない")
    p.add_argument("--save-geocode", action="store_true",
                   help="--geocode の方法をこのワークスペースの既定として保存する")
    p.add_argument("--as-of", metavar="DATE",
                   help="一覧の時点 (例: 2025-04-01)。確認日のない行の最終確認日になる")
    p.add_argument("--on-duplicate", choices=("skip", "update", "add"), default="skip",
                   help="既存の資源やファイル内の行と重複する行: skip 取り込まない (既定)、"
                        "update 既存を更新、add 追加する")
    p.add_argument("--refresh", metavar="一覧の名前",
                   help="公開一覧の再取込 (社会資源): 同じIDは更新、新しいIDは追加、出典にこの名前を含む資源で"
                        "ファイルにないものは消さずに「要確認」にする (例: 介護サービス情報公表)")
    p.add_argument("--user", help="編集履歴に記録する名前")
    p.add_argument("--internal", action="store_true",
                   help="ニーズの除外行をすべての列のまま書き出す (内部資料。既定はスキーマの列と理由のみ)")
    p.add_argument("--rejected-dir", help="除外した行のファイルを書くフォルダ (既定: ワークスペースの隣の rejected/。"
                                          "ニーズは internal/)")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("info", help="ワークスペースの内容を表示する")
    p.add_argument("path", help="ワークスペース (.gpkg)")
    p.add_argument("--json", action="store_true", help="JSON で出力する")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("app", help="ブラウザ用アプリを起動する (http://127.0.0.1:8501)")
    p.add_argument("path", nargs="?", help="ワークスペース (既定: out/workspace.gpkg)")
    p.add_argument("--port", type=int, default=8501, help="ポート (既定: 8501)")
    p.add_argument("--address", default="127.0.0.1",
                   help="待ち受けるアドレス (既定: 127.0.0.1。それ以外はパスワード SCGEO_APP_PASSWORD が必要)")
    p.set_defaults(func=_cmd_app)

    for module in _command_modules():
        module.register(sub)

    p = sub.add_parser("sample", help="サンプルの町のデータを生成する (同じシードなら同じバイト列)")
    p.add_argument("--out", default="data", help="出力フォルダ (既定: data)")
    p.add_argument("--seed", type=int, help="乱数のシード")
    p.add_argument("--towns", type=int, help="隣り合う架空の市町村を N 作る (各市町村の入力、地域の region.osm.pbf、"
                                             "scgeo batch 用の manifest.toml)")
    p.add_argument("--town-nodes", type=int, help="--towns の各市町村の歩行ネットワークの交点数の目安 (既定: 約 3,000。"
                                                  "同じ土地と人口で道を密にする。例: 50000)")
    p.set_defaults(func=_cmd_sample)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return int(exc.code or 0)
    try:
        return args.func(args)
    except ScgeoError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as exc:
        if args.debug:
            raise
        print(f"内部エラーが発生しました ({type(exc).__name__}: {exc})。--debug を付けると詳細を表示します。",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
