#!/bin/sh
# Compiles and runs the Erlang/OTP reference benchmarks.
#
# Usage: bench/erlang/run.sh [REGEX]
#   REGEX selects benchmarks by name (default: all), e.g. 'BM_(Spawn|FanIn)'.
# Prints one JSON object per benchmark on stdout.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
filter=${1:-.}

ebin=$(mktemp -d "${TMPDIR:-/tmp}/plexus_bench_erl.XXXXXX")
trap 'rm -rf "$ebin"' EXIT INT TERM

erlc -o "$ebin" "$here/plexus_bench.erl"

# +P: room for the 1,000,000-process benchmarks.
# Schedulers are left at the default (one per core).
erl +P 2000000 -noshell -pa "$ebin" \
    -run plexus_bench main "$filter" \
    -s init stop
