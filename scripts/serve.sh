#!/usr/bin/env bash
# README command 1: install dependencies, build, start the gateway on its
# built-in default config. Extra arguments go to `asc serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
make -j"$(nproc)" all >/dev/null
exec build/asc serve "$@"
