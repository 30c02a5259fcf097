# POST /orders/enriched end to end: sourced by tests/e2e.sh (its stack,
# req/expect/check helpers and $W), so that it runs behind nginx and
# lighttpd, with the upstream straight and through the TLS gateway.
# tests/maestro-fake serves the catalog: tests/fixtures/catalogs/*.json,
# synthetic codes syn<N>, and faults fault<CC> (see its header).

# post BODY_FILE [curl args...]: POST it to /orders/enriched; sets what
# req() sets
post() {
    local file=$1; shift
    : > "$W/b"; : > "$W/h"
    # "$@" last: a --max-time there beats the default
    STATUS=$(curl -s -X POST --data-binary "@$file" -H 'Content-Type: application/json' \
             -D "$W/h" -o "$W/b" -w '%{http_code}' --max-time 20 "$@" \
             "http://127.0.0.1:$FRONT_PORT/orders/enriched")
    answer_read
}
# post_at_once BODY_FILE: post() in the background; its pid in POST_PID,
# STATUS in $W/status (answer_read reads the rest once it has ended)
post_at_once() {
    : > "$W/b"; : > "$W/h"
    curl -s -X POST --data-binary "@$1" -H 'Content-Type: application/json' -D "$W/h" -o "$W/b" \
        -w '%{http_code}' --max-time 40 "http://127.0.0.1:$FRONT_PORT/orders/enriched" > "$W/status" &
    POST_PID=$!
}

# post_text TEXT [curl args...]
post_text() { printf '%s' "$1" > "$W/post"; shift; post "$W/post" "$@"; }
# codes_body N [PREFIX]: {"items":["syn0",...,"syn<N-1>"]}
codes_body() {
    local i sep=""
    printf '{"items":['
    for ((i = 0; i < $1; i++)); do printf '%s"%s%d"' "$sep" "${2:-syn}" "$i"; sep=,; done
    printf ']}'
}

EN_NAME='"071526300":{"name":"Achocolatado em Pó 400g","description":"Achocolatado em Pó 400g","gtin":"0478123456781"}'
EN_WITH_NAME='"c4j8e1b6g2":{"name":"Ventilador Turbo Ventisol 30cm","description":"Ventilador de Mesa Turbo 30cm 6 Pás 127V Preto","gtin":"7890123456784"}'
EN_NULL='"610377800":{"name":"","description":"","gtin":"7896103778006"}'
EN_NUMBER='"778899100":{"name":"Mouse Sem Fio 1200 DPI Preto","description":"Mouse Sem Fio 1200 DPI Preto","gtin":"7891234567895"}'
EN_ESCAPES='"225500100":{"name":"Cabo HDMI 2.0 \"Premium\" 1,5 m 4K/60Hz \\ Preto","description":"Cabo HDMI 2.0 \"Premium\" 1,5 m 4K/60Hz \\ Preto","gtin":"7892255001009"}'
EN_EMOJI='"dj3h8k2m0p":{"name":"Carregador Turbo 📱 USB-C 🔌 25W","description":"Carregador Turbo 📱 USB-C 🔌 25W","gtin":"7893038252502"}'

