#!/usr/bin/env bash
# Many hosts: two api-pedidos processes, each listening by itself on a
# loopback port (--listen 127.0.0.1:PORT, as api-pedidos@PORT runs them),
# behind ONE nginx whose site is deploy/nginx-upstream.conf as shipped:
# only its two ports and its `listen` are rewritten (sed), so the
# upstream group, fastcgi_next_upstream and the timeouts tested are the
# ones that ship. 20 clients keep asking for an order for 8 s; after 3 s
# one process is killed with SIGKILL, requests in flight included.
#
# Checks: every client got a 200 with the whole body (no error, no socket
# failure), both processes served requests before the kill (nginx's access
# log, $upstream_addr), requests in flight on the dead one were retried
# on the other (fastcgi_next_upstream), and the survivor served the rest
# and stops cleanly.
#
#   tests/multihost.sh      (make check runs it)
#
# Ports: MULTIHOST_PORT (27100) for nginx, +1 the upstream, +2 and +3 the
# two processes. Prints "ok - ..." / "FAIL - ..." lines and a summary.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/stack.sh"

FRONT_PORT=${MULTIHOST_PORT:-27100}
UP_PORT=$((FRONT_PORT + 1))
P1=$((FRONT_PORT + 2))
P2=$((FRONT_PORT + 3))
CLIENTS=20
LOAD_S=8
KILL_AFTER_S=3
DELAY_MS=50   # each upstream call: requests are in flight when the kill comes
ORDER=3f6c2a9e-81d4-4b7a-a5e2-7c9d0b1e4f28
WANT_BYTES=$(wc -c < "$TOP/tests/fixtures/expected/$ORDER.json")

. "$TOP/tests/testlib.sh"
need nginx nginx
need curl curl
need_done multihost
die() { ko "$@"; echo "multihost: $PASS passed, $FAIL failed"; exit 1; }

W=$(mktemp -d /tmp/api-pedidos-multihost.XXXXXX)
chmod 755 "$W"
stack_init "$W/run"
R=$STACK_RUN
trap 'stack_stop; [ -n "${MULTIHOST_KEEP:-}" ] || rm -rf "$W"' EXIT
trap 'exit 1' INT TERM

# instance PORT: one api-pedidos on 127.0.0.1:PORT, log in $R/svc-PORT.log
instance() {
    MAGALU_API_URL=http://127.0.0.1:$UP_PORT APIKEY=$STACK_KEY TENANT_ID=$STACK_TENANT \
        "$BUILD/src/api-pedidos" --listen "127.0.0.1:$1" 2>>"$R/svc-$1.log" &
    INSTANCE_PID=$!
    echo "$INSTANCE_PID" >> "$R/pids"
    stack_wait stack_port_open "$1"
}

# The site as shipped, with our ports; each rewrite must have matched.
site() {
    local f=$TOP/deploy/nginx-upstream.conf
    for pat in 'server 127.0.0.1:9001;' 'server 127.0.0.1:9002;' 'listen 80;' 'include fastcgi_params;'; do
        grep -qF "$pat" "$f" || return 1
    done
    sed -e "s/server 127\.0\.0\.1:9001;/server 127.0.0.1:$P1;/" \
        -e "s/server 127\.0\.0\.1:9002;/server 127.0.0.1:$P2;/" \
        -e "s/listen 80;/listen 127.0.0.1:$FRONT_PORT;/" "$f"
}

# A main nginx.conf around it, as /etc/nginx/nginx.conf would be; the
# access log tells which process answered each request (and each retry).
front() {
    site > "$R/site.conf" || return 1
    # the site includes fastcgi_params relative to the config's directory
    ln -sf /etc/nginx/fastcgi_params "$R/fastcgi_params"
    cat > "$R/nginx.conf" <<EOF
worker_processes 1;
pid $R/nginx.pid;
error_log $R/nginx-error.log warn;
events { worker_connections 1024; }
http {
    log_format mh '\$msec \$status \$body_bytes_sent "\$upstream_addr" "\$upstream_status" \$request_time';
    access_log $R/access.log mh;
    client_body_temp_path $R/nginx-body;
    fastcgi_temp_path $R/nginx-fastcgi;
    proxy_temp_path $R/nginx-proxy;
    uwsgi_temp_path $R/nginx-uwsgi;
    scgi_temp_path $R/nginx-scgi;
    include $R/site.conf;
}
EOF
    nginx -t -q -c "$R/nginx.conf" 2>>"$R/nginx-error.log" || return 1
    nginx -c "$R/nginx.conf" -g 'daemon on;' 2>>"$R/nginx-error.log" || return 1
    stack_wait test -s "$R/nginx.pid" && cat "$R/nginx.pid" >> "$R/pids"
    stack_wait stack_port_open "$FRONT_PORT"
}

