#!/usr/bin/env bash
# bench/run.sh — `make bench`: asc against nginx, both in front of asc-mock.
# A benchmark, not a test: it prints numbers and asserts nothing. Read
# docs/bench.md for what each column means.
#
# Environment:
#   BENCH_SECONDS=10    length of each measured run (default 10; 2 with BENCH_QUICK=1)
#   BENCH_QUICK=1       ~20 s smoke run (short runs, no warm-up, no nginx
#                       reference in the concurrency test)
#   BENCH_SETUPS="direct nginx asc"   which setups to run
#   BENCH_CONC=2000     concurrent streams in the concurrency test (0 = skip)
#   BENCH_LAT_CONNS=4   connections of the latency and TTFB runs
#   BENCH_CONC_PARAMS=tokens=20,itl_ms=50   mock parameters of the concurrency streams
#   BENCH_LOAD_CPU=0 BENCH_SERVER_CPU=1   the cores to pin to
#   BENCH_KEEP=1        keep the temporary directory (configs, bodies)
#   BUILD=build         where asc and asc-mock are; results go to $BUILD/bench
#   ASC_BIN, MOCK_BIN   override the binaries
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

BUILD=${BUILD:-build}
OUT=$BUILD/bench
LOGS=$OUT/logs
ASC=${ASC_BIN:-$BUILD/asc}
MOCK=${MOCK_BIN:-$BUILD/asc-mock}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
    SECS=${BENCH_SECONDS:-2}
    WARM=0
else
    SECS=${BENCH_SECONDS:-10}
    WARM=1
fi
SETUPS=${BENCH_SETUPS:-direct nginx asc}
CONC=${BENCH_CONC:-2000}
CONC_MODEL_PARAMS=${BENCH_CONC_PARAMS:-tokens=20,itl_ms=50}
LOAD_CPU=${BENCH_LOAD_CPU:-0}
SERVER_CPU=${BENCH_SERVER_CPU:-1}
BENCH_KEY=sk-asc-bench-0000000000000000000000000000000000000000
TPUT_CONNS=64
LAT_CONNS=${BENCH_LAT_CONNS:-4}

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
calc() { awk "BEGIN { $1 }"; }   # run an awk program (floating-point arithmetic)

# --- tools -----------------------------------------------------------------
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
APT_UPDATED=0
apt_install() {
    log "installing $* (apt-get)"
    if ! $SUDO apt-get install -y -qq "$@" >/dev/null 2>&1; then
        [ "$APT_UPDATED" = 1 ] || { $SUDO apt-get update -qq >/dev/null 2>&1 || true; APT_UPDATED=1; }
        $SUDO apt-get install -y -qq "$@" >/dev/null 2>&1
    fi
}
find_nginx() {
    command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}
NGINX=$(find_nginx)
[ -n "$NGINX" ] || { apt_install nginx-light || apt_install nginx || true; NGINX=$(find_nginx); }
[ -n "$NGINX" ] || die "nginx not found and could not be installed"
command -v wrk >/dev/null || apt_install wrk || die "wrk not found and could not be installed"
command -v curl >/dev/null || apt_install curl || die "curl not found"
command -v taskset >/dev/null || apt_install util-linux || true
command -v cc >/dev/null || apt_install gcc || die "no C compiler (cc)"

[ -x "$MOCK" ] || die "$MOCK not found (run make first)"
case " $SETUPS " in *" asc "*) [ -x "$ASC" ] || die "$ASC not found (run make first)" ;; esac
case " $SETUPS " in *" direct "*) ;; *) die "BENCH_SETUPS must include direct (the baseline)" ;; esac

mkdir -p "$OUT" "$LOGS"
SSE_LOAD=$OUT/sse_load
if [ ! -x "$SSE_LOAD" ] || [ bench/sse_load.c -nt "$SSE_LOAD" ]; then
    cc -std=c11 -O2 -Wall -Wextra -o "$SSE_LOAD" bench/sse_load.c || die "building sse_load failed"
fi

# --- pinning and limits ------------------------------------------------------
PIN_LOAD=() PIN_SRV=() PINNED=false
if command -v taskset >/dev/null && taskset -c "$LOAD_CPU" true 2>/dev/null &&
    taskset -c "$SERVER_CPU" true 2>/dev/null && [ "$LOAD_CPU" != "$SERVER_CPU" ]; then
    PIN_LOAD=(taskset -c "$LOAD_CPU") PIN_SRV=(taskset -c "$SERVER_CPU") PINNED=true
else
    log "warning: cannot pin to cores $LOAD_CPU and $SERVER_CPU; running unpinned (numbers are not comparable)"
fi
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
ulimit -n "$HARD" 2>/dev/null || true
NOFILE=$(ulimit -n)
if [ "$CONC" -gt 0 ] && [ "$NOFILE" -lt $((CONC * 2 + 100)) ]; then
    log "warning: open-file limit $NOFILE is low for $CONC concurrent streams"
fi

