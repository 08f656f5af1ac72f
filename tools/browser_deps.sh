#!/bin/sh
# What the browser and print tests need: Debian's chromium (driven by Playwright), a Japanese font
# and poppler-utils (pdftoppm, pdftotext: the print maps and reports rendered and read back).
# Installed with apt-get when running as root and missing; otherwise one line says which tests
# are skipped and how to enable them. Called by `make test`.
missing=""
[ -x /usr/bin/chromium ] || missing="chromium"
command -v pdftoppm >/dev/null 2>&1 || missing="$missing poppler-utils"
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=ja 2>/dev/null)" ]; then
  missing="$missing fonts-noto-cjk"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ブラウザと印刷のテストに必要なものをインストールします (apt-get install$missing)"
  # shellcheck disable=SC2086
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null \
    && exit 0
  echo "apt-get でインストールできませんでした。"
fi
if ! command -v pdftoppm >/dev/null 2>&1; then
  echo "PDF を画像にして確かめるテスト (印刷用の地図・報告書) はスキップします: poppler-utils がありません。有効にするには: sudo apt-get install poppler-utils"
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "ブラウザを使うテスト (tests/test_*browser*.py, tests/security/test_xss*.py) はスキップします: /usr/bin/chromium がありません。有効にするには: sudo apt-get install chromium fonts-noto-cjk"
elif [ -z "${missing##*fonts-noto-cjk*}" ]; then
  echo "日本語フォントがないため、画面写真の日本語は豆腐(□)になります。入れるには: sudo apt-get install fonts-noto-cjk"
fi
exit 0
