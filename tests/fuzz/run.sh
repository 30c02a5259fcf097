#!/usr/bin/env bash
# Runs libFuzzer binaries for a bounded time each (used by `make fuzz`
# and `make fuzz-smoke`; see Makefile.am).
#
#   FUZZ_SECONDS=60 tests/fuzz/run.sh tests/fuzz/fuzz_items tests/fuzz/fuzz_route
#
# Binary tests/fuzz/fuzz_NAME starts from a copy of tests/fuzz/corpus/NAME
# in a temporary directory (what it learns is thrown away: the corpus in
# the repository never grows) with tests/fuzz/NAME.dict. A crash, leak,
# timeout (10 s for one input) or out-of-memory (2 GB) leaves the input in
# $FUZZ_OUT (default tests/fuzz/out in the build tree), prints it in hex
# with the end of the fuzzer's log (the stack), and makes the run fail.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
SECS=${FUZZ_SECONDS:-60}
OUT=${FUZZ_OUT:-tests/fuzz/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rc=0
for bin in "$@"; do
    name=${bin##*/fuzz_}
    work=$(mktemp -d /tmp/api-pedidos-fuzz.XXXXXX)
    mkdir "$work/corpus"
    cp -R "$TOP/tests/fuzz/corpus/$name/." "$work/corpus/"
    log=$OUT/$name.log
    touch "$work/stamp"
    echo "fuzz $name: ${SECS} s, log in $log"
    "$bin" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -max_len=16384 \
        -dict="$TOP/tests/fuzz/$name.dict" -artifact_prefix="$OUT/$name-" \
        -print_final_stats=1 "$work/corpus" >"$log" 2>&1
    r=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1)
    echo "fuzz $name: exit $r, ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-cov: ?}, peak RSS ${rss:-?} MB"
    if [ "$r" -ne 0 ]; then
        rc=1
        echo "FAIL - fuzz $name: the fuzzer stopped on a finding"
        # the report: from the first error line to SUMMARY (the stack),
        # without ASan's shadow map
        first=$(grep -n -m1 -E '==ERROR|ERROR: libFuzzer|invariant violated|runtime error' "$log" |
                cut -d: -f1)
        sed -n "${first:-1},\$p" "$log" | sed '/^Shadow bytes around/,/^ *Right alloca redzone/d' |
            head -n 80 | sed 's/^/    /'
        for a in $(find "$OUT" -maxdepth 1 -type f -name "$name-*" -newer "$work/stamp"); do
            echo "    input $a ($(wc -c < "$a") bytes), hex:"
            od -An -v -tx1 "$a" | tr -d ' \n' | head -c 8192 | fold -w 64 | sed 's/^/      /'
            echo
        done
    fi
    rm -rf "$work"
done
exit $rc