# Other work on the two cores makes every number noisy: measure how busy they
# are for half a second before starting, and say so.
cpu_snap() {
    awk -v a="cpu$LOAD_CPU" -v b="cpu$SERVER_CPU" \
        '$1 == a || $1 == b { t = 0; for (i = 2; i <= 9; i++) t += $i; print $1, t, $5 + $6 }' /proc/stat
}
S0=$(cpu_snap)
sleep 0.5
S1=$(cpu_snap)
busy_pct() {   # cpuN -> % busy between the snapshots
    printf '%s\n%s\n' "$S0" "$S1" | awk -v c="$1" '$1 == c { n++; t[n] = $2; i[n] = $3 }
        END { dt = t[2] - t[1]; if (dt > 0) printf "%.0f", 100 * (dt - (i[2] - i[1])) / dt; else print 0 }'
}
BUSY_LOAD=$(busy_pct "cpu$LOAD_CPU")
BUSY_SRV=$(busy_pct "cpu$SERVER_CPU")
if [ "$BUSY_LOAD" -gt 5 ] || [ "$BUSY_SRV" -gt 5 ]; then
    log "warning: cores busy before the run (cpu$LOAD_CPU ${BUSY_LOAD}%, cpu$SERVER_CPU ${BUSY_SRV}%): other work will distort the numbers"
fi

# --- process management ------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/asc-bench.XXXXXX")
PIDS=()
cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for _ in $(seq 40); do
        local alive=0
        for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.05
    done
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
    local i keep=()
    for i in "${PIDS[@]}"; do [ "$i" = "$1" ] || keep+=("$i"); done
    PIDS=("${keep[@]}")
}

stop_pid() {   # stop one process this script started and forget it
    local p=$1 i
    if kill -TERM "$p" 2>/dev/null; then
        for i in $(seq 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
    forget_pid "$p"
}

# Run a load tool in the background and wait for it, so that a signal reaches
# the trap at once and cleanup can stop the tool too.
bg_run() {   # stdout-file stderr-file cmd...
    local out=$1 err=$2 pid rc=0
    shift 2
    "$@" >"$out" 2>>"$err" &
    pid=$!
    PIDS+=("$pid")
    wait "$pid" || rc=$?
    forget_pid "$pid"
    return "$rc"
}

free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 12000))   # below the ephemeral range
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    die "no free port found"
}

wait_port() {   # port pid name
    local i
    for i in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || die "$3 exited during start-up (see $LOGS/$3.log)"
        sleep 0.05
    done
    die "$3 did not open port $1 (see $LOGS/$3.log)"
}

