#!/usr/bin/env bash
# LibreOffice (headless Calc) and poppler-utils, for the tests that print an exported workbook through
# LibreOffice and read the PDF (tests/sheet/test_libreoffice.py): installed from Debian's packages when a
# tool is missing, else nothing. As root, or through sudo (GitHub's runners). Prints what it did and how long
# it took: 50 to 80 s for the 60 packages a machine without LibreOffice lacks (measured on a busy 2-core machine).
set -euo pipefail

tools=(soffice pdfinfo pdftotext pdftoppm)
packages=(libreoffice-calc-nogui poppler-utils)

missing=()
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "libreoffice.sh: ${tools[*]} already installed"
  exit 0
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo "$@"
  fi
}

start=$SECONDS
echo "libreoffice.sh: missing ${missing[*]}: installing ${packages[*]}"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -qq -y --no-install-recommends "${packages[@]}" >/dev/null
echo "libreoffice.sh: installed in $((SECONDS - start)) s"
