#!/usr/bin/env bash
# Every test of the project, from a clean clone on Debian 12 or 13:
#   bash tests/all.sh
# 1. installs what is missing (deploy/deps.sh, plus valgrind, clang and
#    the clang runtime that matches the installed clang);
# 2. builds with -Werror: a warning fails the run;
# 3. make check: Check unit tests, the CLI tests and the end-to-end
#    suites behind nginx and lighttpd (real spawn-fcgi, real upstream);
# 4. make check-asan: all of it again under ASan + UBSan;
# 5. make check-valgrind: the nginx end-to-end suite and the lifecycle
#    suite with every api-pedidos process under valgrind;
# 6. make fuzz-smoke: each libFuzzer target for 10 s.
# A suite that reports SKIP (a tool it needs is missing) fails the run:
# everything was installed in step 1, so a skip here is a fault, and CI
# must never pass by skipping.
# Closes with one line: "all: N passed, M failed" (every check counted).
set -eu -o pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
"$TOP/deploy/deps.sh" valgrind clang prometheus
# libFuzzer and the sanitizers' runtime come with libclang-rt-N-dev, N the
# major version of the clang just installed (14 on Debian 12, 19 on 13).
"$TOP/deploy/deps.sh" "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"

step() { printf '\n=== %s\n' "$*"; }
# failed_checks FILE...: every failed check with its details, last, so
# that the end of the output (all a CI page may keep) names them
failed_checks() {
    printf '\n=== failed checks\n'
    grep -A3 '^FAIL - \|^[^ ]*:[0-9]*:[EF]:' "$@" 2>/dev/null | grep -v '^--$' || true
}
show_failures() {
    local f
    for f in tests/*.log; do
        grep -q '^FAIL\|^ERROR' "$f" 2>/dev/null && { echo "--- $f"; tail -n 80 "$f"; }
    done
    failed_checks tests/*.log
    return 1
}
# no_skips LOG...: no suite skipped, by automake's results (tests/*.trs)
# and by the line a skipping suite prints (tests/testlib.sh's need_done)
no_skips() {
    local s
    s=$(grep -l '^:test-result: SKIP' tests/*.trs 2>/dev/null; grep -h ': SKIP, ' "$@" 2>/dev/null) || true
    [ -z "$s" ] && return 0
    printf 'all: a suite skipped, which this run does not allow:\n%s\n' "$s"
    return 1
}

step "build (warnings are errors)"
autoreconf -fi
./configure -q
make clean >/dev/null
make -j"$(nproc)" CFLAGS="-O2 -g -Werror"

step "make check"
make -j"$(nproc)" check CFLAGS="-O2 -g -Werror" || show_failures
cat tests/*.log > check.out
no_skips check.out

step "make check-asan"
make -j"$(nproc)" check-asan || { cat check-asan.out; failed_checks check-asan.out; false; }
no_skips check-asan.out

step "make check-valgrind"
make check-valgrind | tee check-valgrind.out || { failed_checks check-valgrind.out; false; }

step "make fuzz-smoke"
make fuzz-smoke | tee fuzz-smoke.out

# Where the time went: each end-to-end suite's own "time - NAME: S s"
# line, in make check (two at a time) and in check-asan (one at a time),
# then the ten slowest checks ("time - test_x: S s") of all the runs.
step "time per suite"
for f in check.out check-asan.out check-valgrind.out; do
    grep -h '^time - ' "$f" 2>/dev/null | grep -v '^time - test_' | sed "s/^time - /$f: /" || true
done
step "slowest checks"
for f in check.out check-asan.out check-valgrind.out; do
    grep -h '^time - test_' "$f" 2>/dev/null | sed "s/^time - /$f: /" || true
done | sort -t: -k3 -n -r | awk 'NR <= 10'

# Every suite's closing line ("...: N passed, M failed" of the shell
# suites, "Checks: N, Failures: F, Errors: E" of Check) added up.
step "summary"
awk '/: [0-9]+ passed, [0-9]+ failed/ {p += $(NF-3); f += $(NF-1)}
     /Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
         gsub(",", ""); p += $3 - $5 - $7; f += $5 + $7 }
     END {print "all: " p " passed, " f " failed"}' check.out check-asan.out check-valgrind.out
