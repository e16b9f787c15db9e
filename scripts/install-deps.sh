#!/usr/bin/env bash
# Install the Debian packages needed to build, test and benchmark Plexus.
# Safe to run repeatedly: apt is only invoked when something is missing.
#
# Usage: scripts/install-deps.sh [--with-erlang]
#   --with-erlang   also install erlang-nox (Erlang comparison benchmarks only)
set -euo pipefail

packages=(
  build-essential cmake ninja-build g++ clang libclang-rt-14-dev
  libboost-dev libprotobuf-dev protobuf-compiler librocksdb-dev libxxhash-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libssl-dev libjemalloc-dev
  libcli11-dev python3 procps prometheus chromium dnsmasq-base
)

for arg in "$@"; do
  case "$arg" in
    --with-erlang) packages+=(erlang-nox) ;;
    -h|--help)
      sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-deps.sh: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all dependencies present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-deps: missing packages (${missing[*]}) and not root; sudo not available" >&2
    exit 1
  fi
fi

"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
