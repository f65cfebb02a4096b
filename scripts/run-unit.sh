#!/usr/bin/env bash
# Run every unit-test binary given; print a summary line; fail if any failed.
set -u
pass=0 fail=0 failed=()
for t in "$@"; do
  if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$t"); fi
done
echo "unit test binaries: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
