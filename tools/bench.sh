#!/bin/sh
# `make bench`: starts its own instance of the service as `make run` does
# (conf/bench.conf = conf/dev.conf + a raised per-client SMS cap: httpd event
# MPM, memcached, SQLite, the sandbox gateway) on a free port of 127.0.0.1,
# with its run folder in bench/run/ (remade each time; memcached on the unix
# socket bench/run/memcached.sock), and prints four tables:
#
#   1. per-request cost: wrk on a static page and on GET /cnca/api/session
#   2. full enrollments per second (bench/enroll_driver, libcurl multi)
#   3. issuance: cnca_ca_issue vs bare OpenSSL keygen + sign (bench/issue_bench)
#   4. memory: RSS of each httpd child over 3 x 100,000 API requests (after
#      100,000 of warm-up); the growth per 100,000 is the slope
#
# then the targets and whether they were met. Beside each rate it prints the
# CPU time the processes spent (httpd from /proc/PID/stat of the parent and
# its children, memcached, the driver's own), which other work on the
# machine does not change the way it changes a rate. Everything it started
# is stopped at the end (also on Ctrl-C). BENCHMARKS.md holds the figures.
#
# Knobs (environment): BENCH_SECONDS (each wrk run, default 10),
# BENCH_CONNECTIONS (wrk, 32), BENCH_ENROLL_SECONDS (30), BENCH_APPLICANTS
# (64), BENCH_SIGNATURE (signature PNG WxH, 800x320), BENCH_ISSUE_SECONDS
# (2 per algorithm and side; RSA-2048 x4, RSA-3072 x8), BENCH_MEM_REQUESTS
# (100000), BENCH_MEM_WINDOWS (3), BENCH_KEY_ALG (ec-p256), BENCH_PARTS ("1 2 3 4"), BENCH_HOLD (1:
# keep the instance running after the parts until Ctrl-C, e.g. to profile it
# with perf while bench/run/bin/enroll_driver drives it).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
run="$top/bench/run"
# shellcheck source=tools/testenv.sh
. "$top/tools/testenv.sh"

secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-32}
enroll_secs=${BENCH_ENROLL_SECONDS:-30}
applicants=${BENCH_APPLICANTS:-64}
signature=${BENCH_SIGNATURE:-800x320}
issue_secs=${BENCH_ISSUE_SECONDS:-2}
mem_requests=${BENCH_MEM_REQUESTS:-100000}
mem_windows=${BENCH_MEM_WINDOWS:-3}
alg=${BENCH_KEY_ALG:-ec-p256}
parts=${BENCH_PARTS:-1 2 3 4}

die() {
    echo "bench.sh: $*" >&2
    exit 1
}
case "$mem_windows" in
    '' | *[!0-9]* | 0) die "BENCH_MEM_WINDOWS=$mem_windows: a number of windows, 1 or more" ;;
esac

for tool in wrk cc memcached sqlite3 openssl /usr/sbin/apache2; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make deps)"
done
if [ ! -f "$top/build/libcnca.a" ] || [ ! -f "$top/build/mod_cnca.so" ]; then
    die "build the module first (make bench does)"
fi

# ---- the instance ----
rm -rf "$run"
instance_files "$run"
make -s -C "$top/bench" >/dev/null || die "building bench/ failed"
# one CA of each kind (issue_bench); the server's is the one for its key
# algorithm, as `make run` pairs them
for kind in ec sm2 rsa; do
    sh "$top/tools/devca.sh" "$kind" "$run/ca-$kind" >/dev/null
done
mkdir -p "$run/ca"
cp -p "$run/ca-$(ca_kind "$alg")/ca.crt" "$run/ca-$(ca_kind "$alg")/ca.key" "$run/ca/"
instance_user "$run"
port=$(free_port)
base="http://127.0.0.1:$port"

mc_pid=""
httpd_pid=""
trap instance_stop EXIT
trap 'exit 130' INT TERM

# memcached on bench/run/memcached.sock, as `make run` has it; mc_pid is
# memcached itself (its CPU time below)
instance_memcached "$run" -m 64 -c 4096 || die "memcached did not start"

instance_httpd "$top/conf/bench.conf" || die "conf/bench.conf does not pass httpd -t"

driver="$run/bin/enroll_driver"
i=0
until "$driver" cookie "$base" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 300 ] || die "httpd did not answer on $base within 30 s (see $run/logs/error_log)"
    kill -0 "$httpd_pid" 2>/dev/null || die "httpd did not start (see $run/logs/error_log)"
    sleep 0.1
done

