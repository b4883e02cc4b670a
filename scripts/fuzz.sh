#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time and prints executions per target.
#
#   scripts/fuzz.sh            # 60 s per target
#   FUZZ_SECONDS=300 scripts/fuzz.sh parse_response
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). The fuzz crate
# is its own workspace in fuzz/ (its own target dir), so the main build never sees it.
# A crash stops the script with the reproducer path (fuzz/artifacts/<target>/crash-…);
# replay it with `cargo +nightly fuzz run <target> <file>`.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-60}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(parse_response png_metadata a1111 comfyui_graph)
fi
unset CARGO_TARGET_DIR

# Seeds: real answers and PngSuite files, copied into the corpus once.
seed() {
    local target="$1"
    shift
    mkdir -p "corpus/$target"
    for file in "$@"; do
        [ -f "$file" ] && cp -n "$file" "corpus/$target/" 2>/dev/null || true
    done
}
# parse_response reads a selector byte and a two-byte status (100 + n % 500) first:
# \x00\x00\x64 = OpenAI layout, HTTP 200; \x01\x01\x2c = native layout, HTTP 400.
mkdir -p corpus/parse_response
for file in ../tests/fixtures/responses/*; do
    name="$(basename "$file")"
    { printf '\x00\x00\x64'; cat "$file"; } >"corpus/parse_response/200-$name"
    { printf '\x01\x01\x2c'; cat "$file"; } >"corpus/parse_response/400-$name"
done
seed png_metadata ../../shared/testdata/pngsuite/*.png
seed a1111
# A ComfyUI graph with a sampler, two text encoders and a checkpoint, to mutate from.
mkdir -p corpus/comfyui_graph
printf '%s' '{"3":{"class_type":"KSampler","inputs":{"seed":42,"positive":["6",0],"negative":["7",0],"model":["4",0]}},"4":{"class_type":"CheckpointLoaderSimple","inputs":{"ckpt_name":"m.safetensors"}},"6":{"class_type":"CLIPTextEncode","inputs":{"text":"a fox"}},"7":{"class_type":"CLIPTextEncode","inputs":{"text":"blur"}}}' >corpus/comfyui_graph/graph.json

cargo +nightly fuzz build
for target in "${targets[@]}"; do
    log="$(mktemp)"
    echo "== $target: ${seconds} s"
    if ! cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "!! $target found a crash; see fuzz/artifacts/$target/"
        exit 1
    fi
    grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$log" | tail -n 2
    rm -f "$log"
done
