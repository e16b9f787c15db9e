#!/usr/bin/env bash
# Configure, build and run the test suite for one or more presets.
#
# Usage: scripts/test.sh [preset...]     (default: release asan)
# Presets: release debug asan tsan (see CMakePresets.json)
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

presets=("$@")
if [ "${#presets[@]}" -eq 0 ]; then
  presets=(release asan)
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

for preset in "${presets[@]}"; do
  echo "==> [$preset] configure"
  cmake --preset "$preset"
  echo "==> [$preset] build"
  cmake --build --preset "$preset" -j2
  echo "==> [$preset] test"
  ctest --preset "$preset" -j2 --output-on-failure
done

# A short fuzzing run of the frame reader and the handshake (scripts/fuzz.sh);
# PLEXUS_FUZZ_SECONDS=0 skips it.
fuzz_seconds="${PLEXUS_FUZZ_SECONDS:-20}"
if [ "$fuzz_seconds" -gt 0 ]; then
  ./scripts/fuzz.sh "$fuzz_seconds"
fi

echo "==> all presets passed: ${presets[*]}"