# ---- helpers ----
out="$run/bench.out"
: >"$out"
hz=$(getconf CLK_TCK)
say() {
    printf '%s\n' "$*" | tee -a "$out"
}
# the tables of a program's output (its RESULT lines kept aside)
show() {
    grep -v '^RESULT ' "$1" | tee -a "$out"
}
result() { # FILE KEY [MATCH]: the value of KEY= on the RESULT line (matching MATCH)
    grep "^RESULT .*${3:-}" "$1" | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
wrkval() { # FILE KEY
    grep '^WRK ' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
load() {
    cut -d' ' -f1-3 /proc/loadavg
}
errors_logged() {
    grep -c -E '\[(cnca|cnca_sandbox|dbd|core|mpm_event):(error|crit|alert|emerg)\]' \
        "$run/logs/error_log" 2>/dev/null || true
}
children() {
    ps -o pid= --ppid "$(cat "$run/httpd.pid")" | tr -d ' '
}
rss_of() {
    sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0
}
# "PID TICKS" (user + system CPU, all threads) of each process given
ticks_of() {
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && awk -v p="$p" '{ print p, $14 + $15 }' "/proc/$p/stat"
    done
    return 0
}
httpd_ticks() {
    # shellcheck disable=SC2046 # one word per pid
    ticks_of "$(cat "$run/httpd.pid")" $(children)
}
# CPU seconds spent between two ticks_of snapshots (a process that began in
# between counts from 0; one that ended in between is lost)
cpu_spent() { # BEFORE AFTER
    awk -v hz="$hz" 'NR == FNR { b[$1] = $2; next } { s += $2 - ($1 in b ? b[$1] : 0) }
        END { printf "%.2f", s / hz }' "$1" "$2"
}
per() { # AMOUNT COUNT SCALE: AMOUNT * SCALE / COUNT with one decimal
    awk -v a="$1" -v n="$2" -v k="$3" 'BEGIN { if (n > 0) printf "%.1f", a * k / n; else print "n/a" }'
}
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}
verdict() { # met when $1 >= $2 (awk numbers)
    awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "met" : "MISSED" }'
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
say "# mod_cnca benchmarks ($(date -u '+%Y-%m-%d %H:%M UTC'))"
say ""
say "machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ { printf "%d MB", $2 / 1024 }' /proc/meminfo) RAM," \
    "Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
say "stack: $(/usr/sbin/apache2 -v | sed -n 's/^Server version: //p') event MPM (conf/dev.conf:" \
    "2-4 children x 64 threads), memcached $(memcached -V | cut -d' ' -f2) (unix socket)," \
    "SQLite $(sqlite3 --version | cut -d' ' -f1) (WAL), $(openssl version | cut -d' ' -f1-2);" \
    "key algorithm $alg; server $base"
say "load average at start: $(load) (other work on the machine lowers every rate;" \
    "the CPU figures hold)"

# ---- 1. per-request cost ----
api_rps=0
static_rps=0
case " $parts " in *" 1 "*)
    say ""
    say "## 1. Per-request cost (wrk -t2 -c$conns -d${secs}s, back to back)"
    say ""
    cookie=$("$driver" cookie "$base") || die "no session for the API run"
    # a second of each first: children, threads, keep-alive connections up
    BENCH_COOKIE="" wrk -t2 -c"$conns" -d1s -s "$top/bench/wrk.lua" "$base/cnca/index.html" >/dev/null
    BENCH_COOKIE="$cookie" wrk -t2 -c"$conns" -d1s -s "$top/bench/wrk.lua" \
        "$base/cnca/api/session" >/dev/null
    for f in static api; do
        case $f in
            static) url="$base/cnca/index.html" c="" ;;
            *) url="$base/cnca/api/session" c="$cookie" ;;
        esac
        httpd_ticks >"$run/ticks-a"
        BENCH_COOKIE="$c" wrk -t2 -c"$conns" -d"${secs}s" -s "$top/bench/wrk.lua" "$url" \
            >"$run/wrk-$f.out"
        httpd_ticks >"$run/ticks-b"
        cpu_spent "$run/ticks-a" "$run/ticks-b" >"$run/wrk-$f.cpu"
    done
    static_rps=$(wrkval "$run/wrk-static.out" rps)
    api_rps=$(wrkval "$run/wrk-api.out" rps)
    say "| request | req/s | p50 ms | p99 ms | errors | non-2xx | httpd CPU µs/request |"
    say "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for f in static api; do
        case $f in
            static) what="GET /cnca/index.html (static)" ;;
            *) what="GET /cnca/api/session (existing session)" ;;
        esac
        say "| $what | $(wrkval "$run/wrk-$f.out" rps) | $(wrkval "$run/wrk-$f.out" p50_ms)" \
            "| $(wrkval "$run/wrk-$f.out" p99_ms) | $(wrkval "$run/wrk-$f.out" errors)" \
            "| $(wrkval "$run/wrk-$f.out" non2xx)" \
            "| $(per "$(cat "$run/wrk-$f.cpu")" "$(wrkval "$run/wrk-$f.out" requests)" 1000000) |"
    done
    say ""
    say "API/static throughput: $(ratio "$api_rps" "$static_rps")"
    ;;
