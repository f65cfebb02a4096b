#!/bin/sh
# Flag and file lists in this script are split on spaces on purpose.
# shellcheck disable=SC2086
# Build and run every libFuzzer target tests/fuzz/<name>_fuzz.c.
#
#   scripts/fuzz.sh [SECONDS]        (or FUZZ_SECONDS=N; default 30 per target)
#
# Each target is linked with the whole library (src/*/*.c except src/cmd/*)
# under clang -fsanitize=fuzzer,address,undefined and run for SECONDS on a
# temporary copy of tests/fuzz/corpus/<name>/, so the committed seed corpus
# never grows. Prints one summary line per target; exits non-zero if a build
# fails or any fuzzer finds a crash, leak, timeout or UB. Crash inputs are
# kept in $FUZZ_OUT/artifacts/, logs in $FUZZ_OUT/<name>.log.
#
# Environment: FUZZ_CC (default clang), FUZZ_OUT (default build-fuzz),
# FUZZ_JOBS (parallel compiles, default: number of CPUs), FUZZ_FLAGS (extra
# libFuzzer flags, e.g. -max_len=65536).
set -u

secs=${1:-${FUZZ_SECONDS:-30}}
case $secs in
'' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$secs'" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.." || exit 2

CC=${FUZZ_CC:-clang}
OUT=${FUZZ_OUT:-build-fuzz}
PKGS="libuv libcurl yaml-0.1 libcjson libsodium sqlite3 openssl"
jobs=${FUZZ_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz.sh: $CC not found (libFuzzer needs clang)" >&2
    exit 2
fi
pkg_cflags=$(pkg-config --cflags $PKGS) || exit 2
pkg_libs=$(pkg-config --libs $PKGS) || exit 2

targets=""
for t in tests/fuzz/*_fuzz.c; do
    [ -f "$t" ] && targets="$targets $t"
done
if [ -z "$targets" ]; then
    echo "fuzz.sh: no tests/fuzz/*_fuzz.c targets"
    exit 0
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -Isrc -D_GNU_SOURCE $pkg_cflags"
export CC CFLAGS SAN OUT

mkdir -p "$OUT/obj" "$OUT/artifacts" || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/asc-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Library objects, instrumented for coverage but without libFuzzer's main.
lib_src=""
for s in src/*/*.c; do
    case $s in
    src/cmd/* | 'src/*/*.c') ;;
    *) lib_src="$lib_src $s" ;;
    esac
done
: >"$tmp/build.err"
# shellcheck disable=SC2016
printf '%s\n' $lib_src | xargs -P "$jobs" -I{} sh -c '
    o="$OUT/obj/$(echo "{}" | sed "s|/|_|g; s|\.c$|.o|")"
    $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "{}" -o "$o" || echo "{}" >>"'"$tmp"'/build.err"
'
if [ -s "$tmp/build.err" ]; then
    echo "fuzz.sh: library build failed for: $(tr '\n' ' ' <"$tmp/build.err")" >&2
    exit 1
fi
lib_obj=""
for s in $lib_src; do
    lib_obj="$lib_obj $OUT/obj/$(echo "$s" | sed 's|/|_|g; s|\.c$|.o|')"
done

status=0
for t in $targets; do
    name=$(basename "$t" _fuzz.c)
    bin="$OUT/${name}_fuzz"
    log="$OUT/$name.log"
    if ! $CC $CFLAGS $SAN -fsanitize=fuzzer "$t" $lib_obj -o "$bin" \
        $pkg_libs -lhttp_parser -lpthread -lm >"$log" 2>&1; then
        echo "fuzz $name: BUILD FAILED (see $log)"
        status=1
        continue
    fi
    corpus="$tmp/corpus-$name"
    mkdir -p "$corpus"
    seeds=0
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp -R "tests/fuzz/corpus/$name/." "$corpus/"
        seeds=$(find "tests/fuzz/corpus/$name" -type f | wc -l | tr -d ' ')
    fi
    rm -f "$OUT/artifacts/$name"-*
    "./$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$name-" \
        ${FUZZ_FLAGS:-} "$corpus" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')
    corp=$(find "$corpus" -type f | wc -l | tr -d ' ')
    if [ "$rc" -eq 0 ]; then
        echo "fuzz $name: ok, ${runs:-?} runs in ${secs}s, cov ${cov:-?}, corpus $seeds -> $corp"
    else
        art=""
        for a in "$OUT/artifacts/$name"-*; do
            [ -e "$a" ] && art=$a && break
        done
        why=$(grep -m 1 -E '^==[0-9]+==ERROR|runtime error|^[A-Za-z0-9_]+_fuzz: |ALARM|out-of-memory|leak' "$log" | cut -c 1-160)
        echo "fuzz $name: FAILED (exit $rc) after ${runs:-?} runs: ${why:-see log}; input ${art:-none}; log $log"
        status=1
    fi
done
exit $status
