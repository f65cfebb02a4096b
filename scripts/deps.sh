#!/usr/bin/env bash
# Install what asc needs from Debian's packages (idempotent: only missing
# packages are installed). Usage: scripts/deps.sh build|test
set -euo pipefail
what=${1:-build}
build_pkgs=(build-essential pkg-config libuv1-dev libhttp-parser-dev libcurl4-openssl-dev
            libyaml-dev libcjson-dev libjsmn-dev libsodium-dev libssl-dev libsqlite3-dev ca-certificates)
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev nodejs npm nginx-light wrk curl procps)
pkgs=("${build_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from elsewhere than Debian's packages
if [ "$what" = test ] && command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$what" = test ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
fi
