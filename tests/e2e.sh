#!/usr/bin/env bash
# End-to-end tests through the real stack: curl -> nginx or lighttpd ->
# spawn-fcgi'd api-pedidos -> tests/maestro-fake on loopback, straight
# (http) or, as in production, through a TLS gateway (nginx, certificates
# of a private CA made at test time) offering HTTP/2 (h2) or only
# HTTP/1.1 (h1).
#
#   tests/e2e.sh nginx|lighttpd [http|h2|h1]
#
# Prints one line per check and closes with "N passed, M failed".
set -u
FRONT=${1:?usage: e2e.sh nginx|lighttpd [http|h2|h1]}
MODE=${2:-http}
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/stack.sh"

case $FRONT-$MODE in
    nginx-http) BASE_PORT=${E2E_PORT:-21000}; PROCS=2 ;;
    lighttpd-http) BASE_PORT=${E2E_PORT:-22000}; PROCS=1 ;;
    nginx-h2) BASE_PORT=${E2E_PORT:-28000}; PROCS=2 ;;
    nginx-h1) BASE_PORT=${E2E_PORT:-29000}; PROCS=2 ;;
    *) echo "unknown front or upstream: $FRONT $MODE" >&2; exit 2 ;;
esac
UP_PORT=$((BASE_PORT + 1))
DEAD_PORT=$((BASE_PORT + 9))   # nothing listens there
TLS_PORT=$((BASE_PORT + 20))   # the TLS gateway: h2, +1 h1, +2 idle close, +3..5 bad certificates
FRONT_PORT=$BASE_PORT
DELAY_MS=150
# the fake: every answer L ms late, a fault order's good packages 30 s
UP_FLAGS=(--delay-ms "$DELAY_MS" --sibling-ms 30000)
CONNECT_MS=500
FX=$TOP/tests/fixtures
# UPSTREAM host:port as the service is given it, SCHEME its scheme
case $MODE in
    http) SCHEME=http; UPSTREAM=127.0.0.1:$UP_PORT ;;
    h2) SCHEME=https; UPSTREAM=127.0.0.1:$TLS_PORT ;;
    h1) SCHEME=https; UPSTREAM=127.0.0.1:$((TLS_PORT + 1)) ;;
esac


. "$TOP/tests/testlib.sh"
. "$TOP/tests/e2e-enrich.sh"

need "$FRONT" "$FRONT"
need spawn-fcgi spawn-fcgi
need curl curl
need promtool prometheus
[ -z "${STACK_VALGRIND:-}" ] || need valgrind valgrind
# the TLS gateway: nginx, certificates made with openssl
[ "$MODE" = http ] || { need nginx nginx; need openssl openssl; }
need_done "e2e $FRONT $MODE"

testlib_workdir e2e
if [ -n "${STACK_SANITIZED:-}" ] && [ "$SCHEME" = https ]; then
    # Under ASan a TLS handshake of ours costs several times its CPU, and
    # tens of them at once (200 packages, a cold start) on a busy machine
    # passed 500 ms: give a new connection the whole call timeout.
    CONNECT_MS=1000
