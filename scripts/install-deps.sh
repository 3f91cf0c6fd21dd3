#!/usr/bin/env bash
# Installs what nrmlab needs to build, test and run: the Debian packages, then the npm
# packages pinned by package-lock.json (uPlot, embedded into report.html at build time, and
# playwright-core for the browser test) into node_modules/ with `npm ci`.
#
# usage: scripts/install-deps.sh [--test]
#   --test  also what only the tests need: Debian's chromium (the browser test drives it;
#           no browser is ever downloaded) and python3 (small programs the watch tests run)
#
# Idempotent and fast when everything is present: it asks dpkg first and only calls
# apt-get (update + install) for what is missing, and runs `npm ci` only when node_modules
# is missing or older than package.json / package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
for arg in "$@"; do
  case $arg in
    --test) with_tests=1 ;;
    *)
      echo "usage: $0 [--test]" >&2
      exit 2
      ;;
  esac
done

packages=(
  build-essential cmake make ninja-build pkg-config clang-format
  libsqlite3-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libjemalloc-dev libmimalloc-dev
  libeigen3-dev libboost-math-dev libtomlplusplus-dev
  libdw-dev
  gnuplot-nox
)
if ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi
if ((with_tests)); then
  # python3: the watch tests' small foreign programs (a Unix-socket client, a terminal).
  packages+=(chromium python3)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci writes node_modules/.package-lock.json at the end of a successful install: the stamp.
stamp=node_modules/.package-lock.json
if [[ ! -f $stamp || package-lock.json -nt $stamp || package.json -nt $stamp ]]; then
  echo "install-deps: npm ci (uPlot for the report, playwright-core for its browser test)" >&2
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