proc_status() {   # pid field(VmHWM|VmRSS) -> KiB
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

proc_cpu_ticks() {   # pid... -> utime+stime summed, in clock ticks (each pid once)
    local p t=0 v
    for p in $(printf '%s\n' "$@" | sort -u); do
        v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || v=0
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)

# Interference: CPU time on the two cores that is not ours. User + system +
# steal ticks of cores LOAD_CPU and SERVER_CPU (irq/softirq ticks are left
# out: with tick accounting, softirq work for our own traffic that lands on an
# idle core or in ksoftirqd would look foreign), minus the ticks of this shell
# and everything it has waited for (load tools, curl, ...; `times`), minus the
# live servers' ticks, over the wall time, as % of one core.
NOISE_T0=() NOISE_W0=
cores_busy_ticks() {
    awk -v a="cpu$LOAD_CPU" -v b="cpu$SERVER_CPU" \
        '$1 == a || $1 == b { s += $2 + $3 + $4 + $9 } END { print s }' /proc/stat
}
own_ticks() {   # must run in this shell, not in $(...)
    times >"$TMP/times"
    awk -v hz="$CLK_TCK" '{ for (i = 1; i <= NF; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] } }
        END { printf "%d", s * hz }' "$TMP/times"
}
noise_begin() {   # server-pids...
    own_ticks >"$TMP/own"
    NOISE_T0=("$(cores_busy_ticks)" "$(cat "$TMP/own")" "$(proc_cpu_ticks "$@")")
    NOISE_W0=$(date +%s%N)
}
noise_end() {   # key server-pids... -> R[key] = foreign % of one core
    local key=$1 busy own srv w
    shift
    busy=$(cores_busy_ticks) srv=$(proc_cpu_ticks "$@") w=$(date +%s%N)
    own_ticks >"$TMP/own"
    own=$(cat "$TMP/own")
    R[$key]=$(calc "v = (($busy - ${NOISE_T0[0]}) - ($own - ${NOISE_T0[1]}) - ($srv - ${NOISE_T0[2]})) * 100 / \
        $CLK_TCK / (($w - $NOISE_W0) / 1e9); printf \"%.0f\", v < 0 ? 0 : v")
}

start_mock() {
    "${PIN_SRV[@]}" "$MOCK" --listen 127.0.0.1:0 --workers 1 >"$LOGS/mock.log" 2>&1 &
    MOCK_PID=$!
    PIDS+=("$MOCK_PID")
    local i
    for i in $(seq 200); do
        MOCK_PORT=$(sed -n 's|^asc-mock listening on http://[^ ]*:\([0-9][0-9]*\).*$|\1|p' "$LOGS/mock.log" | head -n1)
        [ -n "$MOCK_PORT" ] && return 0
        kill -0 "$MOCK_PID" 2>/dev/null || die "asc-mock exited during start-up (see $LOGS/mock.log)"
        sleep 0.05
    done
    die "asc-mock did not print its address (see $LOGS/mock.log)"
}

start_nginx() {   # sets NGINX_PID NGINX_PORT NGINX_WORKER
    local dir=$TMP/nginx-$1 user_line=
    mkdir -p "$dir"
    NGINX_PORT=$(free_port)
    [ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@MOCK_PORT@|$MOCK_PORT|g" \
        -e "s|@USER@|$user_line|g" bench/nginx.conf >"$dir/nginx.conf"
    local eopt=()
    "$NGINX" -h 2>&1 | grep -q -- '-e filename' && eopt=(-e "$dir/error.log")
    "$NGINX" -t -q -p "$dir/" -c "$dir/nginx.conf" "${eopt[@]}" >"$LOGS/nginx.log" 2>&1 ||
        die "nginx -t failed: $(cat "$LOGS/nginx.log")"
    "${PIN_SRV[@]}" "$NGINX" -p "$dir/" -c "$dir/nginx.conf" "${eopt[@]}" >>"$LOGS/nginx.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_port "$NGINX_PORT" "$NGINX_PID" nginx
    NGINX_WORKER=
    local i
    for i in $(seq 100); do
        NGINX_WORKER=$(cat "/proc/$NGINX_PID/task/$NGINX_PID/children" 2>/dev/null | awk '{ print $1 }')
        [ -n "$NGINX_WORKER" ] || NGINX_WORKER=$(pgrep -P "$NGINX_PID" 2>/dev/null | head -n1 || true)
        [ -n "$NGINX_WORKER" ] && break
        sleep 0.05
    done
    [ -n "$NGINX_WORKER" ] || die "cannot find the nginx worker process"
}

start_asc() {   # sets ASC_PID ASC_PORT
    ASC_PORT=$(free_port)
    local cfg=$TMP/asc-$1.yaml hash
    hash=$(printf '%s' "$BENCH_KEY" | sha256sum | awk '{ print $1 }')
    cat >"$cfg" <<EOF
server:
  listen: 127.0.0.1:$ASC_PORT
  workers: 1
  access_log: off
  data_dir: $TMP/asc-data-$1
providers:
  - name: up
    kind: openai-compatible
    base_url: http://127.0.0.1:$MOCK_PORT/v1
models:
  bench-model: { provider: up, model: mock-fast }
  bench-slow: { provider: up, model: "mock-fast@$CONC_MODEL_PARAMS" }
  bench-routed:
    targets:
      - { provider: up, model: mock-fast, weight: 50 }
      - { provider: up, model: "mock-fast@chunk=1", weight: 30 }
      - { provider: up, model: "mock-fast@tokens=16", weight: 20 }
    fallbacks:
      - { provider: up, model: "mock-fast@latency_ms=0" }
keys:
  - name: bench
    key: sha256:$hash
    models: ["*"]
EOF
    mkdir -p "$TMP/asc-data-$1"
    ASC_DATA_DIR=$TMP/asc-data-$1 "${PIN_SRV[@]}" "$ASC" serve --config "$cfg" \
        --listen "127.0.0.1:$ASC_PORT" >"$LOGS/asc.log" 2>&1 &
    ASC_PID=$!
    PIDS+=("$ASC_PID")
    wait_port "$ASC_PORT" "$ASC_PID" asc
}

# --- request bodies ----------------------------------------------------------
MESSAGES=$(tr -d '\n' <bench/messages.json)
make_body() {   # model stream file
    if [ "$2" = true ]; then
        printf '{"model":"%s","stream":true,"messages":%s,"temperature":0.2}' "$1" "$MESSAGES" >"$3"
    else
        printf '{"model":"%s","messages":%s,"temperature":0.2}' "$1" "$MESSAGES" >"$3"
    fi
}
make_body mock-fast false "$TMP/direct.json"
make_body mock-fast true "$TMP/direct-stream.json"
make_body "mock-fast@$CONC_MODEL_PARAMS" true "$TMP/direct-slow.json"
make_body bench-model false "$TMP/asc.json"
make_body bench-model true "$TMP/asc-stream.json"
make_body bench-slow true "$TMP/asc-slow.json"
BODY_BYTES=$(wc -c <"$TMP/direct.json" | tr -d ' ')

# --- results -----------------------------------------------------------------
declare -A R=()
FAILED=()

kv_into() {   # prefix line : store key=value pairs as R[prefix.key]
    local kv
    for kv in $2; do
        case $kv in *=*) R["$1.${kv%%=*}"]=${kv#*=} ;; esac
    done
}

run_wrk() {   # setup tag conns seconds port body key -> R[setup.tag.*]
    local line
    bg_run "$TMP/wrk.out" "$LOGS/wrk.log" "${PIN_LOAD[@]}" wrk -t1 -c"$3" -d"$4"s --timeout 10s \
        -s bench/chat.lua "http://127.0.0.1:$5/v1/chat/completions" -- "$6" "$7" || true
    cat "$TMP/wrk.out" >>"$LOGS/wrk.log"
    line=$(grep '^wrk_result ' "$TMP/wrk.out" || true)
    [ -n "$line" ] || { log "wrk produced no result for $1 $2 (see $LOGS/wrk.log)"; return 1; }
    kv_into "$1.$2" "${line#wrk_result }"
}

run_sse() {   # setup tag port body key conns [-d secs | -n count] ...
    local setup=$1 tag=$2 port=$3 body=$4 key=$5 hdr=() line
    shift 5
    [ -n "$key" ] && hdr=(-H "Authorization: Bearer $key")
    bg_run "$TMP/sse.out" "$LOGS/sse_load.log" "${PIN_LOAD[@]}" "$SSE_LOAD" -a "127.0.0.1:$port" \
        -b "$body" "${hdr[@]}" "$@" || true
    cat "$TMP/sse.out" >>"$LOGS/sse_load.log"
    line=$(grep '^sse_load ' "$TMP/sse.out" || true)
    [ -n "$line" ] || { log "sse_load produced no result for $setup $tag"; return 1; }
    kv_into "$setup.$tag" "${line#sse_load }"
}

sanity() {   # setup port body stream-body key : one request of each kind must work
    local code auth=()
    [ -n "$5" ] && auth=(-H "Authorization: Bearer $5")
    code=$(curl -s -m 10 -o "$TMP/sanity.out" -w '%{http_code}' -H 'Content-Type: application/json' \
        "${auth[@]}" --data-binary "@$3" "http://127.0.0.1:$2/v1/chat/completions" || echo 000)
    if [ "$code" != 200 ] || ! grep -q '"choices"' "$TMP/sanity.out"; then
        log "$1: non-streaming request failed: HTTP $code: $(head -c 400 "$TMP/sanity.out" 2>/dev/null)"
        return 1
    fi
    code=$(curl -s -N -m 10 -o "$TMP/sanity.out" -w '%{http_code}' -H 'Content-Type: application/json' \
        "${auth[@]}" --data-binary "@$4" "http://127.0.0.1:$2/v1/chat/completions" || echo 000)
    if [ "$code" != 200 ] || ! grep -q 'data: \[DONE\]' "$TMP/sanity.out"; then
        log "$1: streaming request failed: HTTP $code: $(head -c 400 "$TMP/sanity.out" 2>/dev/null)"
        return 1
    fi
}

measure() {   # setup port body stream-body key cpu-pids...
    local setup=$1 port=$2 body=$3 sbody=$4 key=$5 t0 t1 m0 m1
    shift 5
    sanity "$setup" "$port" "$body" "$sbody" "$key" || { FAILED+=("$setup"); return 1; }
    if [ "$WARM" = 1 ]; then
        bg_run /dev/null /dev/null "${PIN_LOAD[@]}" wrk -t1 -c"$TPUT_CONNS" -d1s -s bench/chat.lua \
            "http://127.0.0.1:$port/v1/chat/completions" -- "$body" "$key" || true
    fi
    log "$setup: throughput, $TPUT_CONNS connections, ${SECS}s"
    noise_begin "$MOCK_PID" "$@"
    t0=$(proc_cpu_ticks "$@")
    m0=$(proc_cpu_ticks "$MOCK_PID")
    run_wrk "$setup" tput "$TPUT_CONNS" "$SECS" "$port" "$body" "$key" || { FAILED+=("$setup"); return 1; }
    t1=$(proc_cpu_ticks "$@")
    m1=$(proc_cpu_ticks "$MOCK_PID")
    R[$setup.cpu_ticks]=$((t1 - t0))
    R[$setup.mock_cpu_ticks]=$((m1 - m0))
    log "$setup: latency, $LAT_CONNS connections, ${SECS}s"
    run_wrk "$setup" lat "$LAT_CONNS" "$SECS" "$port" "$body" "$key" || { FAILED+=("$setup"); return 1; }
    log "$setup: streaming TTFB, $LAT_CONNS connections, ${SECS}s"
    run_sse "$setup" sse "$port" "$sbody" "$key" -c "$LAT_CONNS" -d "$SECS" -t 10 ||
        { FAILED+=("$setup"); return 1; }
    noise_end "$setup.noise_pct" "$MOCK_PID" "$@"
}

concurrency() {   # setup port body key pid
    local setup=$1
    R[conc.$setup.rss_idle_kb]=$(proc_status "$5" VmRSS)
    log "$setup: $CONC concurrent streams (mock-fast@$CONC_MODEL_PARAMS)"
    noise_begin "$MOCK_PID" "$5"
    run_sse "conc.$setup" run "$2" "$3" "$4" -c "$CONC" -n "$CONC" -t 60 || { FAILED+=("conc.$setup"); return 1; }
    noise_end "conc.$setup.noise_pct" "$MOCK_PID" "$5"
    R[conc.$setup.rss_peak_kb]=$(proc_status "$5" VmHWM)
}

# --- run ---------------------------------------------------------------------
T_START=$(date +%s)
log "output: $OUT/result.json, logs: $LOGS/; runs of ${SECS}s; pinned=$PINNED (load cpu $LOAD_CPU, servers cpu $SERVER_CPU)"
: >"$LOGS/wrk.log"
: >"$LOGS/sse_load.log"
start_mock
log "asc-mock on port $MOCK_PORT"

for s in $SETUPS; do
    case $s in
    direct)
        measure direct "$MOCK_PORT" "$TMP/direct.json" "$TMP/direct-stream.json" "" "$MOCK_PID" || true
        ;;
    nginx)
        start_nginx main
        measure nginx "$NGINX_PORT" "$TMP/direct.json" "$TMP/direct-stream.json" "" \
            "$NGINX_PID" "$NGINX_WORKER" || true
        R[nginx.rss_kb]=$(proc_status "$NGINX_WORKER" VmHWM)
        R[nginx.rss_master_kb]=$(proc_status "$NGINX_PID" VmHWM)
        stop_pid "$NGINX_PID"
        ;;
    asc)
        start_asc main
        measure asc "$ASC_PORT" "$TMP/asc.json" "$TMP/asc-stream.json" "$BENCH_KEY" "$ASC_PID" || true
        R[asc.rss_kb]=$(proc_status "$ASC_PID" VmHWM)
        stop_pid "$ASC_PID"
        ;;
    *) die "unknown setup '$s' in BENCH_SETUPS" ;;
    esac
