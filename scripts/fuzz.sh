#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan+UBSan) in build/fuzz and run the
# frame fuzzer (frame reader, handshake, encoders, exit reasons) for a bounded
# time on its seed corpus. Fails on any crash, failed check, leak or timeout;
# the input that caused it is left in build/fuzz/artifacts/.
#
# Usage: scripts/fuzz.sh [seconds]     (default: 60)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
build=build/fuzz
seeds=tests/node/fuzz/corpus/frame

echo "==> [fuzz] configure"
cmake -S . -B "$build" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPLEXUS_SANITIZE=address -DPLEXUS_BUILD_FUZZERS=ON \
  -DPLEXUS_BUILD_BENCH=OFF -DPLEXUS_BUILD_EXAMPLES=OFF >/dev/null
echo "==> [fuzz] build"
cmake --build "$build" -j2 --target frame_fuzzer

# New inputs go to the build tree's corpus; the committed seeds are only read.
mkdir -p "$build/corpus/frame" "$build/artifacts"
echo "==> [fuzz] frame_fuzzer for ${seconds} s"
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  "$build/tests/node/fuzz/frame_fuzzer" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/" \
    "$build/corpus/frame" "$seeds"
echo "==> [fuzz] no crash in ${seconds} s"
