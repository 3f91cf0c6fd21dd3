#!/usr/bin/env bash
# Configures one build directory with Ninja, as a unity build or not.
#
# usage: scripts/configure-build.sh ON|OFF BUILD_DIR [cmake -D options...]
#
# A directory configured earlier with another generator (the Makefiles of older checkouts)
# cannot be reconfigured with Ninja: its cache is removed first, the objects with it.
set -euo pipefail
cd "$(dirname "$0")/.."

if (($# < 2)) || [[ $1 != ON && $1 != OFF ]]; then
  echo "usage: $0 ON|OFF BUILD_DIR [cmake options...]" >&2
  exit 2
fi
unity=$1
dir=$2
shift 2

cache="$dir/CMakeCache.txt"
if [[ -f $cache ]] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$cache"; then
  echo "configure-build: $dir was configured with another generator; starting it afresh" >&2
  rm -rf "$dir"
fi
# ccache when the machine has it (a rebuild after switching branches, or a second tree of the
# same sources, then costs seconds); nothing requires it.
launcher=()
if [[ -z ${CMAKE_CXX_COMPILER_LAUNCHER:-} ]] && command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_UNITY_BUILD="$unity" -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 \
  "${launcher[@]}" "$@" >/dev/null