done

CONC_SETUPS=()
if [ "$CONC" -gt 0 ]; then
    case " $SETUPS " in *" asc "*) CONC_SETUPS+=(asc) ;; esac
    if [ "$QUICK" != 1 ]; then case " $SETUPS " in *" nginx "*) CONC_SETUPS+=(nginx) ;; esac; fi
fi
for s in "${CONC_SETUPS[@]}"; do
    case $s in
    asc)
        start_asc conc
        concurrency asc "$ASC_PORT" "$TMP/asc-slow.json" "$BENCH_KEY" "$ASC_PID" || true
        stop_pid "$ASC_PID"
        ;;
    nginx)
        start_nginx conc
        concurrency nginx "$NGINX_PORT" "$TMP/direct-slow.json" "" "$NGINX_WORKER" || true
        stop_pid "$NGINX_PID"
        ;;
    esac
done
# Translation cost (issue 3): the same asc, the same upstream and the same
# conversation, once as an OpenAI chat pass-through and once from the
# Anthropic dialect (/v1/messages: decoded to the canonical model, encoded
# for the OpenAI-dialect upstream, and the answer translated back).
run_wrk_path() {   # tag path body extra
    local line
    bg_run "$TMP/wrk.out" "$LOGS/wrk.log" "${PIN_LOAD[@]}" wrk -t1 -c"$TPUT_CONNS" -d"$SECS"s --timeout 10s \
        -s bench/chat.lua "http://127.0.0.1:$ASC_PORT$2" -- "$3" "$BENCH_KEY" "$4" || true
    line=$(grep '^wrk_result' "$TMP/wrk.out" | tail -n 1)
    [ -n "$line" ] || { log "wrk produced no result for translation $1"; return 1; }
    kv_into "xlate.$1" "${line#wrk_result }"
}
xlate_one() {   # tag path body extra
    local t0 t1 req
    t0=$(proc_cpu_ticks "$ASC_PID")
    run_wrk_path "$@" || return 1
    t1=$(proc_cpu_ticks "$ASC_PID")
    req=${R[xlate.$1.requests]:-0}
    [ "$req" -gt 0 ] && R[xlate.$1.cpu_us_per_req]=$(calc "printf \"%.2f\", ($t1 - $t0) * 1000000 / $CLK_TCK / $req")
    [ "${R[xlate.$1.err_status]:-0}" = 0 ] || log "translation $1: ${R[xlate.$1.err_status]} error responses"
}
if [ "${BENCH_TRANSLATION:-1}" = 1 ] && case " $SETUPS " in *" asc "*) true ;; *) false ;; esac; then
    SYS=$(printf '%s' "$MESSAGES" | sed -n 's/^\[{"role":"system","content":\("[^"]*"\)},\(.*\)$/\1/p')
    REST=$(printf '%s' "$MESSAGES" | sed -n 's/^\[{"role":"system","content":"[^"]*"},\(.*\)$/[\1/p')
    printf '{"model":"bench-model","max_tokens":1024,"system":%s,"messages":%s,"temperature":0.2}' \
        "$SYS" "$REST" >"$TMP/anth.json"
    start_asc xlate
    code=$(curl -s -o "$TMP/anth.out" -w '%{http_code}' -H "Authorization: Bearer $BENCH_KEY" \
        -H 'anthropic-version: 2023-06-01' --data-binary @"$TMP/anth.json" "http://127.0.0.1:$ASC_PORT/v1/messages")
    if [ "$code" = 200 ]; then
        log "asc: translation, pass-through vs anthropic → openai-compatible, $TPUT_CONNS connections, ${SECS}s each"
        xlate_one pass /v1/chat/completions "$TMP/asc.json" "" || true
        xlate_one anthropic /v1/messages "$TMP/anth.json" anthropic || true
        # Routing cost (issue 4): the same answer through a route of three
        # weighted targets and a fallback
        make_body bench-routed false "$TMP/routed.json"
        xlate_one routed /v1/chat/completions "$TMP/routed.json" "" || true
    else
        log "translation sanity request failed ($code): $(head -c 300 "$TMP/anth.out")"
        FAILED+=(translation)
    fi
    stop_pid "$ASC_PID"
