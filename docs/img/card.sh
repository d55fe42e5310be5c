#!/usr/bin/env bash
# Regenerates docs/img/card-rejected.png and card-rejected.zh_CN.png, the card shown in the README: the golden
# card of an apply with rows Feishu rejected (tests/golden/notify/rejected*.json), drawn as HTML by
# tests/notify/preview.py (our approximation of Feishu's rendering, not a screenshot of Feishu) and
# photographed by headless Chromium (Debian's chromium, a profile of its own). A first pass measures the page's
# height (a copy with a one-line script that puts it in the title), the second takes a screenshot exactly that
# tall. Needs this checkout's virtualenv (.venv), chromium and a font with Chinese characters (e.g. Debian's
# fonts-wqy-zenhei or fonts-noto-cjk), or the Chinese card shows boxes. Run from the repository:
# bash docs/img/card.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
  --disable-sync --no-first-run "--user-data-dir=$work/profile" --hide-scrollbars)
width=520

shoot() { # golden card, language tag, output png
  .venv/bin/python -m tests.notify.preview "$1" --lang "$2" >"$work/card.html"
  sed 's|</body>|<script>document.title = Math.ceil(document.body.getBoundingClientRect().height)</script></body>|' \
    "$work/card.html" | sed "s|default-src 'none'|default-src 'none'; script-src 'unsafe-inline'|" >"$work/measure.html"
  height=$(chromium "${flags[@]}" "--window-size=$width,2000" --dump-dom "file://$work/measure.html" 2>/dev/null |
    sed -n 's|.*<title>\([0-9]*\)</title>.*|\1|p')
  [[ $height =~ ^[0-9]+$ ]] || { echo "could not measure the card's height" >&2; exit 1; }
  chromium "${flags[@]}" "--window-size=$width,$height" "--screenshot=$work/card.png" "file://$work/card.html" \
    2>/dev/null
  cp "$work/card.png" "$repo/$3"
  echo "wrote $3 ($width x $height, $(wc -c <"$repo/$3") bytes)"
}

shoot tests/golden/notify/rejected.json en docs/img/card-rejected.png
shoot tests/golden/notify/rejected.zh_CN.json zh-CN docs/img/card-rejected.zh_CN.png
