#!/usr/bin/env bash
# Regenerates docs/img/sheet.png, the exported sheet shown in the README: the example root (metrics/) with
# one reviewee renamed 陈静 and a note of three lines, its open semester's sales and support rows exported as
# a workbook, printed by LibreOffice (headless, a profile of its own) and the top of the first page cut out
# as a PNG by poppler's pdftoppm. Needs syncer on PATH (with the sheet extra), LibreOffice and poppler-utils
# (bash .ci/libreoffice.sh installs them) and a font with Chinese characters (e.g. Debian's
# fonts-wqy-zenhei or fonts-noto-cjk), or the name shows as boxes. Run from the repository: bash docs/img/sheet.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r metrics "$work/metrics"
rm -rf "$work/metrics/.syncer"
cd "$work"
sed -i 's/backend: git/backend: local/' metrics/syncer.yaml
sed -i 's/\bchen\.jing:/陈静:/' metrics/catalog.yaml metrics/teams/sales.yaml metrics/archive/2026-H1-sales.yaml
# alice's nps gets a note of three lines (YAML double quotes: \n is a line break)
note='      note: "销售目标说明：第一季度按新客户计算，续约另计入\\nNPS survey closes on the 25th;\\nlate answers count next month"'
awk -v note="$note" '{ print } /      actual: 42$/ && !done { print note; done = 1 }' metrics/teams/sales.yaml >sales.yaml
mv sales.yaml metrics/teams/sales.yaml

syncer sheet export --root metrics --semester 2026-H2 --path 'teams/s*' --out sheet.xlsx >/dev/null
soffice "-env:UserInstallation=file://$work/profile" --headless --convert-to pdf --outdir . sheet.xlsx >/dev/null
# 100 dpi: the page is 1100 x 850 pixels; the table starts 75 pixels in from the left and 100 from the top
pdftoppm -png -r 100 -f 1 -l 1 -x 66 -y 90 -W 968 -H 419 -singlefile sheet.pdf sheet
cd - >/dev/null
cp "$work/sheet.png" docs/img/sheet.png
echo "wrote docs/img/sheet.png ($(wc -c <docs/img/sheet.png) bytes)"