fi
T_END=$(date +%s)

# --- report ------------------------------------------------------------------
get() { echo "${R[$1]:-}"; }

# derived numbers
for s in $SETUPS; do
    R[$s.rps]=$(get "$s.tput.rps")
    R[$s.p50_us]=$(get "$s.lat.p50_us")
    R[$s.p99_us]=$(get "$s.lat.p99_us")
    R[$s.ttfb_p50_us]=$(get "$s.sse.ttfb_p50_us")
    R[$s.ttfb_p99_us]=$(get "$s.sse.ttfb_p99_us")
    errs=0
    for k in tput.err_connect tput.err_read tput.err_write tput.err_status tput.err_timeout \
        lat.err_connect lat.err_read lat.err_write lat.err_status lat.err_timeout sse.errors; do
        errs=$((errs + ${R[$s.$k]:-0}))
    done
    R[$s.errors]=$errs
    reqs=$(get "$s.tput.requests")
    if [ -n "$reqs" ] && [ "$reqs" -gt 0 ]; then
        R[$s.cpu_us_per_req]=$(calc "printf \"%.2f\", $(get "$s.cpu_ticks") * 1e6 / $CLK_TCK / $reqs")
        R[$s.mock_cpu_us_per_req]=$(calc "printf \"%.2f\", $(get "$s.mock_cpu_ticks") * 1e6 / $CLK_TCK / $reqs")
    fi
