#!/usr/bin/env bash
# Tests the Debian package as a desktop would see it once installed:
#   scripts/package-test.sh [PATH.deb]     (without a path: builds one with scripts/package.sh)
# Unpacks it into a temporary root (dpkg-deb -x, nothing is installed), checks that every file
# is where the desktop looks for it, validates the .desktop entry and the AppStream metadata,
# and runs the unpacked binary. Every check is counted; any failure makes the exit code 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-debs.sh groff-base

if [ $# -gt 1 ]; then
  echo "usage: scripts/package-test.sh [PATH.deb]" >&2
  exit 2
fi
if [ $# -eq 1 ]; then
  deb=$1
else
  deb=$(scripts/package.sh | tail -n 1)
fi
[ -f "$deb" ] || { echo "package-test.sh: no package at '$deb'" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"

app=io.github.pictor.Pictor
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
# The width and height in a PNG's header ("W H"), or nothing if the file is not a PNG.
png_size() {
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || return 0
  od -An -tu1 -j16 -N8 "$1" | awk '{ print $1*16777216 + $2*65536 + $3*256 + $4, $5*16777216 + $6*65536 + $7*256 + $8 }'
}

# As man-db formats them (preconv reads the UTF-8, e.g. "1–5 stars"), with every groff warning.
man_pages_format_cleanly() {
  local page out
  for page in "$1"/*.1.gz; do
    if ! out=$(zcat "$page" | preconv -e utf-8 | groff -man -Tutf8 -ww -z 2>&1) || [ -n "$out" ]; then
      echo "$page: $out"
      return 1
    fi
  done
}
# The desktop entry's Icon= names an icon installed under hicolor.
icon_is_installed() {
  local icon
  icon=$(sed -n 's/^Icon=//p' "$1")
  [ -n "$icon" ] && compgen -G "$root/usr/share/icons/hicolor/*/apps/$icon.*" >/dev/null
}
# The desktop entry's Exec= program is the packaged binary.
exec_is_installed() {
  local program
  program=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$1")
  [ -n "$program" ] && [ -x "$root/usr/bin/$program" ]
}
bash_completion_works() {
  local script
  script=$("$1" completions bash) && [ -n "$script" ] && grep -q "generate" <<<"$script"
}

echo "== $deb"
dpkg-deb --field "$deb" Package Version Architecture Depends

echo "== files"
check "usr/bin/pictor is an executable" test -x "$root/usr/bin/pictor"
desktop="$root/usr/share/applications/$app.desktop"
metainfo="$root/usr/share/metainfo/$app.metainfo.xml"
check "usr/share/applications/$app.desktop" test -s "$desktop"
check "usr/share/metainfo/$app.metainfo.xml" test -s "$metainfo"
for size in 16 22 24 32 48 64 128 256 512; do
  icon="usr/share/icons/hicolor/${size}x${size}/apps/$app.png"
  if [ -s "$root/$icon" ] && [ "$(png_size "$root/$icon")" = "$size $size" ]; then
    pass "$icon ($size×$size PNG)"
  else
    fail "$icon: missing or not a $size×$size PNG"
  fi
done
check "usr/share/icons/hicolor/scalable/apps/$app.svg" grep -q "<svg" "$root/usr/share/icons/hicolor/scalable/apps/$app.svg"
for page in pictor pictor-generate pictor-completions; do
  check "usr/share/man/man1/$page.1.gz is a gzipped man page" \
    zgrep -q "^\.TH $page 1" "$root/usr/share/man/man1/$page.1.gz"
done
check "every man page formats without groff warnings" man_pages_format_cleanly "$root/usr/share/man/man1"
check "bash completion" grep -q "complete -F _pictor" "$root/usr/share/bash-completion/completions/pictor"
check "zsh completion" grep -q "^#compdef pictor" "$root/usr/share/zsh/vendor-completions/_pictor"
check "fish completion" grep -q "complete -c pictor" "$root/usr/share/fish/vendor_completions.d/pictor.fish"

echo "== the desktop entry and the AppStream metadata"
if [ -s "$desktop" ] && [ -s "$metainfo" ]; then
  check "desktop-file-validate and appstreamcli validate (scripts/validate-desktop-files.sh)" \
    scripts/validate-desktop-files.sh "$desktop" "$metainfo"
fi
if [ -s "$desktop" ]; then
  check "Icon=$app has a hicolor icon" icon_is_installed "$desktop"
  check "Exec= runs a program in usr/bin" exec_is_installed "$desktop"
fi

echo "== the unpacked binary"
version=$(dpkg-deb --field "$deb" Version)
check "pictor --version says ${version%-*}" test "$("$root/usr/bin/pictor" --version)" = "pictor ${version%-*}"
check "pictor completions bash names the subcommands" bash_completion_works "$root/usr/bin/pictor"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
