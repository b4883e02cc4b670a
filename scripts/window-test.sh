#!/usr/bin/env bash
# Starts the real app binary under Xvfb with the offline demo, waits for the window
# titled Pictor, types a Chinese prompt, generates with Ctrl+Enter, and checks:
# the window drew something, the image reached the library, and the idle window
# uses no CPU. Then "Open with": a second launch with a file hands it to the running
# window and exits, the window imports it, and the log file says so. Screenshots land
# in target/window-test/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# The same build as `cargo test --all-targets` (same features), so nothing is compiled twice.
cargo build --all-targets
bin="$CARGO_TARGET_DIR/debug/pictor"
out="$CARGO_TARGET_DIR/window-test"
rm -rf "$out"; mkdir -p "$out"
sandbox=$(mktemp -d)
display=":$(( 90 + RANDOM % 9 ))"
cleanup() {
  [ -n "${app_pid:-}" ] && kill "$app_pid" 2>/dev/null || true
  [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$sandbox"
}
trap cleanup EXIT
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb_pid=$!
export DISPLAY="$display"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done 2>/dev/null || true
sleep 1

export PICTOR_DATA_DIR="$sandbox/library" XDG_DATA_HOME="$sandbox/data" XDG_CONFIG_HOME="$sandbox/config" \
       XDG_CACHE_HOME="$sandbox/cache" XDG_STATE_HOME="$sandbox/state" XDG_RUNTIME_DIR="$sandbox/run" PICTOR_DEMO_LATENCY_MS=800 LIBGL_ALWAYS_SOFTWARE=1 LANG=en_US.UTF-8
mkdir -m 700 "$sandbox/run"
start=$(date +%s.%N)
"$bin" --provider demo >"$out/app.log" 2>&1 &
app_pid=$!
window=$(timeout 30 xdotool search --sync --name '^Pictor$' | head -n1) || { echo "FAIL: no window titled Pictor"; cat "$out/app.log"; exit 1; }
shown=$(date +%s.%N)
printf 'window mapped %.2f s after start\n' "$(echo "$shown - $start" | bc)"
sleep 2
import -window root "$out/start.png"
colors=$(convert "$out/start.png" -format %k info:)
echo "start screenshot: $colors colours"
[ "$colors" -gt 50 ] || { echo "FAIL: the window drew nothing (only $colors colours)"; exit 1; }

# Type a Chinese prompt into the prompt field (the first multi-line field of the compose panel) and generate.
xdotool windowfocus --sync "$window"
xdotool mousemove --window "$window" 150 150 click 1
sleep 0.3
# xdotool types a character outside the keymap by remapping a spare key for a moment;
# one character per call, with a pause, keeps the remapping and the app in step.
for ch in 山 水 画; do
  LC_ALL=C.UTF-8 xdotool type --delay 200 "$ch"
  sleep 0.4
done
xdotool key ctrl+Return
for _ in $(seq 60); do
  count=$("$bin" list --json | wc -l)
  [ "$count" -ge 1 ] && break
  sleep 0.5
done
[ "${count:-0}" -ge 1 ] || { echo "FAIL: no image reached the library"; import -window root "$out/fail.png"; exit 1; }
"$bin" list --search 山水 --json | grep -q '"prompt":"山水画"' || { echo "FAIL: the stored prompt is not the typed one"; "$bin" list --json; exit 1; }
sleep 2
import -window root "$out/generated.png"
echo "generated: $("$bin" list --json | head -n1)"

# Idle: after the job finished the window must not repaint on its own. Esc takes the
# focus out of the prompt field first: a focused field blinks its cursor, as everywhere.
# The done card leaves the job strip 8 s after the job (one wake-up, by design), so the
# measurement starts after that: it then covers only a window with nothing to do.
xdotool key Escape
sleep 7
ticks() { awk '{print $14 + $15}' "/proc/$app_pid/stat"; }
before=$(ticks); sleep 5; after=$(ticks)
idle=$((after - before))
rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$app_pid/status")
echo "idle CPU over 5 s: $idle ticks; resident memory: $rss MiB"
[ "$idle" -le 2 ] || { echo "FAIL: the idle window used CPU ($idle ticks in 5 s)"; exit 1; }

# Open with: a second launch with a file ends at once, handing the file to this window.
convert -size 96x64 gradient:orange-purple "$sandbox/opened.png"
timeout 20 "$bin" --provider demo "$sandbox/opened.png" >"$out/second.log" 2>&1 \
  || { echo "FAIL: the second launch did not end by itself"; cat "$out/second.log"; exit 1; }
grep -q "already open" "$out/second.log" || { echo "FAIL: the second launch did not hand its file over"; cat "$out/second.log"; exit 1; }
kill -0 "$app_pid" 2>/dev/null || { echo "FAIL: the first window is gone"; exit 1; }
for _ in $(seq 40); do
  "$bin" list --json | grep -q '"file_name":"opened.png"' && break
  sleep 0.5
done
"$bin" list --json | grep -q '"file_name":"opened.png"' || { echo "FAIL: the running window did not import the handed file"; "$bin" list --json; exit 1; }
sleep 1
import -window root "$out/opened-with.png"
echo "open with: the running window imported opened.png"
log=$(ls "$sandbox"/state/pictor/logs/pictor.*.log 2>/dev/null | head -n1)
[ -n "$log" ] || { echo "FAIL: no log file in $sandbox/state/pictor/logs"; exit 1; }
grep -q "a later launch handed over files: 1" "$log" || { echo "FAIL: the log file lacks the hand-over"; cat "$log"; exit 1; }
echo "log file: $(wc -l <"$log") lines in ${log#"$sandbox"/}"
echo "window test passed"