done
for s in $SETUPS; do
    [ "$s" = direct ] && continue
    for q in p50 p99; do
        a=$(get "$s.${q}_us") d=$(get "direct.${q}_us")
        [ -n "$a" ] && [ -n "$d" ] && R[$s.added_${q}_us]=$((a - d))
    done
done
ratio() {   # num den -> ratio, or empty unless both are > 0 (an added latency
            # at or below 0 is below the noise and has no meaningful ratio)
    [ -n "$1" ] && [ -n "$2" ] || return 0
    calc "if ($1 > 0 && $2 > 0) printf \"%.2f\", $1 / $2"
}
R[ratio.rps]=$(ratio "$(get asc.rps)" "$(get nginx.rps)")
R[ratio.added_p50]=$(ratio "$(get asc.added_p50_us)" "$(get nginx.added_p50_us)")
R[ratio.added_p99]=$(ratio "$(get asc.added_p99_us)" "$(get nginx.added_p99_us)")
R[ratio.rss]=$(ratio "$(get asc.rss_kb)" "$(get nginx.rss_kb)")
R[ratio.cpu_per_req]=$(ratio "$(get asc.cpu_us_per_req)" "$(get nginx.cpu_us_per_req)")

fmt_int() { [ -n "$1" ] && calc "x = $1; printf \"%d\", x < 0 ? x - 0.5 : x + 0.5" || printf -- '-'; }
fmt_pair() { printf '%s / %s' "$(fmt_int "$1")" "$(fmt_int "$2")"; }
fmt_mib() { [ -n "$1" ] && calc "printf \"%.1f MiB\", $1 / 1024" || printf -- '-'; }

echo
echo "asc benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cpus ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), pinned=$PINNED"
echo "background load before the run: cpu$LOAD_CPU ${BUSY_LOAD}%, cpu$SERVER_CPU ${BUSY_SRV}% busy"
echo "request: POST /v1/chat/completions, ${BODY_BYTES}-byte body, 16 output tokens; ${SECS}s per run"
echo "latencies in µs; req/s at $TPUT_CONNS connections; p50/p99 and TTFB at $LAT_CONNS connections"
echo
printf '%-8s %10s %15s %17s %17s %11s %10s %7s %6s\n' setup 'req/s' 'p50 / p99' 'added p50 / p99' 'TTFB p50 / p99' 'peak RSS' 'CPU/req' errors noise
for s in $SETUPS; do
    added=-
    [ "$s" = direct ] || added=$(fmt_pair "$(get "$s.added_p50_us")" "$(get "$s.added_p99_us")")
    cpu=$(get "$s.cpu_us_per_req")
    noise=$(get "$s.noise_pct")
    printf '%-8s %10s %15s %17s %17s %11s %10s %7s %6s\n' "$s" "$(fmt_int "$(get "$s.rps")")" \
        "$(fmt_pair "$(get "$s.p50_us")" "$(get "$s.p99_us")")" "$added" \
        "$(fmt_pair "$(get "$s.ttfb_p50_us")" "$(get "$s.ttfb_p99_us")")" \
        "$(fmt_mib "$(get "$s.rss_kb")")" "${cpu:+$cpu us}" "$(get "$s.errors")" "${noise:+$noise%}"
