# tests/stack.sh: start and stop the real stack on loopback. Sourced by
# deploy/demo, tests/e2e.sh and bench/run; never run on its own.
#
#   stack_init DIR                 a private run directory
#   stack_upstream PORT [ARGS...]  tests/maestro-fake on 127.0.0.1:PORT
#   stack_service N [ARGS...]      api-pedidos under spawn-fcgi, N processes
#   stack_nginx PORT [WORKERS]     nginx in front of the socket
#   stack_lighttpd PORT            lighttpd in front of the socket
#   stack_certs                    a private CA and certificates in $STACK_RUN/certs
#   stack_tls PORT                 nginx as the upstream's TLS gateway on
#                                  PORT (HTTP/2), PORT+1 (HTTP/1.1 only),
#                                  PORT+2 (closes idle connections after
#                                  1 s), PORT+3..5 (bad certificates)
#   stack_stop_service / stack_stop   stop one part / everything
#
# Needs: $TOP, the source tree, and $BUILD, the built one (default $TOP).
# Every process started is recorded in $STACK_RUN/pids so that stack_stop
# leaves nothing behind.
#
# Checking tools: STACK_SANITIZED=1 sends sanitizer reports of the
# service to $STACK_RUN/san.*; STACK_VALGRIND=1 runs each api-pedidos
# under valgrind, reports in $STACK_RUN/valgrind.*. stack_reports says
# whether any report was written.

BUILD=${BUILD:-$TOP}

STACK_KEY=${STACK_KEY:-demo-key-not-secret}
STACK_TENANT=${STACK_TENANT:-21fea73c-e244-497a-8540-be0d3c583596}

stack_init() {
    STACK_RUN=$1
    if [ -n "${STACK_SANITIZED:-}" ]; then
        export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$STACK_RUN/san"
        export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$STACK_RUN/san"
    fi
    mkdir -p "$STACK_RUN"
    chmod 755 "$STACK_RUN"   # nginx and lighttpd workers reach the socket
    STACK_SOCK=$STACK_RUN/api-pedidos.sock
    : > "$STACK_RUN/pids"
}

# Waits until "$@" succeeds, for at most 10 s.
stack_wait() {
    local i
    for i in $(seq 1 100); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "stack: timed out waiting for: $*" >&2
    return 1
}

stack_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stack_upstream() {
    local port=$1; shift
    STACK_UP_PORT=$port
    "$BUILD/tests/maestro-fake" --port "$port" --fixtures "$TOP/tests/fixtures" \
        --api-key "$STACK_KEY" --tenant "$STACK_TENANT" "$@" \
        >>"$STACK_RUN/upstream.log" 2>&1 &   # no inherited stdout: a caller reading it would wait forever
    STACK_UP_PID=$!
    echo "$STACK_UP_PID" >> "$STACK_RUN/pids"
    stack_wait stack_port_open "$port"
}

stack_stop_upstream() {
    [ -n "${STACK_UP_PID:-}" ] || return 0
    kill "$STACK_UP_PID" 2>/dev/null || true
    wait "$STACK_UP_PID" 2>/dev/null || true
    STACK_UP_PID=
}

# stack_service N [api-pedidos flags...]: the environment of the caller
# (MAGALU_API_URL, API_PEDIDOS_*) is passed on; the upstream defaults to
# $STACK_UPSTREAM_URL, else the fake one.
stack_service() {
    local n=$1; shift
    local cmd=("$BUILD/src/api-pedidos" "$@")
    if [ -n "${STACK_VALGRIND:-}" ]; then
        # a full path: spawn-fcgi -n uses execv, which does not search PATH
        cmd=("$(command -v valgrind)" --quiet --leak-check=full --show-leak-kinds=definite,indirect
             --errors-for-leak-kinds=definite,indirect --error-exitcode=99
             --log-file="$STACK_RUN/valgrind.%p" "${cmd[@]}")
    fi
    rm -f "$STACK_SOCK"
    export MAGALU_API_URL=${MAGALU_API_URL:-${STACK_UPSTREAM_URL:-http://127.0.0.1:$STACK_UP_PORT}}
    export APIKEY=${APIKEY:-$STACK_KEY} TENANT_ID=${TENANT_ID:-$STACK_TENANT}
    if [ "$n" = 1 ]; then
        # -n: spawn-fcgi execs in place, so $! is api-pedidos itself
        spawn-fcgi -n -s "$STACK_SOCK" -M 0666 -- "${cmd[@]}" >>"$STACK_RUN/service.log" 2>&1 &
        STACK_SVC_PIDS=$!
    else
        # spawn-fcgi -F sends the children's stderr to /dev/null: keep it
        STACK_LOG=$STACK_RUN/service.log spawn-fcgi -s "$STACK_SOCK" -M 0666 -F "$n" \
            -P "$STACK_RUN/service.pid" -- /bin/sh -c 'exec "$@" 2>>"$STACK_LOG"' sh "${cmd[@]}" \
            >>"$STACK_RUN/service.log" 2>&1 || return 1
        STACK_SVC_PIDS=$(cat "$STACK_RUN/service.pid")
    fi
    unset MAGALU_API_URL APIKEY TENANT_ID
    echo "$STACK_SVC_PIDS" >> "$STACK_RUN/pids"
    case " $* " in
        *" --log-level warn "* | *" --log-level error "*) stack_service_ready quiet ;;
        *) stack_service_ready ;;
    esac
}

