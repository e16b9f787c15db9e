#!/usr/bin/env bash
# Build the release preset and run the basics example.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release
cmake --build --preset release -j2 --target basics
exec ./build/release/examples/basics "$@"
