#!/usr/bin/env bash
# The real window with 100 and with 10,000 images, side by side in one run: the release
# binary under Xvfb with Mesa's software GL and the offline demo provider.
#
# For each library:
#   first_window_ms   from starting the process to the window being shown (eframe
#                     shows it once its first frame is painted); median of ROUNDS starts,
#                     the two libraries alternating, after one warm-up start each
#   idle_rss_mb       resident memory 3 s after the first cells were drawn
#   screens           how many window heights the wheel scroll went through, from the
#                     newest image until the gallery drew the last (oldest) one
#   cpu_s_per_screen  the process's CPU seconds during that scroll, per screen
#   rss_mb_after_scroll, rss_mb_per_screen  resident memory after it, and its growth per screen
#   idle_cpu_ticks    CPU ticks (1/100 s) over 5 idle seconds afterwards
# The scroll must reach the last image, or the script fails. Prints a table, then one JSON
# line with both libraries and the ratios (10,000 / 100) against their budgets; exits 1
# when a ratio is over its budget.
#
# The libraries come from `examples/perf_library.rs` (real thumbnails, small stand-in
# image files; the window reads only thumbnails while it scrolls). Not part of the test
# suite: about ten minutes. SKIP_BUILD=1 uses the binaries already built.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
rounds="${ROUNDS:-5}"
sizes=(100 10000)
if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release --bin pictor --example perf_library
fi
bin="$CARGO_TARGET_DIR/release/pictor"
maker="$CARGO_TARGET_DIR/release/examples/perf_library"
for tool in Xvfb xdotool xdpyinfo bc; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing (scripts/test.sh installs it)" >&2; exit 1; }
done

