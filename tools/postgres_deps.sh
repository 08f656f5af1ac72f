#!/bin/sh
# What the PostgreSQL backend tests need: Debian's PostgreSQL server and PostGIS (the tests start
# a throwaway server themselves, on a Unix socket in a temporary folder). Installed with apt-get
# when running as root and missing; otherwise one line says which tests are skipped. Called by
# `make test`; nothing else needs PostgreSQL (the GeoPackage is the default workspace).
found=""
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "$dir/initdb" ] && [ -n "$(ls /usr/share/postgresql/*/extension/postgis.control 2>/dev/null)" ] && found=1
done
[ -n "$found" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL のテストに必要なものをインストールします (apt-get install postgresql postgresql-postgis)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-postgis >/dev/null \
    && exit 0
  echo "apt-get でインストールできませんでした。"
fi
echo "PostgreSQL + PostGIS のテスト (tests/test_postgis.py ほか [postgis] の付いたもの) はスキップします。有効にするには: sudo apt-get install postgresql postgresql-postgis"
exit 0
