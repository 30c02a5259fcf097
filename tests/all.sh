#!/usr/bin/env bash
# Every test of the project, from a clean clone on Debian 12:
#   bash tests/all.sh
# 1. installs what is missing (deploy/deps.sh, plus valgrind and clang);
# 2. builds with -Werror: a warning fails the run;
# 3. make check: Check unit tests, the CLI tests and the end-to-end
#    suites behind nginx and lighttpd (real spawn-fcgi, real upstream);
# 4. make check-asan: all of it again under ASan + UBSan;
# 5. make check-valgrind: the nginx end-to-end suite with every
#    api-pedidos process under valgrind.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
"$TOP/deploy/deps.sh" valgrind

step() { printf '\n=== %s\n' "$*"; }
show_failures() {
    local f
    for f in tests/*.log; do
        grep -q '^FAIL\|^ERROR' "$f" 2>/dev/null && { echo "--- $f"; tail -n 80 "$f"; }
    done
    return 1
}

step "build (warnings are errors)"
autoreconf -fi
./configure -q
make clean >/dev/null
make -j"$(nproc)" CFLAGS="-O2 -g -Werror"

step "make check"
make -j"$(nproc)" check || show_failures

step "make check-asan"
make -j"$(nproc)" check-asan || show_failures

step "make check-valgrind"
make check-valgrind

step "all tests passed"