# stack_listening SOCKET: a connect to the unix socket is taken (what
# the front would meet), then closed at once.
stack_listening() {
    perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 1' "$1"
}

# Waits until every process of the service said it is serving (spawn-fcgi
# made the socket, bound it and listened before it started them: a
# socket file seen earlier may not listen yet, and a front that tried it
# then was refused), and until a front already running answers through
# it: lighttpd turns a backend it could not reach off for 1-2 s and
# answers its own 503 meanwhile. Bounded (30 s: valgrind's start is
# slow); says what it awaited and what it saw. quiet: the service logs no
# 'serving' (--log-level warn): its socket taking a connection instead.
stack_service_ready() {
    local p i code=none
    if [ "${1:-}" = quiet ]; then
        stack_wait stack_listening "$STACK_SOCK" || return 1
    else for p in $STACK_SVC_PIDS; do
        for i in $(seq 300); do
            grep -q "pid=$p msg=\"serving\"" "$STACK_RUN/service.log" 2>/dev/null && break
            kill -0 "$p" 2>/dev/null || { echo "stack: service $p exited: $(tail -3 "$STACK_RUN/service.log")" >&2; return 1; }
            sleep 0.1
        done
        [ "$i" -lt 300 ] || { echo "stack: service $p did not say it is serving in 30 s" >&2; return 1; }
    done; fi
    [ -n "${STACK_FRONT_PORT:-}" ] || return 0
    [ -s "$STACK_RUN/nginx.pid" ] || [ -s "$STACK_RUN/lighttpd.pid" ] || return 0
    for i in $(seq 300); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$STACK_FRONT_PORT/healthcheck")
        [ "$code" = 200 ] && return 0
        sleep 0.1
    done
    echo "stack: the front did not answer /healthcheck 200 in 30 s after the service started (last: $code)" >&2
    return 1
}

# Sends SIGTERM to every api-pedidos process and waits for each to end.
# Returns 1 when one that is our child (the one-process mode) exited
# with a status other than 0.
stack_stop_service() {
    local p rc=0
    [ -n "${STACK_SVC_PIDS:-}" ] || return 0
    for p in $STACK_SVC_PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $STACK_SVC_PIDS; do
        if [ "$p" = "$(jobs -p | grep -x "$p")" ]; then
            wait "$p" || rc=1
        else
            stack_wait_gone "$p"
        fi
    done
    STACK_SVC_PIDS=
    return $rc
}

# stack_wait_gone PID: waits for it to exit, at most 30 s (a process
# stopping finishes its requests in flight: tests hold them up to 15 s)
stack_wait_gone() {
    local i
    for i in $(seq 300); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "stack: $1 still running 30 s after it was told to stop" >&2
    return 1
}

# STACK_NGINX_KEEP=1: nginx keeps its FastCGI connections to the
# service (fastcgi_keep_conn on, a keepalive pool of 64 a worker)
stack_fill() {
    local keepalive="" keep_conn=off
    if [ -n "${STACK_NGINX_KEEP:-}" ]; then
        keepalive="keepalive 64; keepalive_requests 1000000;"
        keep_conn=on
    fi
    sed -e "s|@RUN@|$STACK_RUN|g" -e "s|@SOCKET@|$STACK_SOCK|g" \
        -e "s|@PORT@|$2|g" -e "s|@WORKERS@|${3:-1}|g" \
        -e "s|@BODY_MAX@|${STACK_BODY_MAX:-1m}|g" \
        -e "s|@KEEPALIVE@|$keepalive|g" -e "s|@KEEP_CONN@|$keep_conn|g" "$1"
}

# STACK_BODY_MAX: nginx's client_max_body_size (default 1m, as shipped)
stack_nginx() {
    STACK_FRONT_PORT=$1
    stack_fill "$TOP/deploy/nginx-test.conf.in" "$1" "${2:-1}" > "$STACK_RUN/nginx.conf"
    nginx -c "$STACK_RUN/nginx.conf" -g 'daemon on;' 2>>"$STACK_RUN/nginx-error.log" || return 1
    stack_wait test -s "$STACK_RUN/nginx.pid"
    cat "$STACK_RUN/nginx.pid" >> "$STACK_RUN/pids"
    stack_wait stack_port_open "$1"
}

