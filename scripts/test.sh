#!/usr/bin/env bash
# README command 2: install what the tests need, then run the whole suite:
# warning-free gcc and clang builds, unit tests, integration tests with the
# official SDKs, the same under ASan+UBSan, and bounded fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
make check
