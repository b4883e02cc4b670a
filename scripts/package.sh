#!/usr/bin/env bash
# Builds the Debian package of Pictor and prints its path (the last line of output):
#   1. the release binary (cargo build --release --locked),
#   2. into target/deb-assets/: the hicolor icons rendered from icons/pictor.svg, the man
#      pages and the bash, zsh and fish completions written by that binary (the same clap
#      definitions as `pictor --help`),
#   3. `cargo deb --no-build` with the assets listed in Cargo.toml's [package.metadata.deb],
#      into target/debian/.
# Installs what it needs when missing (cargo-deb; librsvg2-bin, dpkg-dev). Safe to run again:
# the staging folder is made afresh each time.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "package.sh: $*" >&2; exit 1; }

# dpkg-dev has dpkg-shlibdeps, which cargo-deb uses for the $auto dependencies.
scripts/ensure-debs.sh librsvg2-bin dpkg-dev
if ! cargo deb --version >/dev/null 2>&1; then
  echo "installing cargo-deb"
  cargo install cargo-deb --locked
fi

echo "== release build"
cargo build --release --locked --bin pictor
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$target_dir" ] || die "cannot find cargo's target folder (cargo metadata said nothing about it)"
bin="$target_dir/release/pictor"
[ -x "$bin" ] || die "the release build left no binary at $bin"

# Cargo.toml's assets name these paths (relative to the repository, whatever CARGO_TARGET_DIR is).
stage=target/deb-assets
rm -rf "$stage"
mkdir -p "$stage/icons" "$stage/man" "$stage/completions"

echo "== icons from icons/pictor.svg"
for size in 16 22 24 32 48 64 128 256 512; do
  rsvg-convert --width "$size" --height "$size" icons/pictor.svg --output "$stage/icons/$size.png" ||
    die "rsvg-convert could not render icons/pictor.svg at $size px"
done

echo "== man pages and completions from $bin"
"$bin" manpages "$stage/man" >/dev/null || die "pictor manpages failed"
[ -s "$stage/man/pictor.1" ] || die "pictor manpages wrote no pictor.1"
"$bin" completions bash >"$stage/completions/pictor" || die "pictor completions bash failed"
"$bin" completions zsh >"$stage/completions/_pictor" || die "pictor completions zsh failed"
"$bin" completions fish >"$stage/completions/pictor.fish" || die "pictor completions fish failed"
for script in "$stage"/completions/*; do
  [ -s "$script" ] || die "$script is empty"
done

echo "== cargo deb"
mkdir -p target/debian
deb=$(cargo deb --no-build --locked --output target/debian/ | tail -n 1)
[ -f "$deb" ] || die "cargo deb did not say where the package is (last line: $deb)"
echo "$deb"
