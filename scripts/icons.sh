#!/usr/bin/env bash
# Renders the committed icons from the one source, icons/pictor.svg:
#   icons/pictor.png  256×256, the window icon (embedded by src/ui/mod.rs)
#   icons/pictor.ico  16–256 px, the Windows executable's icon (embedded by build.rs)
# Run it after editing the SVG and commit the results. scripts/package.sh renders the
# Linux hicolor sizes from the same SVG at package time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-debs.sh librsvg2-bin imagemagick

svg=icons/pictor.svg
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rsvg-convert --width 256 --height 256 "$svg" --output "$work/pictor.png"
# -strip: no timestamps in the PNG, so an unchanged SVG gives the same bytes.
convert "$work/pictor.png" -strip "PNG32:icons/pictor.png"

frames=()
for size in 16 24 32 48 64 128 256; do
  rsvg-convert --width "$size" --height "$size" "$svg" --output "$work/$size.png"
  frames+=("$work/$size.png")
done
convert "${frames[@]}" icons/pictor.ico

identify icons/pictor.png icons/pictor.ico
