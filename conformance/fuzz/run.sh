#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time, seeded from the conformance
# cases, and fails if any target crashed (a panic, an overflow, a timeout or an out-of-memory
# in cloudsso code is a bug: the crate denies unwrap/expect/panic/indexing).
#
#   FUZZ_SECONDS  seconds per target (default 20)
#   FUZZ_TARGETS  space-separated targets (default: every target in fuzz/Cargo.toml)
#
# Needs the nightly toolchain (rustup's `nightly`) and python3; installs cargo-fuzz
# (pinned) when missing. The corpus a run grows is kept in fuzz/corpus/<target> (not
# committed); seeds are rewritten to fuzz/seeds/<target> every run. A crash leaves its input
# in fuzz/artifacts/<target>/; `cargo +nightly fuzz run <target> <file>` replays it.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FUZZ="$ROOT/fuzz"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
  exit 2
fi
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

targets="${FUZZ_TARGETS:-$(cd "$ROOT" && cargo +nightly fuzz list)}"
python3 "$ROOT/conformance/fuzz/seeds.py" "$FUZZ/seeds"

cd "$ROOT"
# -a: debug assertions and overflow checks on, so an overflow is a crash too.
cargo +nightly fuzz build -a

logs="$(mktemp -d)"
passed=0
failed=0
summary=()
for t in $targets; do
  mkdir -p "$FUZZ/corpus/$t"
  echo "fuzz: $t for ${SECONDS_PER_TARGET}s"
  status=0
  TIMEFORMAT='%U %S'
  { time {
    cargo +nightly fuzz run -a "$t" "$FUZZ/corpus/$t" "$FUZZ/seeds/$t" -- \
      -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 >"$logs/$t.log" 2>&1 || status=$?
  }; } 2>"$logs/$t.time"
  cpu="$(awk '{printf "%.0f", $1 + $2}' "$logs/$t.time")"
  runs="$(grep -ho 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | awk '{print $2}')"
  corpus="$(find "$FUZZ/corpus/$t" -type f | wc -l)"
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    summary+=("ok     $t: $runs runs, ${cpu}s CPU, corpus $corpus files, 0 crashes")
  else
    failed=$((failed + 1))
    summary+=("CRASH  $t: exit $status, see below and fuzz/artifacts/$t/")
    tail -n 60 "$logs/$t.log"
  fi
done

printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
