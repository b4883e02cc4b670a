#!/usr/bin/env bash
# Validates the desktop entry and the AppStream metadata:
#   scripts/validate-desktop-files.sh [DESKTOP_FILE METAINFO_FILE]
# Without arguments, the sources in packaging/linux/ (scripts/test.sh); package-test.sh passes
# the files unpacked from the .deb. Fails on any error or warning: desktop-file-validate exits 0
# on warnings and hints, so any output of it counts; appstreamcli fails on warnings itself
# (its infos are printed and pass).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-debs.sh desktop-file-utils appstream

app=io.github.pictor.Pictor
desktop=${1:-packaging/linux/$app.desktop}
metainfo=${2:-packaging/linux/$app.metainfo.xml}
status=0

if out=$(desktop-file-validate "$desktop" 2>&1) && [ -z "$out" ]; then
  echo "ok   desktop-file-validate $desktop"
else
  echo "FAIL desktop-file-validate $desktop"
  echo "$out"
  status=1
fi

if out=$(appstreamcli validate --no-net "$metainfo" 2>&1); then
  echo "ok   appstreamcli validate --no-net $metainfo"
  grep -E '^[IWEP]:' <<<"$out" | sed 's/^/     /' || true
else
  echo "FAIL appstreamcli validate --no-net $metainfo"
  echo "$out"
  status=1
fi

# The metainfo must launch this desktop entry, by its file name.
if grep -q "<launchable type=\"desktop-id\">$(basename "$desktop")</launchable>" "$metainfo"; then
  echo "ok   the metainfo launches $(basename "$desktop")"
else
  echo "FAIL the metainfo does not launch $(basename "$desktop")"
  status=1
fi
exit $status