done

verdict() {   # value op target
    [ -n "$1" ] || { printf 'n/a'; return; }
    calc "if ($1 $2 $3) print \"met\"; else print \"NOT met\""
}
if [ -n "$(get nginx.rps)" ] && [ -n "$(get asc.rps)" ]; then
    echo
    echo "asc / nginx"
    rline() {   # label ratio [target-text verdict]
        printf '  %-22s %7s%s' "$1" "${2:-n/a}" "$([ -n "$2" ] && echo '×' || echo ' ')"
        [ -z "${3:-}" ] || printf '   target %-6s %s' "$3" "$4"
        printf '\n'
    }
    rline throughput "$(get ratio.rps)" '≥ 0.6×' "$(verdict "$(get ratio.rps)" '>=' 0.6)"
    if [ -n "$(get ratio.added_p50)" ]; then
        rline 'added latency p50' "$(get ratio.added_p50)" '≤ 2×' "$(verdict "$(get ratio.added_p50)" '<=' 2)"
    else
        rline 'added latency p50' '' '≤ 2×' "n/a: nginx added $(get nginx.added_p50_us) us, asc $(get asc.added_p50_us) us"
    fi
    rline 'added latency p99' "$(get ratio.added_p99)"
    rline 'peak RSS' "$(get ratio.rss)"
    rline 'proxy CPU per request' "$(get ratio.cpu_per_req)"
fi

if [ "${#CONC_SETUPS[@]}" -gt 0 ]; then
    echo
    echo "concurrency: $CONC streams opened at once (mock-fast@$CONC_MODEL_PARAMS), 1 worker"
    printf '%-8s %10s %7s %10s %19s %11s %11s %12s %6s\n' setup completed errors 'peak open' 'TTFB p50 / p99' 'RSS idle' 'RSS peak' 'per stream' noise
    for s in "${CONC_SETUPS[@]}"; do
        idle=$(get "conc.$s.rss_idle_kb") peak=$(get "conc.$s.rss_peak_kb") per=
        [ -n "$idle" ] && [ -n "$peak" ] && per=$(calc "printf \"%.1f KiB\", ($peak - $idle) / $CONC")
        R[conc.$s.rss_per_stream_kb]=$([ -n "$idle" ] && [ -n "$peak" ] && calc "printf \"%.2f\", ($peak - $idle) / $CONC" || true)
        noise=$(get "conc.$s.noise_pct")
        printf '%-8s %10s %7s %10s %19s %11s %11s %12s %6s\n' "$s" "$(get "conc.$s.run.requests")" \
            "$(get "conc.$s.run.errors")" "$(get "conc.$s.run.peak_open")" \
            "$(fmt_pair "$(get "conc.$s.run.ttfb_p50_us")" "$(get "conc.$s.run.ttfb_p99_us")")" \
            "$(fmt_mib "$idle")" "$(fmt_mib "$peak")" "${per:--}" "${noise:+$noise%}"
    done
fi
if [ -n "$(get xlate.pass.cpu_us_per_req)" ] && [ -n "$(get xlate.anthropic.cpu_us_per_req)" ]; then
    R[xlate.ratio_cpu]=$(calc "printf \"%.2f\", $(get xlate.anthropic.cpu_us_per_req) / $(get xlate.pass.cpu_us_per_req)")
    R[xlate.ratio_rps]=$(calc "printf \"%.2f\", $(get xlate.pass.rps) / $(get xlate.anthropic.rps)")
    echo
    echo "translation (asc, 1 worker, $TPUT_CONNS connections): anthropic inbound → openai-compatible upstream"
    printf '  %-34s %10s req/s %8s us CPU/req\n' 'openai chat pass-through' "$(get xlate.pass.rps)" "$(get xlate.pass.cpu_us_per_req)"
    printf '  %-34s %10s req/s %8s us CPU/req\n' 'anthropic → canonical → openai' "$(get xlate.anthropic.rps)" "$(get xlate.anthropic.cpu_us_per_req)"
    printf '  %-34s %10s×   target ≤ 1.2×  %s\n' 'CPU per request, ratio' "$(get xlate.ratio_cpu)" \
        "$(verdict "$(get xlate.ratio_cpu)" '<=' 1.2)"
fi
if [ -n "$(get xlate.pass.cpu_us_per_req)" ] && [ -n "$(get xlate.routed.cpu_us_per_req)" ]; then
    R[route.ratio_cpu]=$(calc "printf \"%.2f\", $(get xlate.routed.cpu_us_per_req) / $(get xlate.pass.cpu_us_per_req)")
    echo
    echo "routing (asc, 1 worker, $TPUT_CONNS connections): 3 weighted targets + a fallback vs one target"
    printf '  %-34s %10s req/s %8s us CPU/req\n' 'single target (pass-through)' "$(get xlate.pass.rps)" "$(get xlate.pass.cpu_us_per_req)"
    printf '  %-34s %10s req/s %8s us CPU/req\n' 'route: 3 weighted + fallback' "$(get xlate.routed.rps)" "$(get xlate.routed.cpu_us_per_req)"
    printf '  %-34s %10s×   target ≤ 1.1×  %s\n' 'CPU per request, ratio' "$(get route.ratio_cpu)" \
        "$(verdict "$(get route.ratio_cpu)" '<=' 1.1)"
