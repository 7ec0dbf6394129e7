#!/usr/bin/env bash
# System packages for PDF notices: free CJK fonts (GB/T 9704 stand-ins) and WeasyPrint's
# libraries (libharfbuzz-subset0 makes font subsetting ~100x faster), plus poppler-utils
# for looking at PDFs as images. Skipped when not root or apt-get is missing.
set -euo pipefail
pkgs=(fonts-noto-cjk fonts-arphic-ukai libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b
      libharfbuzz-subset0 libfontconfig1 poppler-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "请手动安装系统软件包：${missing[*]}" >&2; exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
