#!/usr/bin/env bash
# Runs every test of Pictor: unit and integration tests, the OS-keyring round trip
# against a real Secret Service (in a private D-Bus session with a throw-away HOME),
# the real window under Xvfb, and the desktop entry and AppStream metadata through their
# validators. Installs the Debian packages it needs when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(xvfb xauth xdotool imagemagick gnome-keyring dbus dbus-x11 libgl1-mesa-dri libegl1 libgl1
          libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 procps x11-utils bc
          desktop-file-utils appstream)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== desktop entry and AppStream metadata (packaging/linux)"
scripts/validate-desktop-files.sh

echo "== unit and integration tests"
cargo test --all-targets --no-fail-fast

echo "== OS keyring round trip (gnome-keyring in a private D-Bus session)"
scripts/keyring-test.sh

echo "== real window under Xvfb"
scripts/window-test.sh