fi
echo
echo "raw numbers: $OUT/result.json (wall time $((T_END - T_START))s)"

# --- JSON --------------------------------------------------------------------
jnum() { local v=${R[$1]:-}; [[ $v =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$v" || printf null; }
jstr() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
jobj() {   # prefix key...
    local p=$1 k first=1
    shift
    printf '{'
    for k in "$@"; do
        [ "$first" = 1 ] || printf ','
        first=0
        printf '"%s":%s' "$k" "$(jnum "$p.$k")"
    done
    printf '}'
}
WRK_KEYS=(requests duration_us rps p50_us p90_us p99_us max_us err_connect err_read err_write err_status err_timeout)
SSE_KEYS=(requests errors err_connect err_read err_write err_status err_timeout err_parse err_incomplete
    elapsed_s rps conns peak_open ttfb_p50_us ttfb_p90_us ttfb_p99_us ttfb_max_us
    total_p50_us total_p90_us total_p99_us total_max_us)
{
    printf '{"version":1,"date":%s,"git":%s,"quick":%s,"seconds":%s,"pinned":%s,' \
        "$(jstr "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" \
        "$(jstr "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)")" \
        "$([ "$QUICK" = 1 ] && echo true || echo false)" "$SECS" "$PINNED"
    printf '"background_busy_pct":{"load_cpu":%s,"server_cpu":%s},' "$BUSY_LOAD" "$BUSY_SRV"
    printf '"load_cpu":%s,"server_cpu":%s,"cpu_model":%s,"nginx":%s,"body_bytes":%s,' \
        "$LOAD_CPU" "$SERVER_CPU" "$(jstr "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)")" \
        "$(jstr "$("$NGINX" -v 2>&1 | sed 's|.*/||')")" "$BODY_BYTES"
    printf '"connections":{"throughput":%s,"latency":%s},"failed":[' "$TPUT_CONNS" "$LAT_CONNS"
    first=1
    for f in "${FAILED[@]}"; do [ "$first" = 1 ] || printf ','; first=0; jstr "$f"; done
    printf '],"setups":{'
    first=1
    for s in $SETUPS; do
        [ "$first" = 1 ] || printf ','
        first=0
        printf '"%s":{"summary":%s,' "$s" "$(jobj "$s" rps p50_us p99_us added_p50_us added_p99_us \
            ttfb_p50_us ttfb_p99_us rss_kb rss_master_kb cpu_us_per_req mock_cpu_us_per_req errors noise_pct)"
        printf '"throughput":%s,' "$(jobj "$s.tput" "${WRK_KEYS[@]}")"
        printf '"latency":%s,' "$(jobj "$s.lat" "${WRK_KEYS[@]}")"
        printf '"stream":%s}' "$(jobj "$s.sse" "${SSE_KEYS[@]}")"
    done
    printf '},"ratios_asc_over_nginx":%s,' "$(jobj ratio rps added_p50 added_p99 rss cpu_per_req)"
    printf '"translation":{"passthrough":%s,"anthropic":%s,"ratio_cpu":%s,"ratio_rps":%s},' \
        "$(jobj xlate.pass rps requests cpu_us_per_req err_status)" \
        "$(jobj xlate.anthropic rps requests cpu_us_per_req err_status)" \
        "$(jnum xlate.ratio_cpu)" "$(jnum xlate.ratio_rps)"
    printf '"routing":{"routed":%s,"ratio_cpu":%s},' \
        "$(jobj xlate.routed rps requests cpu_us_per_req err_status)" "$(jnum route.ratio_cpu)"
    printf '"targets":{"rps_min":0.6,"added_p50_max":2,"translation_cpu_max":1.2,"routing_cpu_max":1.1},'
    printf '"concurrency":{"streams":%s,"model":%s' "$CONC" "$(jstr "mock-fast@$CONC_MODEL_PARAMS")"
    for s in "${CONC_SETUPS[@]}"; do
        printf ',"%s":{"noise_pct":%s,"rss_idle_kb":%s,"rss_peak_kb":%s,"rss_per_stream_kb":%s,"run":%s}' "$s" \
            "$(jnum "conc.$s.noise_pct")" "$(jnum "conc.$s.rss_idle_kb")" "$(jnum "conc.$s.rss_peak_kb")" \
            "$(jnum "conc.$s.rss_per_stream_kb")" "$(jobj "conc.$s.run" "${SSE_KEYS[@]}")"
    done
    printf '}}\n'
} >"$OUT/result.json"

if [ "${#FAILED[@]}" -gt 0 ]; then
    log "some measurements failed: ${FAILED[*]} (see $LOGS/)"
    exit 1
fi