# The catalog's fixtures: names, descriptions (null, escapes, emoji), a
# number gtin, keys in first-appearance order, unknown codes missing in
# request order, each code asked once.
test_enrich_answers() {
    reset_stats
    post_text '{"items":["071526300","c4j8e1b6g2","naoexiste1","610377800","778899100","071526300","225500100","dj3h8k2m0p","naoexiste1","outro2"]}' \
        -H 'X-Request-Id: enriched-e2e-1'
    expect "enriched: fixtures" 200 "{\"items\":{$EN_NAME,$EN_WITH_NAME,$EN_NULL,$EN_NUMBER,$EN_ESCAPES,$EN_EMOJI},\"missing\":[\"naoexiste1\",\"outro2\"]}"
    check "enriched: 8 distinct codes, 8 catalog calls" "$(stat_of requests)" 8
    check "enriched: the calls carry the request id" \
        "$(stats | sed -n 's/.*"last_request_id":"\([^"]*\)".*/\1/p')" enriched-e2e-1
    post_text '{"items":["naoexiste1"]}'
    expect "enriched: all missing" 200 '{"items":{},"missing":["naoexiste1"]}'
    reset_stats
    post_text '{"items":[]}'
    expect "enriched: no codes" 200 '{"items":{},"missing":[]}'
    check "enriched: no codes, no upstream call" "$(stat_of requests)" 0
    # a body sent chunked, without Content-Length
    post_text '{"items":["071526300"]}' -H 'Transfer-Encoding: chunked'
    expect "enriched: chunked body" 200 "{\"items\":{$EN_NAME},\"missing\":[]}"
    # duplicates by the hundred are asked once
    reset_stats
    { printf '{"items":['; for i in $(seq 300); do printf '"syn%d",' $((i % 3)); done; printf '"syn0"]}'; } > "$W/dups"
    post "$W/dups"
    check "enriched: 301 codes, 3 distinct: status" "$STATUS" 200
    check "enriched: 301 codes, 3 distinct: 3 calls" "$(stat_of requests)" 3
    check "enriched: 301 codes, 3 distinct: keys in order" \
        "$(grep -o '"syn[0-9]*":{' "$W/b" | tr -d '":{' | tr '\n' ' ')" "syn1 syn2 syn0 "
}

# Every 422 of the contract, exactly.
test_enrich_bad_bodies() {
    local d='{"detail":[{"loc":'
    post_text 'not json'
    expect "enriched 422: not JSON" 422 "$d"'["body"],"msg":"invalid JSON","type":"value_error.jsondecode"}]}'
    post_text ''
    expect "enriched 422: empty body" 422 "$d"'["body"],"msg":"invalid JSON","type":"value_error.jsondecode"}]}'
    post_text '{"items":["a"]} x'
    expect "enriched 422: trailing bytes" 422 "$d"'["body"],"msg":"invalid JSON","type":"value_error.jsondecode"}]}'
    post_text '["a"]'
    expect "enriched 422: not an object" 422 "$d"'["body","items"],"msg":"field required","type":"value_error.missing"}]}'
    post_text '{"itens":["a"]}'
    expect "enriched 422: no items" 422 "$d"'["body","items"],"msg":"field required","type":"value_error.missing"}]}'
    post_text '{"items":"a"}'
    expect "enriched 422: items not a list" 422 "$d"'["body","items"],"msg":"value is not a valid list","type":"type_error.list"}]}'
    post_text '{"items":["ok1",2,"bad code","ok2",null,"ção"]}'
    expect "enriched 422: bad elements, one entry each" 422 "$d"'["body","items",1],"msg":"str type expected","type":"type_error.str"},{"loc":["body","items",2],"msg":"invalid product code","type":"value_error.code"},{"loc":["body","items",4],"msg":"str type expected","type":"type_error.str"},{"loc":["body","items",5],"msg":"invalid product code","type":"value_error.code"}]}'
    post_text "{\"items\":[\"\",\"$(head -c 65 /dev/zero | tr '\0' a)\"]}"
    expect "enriched 422: empty and 65-character codes" 422 "$d"'["body","items",0],"msg":"invalid product code","type":"value_error.code"},{"loc":["body","items",1],"msg":"invalid product code","type":"value_error.code"}]}'
    reset_stats
    codes_body 501 > "$W/many"
    post "$W/many"
    expect "enriched 422: 501 codes" 422 "$d"'["body","items"],"msg":"ensure this value has at most 500 items","type":"value_error.list.max_items"}]}'
    check "enriched 422: no upstream call" "$(stat_of requests)" 0
}

# The method and the path: 405 with Allow: POST; the items route is as
# it was.
test_enrich_routes() {
    local m
    for m in GET PUT DELETE; do
        req "$m" /orders/enriched
        expect "enriched: $m" 405 '{"detail":"Method Not Allowed"}'
        check "enriched: $m: Allow" "$ALLOW" POST
    done
    req HEAD /orders/enriched
    check "enriched: HEAD: status" "$STATUS" 405
    check "enriched: HEAD: Allow" "$ALLOW" POST
    get /orders/enriched/items; expect "GET /orders/enriched/items (the items route)" 422 "$ERR422"
    req POST /orders/enriched/; expect "POST /orders/enriched/" 404 '{"detail":"Not Found"}'
}

# Over 1 MiB: our 413, whoever reads the body first. Exactly 1 MiB (a
# valid body padded with spaces) is read.
test_enrich_sizes() {
    local pre='{"items":["071526300"]'
    { printf '%s' "$pre"; head -c $((1048576 - ${#pre} - 1)) /dev/zero | tr '\0' ' '; printf '}'; } > "$W/mib"
    check "1 MiB body: size" "$(wc -c < "$W/mib")" 1048576
    post "$W/mib"
    expect "enriched: a 1 MiB body" 200 "{\"items\":{$EN_NAME},\"missing\":[]}"
    { cat "$W/mib"; printf ' '; } > "$W/mib1"
    post "$W/mib1"
    expect "enriched: 1 MiB + 1 byte" 413 '{"message":"Corpo da requisição grande demais"}'
    head -c $((8 * 1048576)) /dev/zero | tr '\0' ' ' > "$W/big"
    post "$W/big"
    expect "enriched: 8 MiB" 413 '{"message":"Corpo da requisição grande demais"}'
}

# Any catalog failure but a 404 is a 502, never a partial answer; one
# failing call cancels the slow others (fault05 answers after 30 s).
test_enrich_faults() {
    local cc t0 ms
    for cc in 02 03 04 06 07 09 11 14 16; do
        t0=$(date +%s%N)
        post_text "{\"items\":[\"071526300\",\"fault$cc\",\"fault05\"]}"
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        expect "enriched: catalog fault $cc" 502 "$ERR502"
        # the slow sibling answers after 30 s: 5 s tells it apart on a busy machine
        [ -n "${STACK_VALGRIND:-}" ] || { [ "$ms" -lt 5000 ] && ok "enriched: fault $cc: the slow call not waited for (${ms} ms)" ||
            ko "enriched: fault $cc: the slow call not waited for" "${ms} ms"; }
    done
    post_text '{"items":["fault01","071526300"]}'
    expect "enriched: fault 01 is a 404: missing" 200 "{\"items\":{$EN_NAME},\"missing\":[\"fault01\"]}"
    post_text '{"items":["fault05"]}'
    expect "enriched: a call past --call-timeout" 502 "$ERR502"
}

# 500 codes, all at once: the fake sees 500 calls in flight together
# (--fanout 500 here: the default fan-out is 256). Calls of earlier tests
# that the fake still holds (fault05 answers after 30 s) are in flight
# too: only the rise counts.
test_enrich_at_once() {
    local i peak
    [ -z "${STACK_VALGRIND:-}" ] || return 0
    # plain HTTP only: over TLS under ASan the 500 streams or handshakes
    # take longer than the upstream's delay to start (334 in flight over
    # HTTP/2, call timeouts over HTTP/1.1), so the peak measures the
    # checker, not the service
    [ "$SCHEME" = http ] || { echo "note - enriched: 500 codes at once: checked on plain HTTP"; return 0; }
    codes_body 500 > "$W/500"
    # the upstream holds every answer until all 500 calls are at it at
    # once (bounded under the fronts' 30 s), then lets them go: a loaded
    # machine once took longer than its 150 ms delay to start 500 calls
    # (438 at once with a make loop and a second suite beside it)
    stack_stop_service
    stack_stop_upstream
    stack_upstream "$UP_PORT" --delay-ms 60000 || die "upstream did not restart"
    stack_service "$PROCS" "${SVC_FLAGS[@]}" --fanout 500 --call-timeout 25000 --request-timeout 28000 ||
        die "service did not restart"
    post_at_once "$W/500"
    for i in $(seq 200); do
        peak=$(stat_of max_in_flight)
        [ "${peak:-0}" -ge 500 ] && break
        sleep 0.1
    done
    curl -s "http://127.0.0.1:$UP_PORT/_release" >/dev/null
    wait "$POST_PID"
    answer_read
    STATUS=$(< "$W/status")
    check "enriched: 500 codes: 500 calls in flight at once" "$peak" 500
    check "enriched: 500 codes: status" "$STATUS" 200
    check "enriched: 500 codes: 500 entries" "$(grep -o '"gtin":' "$W/b" | wc -l)" 500
    check "enriched: 500 codes: last" "$(grep -o '"syn499":{"name":"Produto 499","description":"Produto 499","gtin":"789000000499[0-9]"}},"missing":\[\]}$' "$W/b" | wc -l)" 1
    check "enriched: 500 codes: 500 calls" "$(stat_of requests)" 500
    stack_stop_service
    stack_stop_upstream
    stack_upstream "$UP_PORT" "${UP_FLAGS[@]}" || die "upstream did not restart"
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

# A client that leaves: the front closes the FastCGI connection, the
# service cancels the calls (fault05 would answer after 30 s).
test_enrich_client_leaves() {
    local before pid
    if [ "$FRONT" = lighttpd ]; then
        echo "note - enriched: client leaves: not checked behind lighttpd (see test_client_leaves)"
        return
    fi
    before=$(grep -c 'client left, enrichment cancelled' "$STACK_RUN/service.log")
    reset_stats
    post_text '{"items":["fault05","syn1"]}' --max-time 0.5 &
    pid=$!
    stack_wait sh -c "[ \$(grep -c 'client left, enrichment cancelled' '$STACK_RUN/service.log') -gt $before ]"
    check "enriched: client leaves: its calls are cancelled" \
        "$(grep -c 'client left, enrichment cancelled' "$STACK_RUN/service.log")" $((before + 1))
    wait "$pid" 2>/dev/null
    post_text '{"items":["071526300"]}'
    check "enriched: client leaves: answers after" "$STATUS" 200
}

# The breaker weighs the catalog calls: failing ones open it, and then
# both routes get a 503 at once.
test_enrich_breaker() {
    local i codes="" n502
    stack_stop_service
    # one process: each has its own breaker (see test_breaker)
    stack_service 1 "${SVC_FLAGS[@]}" --breaker-min-calls 4 --breaker-open-ms 60000 \
        --breaker-window-ms 60000 || die "service did not restart"
    for i in $(seq 8); do post_text '{"items":["fault02"]}'; codes="$codes $STATUS"; done
    n502=$(echo "$codes" | tr ' ' '\n' | grep -c '^502$')
    # 502 until the 4th failure, then 503
    case "$codes" in
        *" 503 503") check "enriched: failing catalog calls open the breaker ($codes)" \
            "$([ "$n502" -eq 4 ] && echo ok)" ok ;;
        *) ko "enriched: failing catalog calls open the breaker" "$codes" ;;
    esac
    post_text '{"items":["071526300"]}'
    expect "enriched: breaker open" 503 '{"message":"Serviço temporariamente indisponível"}'
    [ -n "$RETRY" ] && ok "enriched: breaker open: Retry-After $RETRY" || ko "enriched: breaker open: Retry-After" "none"
    stack_stop_service
    stack_service "$PROCS" "${SVC_FLAGS[@]}" || die "service did not restart"
}

test_enrich() {
    timed test_enrich_answers
    timed test_enrich_bad_bodies
    timed test_enrich_routes
    timed test_enrich_sizes
    timed test_enrich_faults
    timed test_enrich_at_once
    timed test_enrich_client_leaves
    timed test_enrich_breaker
}