# client N: asks for the order until the end of the load, one line per
# answer: "HTTP_CODE BYTES" (000 when the connection failed)
client() {
    local end=$1 out=$W/client-$2
    while [ "$(date +%s%N)" -lt "$end" ]; do
        curl -s -o /dev/null -w '%{http_code} %{size_download}\n' --max-time 20 \
            "http://127.0.0.1:$FRONT_PORT/orders/$ORDER/items" >> "$out"
    done
}

stack_upstream "$UP_PORT" --delay-ms "$DELAY_MS" || die "upstream started (port $UP_PORT)"
instance "$P1" || die "api-pedidos started on $P1"
PID_P1=$INSTANCE_PID
instance "$P2" || die "api-pedidos started on $P2"
PID_P2=$INSTANCE_PID
front || die "nginx started with deploy/nginx-upstream.conf" "$(tail -n 5 "$R/nginx-error.log")"
ok "nginx runs deploy/nginx-upstream.conf (ports $P1 and $P2)"

end=$(( $(date +%s%N) + LOAD_S * 1000000000 ))
cpids=()
for i in $(seq "$CLIENTS"); do client "$end" "$i" & cpids+=($!); done
sleep "$KILL_AFTER_S"
kill_at=$(date +%s.%N)
kill -KILL "$PID_P1" 2>/dev/null
wait "$PID_P1" 2>/dev/null
kill -0 "$PID_P1" 2>/dev/null && ko "instance on $P1 killed" "still alive" || ok "instance on $P1 killed (SIGKILL) after ${KILL_AFTER_S} s of load"
wait "${cpids[@]}"

# --- what the clients saw
cat "$W"/client-* > "$W/answers"
total=$(wc -l < "$W/answers")
bad=$(awk -v n="$WANT_BYTES" '$1 != 200 || $2 != n' "$W/answers" | sort | uniq -c | sort -rn)
[ "$total" -ge 100 ] && ok "clients got $total answers" || ko "clients got answers" "only $total"
[ -z "$bad" ] && ok "every answer a 200 with the whole body ($WANT_BYTES bytes), no connection error" ||
    ko "every answer a 200 with the whole body" "count, code, bytes:" $bad

# --- who served what (nginx's access log: $msec $status $bytes "$upstream_addr" "$upstream_status" $request_time)
# (the log is written when a request ends; give nginx a moment)
sleep 0.2
A1=127.0.0.1:$P1 A2=127.0.0.1:$P2
before1=$(awk -v t="$kill_at" -v a="\"$A1\"" '$1 < t && $4 == a && $5 == "\"200\""' "$R/access.log" | wc -l)
before2=$(awk -v t="$kill_at" -v a="\"$A2\"" '$1 < t && $4 == a && $5 == "\"200\""' "$R/access.log" | wc -l)
[ "$before1" -gt 0 ] && [ "$before2" -gt 0 ] &&
    ok "both processes served before the kill ($P1: $before1, $P2: $before2)" ||
    ko "both processes served before the kill" "$P1: $before1, $P2: $before2"
# a request that met the dead process then went to the other one:
# "$upstream_addr" lists both, "$upstream_status" ends in 200
retried=$(awk -v a="$A1, $A2" 'index($0, a) && $(NF - 1) ~ /200"$/' "$R/access.log" | wc -l)
[ "$retried" -gt 0 ] && ok "requests that met the dead process retried on the other ($retried)" ||
    ko "requests that met the dead process retried on the other" "none in $R/access.log"
after2=$(awk -v t="$kill_at" -v a="\"$A2\"" '$1 > t && $4 == a && $5 == "\"200\""' "$R/access.log" | wc -l)
# a request that began after the kill went to the survivor (the log
# line is written when a request ends, which on a busy machine can be
# well after the killed process answered it: the start is $msec less
# $request_time)
after1=$(awk -v t="$kill_at" -v a="\"$A1\"" '$1 - $6 > t + 0.1 && $4 == a' "$R/access.log" | wc -l)
[ "$after2" -gt 0 ] && [ "$after1" = 0 ] && ok "after the kill the survivor served the rest ($after2 directly)" ||
    ko "after the kill the survivor served the rest" "$P2: $after2, $P1 still answering: $after1"
nonok=$(awk '$2 != 200' "$R/access.log" | wc -l)
[ "$nonok" = 0 ] && ok "nginx answered nothing but 200" || ko "nginx answered nothing but 200" "$nonok others"

# --- the survivor stops cleanly
kill -TERM "$PID_P2"
wait "$PID_P2"; rc=$?
[ "$rc" = 0 ] && ok "survivor on $P2 exits 0 on SIGTERM" || ko "survivor on $P2 exits 0 on SIGTERM" "exit status $rc"
if out=$(stack_reports); then ok "no sanitizer report"; else ko "no sanitizer report" "$out"; fi

echo "time - multihost: $SECONDS s"
echo "multihost: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
