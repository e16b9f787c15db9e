#!/bin/sh
# Compiles and runs the Erlang/OTP reference benchmarks: the local ones
# (plexus_bench.erl) and the remote ones (plexus_remote_bench.erl, two nodes
# on 127.0.0.1; this node becomes distributed only when one is selected).
#
# Usage: bench/erlang/run.sh [REGEX]
#   REGEX selects benchmarks by name (default: all), e.g. 'BM_(Spawn|FanIn)'
#   or 'Remote|NodeDown'.
# Prints one JSON object per benchmark on stdout.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
filter=${1:-.}

ebin=$(mktemp -d "${TMPDIR:-/tmp}/plexus_bench_erl.XXXXXX")
trap 'rm -rf "$ebin"' EXIT INT TERM

erlc -o "$ebin" "$here/plexus_bench_harness.erl" "$here/plexus_bench.erl" \
    "$here/plexus_remote_bench.erl"

# +P: room for the 1,000,000-process benchmarks.
# Schedulers are left at the default (one per core).
erl +P 2000000 -noshell -pa "$ebin" \
    -run plexus_bench main "$filter" \
    -s init stop

# The remote benchmarks start their own peer nodes (with the same code path
# and the same emulator flags). Two nodes share the machine, so by default
# each gets one scheduler, as each Plexus node in plexus-bench does;
# PLEXUS_BENCH_ERL_NODE_FLAGS overrides the flags ('' for the defaults).
PLEXUS_BENCH_ERL_NODE_FLAGS=${PLEXUS_BENCH_ERL_NODE_FLAGS-+S 1}
export PLEXUS_BENCH_ERL_NODE_FLAGS
# shellcheck disable=SC2086
erl $PLEXUS_BENCH_ERL_NODE_FLAGS -noshell -pa "$ebin" \
    -run plexus_remote_bench main "$filter" \
    -s init stop