work=$(mktemp -d)
display_number=80
while [ -e "/tmp/.X$display_number-lock" ]; do display_number=$((display_number + 1)); done
display=":$display_number"
cleanup() {
  [ -n "${app_pid:-}" ] && kill "$app_pid" 2>/dev/null || true
  [ -n "${xvfb_pid:-}" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for n in "${sizes[@]}"; do
  "$maker" "$work/lib-$n" "$n"
done

Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb_pid=$!
export DISPLAY="$display"
for _ in $(seq 100); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo >/dev/null 2>&1 || { echo "FAIL: Xvfb did not start on $display" >&2; exit 1; }
export XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" XDG_STATE_HOME="$work/state" \
       LIBGL_ALWAYS_SOFTWARE=1 LANG=en_US.UTF-8 NO_COLOR=1 PICTOR_LOG="warn,pictor::gallery=debug"
clock_ticks=$(getconf CLK_TCK)

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
ticks() { awk '{print $14 + $15}' "/proc/$app_pid/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$app_pid/status"; }

# Starts the window on library $1 (log in $2); sets app_pid, window and shown_ms.
start_window() {
  local started
  started=$(now_ms)
  PICTOR_DATA_DIR="$work/lib-$1" "$bin" --provider demo >"$2" 2>&1 &
  app_pid=$!
  window=""
  for _ in $(seq 3000); do
    window=$(xdotool search --onlyvisible --pid "$app_pid" 2>/dev/null | head -n1) || true
    [ -n "$window" ] && break
    kill -0 "$app_pid" 2>/dev/null || { echo "FAIL: the window exited"; cat "$2"; exit 1; }
    sleep 0.005
  done
  [ -n "$window" ] || { echo "FAIL: no window within 15 s"; exit 1; }
  shown_ms=$(( $(now_ms) - started ))
}

stop_window() {
  kill "$app_pid" 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  app_pid=""
}

# The last "shows cells" line of log $1 as: last cells offset content height
last_shown() {
  grep -o 'shows cells [0-9]*-[0-9]* of [0-9]*, [0-9]* px down [0-9]* px, [0-9]* px high' "$1" | tail -n1 |
    sed -E 's/shows cells [0-9]+-([0-9]+) of ([0-9]+), ([0-9]+) px down ([0-9]+) px, ([0-9]+) px high/\1 \2 \3 \4 \5/'
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# 1. Time to the first window, alternating libraries.
declare -A firsts
for round in $(seq 0 "$rounds"); do
  for n in "${sizes[@]}"; do
    start_window "$n" "$work/first-$n.log"
    stop_window
    # Round 0 warms the page cache and the font cache up.
    [ "$round" -gt 0 ] && firsts[$n]+="$shown_ms "
  done
done

for n in "${sizes[@]}"; do
  printf '%6d images: first window, median %d ms of: %s\n' "$n" "$(echo "${firsts[$n]}" | tr ' ' '\n' | grep . | median)" "${firsts[$n]}"
done

# 2. Idle memory, a scroll to the last image, memory and CPU per screen, idle CPU.
declare -A result
for n in "${sizes[@]}"; do
  log="$work/scroll-$n.log"
  start_window "$n" "$log"
  first_ms=$(echo "${firsts[$n]}" | tr ' ' '\n' | grep . | median)
  xdotool windowsize "$window" 1600 1000
  xdotool windowmove "$window" 0 0
  for _ in $(seq 200); do [ -n "$(last_shown "$log")" ] && break; sleep 0.05; done
  [ -n "$(last_shown "$log")" ] || { echo "FAIL: the gallery drew no cells ($n images)"; cat "$log"; exit 1; }
  sleep 3
  idle_rss=$(rss_mb)
  xdotool mousemove --window "$window" 1000 560
  before=$(ticks); started=$(now_ms)
  reached=false
  while [ $(( $(now_ms) - started )) -lt 600000 ]; do
    xdotool click --repeat 20 --delay 8 5
    read -r last cells offset content height <<<"$(last_shown "$log")"
    if [ "$last" -eq $(( cells - 1 )) ]; then reached=true; break; fi
  done
  [ "$reached" = true ] || { echo "FAIL: the scroll did not reach the last of $n images (last drawn: $last of $cells)"; exit 1; }
  [ "$cells" -eq "$n" ] || { echo "FAIL: the gallery had $cells cells, not $n"; exit 1; }
  scroll_s=$(echo "scale=2; ($(now_ms) - $started) / 1000" | bc)
  sleep 2
  after=$(ticks)
  rss_after=$(rss_mb)
  screens=$(echo "scale=2; ($offset + $height) / $height" | bc)
  cpu_per_screen=$(echo "scale=4; ($after - $before) / $clock_ticks / $screens" | bc)
  rss_per_screen=$(echo "scale=3; ($rss_after - $idle_rss) / $screens" | bc)
  idle_before=$(ticks); sleep 5; idle_ticks=$(( $(ticks) - idle_before ))
  stop_window
  result[$n]=$(printf '{"images":%d,"first_window_ms":%d,"first_window_runs_ms":[%s],"idle_rss_mb":%s,"screens":%s,"scroll_s":%s,"cpu_s_per_screen":%s,"rss_mb_after_scroll":%s,"rss_mb_per_screen":%s,"idle_cpu_ticks":%d,"reached_end":%s}' \
    "$n" "$first_ms" "$(echo "${firsts[$n]}" | xargs | tr ' ' ',')" "$idle_rss" "$screens" "$scroll_s" \
    "$cpu_per_screen" "$rss_after" "$rss_per_screen" "$idle_ticks" "$reached")
  printf '%6d images: first window %d ms (runs: %s), idle %s MiB; scrolled %s screens in %s s: %s CPU s/screen, %s MiB after (%s MiB/screen); idle after: %d ticks in 5 s\n' \
    "$n" "$first_ms" "$(echo "${firsts[$n]}" | xargs)" "$idle_rss" "$screens" "$scroll_s" "$cpu_per_screen" "$rss_after" "$rss_per_screen" "$idle_ticks"
done

ratio() { echo "scale=3; $1 / $2" | bc; }
field() { grep -o "\"$2\":[0-9.]*" <<<"${result[$1]}" | cut -d: -f2; }
first_ratio=$(ratio "$(field 10000 first_window_ms)" "$(field 100 first_window_ms)")
rss_ratio=$(ratio "$(field 10000 rss_mb_after_scroll)" "$(field 100 rss_mb_after_scroll)")
cpu_ratio=$(ratio "$(field 10000 cpu_s_per_screen)" "$(field 100 cpu_s_per_screen)")
verdict() { if [ "$(echo "$1 <= $2" | bc)" -eq 1 ]; then echo pass; else echo FAIL; fi; }
echo
printf '%-44s %8s %8s  %s\n' "ratio, 10,000 images to 100" measured budget result
printf '%-44s %8s %8s  %s\n' "first window" "$first_ratio" "1.1" "$(verdict "$first_ratio" 1.1)"
printf '%-44s %8s %8s  %s\n' "resident memory after scrolling to the end" "$rss_ratio" "1.5" "$(verdict "$rss_ratio" 1.5)"
printf '%-44s %8s %8s  %s\n' "CPU seconds per scrolled screen" "$cpu_ratio" "-" info
echo
printf '{"machine":"%s, %s cores","small":%s,"large":%s,"first_window_ratio":%s,"rss_after_scroll_ratio":%s,"cpu_per_screen_ratio":%s,"first_window_within_budget":%s,"rss_within_budget":%s}\n' \
  "$(uname -m)" "$(nproc)" "${result[100]}" "${result[10000]}" "$first_ratio" "$rss_ratio" "$cpu_ratio" \
  "$([ "$(verdict "$first_ratio" 1.1)" = pass ] && echo true || echo false)" \
  "$([ "$(verdict "$rss_ratio" 1.5)" = pass ] && echo true || echo false)"
if [ "$(verdict "$first_ratio" 1.1)" != pass ] || [ "$(verdict "$rss_ratio" 1.5)" != pass ]; then
  echo "FAIL: a ratio is over its budget (above)" >&2
  exit 1
fi