esac

# ---- 2. enrollments ----
enroll_rate=0
enroll_fail=-1
case " $parts " in *" 2 "*)
    say ""
    say "## 2. Full enrollments (manual 3.1, $applicants concurrent applicants, ${enroll_secs}s," \
        "$alg, signature PNG $signature)"
    say ""
    # 3 s of warm-up with other applicants (not counted)
    "$driver" enroll "$base" "$applicants" 3 5000000 "$signature" >"$run/enroll-warmup.out" 2>&1 ||
        true
    errs_before=$(errors_logged)
    httpd_ticks >"$run/ticks-a"
    ticks_of "$mc_pid" >"$run/mc-a"
    "$driver" enroll "$base" "$applicants" "$enroll_secs" 0 "$signature" >"$run/enroll.out" \
        2>"$run/enroll.err" || true
    httpd_ticks >"$run/ticks-b"
    ticks_of "$mc_pid" >"$run/mc-b"
    show "$run/enroll.out"
    if [ -s "$run/enroll.err" ]; then
        say ""
        say "first failures:"
        tee -a "$out" <"$run/enroll.err"
    fi
    enroll_rate=$(result "$run/enroll.out" rate)
    enroll_fail=$(result "$run/enroll.out" failures)
    flows=$(result "$run/enroll.out" flows)
    c_httpd=$(cpu_spent "$run/ticks-a" "$run/ticks-b")
    c_mc=$(cpu_spent "$run/mc-a" "$run/mc-b")
    c_drv=$(result "$run/enroll.out" cpu)
    c_all=$(awk -v a="$c_httpd" -v b="$c_mc" -v c="$c_drv" 'BEGIN { print a + b + c }')
    say ""
    say "CPU per enrollment: httpd $(per "$c_httpd" "$flows" 1000) ms, memcached" \
        "$(per "$c_mc" "$flows" 1000) ms, driver $(per "$c_drv" "$flows" 1000) ms;" \
        "$(nproc) CPUs doing nothing else: $(per "$(nproc)" "$c_all" "$flows") enrollments/s"
    say "error_log lines at error level during the run: $(($(errors_logged) - errs_before))"
    ;;
esac

# ---- 3. issuance ----
case " $parts " in *" 3 "*)
    say ""
    say "## 3. Issuance, one thread: cnca_ca_issue vs bare OpenSSL (keygen + minimal X509 + sign)"
    say ""
    "$run/bin/issue_bench" "$issue_secs" "$run/ca-ec" "$run/ca-sm2" "$run/ca-rsa" \
        >"$run/issue.out" 2>"$run/issue.err" || {
        cat "$run/issue.err" >&2
        die "issue_bench failed"
    }
    show "$run/issue.out"
    ;;
esac

