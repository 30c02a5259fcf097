# tests/testlib.sh: what every shell test suite prints and counts.
# Sourced; never run on its own. A suite closes with
#   echo "NAME: $PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]
#
#   ok NAME                 one check passed
#   ko NAME [DETAIL...]     one check failed, with its details
#   check NAME GOT WANT     ok when GOT equals WANT
#   testlib_workdir NAME    a private directory $W (kept with E2E_KEEP=1)
#                           and a stack in $W/run, stopped at exit
#   need TOOL PACKAGE       the suite needs TOOL (a command, or a file by
#                           its absolute path), which Debian's PACKAGE has
#   answer_read             BODY, CTYPE, CLEN, ALLOW, RETRY of the answer
#                           curl left in $W/b (body) and $W/h (headers)
#   bytes TEXT              its length in bytes, whatever the locale
#   need_done NAME          after the needs: if any is missing, one line
#                           naming them and the packages, and exit 77,
#                           SKIP for make check (tests/all.sh installs
#                           everything, and fails if any suite skipped)

PASS=0 FAIL=0
# nginx and lighttpd live in /usr/sbin, outside a user's PATH on Debian
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin ;; esac
ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
ko() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; shift; printf '       %s\n' "$@"; }
check() {
    if [ "$2" = "$3" ]; then ok "$1"; else ko "$1" "got:  ${2:0:300}" "want: ${3:0:300}"; fi
}

# answer_read: BODY from $W/b; CTYPE, CLEN, ALLOW, RETRY from the
# headers in $W/h (the first of each), read by the shell itself: a suite
# makes hundreds of requests, on a machine that may be busy, and a
# process or four per header cost seconds
answer_read() {
    local line name value
    BODY=$(< "$W/b")
    CTYPE= CLEN= ALLOW= RETRY=
    while IFS= read -r line; do
        name=${line%%:*} value=${line#*: } value=${value%$'\r'}
        case ${name,,} in
            content-type) CTYPE=${CTYPE:-$value} ;;
            content-length) CLEN=${CLEN:-$value} ;;
            allow) ALLOW=${ALLOW:-$value} ;;
            retry-after) RETRY=${RETRY:-$value} ;;
        esac
    done < "$W/h"
}
bytes() { local LC_ALL=C; echo "${#1}"; }

testlib_workdir() {
    W=$(mktemp -d "/tmp/api-pedidos-$1.XXXXXX")
    chmod 755 "$W"   # the front's workers must reach the socket inside
    stack_init "$W/run"
    trap 'stack_stop; [ -n "${E2E_KEEP:-}" ] || rm -rf "$W"' EXIT
    trap 'exit 1' INT TERM   # so that the EXIT trap stops the stack
}

TESTLIB_LACKS="" TESTLIB_PKGS=""
need() {
    case $1 in
        /*) [ -e "$1" ] && return 0 ;;
        *) command -v "$1" >/dev/null 2>&1 && return 0 ;;
    esac
    TESTLIB_LACKS="$TESTLIB_LACKS $1"
    case " $TESTLIB_PKGS " in *" $2 "*) ;; *) TESTLIB_PKGS="$TESTLIB_PKGS $2" ;; esac
}
need_done() {
    [ -z "$TESTLIB_LACKS" ] && return 0
    echo "$1: SKIP, not installed:$TESTLIB_LACKS (apt-get install$TESTLIB_PKGS, or deploy/deps.sh)"
    exit 77
}
