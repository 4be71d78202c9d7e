#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (FUZZ_SECONDS each, default 15), starting from the
# examples as seed corpus. A crash fails the run and leaves the input in fuzz/artifacts/.
# The toolchain here is stable; cargo-fuzz needs -Z flags, which RUSTC_BOOTSTRAP=1 allows.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-15}
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
# ASan is not needed for safe Rust; coverage guidance is what finds the panics.
flags=(--sanitizer none -O)

run_dir() { # fuzz-dir corpus-source
  local dir=$1 seeds=$2
  cargo fuzz build "${flags[@]}" --fuzz-dir "$dir"
  for target in $(cargo fuzz list --fuzz-dir "$dir"); do
    corpus=$(mktemp -d)
    cp "$seeds"/* "$corpus"/ 2>/dev/null || true
    echo "fuzz: $target for ${seconds}s"
    log=$(mktemp)
    status=0
    cargo fuzz run "${flags[@]}" --fuzz-dir "$dir" "$target" "$corpus" -- \
      -max_total_time="$seconds" -max_len=8192 >"$log" 2>&1 || status=$?
    grep -E "^Done [0-9]+ runs" "$log" || true
    if [ "$status" != 0 ]; then tail -n 40 "$log"; fi
    rm -f "$log"
    rm -rf "$corpus"
    if [ "$status" != 0 ]; then echo "fuzz: $target found a crash (see $dir/artifacts/$target)"; exit 1; fi
  done
}

run_dir fuzz examples
for extra in crates/*/fuzz; do
  [ -f "$extra/Cargo.toml" ] && run_dir "$extra" "$extra/seeds"
done
echo "fuzz: all targets ran ${seconds}s without a crash"
