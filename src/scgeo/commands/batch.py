"""``scgeo batch``: the per-municipality pipeline over a prefecture or the nation, on Dask."""

from __future__ import annotations

import sys

__all__ = ["register"]


def _bar(done: int, total: int, code: str) -> None:
    filled = int(30 * done / max(total, 1))
    end = "\n" if done >= total else ""
    print(f"\r  [{'#' * filled}{'-' * (30 - filled)}] {done}/{total} 市町村 (最後: {code})", end=end,
          file=sys.stderr, flush=True)


def _cmd_batch(args) -> int:
    from scgeo._errors import InputError
    from scgeo.batch import read_manifest, run_batch

    manifest = read_manifest(args.manifest)
    if args.matching:
        from dataclasses import replace

        manifest = replace(manifest, matching=True)
    if args.workers < 1:
        raise InputError("--workers は 1 以上にしてください。")
    where = args.scheduler or f"ローカルの Dask クラスタ (ワーカー {args.workers}、各 {args.memory_limit})"
    print(f"{len(manifest.municipalities)} 市町村を {where} で処理します"
          f"(地域の OpenStreetMap: {manifest.region_pbf.name}、徒歩 {manifest.minutes:g} 分)")
    result = run_batch(manifest, out_dir=args.out, scheduler=args.scheduler, workers=args.workers,
                       memory_limit=args.memory_limit, progress=None if args.quiet else _bar)
    if result.skipped:
        print(f"処理済みのため飛ばした市町村: {len(result.skipped)} ({', '.join(result.skipped[:10])}"
              f"{' …' if len(result.skipped) > 10 else ''})")
    if result.split_s:
        print(f"地域の OpenStreetMap を市町村ごとに切り分けました ({result.split_s:.1f} 秒、1回の読み込みで全市町村分)")
    if len(result.runs):
        runs = result.runs
        print(f"処理した市町村: {len(runs)}、1市町村あたり平均 {runs['seconds'].mean():.1f} 秒、"
              f"ワーカーの最大メモリ {runs['peak_rss_mb'].max():,.0f} MB")
    for name, path in result.outputs.items():
        print(f"  {name}: {path}")
    if result.failed:
        print(f"処理できなかった市町村: {len(result.failed)} (次に実行するとこれらだけを処理します)", file=sys.stderr)
        for code, exc in result.failed.items():
            print(f"  {code}: {exc}", file=sys.stderr)
        return 2 if all(isinstance(e, InputError) for e in result.failed.values()) else 1
    return 0


def register(sub) -> None:
    """Add ``scgeo batch``."""
    p = sub.add_parser("batch", help="マニフェストの市町村ごとに歩行ネットワークの切り出し・カバー率・空白地帯を"
                                     "Dask で並列に計算し、市町村別の表と地図を作る")
    p.add_argument("manifest", help="manifest.toml、またはそれを含むフォルダ (scgeo sample --towns が作成)")
    p.add_argument("--out", default="out/batch", help="出力フォルダ (既定: out/batch)。処理済みの市町村は飛ばす")
    p.add_argument("--scheduler", help="既存の Dask スケジューラ (例: tcp://10.0.0.5:8786)。既定: ローカルに起動")
    p.add_argument("--workers", type=int, default=2, help="ローカルクラスタのワーカー数 (既定: 2)")
    p.add_argument("--memory-limit", default="3GB", help="ワーカーごとのメモリ上限 (既定: 3GB)")
    p.add_argument("--matching", action="store_true",
                   help="ニーズと資源のマッチングも行う (割り当てた件数だけを記録。"
                        "マニフェストの matching = true と同じ)")
    p.add_argument("--quiet", action="store_true", help="進み具合を表示しない")
    p.set_defaults(func=_cmd_batch)