# ---- 4. memory ----
# mem_measured: the children that lived through all the windows (none: the
# target is MISSED); max_growth: the largest growth of theirs
mem_measured=0
max_growth=-1
mem_done=0
mem_fail=0
case " $parts " in *" 4 "*)
    say ""
    say "## 4. Memory: RSS of each httpd child over $mem_windows x $mem_requests API requests"
    say ""
    say "(GET /session, POST /apply with an invalid ID number, GET /captcha in turn on 32" \
        "sessions, after $mem_requests of them as warm-up. A child's RSS moves by up to about" \
        "a megabyte either way from one moment to the next (glibc gives an arena's free memory" \
        "back only above its trim threshold), so the growth per $mem_requests requests is the" \
        "slope over $mem_windows windows: (last - first) / $mem_windows; BENCHMARKS.md, finding 7)"
    say ""
    # "PID RSS" of each child alive now (one that has just exited, or is a
    # zombie without VmRSS, is left out, not taken for 0 kB)
    snapshot() {
        for k in $(children); do
            r=$(rss_of "$k")
            [ "${r:-0}" -gt 0 ] && echo "$k $r"
        done >"$1"
        return 0
    }
    "$driver" hammer "$base" 32 "$mem_requests" >"$run/hammer-warmup.out" 2>&1 || true
    snapshot "$run/rss-0"
    httpd_ticks >"$run/ticks-a"
    for w in $(seq "$mem_windows"); do
        "$driver" hammer "$base" 32 "$mem_requests" >"$run/hammer-$w.out" \
            2>"$run/hammer-$w.err" || true
        snapshot "$run/rss-$w"
        n=$(result "$run/hammer-$w.out" requests)
        f=$(result "$run/hammer-$w.out" failures)
        mem_done=$((mem_done + ${n:-0}))
        mem_fail=$((mem_fail + ${f:-1}))
    done
    httpd_ticks >"$run/ticks-b"
    head="| child pid | after the warm-up kB |"
    rule="| ---: | ---: |"
    for w in $(seq "$mem_windows"); do
        head="$head after window $w kB |"
        rule="$rule ---: |"
    done
    say "$head growth per $mem_requests kB |"
    say "$rule ---: |"
    # window_cells K MISSING: $cells, child K's RSS after each window (MISSING
    # where it was not alive), and $last, its RSS after the last one
    window_cells() {
        cells=""
        for w in $(seq "$mem_windows"); do
            last=$(sed -n "s/^$1 //p" "$run/rss-$w")
            cells="$cells ${last:-$2} |"
        done
    }
    while read -r k first; do
        window_cells "$k" "(exited)"
        line="| $k | $first |$cells"
        if [ -z "$last" ]; then
            say "$line n/a |"
            continue
        fi
        growth=$(((last - first) / mem_windows))
        if [ "$mem_measured" = 0 ] || [ "$growth" -gt "$max_growth" ]; then
            max_growth=$growth
        fi
        mem_measured=$((mem_measured + 1))
        say "$line $growth |"
    done <"$run/rss-0"
    # children started after the warm-up: what each window saw of them
    for w in $(seq "$mem_windows"); do
        cut -d' ' -f1 "$run/rss-$w"
    done | sort -un | while read -r k; do
        grep -q "^$k " "$run/rss-0" && continue
        window_cells "$k" "-"
        say "| $k | (new child) |$cells n/a |"
    done
    say ""
    say "last window:"
    show "$run/hammer-$mem_windows.out"
    say "all $mem_windows windows: $mem_done requests, $mem_fail failures; httpd CPU:" \
        "$(per "$(cpu_spent "$run/ticks-a" "$run/ticks-b")" "$mem_done" 1000000) µs/request"
    for w in $(seq "$mem_windows"); do
        if [ -s "$run/hammer-$w.err" ]; then
            say "first failures (window $w):"
            tee -a "$out" <"$run/hammer-$w.err"
            break
        fi
    done
    ;;
esac

# ---- targets ----
say ""
say "## Targets"
say ""
say "| target | figure | |"
say "| --- | --- | --- |"
case " $parts " in *" 1 "*)
    r=$(ratio "$api_rps" "$static_rps")
    say "| API throughput >= 50% of static | $r | $(verdict "$r" 0.5) |"
    ;;
esac
case " $parts " in *" 2 "*)
    v=$(verdict "$enroll_rate" 200)
    [ "$enroll_fail" = 0 ] || v=MISSED
    say "| >= 200 enrollments/s ($alg), 0 failures | $enroll_rate/s, $enroll_fail failures | $v |"
    ;;
esac
case " $parts " in *" 3 "*)
    for a in ec-p256 sm2 rsa-2048 rsa-3072; do
        r=$(result "$run/issue.out" ratio "alg=$a ")
        [ -z "$r" ] || say "| issuance $a >= 50% of bare | $r | $(verdict "$r" 0.5) |"
    done
    ;;
esac
case " $parts " in *" 4 "*)
    v=$(awk -v m="$mem_measured" -v g="$max_growth" -v n="$mem_done" \
        -v want="$((mem_requests * mem_windows))" -v f="$mem_fail" \
        'BEGIN { print (m > 0 && g <= 1024 && n >= want && f == 0) ? "met" : "MISSED" }')
    say "| child RSS growth <= 1 MB per 100,000 requests | max $max_growth kB per" \
        "$mem_requests over $mem_done requests ($mem_measured children throughout)," \
        "$mem_fail failures | $v |"
    ;;
esac
say ""
say "load average at the end: $(load); everything above is in $out"
if [ "${BENCH_HOLD:-0}" = 1 ]; then
    echo "holding the instance at $base (httpd $httpd_pid, memcached $mc_pid); Ctrl-C stops it"
    wait "$httpd_pid" || true
fi