stack_lighttpd() {
    STACK_FRONT_PORT=$1
    stack_fill "$TOP/deploy/lighttpd-test.conf.in" "$1" > "$STACK_RUN/lighttpd.conf"
    # lighttpd's own 413 (a body past its server.max-request-size)
    printf '%s' '{"message":"Corpo da requisição grande demais"}' > "$STACK_RUN/lighttpd-status-413.html"
    lighttpd -f "$STACK_RUN/lighttpd.conf" 2>>"$STACK_RUN/lighttpd-error.log" || return 1
    stack_wait test -s "$STACK_RUN/lighttpd.pid"
    cat "$STACK_RUN/lighttpd.pid" >> "$STACK_RUN/pids"
    stack_wait stack_port_open "$1"
}

# A private CA (ca.pem) and, signed by it, a certificate for localhost
# and 127.0.0.1 (server.pem), one for another host name (wronghost.pem)
# and one that has expired (expired.pem); untrusted.pem is signed by a CA
# nobody trusts. All share server.key. Made at test time: nothing to
# expire in the repository.
stack_certs() {
    local d=$STACK_RUN/certs
    mkdir -p "$d"
    stack_cert_ca "$d/ca" "api-pedidos test CA" &&
    stack_cert_ca "$d/other-ca" "nobody's CA" &&
    openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
        -subj /CN=localhost >/dev/null 2>&1 &&
    stack_cert_sign "$d/server.pem" "$d/ca" "DNS:localhost,IP:127.0.0.1" -days 2 &&
    stack_cert_sign "$d/untrusted.pem" "$d/other-ca" "DNS:localhost,IP:127.0.0.1" -days 2 &&
    stack_cert_sign "$d/wronghost.pem" "$d/ca" "DNS:wrong.example" -days 2 &&
    { stack_cert_sign "$d/expired.pem" "$d/ca" "DNS:localhost,IP:127.0.0.1" \
          -not_before 20200101000000Z -not_after 20200102000000Z ||
      stack_cert_sign "$d/expired.pem" "$d/ca" "DNS:localhost,IP:127.0.0.1" -days -1; } &&
    chmod 644 "$d"/*
}

stack_cert_ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 \
        -subj "/CN=$2" >/dev/null 2>&1
}

# stack_cert_sign OUT CA SAN [validity...]: server.csr signed by CA.
stack_cert_sign() {
    local out=$1 ca=$2 san=$3; shift 3
    openssl x509 -req -in "$STACK_RUN/certs/server.csr" -CA "$ca.pem" -CAkey "$ca.key" \
        -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
        -extfile <(printf 'subjectAltName=%s\n' "$san") "$@" -out "$out" >/dev/null 2>&1
}

stack_tls() {
    local alog=off
    STACK_TLS_PORT=$1
    [ -z "${STACK_TLS_LOG:-}" ] || alog="$STACK_TLS_LOG tls"
    [ -s "$STACK_RUN/certs/server.pem" ] || stack_certs || return 1
    sed -e "s|@RUN@|$STACK_RUN|g" -e "s|@CERTS@|$STACK_RUN/certs|g" \
        -e "s|@UPPORT@|$STACK_UP_PORT|g" -e "s|@H2PORT@|$1|g" -e "s|@H1PORT@|$(($1 + 1))|g" \
        -e "s|@IDLEPORT@|$(($1 + 2))|g" -e "s|@BADPORT0@|$(($1 + 3))|g" \
        -e "s|@BADPORT1@|$(($1 + 4))|g" -e "s|@BADPORT2@|$(($1 + 5))|g" \
        -e "s|@ACCESSLOG@|$alog|g" \
        "$TOP/tests/tls-front.conf.in" > "$STACK_RUN/tls.conf"
    nginx -c "$STACK_RUN/tls.conf" -g 'daemon on;' 2>>"$STACK_RUN/tls-error.log" || return 1
    stack_wait test -s "$STACK_RUN/tls.pid"
    cat "$STACK_RUN/tls.pid" >> "$STACK_RUN/pids"
    stack_wait stack_port_open "$1"
}

# Established TCP connections to 127.0.0.1:PORT, from /proc (no ss
# needed): the upstream connections a service holds to the TLS gateway.
stack_conns_to() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" '$3 ~ p"$" && $4 == "01" {n++} END {print n + 0}' /proc/net/tcp
}

stack_stop_front() {
    local f p
    for f in nginx lighttpd tls; do
        [ -s "$STACK_RUN/$f.pid" ] || continue
        p=$(cat "$STACK_RUN/$f.pid")
        kill -TERM "$p" 2>/dev/null || true
        stack_wait_gone "$p"
        rm -f "$STACK_RUN/$f.pid"
    done
}

stack_stop() {
    local p
    stack_stop_front
    stack_stop_service
    stack_stop_upstream
    for p in $(cat "$STACK_RUN/pids" 2>/dev/null); do
        kill -TERM "$p" 2>/dev/null || true
    done
    : > "$STACK_RUN/pids"
}

# Prints the sanitizer and valgrind reports left by the service; returns 1
# when there is any.
stack_reports() {
    local f found=0
    for f in "$STACK_RUN"/san.* "$STACK_RUN"/valgrind.*; do
        [ -s "$f" ] || continue
        found=1
        echo "--- $f"
        head -n 60 "$f"
    done
    return $found
}
