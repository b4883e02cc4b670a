#!/usr/bin/env bash
# The OS-keyring round trip against a real Secret Service: gnome-keyring in a private
# D-Bus session, with HOME and XDG dirs in a temp dir so no real keyring is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# Build first, with the real HOME, so the sandboxed run only executes.
cargo test --test keyring_secret_service --no-run >/dev/null 2>&1 || cargo test --test keyring_secret_service --no-run
sandbox=$(mktemp -d)
trap 'rm -rf "$sandbox"' EXIT
mkdir -p "$sandbox/home" "$sandbox/data" "$sandbox/config" "$sandbox/cache" "$sandbox/runtime"
chmod 700 "$sandbox/runtime"
HOME="$sandbox/home" XDG_DATA_HOME="$sandbox/data" XDG_CONFIG_HOME="$sandbox/config" \
XDG_CACHE_HOME="$sandbox/cache" XDG_RUNTIME_DIR="$sandbox/runtime" \
dbus-run-session -- sh -c '
  echo -n "pictor-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  cargo test --test keyring_secret_service -- --ignored --test-threads=1
'
