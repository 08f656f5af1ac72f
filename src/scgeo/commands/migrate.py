"""``scgeo migrate``: copy a workspace between a GeoPackage and a PostgreSQL + PostGIS database."""

from __future__ import annotations

__all__ = ["register"]


def _cmd_migrate(args) -> int:
    from scgeo.migration import migrate

    report = migrate(args.source, args.target, overwrite=args.force, user=args.user)
    copied = sum(n for name, n in report.rows.items() if name != "edits")
    print(f"移行しました: {report.source} → {report.target}")
    print(f"  {sum(1 for n in report.rows.values() if n)} レイヤ {copied} 行、編集履歴 {report.edits} 行"
          f"(版 {report.version})")
    return 0


def register(sub) -> None:
    """Add ``scgeo migrate``."""
    p = sub.add_parser("migrate", help="ワークスペースを GeoPackage と PostgreSQL + PostGIS の間で移す(写しを作る)")
    p.add_argument("source", help="移行元 (例: izumo.gpkg または postgresql://server/izumo)")
    p.add_argument("target", help="移行先 (例: postgresql://server/izumo または snapshot.gpkg)")
    p.add_argument("--force", action="store_true", help="移行先に既にあるワークスペースを置き換える")
    p.add_argument("--user", help="編集履歴に記録する名前")
    p.set_defaults(func=_cmd_migrate)
