#!/usr/bin/env bash
# System packages for PDF notices: free CJK fonts (GB/T 9704 stand-ins), WeasyPrint's libraries
# (libharfbuzz-subset0 makes font subsetting ~100x faster), fontconfig (fc-list, used by the font
# check that runs before any PDF is made) and poppler-utils (pdftotext/pdftoppm, for looking at
# PDFs). Then the FangSong and Kai designs of the Fandol fonts (GPL with font exception), taken
# out of Debian's texlive-lang-chinese package without installing TeX: they are the only free
# true 仿宋 (the body face of official documents). Chromium and its driver for the browser tests of the
# office pages (tests/test_web_browser.py). Skipped when not root and sudo is missing.
set -euo pipefail
pkgs=(fonts-noto-cjk fonts-arphic-ukai fontconfig libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b
      libharfbuzz-subset0 libfontconfig1 poppler-utils chromium chromium-driver)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
fandol_dir=/usr/local/share/fonts/wangge-fandol
need_fandol=0
[ -f "$fandol_dir/FandolFang-Regular.otf" ] || need_fandol=1
if [ ${#missing[@]} -eq 0 ] && [ $need_fandol -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "请手动安装系统软件包：${missing[*]}（以及 Fandol 仿宋字体）" >&2; exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
  echo "请以 root 身份安装系统软件包：${missing[*]}" >&2; exit 0
fi
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ $need_fandol -eq 1 ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if (cd "$tmp" && apt-get download -qq texlive-lang-chinese 2>/dev/null); then
    dpkg-deb -x "$tmp"/texlive-lang-chinese_*.deb "$tmp/x"
    $SUDO mkdir -p "$fandol_dir"
    $SUDO cp "$tmp"/x/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/Fandol{Fang,Kai}-Regular.otf "$fandol_dir/"
    $SUDO fc-cache -f "$fandol_dir" >/dev/null
  else
    echo "未能下载 Fandol 仿宋字体；通报正文将以 Noto Serif CJK SC 代替仿宋。" >&2
  fi
fi
