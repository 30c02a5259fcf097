#!/usr/bin/env bash
# The command line as people meet it: --help, --version, bad settings.
# Every bad flag or setting must give one line on stderr and exit 2
# before anything is served. Closes with "N passed, M failed".
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$TOP}
BIN=$BUILD/src/api-pedidos
. "$TOP/tests/testlib.sh"
E=$(mktemp -d)
trap 'rm -rf "$E"' EXIT

# run ENV... -- ARGS...: runs the binary with fd 0 closed to input, sets
# RC, OUT and ERR
run() {
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env -i PATH="$PATH" "${envs[@]}" timeout 5 "$BIN" "$@" >"$E/out" 2>"$E/err" </dev/null
    RC=$?
    OUT=$(cat "$E/out")
    ERR=$(cat "$E/err")
}

expect_bad() { # expect_bad NAME WORD ENV... -- ARGS...
    local name=$1 word=$2; shift 2
    run "$@"
    if [ "$RC" = 2 ] && [ "$(wc -l < "$E/err")" = 1 ] && grep -q -- "$word" "$E/err" \
       && [ -z "$OUT" ]; then
        ok "$name: exit 2, one line naming $word"
    else
        ko "$name" "rc=$RC stderr=$ERR stdout=$OUT"
    fi
}

run -- --help
[ "$RC" = 0 ] && ok "--help exits 0" || ko "--help exits 0" "rc=$RC"
for word in MAGALU_API_URL APIKEY TENANT_ID --listen --log-level API_PEDIDOS_LOG_LEVEL; do
    grep -q -- "$word" "$E/out" && ok "--help names $word" || ko "--help names $word" "$OUT"
done
for f in $(grep -o 'API_PEDIDOS_[A-Z_]*' "$TOP/src/config.c" | sort -u); do
    grep -q -- "$f" "$E/out" && ok "--help names $f" || ko "--help names $f" ""
done
run APIKEY=k -- --version
[ "$RC" = 0 ] && grep -q '^api-pedidos [0-9]' "$E/out" && ok "--version" || ko "--version" "rc=$RC $OUT"
run MAGALU_API_URL=ftp://x -- --help
[ "$RC" = 0 ] && ok "--help works with a bad environment" || ko "--help with a bad env" "rc=$RC"

expect_bad "unknown flag" --bogus APIKEY=k -- --bogus
expect_bad "missing value" --fanout APIKEY=k -- --fanout
expect_bad "fanout 0" --fanout APIKEY=k -- --fanout 0
expect_bad "fanout from env" API_PEDIDOS_FANOUT APIKEY=k API_PEDIDOS_FANOUT=lots --
expect_bad "timeout junk" --call-timeout APIKEY=k -- --call-timeout 5s
expect_bad "max-body too small" --max-body APIKEY=k -- --max-body 1
expect_bad "log level" --log-level APIKEY=k -- --log-level loud
expect_bad "no api key" APIKEY --
expect_bad "bad upstream" MAGALU_API_URL APIKEY=k MAGALU_API_URL=ftp://example.com --
expect_bad "upstream without host" MAGALU_API_URL APIKEY=k MAGALU_API_URL=http:// --
expect_bad "bad listen address" bogus APIKEY=k -- --listen bogus
expect_bad "positional argument" serve APIKEY=k -- serve
expect_bad "no socket on fd 0" spawn-fcgi APIKEY=k --

run APIKEY=sekrit-key-123 API_PEDIDOS_FANOUT=$'1\nsekrit' --
if ! grep -q sekrit-key-123 "$E/err"; then ok "the API key is not in the error"; else
    ko "the API key is not in the error" "$ERR"; fi

# a real start and stop on a TCP port, and the socket file cleaned up
env -i PATH="$PATH" APIKEY=k "$BIN" --listen "$E/s.sock" 2>"$E/log" &
pid=$!
for _ in $(seq 50); do [ -S "$E/s.sock" ] && break; sleep 0.1; done
[ -S "$E/s.sock" ] && ok "--listen PATH makes the socket" || ko "--listen PATH" "$(cat "$E/log")"
kill -TERM "$pid"; wait "$pid"; rc=$?
[ "$rc" = 0 ] && ok "SIGTERM: exit 0" || ko "SIGTERM: exit 0" "rc=$rc"
[ ! -e "$E/s.sock" ] && ok "socket file removed at exit" || ko "socket file removed" ""

echo "cli: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