fi
SVC_FLAGS=(--connect-timeout "$CONNECT_MS" --call-timeout 1000 --request-timeout 2500 --metrics 1)
if [ -n "${STACK_VALGRIND:-}" ] && [ "$SCHEME" = https ]; then
    # Under valgrind a TLS handshake, and the CA bundle's parsing on each
    # multi handle's first connection, take seconds: the memory checks of
    # the TLS path get room for that, and leave out the checks that rest
    # on short timeouts (those run under ASan with the rest of the suite).
    SVC_FLAGS=(--connect-timeout 10000 --call-timeout 15000 --request-timeout 20000 --metrics 1)
    E2E_ONLY=${E2E_ONLY:-"test_simple_routes test_uuid_forms test_fixture_orders test_not_found
        test_big_order test_enrich_answers test_enrich_sizes test_request_log test_metrics test_tls_bad_certificates
        test_tls_few_connections test_key_never_logged"}
fi
if [ "$SCHEME" = https ]; then
    # for every stack_service below (test_tls_bad_certificates gives the
    # CA as --ca-file instead)
    STACK_UPSTREAM_URL=https://$UPSTREAM
    export API_PEDIDOS_CA_FILE=$STACK_RUN/certs/ca.pem
fi

# req METHOD PATH: sets STATUS, BODY, CTYPE, CLEN, ALLOW, RETRY (for
# HEAD, curl -I reads no body: BODY stays empty unless one came)
req() {
    local how=(-X "$1") out=$W/b
    if [ "$1" = HEAD ]; then how=(-I); out=/dev/null; fi
    : > "$W/b"; : > "$W/h"
    [ "$1" = POST ] || [ "$1" = PUT ] && how+=(--data "")
    STATUS=$(curl -s "${how[@]}" -D "$W/h" -o "$out" -w '%{http_code}' --max-time 20 \
             --path-as-is -g "http://127.0.0.1:$FRONT_PORT$2")
    answer_read
}
get() { req GET "$1"; }
stats() { curl -s "http://127.0.0.1:$UP_PORT/_stats"; }
stat_of() { stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
reset_stats() { curl -s "http://127.0.0.1:$UP_PORT/_reset" >/dev/null; }

ERR502='{"message":"Falha de comunicação com o servidor remoto"}'
ERR404='{"message":"Pedido não encontrado"}'
ERR422='{"detail":[{"loc":["path","identificacao_do_pedido"],"msg":"value is not a valid uuid","type":"type_error.uuid"}]}'

# expect STATUS BODY for NAME, plus the JSON headers every answer carries
expect() {
    local name=$1 want_status=$2 want_body=$3
    check "$name: status" "$STATUS" "$want_status"
    check "$name: body" "$BODY" "$want_body"
    check "$name: content-type" "$CTYPE" "application/json"
    check "$name: content-length" "$CLEN" "$(bytes "$want_body")"
}

die() { echo "FAIL - $*"; echo "e2e ($FRONT, $MODE): $PASS passed, $((FAIL + 1)) failed"; exit 1; }

start_stack() {
    stack_upstream "$UP_PORT" "${UP_FLAGS[@]}" || die "upstream did not start (port $UP_PORT)"
    if [ "$SCHEME" = https ]; then
        STACK_TLS_LOG=$STACK_RUN/tls-access.log stack_tls "$TLS_PORT" ||
            die "TLS gateway did not start (port $TLS_PORT): $(tail -3 "$STACK_RUN/tls-error.log")"
    fi
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not start"
    "stack_$FRONT" "$FRONT_PORT" || die "$FRONT did not start (port $FRONT_PORT)"
}

test_simple_routes() {
    get /healthcheck; expect "healthcheck" 200 '{"status":"ok"}'
    req HEAD /healthcheck
    check "HEAD healthcheck: status" "$STATUS" 200
    check "HEAD healthcheck: no body" "$BODY" ""
    check "HEAD healthcheck: length of the GET body" "$CLEN" 15
    get /nope; expect "unknown path" 404 '{"detail":"Not Found"}'
    get /; expect "root" 404 '{"detail":"Not Found"}'
    get /orders//items; expect "empty order id" 404 '{"detail":"Not Found"}'
    get /healthcheck/extra; expect "healthcheck with a tail" 404 '{"detail":"Not Found"}'
    req POST /healthcheck; expect "POST healthcheck" 405 '{"detail":"Method Not Allowed"}'
    check "POST healthcheck: Allow" "$ALLOW" "GET"
    req DELETE /orders/3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28/items
    expect "DELETE items" 405 '{"detail":"Method Not Allowed"}'
    check "DELETE items: Allow" "$ALLOW" "GET"
    req PUT /orders/not-a-uuid/items; expect "PUT with a bad uuid" 405 '{"detail":"Method Not Allowed"}'
}

# Request bodies through the front. Until a route takes one, a POST to
# /healthcheck is answered 405 once its body was read whole: a body that
# gets 405 was let through and taken. Past 1 MiB: the service's 413,
# whichever side refuses it (nginx by its error_page, lighttpd by passing
# it on up to its own 16 MiB limit, then by its error file).
ERR413='{"message":"Corpo da requisição grande demais"}'
BAD_METHOD='{"detail":"Method Not Allowed"}'
# post_body FILE [curl args...]: POST /healthcheck with FILE as its body
post_body() {
    local f=$1; shift
    : > "$W/b"; : > "$W/h"
    STATUS=$(curl -s -X POST --data-binary "@$f" -H 'Content-Type: application/json' "$@" -D "$W/h" \
             -o "$W/b" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$FRONT_PORT/healthcheck")
    answer_read
}
test_bodies() {
    local n f
    # ~40 KB, the largest a legitimate POST /orders/enriched sends
    { printf '{"items":['; seq 190719400 190722699 | sed 's/.*/"&"/' | paste -sd, | tr -d '\n'; printf ']}'; } \
        > "$W/40k.json"
    n=$(wc -c < "$W/40k.json")
    post_body "$W/40k.json"; expect "POST of $n bytes with Content-Length: let through" 405 "$BAD_METHOD"
    post_body "$W/40k.json" -H 'Transfer-Encoding: chunked'
    expect "POST of $n bytes, chunked (no Content-Length): let through" 405 "$BAD_METHOD"
    for n in 1048576 1048577 5000000 20000000; do
        head -c "$n" /dev/zero | tr '\0' x > "$W/body"
        if [ "$n" = 1048576 ]; then
            post_body "$W/body"; expect "POST of exactly 1 MiB: let through" 405 "$BAD_METHOD"
            post_body "$W/body" -H 'Transfer-Encoding: chunked'
            expect "POST of exactly 1 MiB, chunked: let through" 405 "$BAD_METHOD"
            continue
        fi
        post_body "$W/body"; expect "POST of $n bytes: the JSON 413" 413 "$ERR413"
        post_body "$W/body" -H 'Transfer-Encoding: chunked'
        expect "POST of $n bytes, chunked: the JSON 413" 413 "$ERR413"
    done
    rm -f "$W/body"
    get /healthcheck; expect "healthcheck after the bodies" 200 '{"status":"ok"}'
}

# An answer given before the body was read whole (the service's 413 past
# 1 MiB) reaches the client whole: the service reads and drops the rest
# before it answers, so the web server, still writing the body, is never
# reset (it used to cut the answer: a 413 with no body, or its own HTML
# 502). nginx's limit is raised to 2 MiB so that the service refuses it;
# lighttpd passes bodies up to 16 MiB as it is.
test_early_answer() {
    local i bad=0 what='' pid
    head -c 1200000 /dev/zero | tr '\0' x > "$W/big"
    if [ "$FRONT" = nginx ]; then
        pid=$(cat "$STACK_RUN/nginx.pid"); kill -TERM "$pid"; stack_wait_gone "$pid"
        STACK_BODY_MAX=2m stack_nginx "$FRONT_PORT" || die "nginx did not restart"
    fi
    for i in $(seq 1 20); do
        : > "$W/b"; : > "$W/h"
        STATUS=$(curl -s -X POST --data-binary "@$W/big" -H 'Content-Type: application/json' -D "$W/h" \
                 -o "$W/b" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$FRONT_PORT/orders/enriched")
        answer_read
        [ "$STATUS $CLEN $BODY" = "413 $(bytes "$ERR413") $ERR413" ] ||
            { bad=$((bad + 1)); what="$STATUS $CLEN '$BODY'"; }
    done
    check "1.2 MB POST, the service's 413 (20 times): whole every time${what:+ (last bad: $what)}" "$bad" 0
    if [ "$FRONT" = nginx ]; then
        pid=$(cat "$STACK_RUN/nginx.pid"); kill -TERM "$pid"; stack_wait_gone "$pid"
        stack_nginx "$FRONT_PORT" || die "nginx did not restart"
    fi
    rm -f "$W/big"
}

test_api_document() {
    get /openapi.json
    check "openapi.json: status" "$STATUS" 200
    check "openapi.json: content type" "$CTYPE" "application/json"
    cmp -s "$W/b" "$TOP/doc/openapi.json" && ok "openapi.json: the document, byte for byte" ||
        ko "openapi.json: the document" "differs from doc/openapi.json"
    get /docs
    check "docs: status" "$STATUS" 200
    check "docs: content type" "$CTYPE" "text/html; charset=utf-8"
    cmp -s "$W/b" "$TOP/doc/docs.html" && ok "docs: the page, byte for byte" ||
        ko "docs: the page" "differs from doc/docs.html"
}

test_bad_uuids() {
    local id
    for id in not-a-uuid 3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f2 3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f288 \
              3f6c2a9e81d4-4b7a-a5e2-7c9d0b1e4f28- g3f6c2a9-81d4-4b7a-a5e2-7c9d0b1e4f28 \
              "{3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28" "urn:uuid:" "%20" "%00" \
              "3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28%00"; do
        get "/orders/$id/items"
        if [ "${id: -3}" = "%00" ] && [ "$STATUS" = 400 ]; then
            ok "NUL in the id refused by $FRONT itself (400)"
            continue
        fi
        expect "bad uuid '$id'" 422 "$ERR422"
    done
}

test_fixture_orders() {
    local f id want
    for f in "$FX"/expected/*.json; do
        id=$(basename "$f" .json)
        want=$(cat "$f")
        get "/orders/$id/items"; expect "fixture order $id" 200 "$want"
    done
}

test_uuid_forms() {
    local id=3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28 want form
    want=$(cat "$FX/expected/$id.json")
    for form in 3F6C2A9E-81D4-4B7A-A5E2-7C9D0B1E4F28 3f6c2a9e81d44b7aa5e27c9d0b1e4f28 \
                "{3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28}" "{3F6C2A9E81D44B7AA5E27C9D0B1E4F28}" \
                urn:uuid:3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28 URN:UUID:3f6c2a9e81d44b7aa5e27c9d0b1e4f28 \
                "%7B3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28%7D"; do
        get "/orders/$form/items"; expect "uuid form $form" 200 "$want"
    done
    get "/orders/$id/items?x=1&order=00000f01-0000-4000-8000-000000000002&a=%7B%7D&b=%2F"
    expect "query string ignored" 200 "$want"
    get "/orders/$id/items?$(head -c 6000 /dev/zero | tr '\0' a)"
    expect "long query string ignored" 200 "$want"
}

test_not_found() {
    get /orders/0badc0de-0000-4000-8000-000000000000/items
    expect "unknown order" 404 "$ERR404"
    get /orders/00000f01-0000-4000-8000-000000000001/items; expect "order call 404" 404 "$ERR404"
    get /orders/00000f02-0000-4000-8000-000000000001/items; expect "package call 404" 404 "$ERR404"
}

# Every fault of tests/maestro-fake, on the order call and on a package
# call: 502, and a failing package cancels its two slow siblings.
# fault_order CC SCOPE: the fault order of CC on the order call (1) or
# on a package call (2), which must end in 502; $MS is how long it took
fault_order() {
    local t0
    t0=$(date +%s%N)
    get "/orders/00000f0$2-0000-4000-8000-0000000000$1/items"
    MS=$(( ($(date +%s%N) - t0) / 1000000 ))
    expect "fault $1 on the $([ "$2" = 1 ] && echo order || echo package) call" 502 "$ERR502"
}

# Every fault, on the order call and on a package call, is a 502. When a
# package call fails, its siblings are not waited for: the fake holds
# them 30 s (--sibling-ms) and the service here has a 10 s call timeout,
# so an answer within 5 s shows they were let go (about 0.6 s is usual,
# 1.8 s was seen on a busy machine). Over HTTP/2 a package call and its
# siblings share one connection, and nginx may leave fault 06's cut
# stream open until that connection's next frame: --stall-timeout 1000
# ends it (without that guard the answer would take the 10 s call
# timeout). Fault 05 is itself a 30 s answer,
# ended by the 1 s call timeout of the usual flags. No times for the
# faults whose body alone costs seconds of CPU there (08: 9 MiB, 13:
# nesting, 19: a million numbers), nor under valgrind.
test_faults() {
    local cc scope
    fault_order 05 1
    fault_order 05 2
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" --call-timeout 10000 --request-timeout 12000 \
        --stall-timeout 1000 ||
        die "service did not restart"
    for cc in 02 03 04 06 07 08 09 10 11 12 13 14 15 16 17 18 19; do
        for scope in 1 2; do fault_order "$cc" "$scope"; done
        case $cc in 08 | 13 | 19) continue ;; esac
        [ -z "${STACK_VALGRIND:-}" ] || continue
        [ "$MS" -lt 5000 ] && ok "fault $cc: siblings not waited for (${MS} ms)" ||
            ko "fault $cc: siblings not waited for" "answer took ${MS} ms"
    done
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

test_redirect_not_followed() {
    reset_stats
    get /orders/00000f01-0000-4000-8000-000000000017/items
    expect "redirect" 502 "$ERR502"
    check "redirect: exactly one upstream call" "$(stat_of requests)" 1
}

# An order of 200 packages, whole and in order. Over TLS each package
# call of a fresh process may need a handshake of its own (HTTP/1.1: 200
# connections, 64 set up at a time); under ASan, with another suite
# beside it, the last of them once passed the 1 s call timeout (502).
# Their speed is not this check's subject (cold burst, cold start):
# over TLS the calls get 10 s here (under valgrind they have more).
test_big_order() {
    local slow=
    [ "$SCHEME" = https ] && [ -z "${STACK_VALGRIND:-}" ] && slow=1
    if [ -n "$slow" ]; then
        stack_stop_service
        stack_service "$PROCS" "${SVC_FLAGS[@]}" --call-timeout 10000 --request-timeout 15000 ||
            die "service did not restart"
    fi
    get /orders/00000000-0000-4000-8000-000000000200/items
    check "200 packages: status" "$STATUS" 200
    check "200 packages: items" "$(grep -o '"sku":' "$W/b" | wc -l)" 200
    check "200 packages: first" "$(grep -o '^\[{"sku":"P0",' "$W/b")" '[{"sku":"P0",'
    check "200 packages: last" "$(grep -o '{"sku":"P199","description":"Produto 199","image_url":"https://img.example/{w}x{h}/199.jpg","reference":"ref-199","quantity":200}]$' "$W/b" | wc -l)" 1
    get /orders/00000000-0000-4000-8000-000000000000/items; expect "zero packages" 200 "[]"
    if [ -n "$slow" ]; then
        stack_stop_service
        stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
    fi
}

test_concurrency() {
    local a b try peak
    # "at once" is the upstream seeing all 10 within its 150 ms delay; over
    # TLS each call may first make its own handshake, which a starved
    # machine can spread wider than that: up to three tries (the later
    # ones mostly on kept connections). Calls made one after another
    # never show more than 1, however often they are tried.
    for try in 1 2 3; do
        reset_stats
        get /orders/00000000-0000-4000-8000-000000000010/items
        peak=$(stat_of max_in_flight)
        [ "$peak" = 10 ] && break
    done
    check "10 packages: status" "$STATUS" 200
    check "10 packages reach the upstream as 10 calls at once (try $try)" "$peak" 10
    check "10 packages: 11 calls" "$(stat_of requests)" 11
    reset_stats
    curl -s -o "$W/c1" --max-time 20 "http://127.0.0.1:$FRONT_PORT/orders/00000f01-0000-4000-8000-000000000005/items" &
    a=$!
    curl -s -o "$W/c2" --max-time 20 "http://127.0.0.1:$FRONT_PORT/orders/00000f01-0000-4000-8000-000000000005/items" &
    b=$!
    stack_wait sh -c "curl -s http://127.0.0.1:$UP_PORT/_stats | grep -q '\"in_flight\":2'"
    check "two slow orders are in flight at once" "$(stat_of max_in_flight)" 2
    get /healthcheck
    check "healthcheck answers while they wait" "$STATUS" 200
    wait "$a" "$b"
    check "slow order 1 ends in 502" "$(cat "$W/c1")" "$ERR502"
    check "slow order 2 ends in 502" "$(cat "$W/c2")" "$ERR502"
}

# A client that leaves mid-request: the front closes the FastCGI
# connection and the service cancels the order's upstream calls at once.
test_client_leaves() {
    local before after
    if [ "$FRONT" = lighttpd ]; then
        # lighttpd 1.4 keeps the FastCGI connection open until the answer
        # comes (the call times out and the 502 is thrown away): nothing
        # tells the service that the client left.
        echo "note - client leaves: not checked behind lighttpd"
        return
    fi
    before=$(grep -c 'client left' "$STACK_RUN/service.log")
    curl -s -o /dev/null --max-time 0.5 \
        "http://127.0.0.1:$FRONT_PORT/orders/00000f02-0000-4000-8000-000000000005/items"
    stack_wait sh -c "[ \$(grep -c 'client left' '$STACK_RUN/service.log') -gt $before ]"
    after=$(grep -c 'client left' "$STACK_RUN/service.log")
    check "client leaves: its order is cancelled" "$((after - before))" 1
    get /healthcheck
    check "client leaves: service still answers" "$STATUS" 200
}

# metric NAME: its value in one scrape of /metrics (one process's)
metric() {
    curl -s --max-time 5 "http://127.0.0.1:$FRONT_PORT/metrics" |
        awk -v n="$1" '$1 == n {print $2; f = 1} END {if (!f) print "none"}'
}

# breaker_closes_again PATH: a process whose breaker stays open 1 s is
# made to open it (4 failures, the upstream away), then the upstream
# comes back: within a bound, PATH is answered 200 again (trials, then
# closed). A fresh process, so that the checks of the open state above
# could take their 30 s and this one need not wait them out.
breaker_closes_again() {
    local i codes=
    stack_stop_service
    stack_service 1 "${SVC_FLAGS[@]}" --breaker-min-calls 4 --breaker-open-ms 1000 \
        --breaker-window-ms 60000 --breaker-trials 2 || die "service did not restart"
    stack_stop_upstream
    for i in $(seq 6); do get "$1"; codes="$codes $STATUS"; done
    # (a slow machine may let the second pass and a trial fail: 503 again)
    case "$codes" in
        *503*) ok "breaker: open for 1 s ($codes)" ;;
        *) ko "breaker: open for 1 s" "got: $codes" ;;
    esac
    stack_upstream "$UP_PORT" "${UP_FLAGS[@]}" || die "upstream did not restart"
    # 200s from the trials, then closed (state 0)
    for i in $(seq 100); do
        get "$1"
        [ "$STATUS" = 200 ] && [ "$(metric api_pedidos_circuit_breaker_state)" = 0 ] && break
        sleep 0.1
    done
    expect "breaker closed again" 200 "$(cat "$FX/expected/3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28.json")"
    check "breaker closed again: state" "$(metric api_pedidos_circuit_breaker_state)" 0
}

# The circuit breaker, per process: the upstream goes away, its calls
# are refused, and once --breaker-min-calls of them fail inside the
# window it opens: 502s, then 503s at once without upstream traffic. The
# upstream comes back, and after --breaker-open-ms the trial requests
# close it again.
test_breaker() {
    local i good=/orders/3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28/items codes n502 best seen
    stack_stop_service
    # open 30 s: the requests below until "breaker open" must all fall
    # within it, and on a slow machine each costs a few hundred ms of
    # process starts (curl and the greps of req); 2 s, 5 s and 10 s were
    # seen to run out (four suites at once on two cores). Closing again is
    # shown by a second process, open 1 s (breaker_closes_again). The window,
    # 60 s, still holds the failures when the metrics are read (the
    # default 10 s had aged them out there).
    # One process: each process has its breaker, and the kernel may hand
    # every connection to one of two, leaving the other's closed (seen
    # with the acceptor's EPOLLEXCLUSIVE): "open" would then depend on
    # which process answers.
    stack_service 1 "${SVC_FLAGS[@]}" --breaker-min-calls 4 --breaker-open-ms 30000 \
        --breaker-window-ms 60000 --breaker-trials 2 || die "service did not restart"
    stack_stop_upstream
    get "$good"; expect "breaker: upstream down" 502 "$ERR502"
    codes=502
    for i in $(seq 11); do get "$good"; codes="$codes $STATUS"; done
    n502=$(echo "$codes" | tr ' ' '\n' | grep -c '^502$')
    # 502 until the 4th failure, then 503
    case " $codes " in
        *" 503 503 503 503 ") check "breaker: 502s then 503s ($codes)" \
            "$([ "$n502" -eq 4 ] &&
               [ -z "$(echo "$codes" | tr ' ' '\n' | grep -vx '50[23]')" ] && echo ok)" ok ;;
        *) ko "breaker: 502s then 503s" "got: $codes" ;;
    esac
    stack_upstream "$UP_PORT" "${UP_FLAGS[@]}" || die "upstream did not restart"
    reset_stats
    for i in $(seq 6); do get "$good"; done
    expect "breaker open" 503 '{"message":"Serviço temporariamente indisponível"}'
    check "breaker open: Retry-After ($RETRY s)" "$([ "${RETRY:-0}" -ge 1 ] && [ "$RETRY" -le 30 ] && echo ok)" ok
    check "breaker open: no upstream call" "$(stat_of requests)" 0
    # the 503 is answered at once: the best of three under 50 ms
    best=$(for i in 1 2 3; do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$FRONT_PORT$good"; done |
           sort -n | head -n1)
    check "breaker open: 503 in under 50 ms (best of 3: ${best} s)" \
        "$(awk -v t="$best" 'BEGIN {print (t < 0.05) ? "ok" : "slow"}')" ok
    # an operator sees why: some process opened, on >= 4 failures in its window
    seen=
    for i in 1 2 3 4 5 6; do
        [ "$(metric api_pedidos_circuit_breaker_openings_total)" = 1 ] &&
            [ "$(metric api_pedidos_circuit_breaker_window_failures)" -ge 4 ] 2>/dev/null &&
            [ "$(metric api_pedidos_circuit_breaker_state)" = 1 ] && { seen=ok; break; }
    done
    check "breaker metrics: open, 1 opening, >= 4 failures in the window" "$seen" ok
    breaker_closes_again "$good"
    for word in "circuit breaker open" "circuit breaker half-open" "circuit breaker closed"; do
        grep -q "$word" "$STACK_RUN/service.log" && ok "breaker logged: $word" ||
            ko "breaker logged: $word" "not in the service log"
    done
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# synthetic_items N: the answer for the fake's order of N packages
synthetic_items() {
    local i out=
    for i in $(seq 0 $(($1 - 1))); do
        out="$out${out:+,}{\"sku\":\"P$i\",\"description\":\"Produto $i\",\"image_url\":\"https://img.example/{w}x{h}/$i.jpg\",\"reference\":\"ref-$i\",\"quantity\":$((i + 1))}"
    done
    echo "[$out]"
}

# timed_get PATH: get, and MS (whole milliseconds) it took
timed_get() {
    local t0
    t0=$(date +%s%3N)
    get "$1"
    MS=$(( $(date +%s%3N) - t0 ))
}

# Hedged calls (twin.h): the fake answers the first ask of each URL
# 1 s late and every later ask at once, so a call's hedge wins. One
# process (the metrics are per process), a fixed delay of 50 ms (the
# estimated one needs 100 samples a kind: check_hedge tests it), and
# first a budget that lets every call have its hedge, then the default
# 5 % against an upstream slow as a whole.
test_hedges() {
    local order=/orders/00000000-0000-4000-8000-000000000010/items i n calls limit
    local hedged="--hedge-after 50 --call-timeout 4000 --request-timeout 8000 --metrics 1"
    stack_stop_service
    stack_stop_upstream
    stack_upstream "$UP_PORT" --delay-ms 20 --slow-once-ms 1000 --watch-aborts || die "upstream did not restart"
    # shellcheck disable=SC2086
    stack_service 1 $hedged --hedge-budget 100 || die "service did not restart"
    timed_get "$order"
    expect "hedges: 10 packages" 200 "$(synthetic_items 10)"
    # unhedged, its two stages (the order, then its packages) take 1 s each
    check "hedges: answered well under the 2 s it takes unhedged (${MS} ms)" "$([ "$MS" -lt 1500 ] && echo yes)" yes
    check "hedges: the order call's hedge won" "$(metric 'api_pedidos_hedges_total{kind="order",outcome="won"}')" 1
    check "hedges: every package's hedge won" "$(metric 'api_pedidos_hedges_total{kind="items",outcome="won"}')" 10
    # the losers were cancelled: the fake (which sees a hang-up within
    # 10 ms) holds nothing 300 ms after the answer, long before its 1 s.
    # Over HTTP/2 the losers shared one connection with nothing else on
    # it: libcurl would leave their resets unsent (src/fetch.h,
    # fetch_cancel_close), so the last one closes it.
    n=$(( $(date +%s%3N) + 300 ))
    while [ "$(stat_of in_flight)" != 0 ] && [ "$(date +%s%3N)" -lt "$n" ]; do sleep 0.01; done
    check "hedges: losers cancelled (upstream in flight 300 ms after the answer)" "$(stat_of in_flight)" 0
    # one package at a time: a loser left running would pile up behind
    # its winner (each holds the fake 1 s); cancelled, at most a call and
    # its hedge are ever at the fake at once
    stack_stop_service
    reset_stats
    # shellcheck disable=SC2086
    stack_service 1 $hedged --hedge-budget 100 --fanout 1 || die "service did not restart"
    timed_get "$order"
    check "hedges, one package at a time: status" "$STATUS" 200
    n=$(stat_of max_in_flight)
    check "hedges, one package at a time: at most 2 calls at the fake at once ($n)" \
        "$([ "$n" -le 2 ] && echo yes)" "yes"
    grep -q "msg=request route=items status=200 .*upstream_calls=22 hedges=11 " "$STACK_RUN/service.log" &&
        ok "hedges: the request log line says hedges=11" ||
        ko "hedges: the request log line says hedges=11" "$(grep 'msg=request' "$STACK_RUN/service.log" | tail -1)"
    # a 404 stays a 404, a 500 a 502
    timed_get /orders/00000f01-0000-4000-8000-000000000001/items
    expect "hedges: a 404 stays a 404" 404 "$ERR404"
    timed_get /orders/00000f01-0000-4000-8000-000000000002/items
    expect "hedges: a 500 stays a 502" 502 "$ERR502"
    check "hedges: the breaker stayed closed" "$(metric api_pedidos_circuit_breaker_openings_total)" 0
    # off: the same order takes the slow second
    stack_stop_service
    reset_stats
    stack_service 1 --hedge-after 0 --call-timeout 4000 --request-timeout 8000 --metrics 1 ||
        die "service did not restart"
    timed_get "$order"
    check "hedges off: status" "$STATUS" 200
    check "hedges off: the slow second is waited for (${MS} ms)" "$([ "$MS" -ge 1000 ] && echo yes)" yes
    check "hedges off: none sent" "$(metric 'api_pedidos_hedges_total{kind="items",outcome="sent"}')" 0
    # a slow upstream as a whole: the budget (5 % of the calls made; the
    # bucket starts empty)
    # holds the extra calls, whatever the delay says
    stack_stop_service
    stack_stop_upstream
    stack_upstream "$UP_PORT" --delay-ms 200 || die "upstream did not restart"
    # shellcheck disable=SC2086
    stack_service 1 $hedged || die "service did not restart"
    n=20
    curls_at_once "$n" "$order"
    for i in "${PIDS[@]}"; do wait "$i"; done
    check "slow upstream: $n orders at once answered" "$(bodies_equal "$n" "$(synthetic_items 10)")" "$n"
    calls=$(stat_of requests) limit=$((n * 11 + n * 11 * 5 / 100 + 10))
    check "slow upstream: upstream calls within the budget ($calls, at most $limit)" \
        "$([ "$calls" -le "$limit" ] && echo yes)" yes
    check "slow upstream: hedges sent at most 5 % + 10" \
        "$([ "$(metric 'api_pedidos_hedges_total{kind="items",outcome="sent"}')" -le $((n * 10 * 5 / 100 + 10)) ] && echo yes)" yes
    check "slow upstream: the breaker stayed closed" "$(metric api_pedidos_circuit_breaker_openings_total)" 0
    stack_stop_service
    stack_stop_upstream
    stack_upstream "$UP_PORT" "${UP_FLAGS[@]}" || die "upstream did not restart"
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# Our own descriptors run out (a process limit of 40): the upstream
# calls that get no socket are our saturation, 503 with Retry-After,
# never counted against the upstream (the breaker would open on 4).
test_own_descriptors() {
    local i codes=
    stack_stop_service
    stack_service 1 "${SVC_FLAGS[@]}" --breaker-min-calls 4 || die "service did not restart"
    prlimit --pid "$STACK_SVC_PIDS" --nofile=40:40 || { ko "own descriptors: prlimit" "failed"; return; }
    for i in 1 2 3 4 5; do
        get /orders/00000000-0000-4000-8000-000000000050/items
        codes="$codes $STATUS"
    done
    expect "own descriptors: 50 packages past our limit" 503 '{"message":"Serviço temporariamente indisponível"}'
    check "own descriptors: every one 503 ($codes)" "$codes" " 503 503 503 503 503"
    check "own descriptors: Retry-After" "$RETRY" 1
    check "own descriptors: the breaker stayed closed" "$(metric api_pedidos_circuit_breaker_openings_total)" 0
    check "own descriptors: no failure counted against the upstream" \
        "$(metric api_pedidos_circuit_breaker_window_failures)" 0
    grep -q 'reason="no socket for an upstream call: Too many open files (our limit)"' "$STACK_RUN/service.log" &&
        ok "own descriptors: logged as our limit" || ko "own descriptors: logged as our limit" "not in the log"
    get /orders/00000000-0000-4000-8000-000000000003/items
    check "own descriptors: a small order still answered" "$STATUS" 200
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# A cold start: 1000 clients at once on a fresh process, against a
# healthy upstream whose first 50 answers (one per connection) take
# 900 ms. With 50 upstream connections and a 1 s call timeout, the calls
# queued in curl behind them run out of time there (queued_timeout):
# that is our saturation, not the upstream's, and the breaker must not
# open. A window of the last 20 calls opened here.
test_cold_start() {
    local i n503 n200 other queued opened pids=() slow=700
    if [ -n "${STACK_VALGRIND:-}" ]; then
        # the test rests on a 1 s call timeout that valgrind's slowness
        # alone can pass (seen once in a bare Debian 12 root): it runs in
        # make check and check-asan
        echo "note - cold start: not checked under valgrind"
        return
    fi
    # the slow first answers (700 ms) stay well within the 1 s call
    # timeout (900 ms was passed on the wire on a slow machine, which
    # rightly counts against the upstream); over TLS a call also waits
    # for its handshake (at most 8 at once until the protocol is known):
    # leave it that time too
    [ "$SCHEME" = https ] && slow=600
    # under ASan our handshakes cost more of that second
    [ "$SCHEME" = https ] && [ -n "${STACK_SANITIZED:-}" ] && slow=400
    stack_stop_service
    stack_stop_upstream
    stack_upstream "$UP_PORT" --delay-ms 20 --slow-first 50 --slow-first-ms "$slow" --threads 2 ||
        die "upstream did not restart"
    stack_service 1 --metrics 1 --max-connections 50 --connect-timeout "$CONNECT_MS" --call-timeout 1000 \
        --request-timeout 3000 --max-in-flight 2000 || die "service did not restart"
    ulimit -n "$(ulimit -Hn)"
    for i in $(seq 250); do
        printf 'url = "http://127.0.0.1:%s/orders/00000000-0000-4000-8000-000000000003/items"\noutput = "/dev/null"\n' \
            "$FRONT_PORT"
    done > "$W/cold.curl"
    # curl runs at most 300 transfers at once: four of them
    for i in 1 2 3 4; do
        curl -s -Z --parallel-max 250 --parallel-immediate --max-time 20 -K "$W/cold.curl" \
            -w '%{http_code}\n' > "$W/cold.$i" 2>/dev/null &
        pids+=($!)
    done
    wait "${pids[@]}"
    cat "$W"/cold.[1-4] > "$W/cold.codes"
    n503=$(grep -c '^503$' "$W/cold.codes")
    n200=$(grep -c '^200$' "$W/cold.codes")
    other=$(grep -cvx '200\|502' "$W/cold.codes")
    queued=$(metric 'api_pedidos_upstream_calls_total{outcome="queued_timeout"}')
    opened=$(metric api_pedidos_circuit_breaker_openings_total)
    echo "note - cold start: $(sort "$W/cold.codes" | uniq -c | tr -s ' ' | paste -sd,), queued_timeout $queued," \
         "window $(metric api_pedidos_circuit_breaker_window_failures) failures of" \
         "$(metric api_pedidos_circuit_breaker_window_calls) calls"
    check "cold start: 1000 answers" "$(wc -l < "$W/cold.codes")" 1000
    # over HTTP/2 the 50 connections carry every call at once: none waits
    [ "$MODE" = h2 ] || check "cold start: calls did time out in our queue (queued_timeout > 0)" \
        "$([ "${queued:-0}" -gt 0 ] 2>/dev/null && echo yes)" yes
    check "cold start: some orders answered 200" "$([ "$n200" -gt 0 ] && echo yes)" yes
    check "cold start: no 503, the breaker never opened (503s: $n503)" "$n503/$other/$opened" 0/0/0
    # the clients that come next are served (an open breaker would 503 them)
    : > "$W/cold.after"
    for i in $(seq 10); do
        get /orders/00000000-0000-4000-8000-000000000003/items; echo "$STATUS" >> "$W/cold.after"
    done
    if [ "$(grep -c '^200$' "$W/cold.after")" = 10 ]; then
        ok "cold start: the next 10 requests answered 200"
    else   # what the service said of them, and what the fake saw
        ko "cold start: the next 10 requests answered 200" "got: $(sort "$W/cold.after" | uniq -c | tr -s ' ' | paste -sd,)" \
            "$(grep 'order failed' "$STACK_RUN/service.log" | tail -n 3)" "upstream: $(stats)" \
            "metrics: $(curl -s --max-time 5 "http://127.0.0.1:$FRONT_PORT/metrics" | grep -v '^#' | grep 'upstream\|in_flight\|breaker' | paste -sd' ')"
    fi
    stack_stop_service
    stack_stop_upstream
    stack_upstream "$UP_PORT" "${UP_FLAGS[@]}" || die "upstream did not restart"
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# One log line per request, and the request id: the client's
# X-Request-Id, else nginx's $request_id, else one of the service's own,
# sent upstream as X-Request-Id.
test_request_log() {
    local id=e2e-$$-abc line
    curl -s -o /dev/null -H "X-Request-Id: $id" \
        "http://127.0.0.1:$FRONT_PORT/orders/3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28/items"
    check "request id sent upstream" "$(stats | sed -n 's/.*"last_request_id":"\([^"]*\)".*/\1/p')" "$id"
    stack_wait grep -q "request_id=$id" "$STACK_RUN/service.log"
    line=$(grep "request_id=$id" "$STACK_RUN/service.log" | head -n1)
    case $line in
        *"msg=request route=items status=200 "*"upstream_calls=3 hedges=0 request_id=$id"*) ok "request log line: $line" ;;
        *) ko "request log line" "got: $line" ;;
    esac
    curl -s -o /dev/null -H 'X-Request-Id: bad id"with quotes' "http://127.0.0.1:$FRONT_PORT/nope"
    stack_wait grep -q 'route=not_found status=404' "$STACK_RUN/service.log"
    grep -q 'with quotes' "$STACK_RUN/service.log" && ko "a bad request id is not logged" "found" ||
        ok "a bad request id is not logged"
    curl -s -o /dev/null "http://127.0.0.1:$FRONT_PORT/orders/3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28/items"
    check "an id is always sent upstream" \
        "$(stats | sed -n 's/.*"last_request_id":"\([0-9a-f]\{16,32\}\)".*/ok/p')" ok
}

# GET /metrics: Prometheus text that promtool accepts, counting what
# this suite did, with no order id in it; 404 when not enabled.
test_metrics() {
    local m=$W/metrics
    curl -s -D "$W/mh" -o "$m" "http://127.0.0.1:$FRONT_PORT/metrics"
    check "metrics: status" "$(head -n1 "$W/mh" | cut -d' ' -f2)" 200
    check "metrics: content type" "$(grep -i '^content-type:' "$W/mh" | tr -d '\r' | cut -d' ' -f2-)" \
        "text/plain; version=0.0.4; charset=utf-8"
    if out=$(promtool check metrics < "$m" 2>&1); then ok "metrics: promtool check metrics"; else
        ko "metrics: promtool check metrics" "$out"; fi
    grep -Eq '^api_pedidos_requests_total\{route="items",status="200"\} [1-9]' "$m" &&
        ok "metrics: items answered counted" || ko "metrics: items answered counted" "$(grep items "$m" | head -3)"
    grep -Eq '^api_pedidos_upstream_calls_total\{outcome="ok"\} [1-9]' "$m" &&
        ok "metrics: upstream calls counted" || ko "metrics: upstream calls counted" ""
    grep -Eq '^api_pedidos_request_duration_seconds_bucket\{route="items",le="\+Inf"\} [1-9]' "$m" &&
        ok "metrics: latency histogram" || ko "metrics: latency histogram" ""
    grep -Eq '^api_pedidos_circuit_breaker_state [0-2]$' "$m" && ok "metrics: breaker state" ||
        ko "metrics: breaker state" ""
    for name in circuit_breaker_openings_total circuit_breaker_window_calls circuit_breaker_window_failures \
                'upstream_calls_total{outcome="queued_timeout"}'; do
        grep -Eq "^api_pedidos_$(printf '%s' "$name" | sed 's/[{}]/\\&/g') [0-9]+\$" "$m" &&
            ok "metrics: $name" || ko "metrics: $name" "missing"
    done
    grep -Eq '^api_pedidos_requests_in_flight [0-9]+$' "$m" && ok "metrics: in flight" ||
        ko "metrics: in flight" ""
    grep -Eiq '[0-9a-f]{8}-[0-9a-f]{4}-' "$m" && ko "metrics: no order id" "found one" ||
        ok "metrics: no order id"
}

test_key_never_logged() {
    if grep -q "$STACK_KEY" "$STACK_RUN"/*.log; then
        ko "API key never logged" "found in $(grep -l "$STACK_KEY" "$STACK_RUN"/*.log)"
    else
        ok "API key never logged"
    fi
}

# await_upstream_calls N SECONDS: waits until the fake has been asked N
# calls in all, at most SECONDS; on giving up, says how many it had.
await_upstream_calls() {
    local n=$1 bound=$2 i got
    for i in $(seq $((bound * 10))); do
        got=$(stat_of requests)
        [ "${got:-0}" -ge "$n" ] && return 0
        sleep 0.1
    done
    echo "note - waited ${bound} s for $n upstream calls, the upstream had $(stats)"
    return 1
}

# proc_state PID: its state letter from /proc (R, S, Z...), empty when gone
proc_state() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    s=${s##*) }
    echo "${s%% *}"
}

# await_signal_taken BOUND: waits up to BOUND s until every process of
# the service logged that it took its stop signal; prints how many did
await_signal_taken() {
    local i p took=0
    for p in $STACK_SVC_PIDS; do
        for i in $(seq $(($1 * 10))) last; do
            if grep -q "pid=$p msg=\"signal: stop accepting" "$STACK_RUN/service.log"; then
                took=$((took + 1))
                break
            fi
            [ "$i" = last ] || sleep 0.1
        done
    done
    echo "$took"
}

# curls_at_once N PATH: N clients at once through the front, from one
# curl process (--parallel: a connection each at once; a hundred curl
# processes took seconds to start on a busy machine), each answer's
# body in $W/tN (none there if none came), its pid in PIDS.
curls_at_once() {
    local i args=()
    rm -f "$W"/t[0-9]*
    for i in $(seq "$1"); do args+=(-o "$W/t$i" "http://127.0.0.1:$FRONT_PORT$2"); done
    curl -s --parallel --parallel-immediate --parallel-max "$1" --max-time 90 "${args[@]}" 2>/dev/null &
    PIDS=($!)
}

# bodies_equal N BODY: how many of $W/t1..tN hold exactly BODY.
bodies_equal() {
    local i got=0
    for i in $(seq "$1"); do
        [ -f "$W/t$i" ] && [ "$(< "$W/t$i")" = "$2" ] && got=$((got + 1))
    done
    echo "$got"
}

# A cold burst reaches the upstream at once: 100 orders on a fresh
# process, the upstream holding every answer until the test has seen
# what it needs (/_release; bounded under the fronts' 30 s), so that no
# call can ride on an earlier call's connection or answer. Every one of the 100
# calls must be at the upstream at the same time (its max_in_flight),
# whatever the protocol (an HTTP/1.1-only gateway needs 100 connections:
# libcurl 8.14 once left a third of them waiting in its queue until they
# timed out).
test_cold_burst_at_once() {
    local i proto n=100 order=/orders/00000000-0000-4000-8000-000000000000/items
    stack_stop_service
    stack_stop_upstream
    stack_upstream "$UP_PORT" --delay-ms 60000 || die "upstream did not restart"
    stack_service 1 --call-timeout 70000 --request-timeout 75000 || die "service did not restart"
    curls_at_once "$n" "$order"
    await_upstream_calls "$n" 20
    check "cold burst: $n calls at the upstream at once" "$(stat_of max_in_flight)" "$n"
    # the protocol was learned from the handshake, not from an answer
    # (none has come yet)
    proto="HTTP/1.1: calls spread"
    [ "$MODE" = h2 ] && proto="HTTP/2: calls share"
    grep -q "pid=$STACK_SVC_PIDS msg=\"upstream speaks $proto" "$STACK_RUN/service.log" &&
        ok "cold burst: protocol known before any answer" ||
        ko "cold burst: protocol known before any answer" "no 'upstream speaks $proto' in the log"
    curl -s "http://127.0.0.1:$UP_PORT/_release" >/dev/null
    for i in "${PIDS[@]}"; do wait "$i"; done
    check "cold burst: $n orders answered" "$(bodies_equal "$n" '[]')" "$n"
    stack_stop_service
    stack_stop_upstream
    stack_upstream "$UP_PORT" "${UP_FLAGS[@]}" || die "upstream did not restart"
}

# SIGTERM while 100 requests wait on the upstream: every one of them
# still gets its 200, and the process exits 0. The orders have no
# package, so the upstream sees exactly one call per request: once it
# has seen 100, every request was accepted before the signal. The
# upstream holds every answer until the test has seen each process take
# the signal and the 100 calls still at the upstream; then it lets them
# go (/_release). The fronts give up on an answer after 30 s, so every
# wait before the release is bounded well under that (20 s, then 5 s).
test_sigterm_finishes_in_flight() {
    local i p n=100 alive=0 took stopped=0 order=/orders/00000000-0000-4000-8000-000000000000/items
    stack_stop_service
    stack_service "$PROCS" --call-timeout 70000 --request-timeout 75000 || die "service did not restart"
    stack_stop_upstream
    stack_upstream "$UP_PORT" --delay-ms 60000 || die "upstream did not restart"
    curls_at_once "$n" "$order"
    await_upstream_calls "$n" 20
    check "SIGTERM: $n requests in flight before the signal" "$(stat_of requests)/$(stat_of in_flight)" "$n/$n"
    for p in $STACK_SVC_PIDS; do kill -TERM "$p"; done
    took=$(await_signal_taken 5)
    check "SIGTERM: every process logged the signal" "$took" "$PROCS"
    for p in $STACK_SVC_PIDS; do   # running, not a zombie (no procps here)
        [ "$(proc_state "$p")" != Z ] && [ -n "$(proc_state "$p")" ] && alive=$((alive + 1))
    done
    check "SIGTERM: every process still at work after the signal" "$alive/$(stat_of in_flight)" "$PROCS/$n"
    curl -s "http://127.0.0.1:$UP_PORT/_release" >/dev/null
    stack_stop_service || stopped=$?
    for i in "${PIDS[@]}"; do wait "$i"; done
    check "SIGTERM: $n requests in flight all answered 200" "$(bodies_equal "$n" '[]')" "$n"
    check "SIGTERM: exit status 0" "$stopped" 0
    grep -q 'msg="stopped"' "$STACK_RUN/service.log" && ok "SIGTERM: service stopped cleanly" ||
        ko "SIGTERM: service stopped cleanly" "no 'stopped' line in the log"
    stack_stop_upstream
    stack_upstream "$UP_PORT" "${UP_FLAGS[@]}" || die "upstream did not restart"
}

# The limits: in-flight (503 at once), packages per order, the whole-
# request deadline, and an order of 5000 packages.
test_limits() {
    local i codes
    : > "$W/codes"
    stack_stop_service
    stack_service "$PROCS" --max-in-flight 2 --connect-timeout 500 --call-timeout 1000 --request-timeout 1200 \
        --fanout 1 --max-packages 20 || { ko "limits: service did not start" "$(tail -3 "$STACK_RUN/service.log")"; return; }
    local pids=()
    for i in 1 2 3 4 5 6; do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 \
            "http://127.0.0.1:$FRONT_PORT/orders/00000f01-0000-4000-8000-000000000005/items" \
            >> "$W/codes" &
        pids+=($!)
    done
    wait "${pids[@]}"
    codes=$(sort "$W/codes" | uniq -c | tr -s ' ' | tr '\n' ';')
    grep -q 503 "$W/codes" && ok "over the in-flight limit: 503 ($codes)" ||
        ko "over the in-flight limit: 503" "$codes"
    get /orders/00000000-0000-4000-8000-000000000021/items
    expect "more packages than --max-packages" 502 "$ERR502"
    get /metrics; expect "metrics off by default" 404 '{"detail":"Not Found"}'
    # 12 packages one at a time at 150 ms each: every call is quick, the
    # whole is past the 1.2 s deadline
    get /orders/00000000-0000-4000-8000-000000000012/items
    expect "whole-request deadline" 502 "$ERR502"
    # the last call's timeout is cut to what is left of the deadline, so
    # either the call or the deadline check ends it, never later
    grep -q 'order=00000000-0000-4000-8000-000000000012 .*reason="\(request deadline passed\|Operation timed out\)' \
        "$STACK_RUN/service.log" && ok "deadline logged" || ko "deadline logged" "no such line"
    stack_stop_service
    stack_service "$PROCS" --max-packages 5000 || die "service did not restart"
    get /orders/00000000-0000-4000-8000-000000005000/items
    check "5000 packages: status" "$STATUS" 200
    check "5000 packages: items" "$(grep -o '"sku":' "$W/b" | wc -l)" 5000
    get /orders/00000000-0000-4000-8000-000000005001/items
    expect "5001 packages, over the maximum" 502 "$ERR502"
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# An upstream named by a host name: curl 7.88 resolves it on a thread that
# signals through a socketpair of its own (one lookup per multi handle),
# which the poller must take out of epoll when curl drops it.
test_host_name() {
    local i p bad=0
    stack_stop_service
    MAGALU_API_URL=$SCHEME://localhost:${UPSTREAM#*:} stack_service 1 "${SVC_FLAGS[@]}" ||
        die "service did not restart"
    # four rounds of six at once: every multi handle resolves the name
    # (curl's threaded resolver: a socketpair it closes itself, whose
    # number the next connection reuses)
    for i in 1 2 3 4; do
        curls_at_once 6 /orders/00000000-0000-4000-8000-000000000003/items
        for p in "${PIDS[@]}"; do wait "$p"; done
        bad=$((bad + 6 - $(bodies_equal 6 "$(synthetic_items 3)")))
    done
    check "upstream by host name: 24 orders of 3 packages, none failed" "$bad" 0
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# Kept-alive upstream connections are closed once a process has had no
# request for --idle-timeout: its descriptors go back to where they were.
# With STACK_NGINX_KEEP (tests/e2e-nginx-h2.sh): nginx keeps its
# FastCGI connections and the service honours FCGI_KEEP_CONN, so after
# 20 requests a few connections stay open, not none (nor 20).
test_kept_connections() {
    local i n
    [ -n "${STACK_NGINX_KEEP:-}" ] || return 0
    for i in $(seq 20); do get /healthcheck; done
    check "kept connections: answered" "$STATUS" 200
    n=$(ss -xnH 2>/dev/null | grep -cF " $STACK_SOCK ")
    check "kept connections: 1 to 4 FastCGI connections open after 20 requests ($n)" \
        "$((n >= 1 && n <= 4))" 1
}

test_idle_close() {
    local pid before during
    stack_stop_service
    # 3 s: the descriptors are counted right after the answer, which a
    # busy machine (curl, the greps of req) once took past a 1 s timeout
    stack_service 1 "${SVC_FLAGS[@]}" --idle-timeout 3000 || die "service did not restart"
    pid=${STACK_SVC_PIDS%% *}
    get /healthcheck # serving: every descriptor of its own is open
    before=$(ls "/proc/$pid/fd" | wc -l)
    get /orders/00000000-0000-4000-8000-000000000010/items
    during=$(ls "/proc/$pid/fd" | wc -l)
    check "idle: answered" "$STATUS" 200
    check "idle: upstream connections kept alive after the answer" "$((during > before))" 1
    stack_wait sh -c "[ \$(ls /proc/$pid/fd | wc -l) -le $before ]"
    check "idle: descriptors back to $before once idle for 3 s" "$(ls "/proc/$pid/fd" | wc -l)" "$before"
    get /orders/00000000-0000-4000-8000-000000000003/items
    check "idle: answers again after closing" "$STATUS" 200
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

test_refused() {
    stack_stop_service
    MAGALU_API_URL=$SCHEME://127.0.0.1:$DEAD_PORT stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
    get /orders/3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28/items
    expect "connection refused" 502 "$ERR502"
    stack_stop_service
}

# TLS: a certificate signed by a CA we do not trust, one for another
# host name, one that has expired: 502, curl's reason in the log. There is
# no option that turns verification off.
test_tls_bad_certificates() {
    local i port reasons=("unable to get local issuer certificate"
        "no alternative certificate subject name matches target"
        "certificate has expired") names=(untrusted "wrong host name" expired)
    stack_stop_service
    for i in 0 1 2; do
        port=$((TLS_PORT + 3 + i))
        MAGALU_API_URL=https://127.0.0.1:$port API_PEDIDOS_CA_FILE= stack_service 1 "${SVC_FLAGS[@]}" \
            --ca-file "$STACK_RUN/certs/ca.pem" ||
            die "service did not restart"
        get /orders/3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28/items
        expect "TLS, ${names[$i]} certificate" 502 "$ERR502"
        stack_stop_service
        grep -q "status=502 reason=\"[^\"]*${reasons[$i]}" "$STACK_RUN/service.log" &&
            ok "TLS, ${names[$i]} certificate: reason logged" ||
            ko "TLS, ${names[$i]} certificate: reason logged" "$(grep status=502 "$STACK_RUN/service.log" | tail -n 1)"
    done
    check "TLS: no flag turns verification off" \
        "$("$BUILD/src/api-pedidos" --help | grep -ci 'insecure\|no-verify\|verify-peer')" 0
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# HTTP/2: the calls of a 10-package order are multiplexed on few
# connections, at most as many as there are multi handles (8): once
# HTTP/2 is known they all go to one handle, so one is usual.
test_tls_few_connections() {
    local n
    stack_stop_service
    stack_service 1 "${SVC_FLAGS[@]}" || die "service did not restart"
    get /orders/00000000-0000-4000-8000-000000000010/items
    check "HTTP/2, 10 packages: status" "$STATUS" 200
    n=$(stack_conns_to "${UPSTREAM#*:}")
    [ "$n" -ge 1 ] && [ "$n" -le 8 ] && ok "HTTP/2, 10 packages: $n upstream connections (at most 8)" ||
        ko "HTTP/2, 10 packages: at most 8 upstream connections" "got $n"
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# A gateway that closes connections idle for 1 s (HTTP/2): orders spaced
# around that second all succeed, on new connections when they must.
test_tls_idle_gateway() {
    local t bad=0 before
    stack_stop_service
    MAGALU_API_URL=https://127.0.0.1:$((TLS_PORT + 2)) stack_service 1 "${SVC_FLAGS[@]}" ||
        die "service did not restart"
    before=$(awk '$2 == 1' "$STACK_RUN/tls-access.log" | wc -l)
    for t in 0.9 1.0 1.1 0.95 1.05 1.2 1.0 0.98 1.02 1.0; do
        get /orders/00000000-0000-4000-8000-000000000003/items
        [ "$STATUS" = 200 ] || bad=$((bad + 1))
        sleep "$t"
    done
    check "gateway closing idle connections after 1 s: 10 orders, none failed" "$bad" 0
    [ $(( $(awk '$2 == 1' "$STACK_RUN/tls-access.log" | wc -l) - before )) -ge 4 ] &&
        ok "gateway closing idle connections: new connections were made" ||
        ko "gateway closing idle connections: new connections were made" "the gateway kept them"
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# The pid of the TLS gateway's (one) worker: a child of its master.
tls_worker() { cat "/proc/$(cat "$STACK_RUN/tls.pid")/task/"*/children 2>/dev/null | tr -s ' ' '\n' | head -n 1; }

# The gateway's worker is killed under load: every connection to it drops
# at once. Calls that die with a reused connection are sent again; the
# breaker (set here to open at 20 % of 5 calls) must not open.
test_tls_dropped_connections() {
    local i worker after codes log0 m=$W/metrics-drop pids=()
    stack_stop_service
    stack_service 1 "${SVC_FLAGS[@]}" --breaker-min-calls 5 --breaker-threshold 20 ||
        die "service did not restart"
    log0=$(wc -l < "$STACK_RUN/service.log")
    : > "$W/drop-codes"
    for i in $(seq 16); do
        ( for _ in 1 2 3 4 5 6; do
              curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 \
                  "http://127.0.0.1:$FRONT_PORT/orders/00000000-0000-4000-8000-000000000010/items"
          done >> "$W/drop-codes" ) &
        pids+=($!)
    done
    # the gateway's worker dies once every client has had two orders
    # answered (16 x 2 x 11 calls at the fake): its connections are then
    # established and reused, not in their set-up (on a busy machine,
    # killed 0.8 s in, many were, and their failed handshakes opened the
    # breaker: an upstream fault, but not what this checks)
    await_upstream_calls $((16 * 2 * 11)) 60
    worker=$(tls_worker)
    kill -KILL "$worker"
    wait "${pids[@]}"
    after=$(tls_worker)
    check "dropped connections: the gateway's worker was replaced" "$([ -n "$after" ] && [ "$after" != "$worker" ] && echo yes)" yes
    codes=$(sort "$W/drop-codes" | uniq -c | tr -s ' ' | tr '\n' ';')
    check "dropped connections: 96 answers" "$(wc -l < "$W/drop-codes")" 96
    # 16 orders are in flight when the worker dies: were none of their
    # calls sent again, 80 would be 200. Calls that open a new connection
    # while the gateway's worker is being replaced may still fail, and
    # more of them on a busy machine (89, 87 and, with two whole test
    # runs beside it, 84 seen): more than 80 answered is the calls sent
    # again.
    [ "$(grep -c '^200$' "$W/drop-codes")" -gt 80 ] && ok "dropped connections: answers $codes" ||
        ko "dropped connections: more than 80 of 96 answered 200" "$codes"
    # over HTTP/1.1 libcurl itself sends a request again when a reused
    # connection dies before any answer; over HTTP/2 the service does,
    # unless libcurl saw the death first and re-sent them itself (seen in
    # a make check run: 96 answers 200, none retried by the service).
    # Either way nothing may be lost: with none sent again by the
    # service, every answer must be a 200.
    if [ "$MODE" = h2 ]; then
        curl -s -o "$m" "http://127.0.0.1:$FRONT_PORT/metrics"
        if grep -Eq '^api_pedidos_upstream_calls_total\{outcome="retried"\} [1-9]' "$m"; then
            ok "dropped connections: calls on dropped connections were sent again"
        else
            check "dropped connections: none sent again by the service, so all 96 answered 200" \
                "$(grep -c '^200$' "$W/drop-codes")" 96
        fi
    fi
    tail -n +"$((log0 + 1))" "$STACK_RUN/service.log" | grep -q "circuit breaker open" &&
        ko "dropped connections: breaker stayed closed" "$(tail -n +"$((log0 + 1))" "$STACK_RUN/service.log" | grep 'circuit breaker' | head -3)" ||
        ok "dropped connections: breaker stayed closed"
    get /orders/00000000-0000-4000-8000-000000000010/items
    check "dropped connections: answers after" "$STATUS" 200
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# After every api-pedidos process has exited: nothing from ASan, UBSan
# or valgrind (make check-asan, make check-valgrind).
test_no_reports() {
    local out
    if out=$(stack_reports); then ok "no sanitizer or valgrind report"; else
        ko "no sanitizer or valgrind report" "$out"; fi
}

# timed TEST: runs it and prints "time - TEST: S s" (tests/all.sh sums
# them up, to say where a suite's time goes)
timed() {
    local t0=$SECONDS
    "$1"
    echo "time - $1: $((SECONDS - t0)) s"
}

start_stack
if [ -n "${E2E_ONLY:-}" ]; then   # E2E_ONLY="test_a test_b": just those (development)
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not start"
    for t in $E2E_ONLY; do timed "$t"; done
    stack_stop_service
    test_no_reports
    echo "time - e2e ($FRONT, $MODE): $SECONDS s"
    echo "e2e ($FRONT, $MODE): $PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit
fi
# first, while the fake upstream holds no cancelled call of other tests
timed test_concurrency
timed test_sigterm_finishes_in_flight
[ "$SCHEME" = https ] && timed test_cold_burst_at_once
stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
# What the front and the service do alone (routes, bodies, ids): the
# same code whatever the upstream's transport, so not again behind TLS
if [ "$SCHEME" = http ]; then
    timed test_simple_routes
    timed test_bodies
    timed test_early_answer
    timed test_api_document
    timed test_bad_uuids
    timed test_uuid_forms
fi
timed test_fixture_orders
timed test_not_found
timed test_faults
timed test_redirect_not_followed
timed test_big_order
timed test_enrich
timed test_client_leaves
timed test_limits
timed test_breaker
timed test_request_log
timed test_metrics
timed test_key_never_logged
timed test_cold_start
timed test_hedges
[ "$MODE" = http ] && timed test_own_descriptors
timed test_host_name
if [ "$SCHEME" = https ]; then
    timed test_tls_bad_certificates
    [ "$MODE" = h2 ] && timed test_tls_few_connections
    timed test_tls_idle_gateway
    timed test_tls_dropped_connections
fi
timed test_kept_connections
timed test_idle_close
timed test_refused
test_no_reports
echo "time - e2e ($FRONT, $MODE): $SECONDS s"
echo "e2e ($FRONT, $MODE): $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
