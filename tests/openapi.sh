#!/usr/bin/env bash
# The API document, doc/openapi.json: valid OpenAPI 3.0 for two real
# validators, and in step with the service.
#   - kin-openapi (Debian's golang-github-getkin-kin-openapi-dev), through
#     tests/openapi-check/main.go: references, path parameters, examples
#     checked against their schemas, ...;
#   - the official OpenAPI 3.0 JSON Schema (Debian's openapi-specification,
#     in YAML: Debian 13 ships no schema.json) with python3-jsonschema and
#     python3-yaml: structure, unknown or misspelt fields, response codes;
#   - every route the service answers is in paths, every status code of
#     src/reply.c is answered somewhere, info.version is AC_INIT's;
#   - doc/docs.html loads nothing from outside; src/docs-data.c (built)
#     holds both files byte for byte.
# The checker is built once into $BUILD/tests/openapi-check/build (a
# temporary directory without $BUILD) and rebuilt when main.go changes.
# Closes with "openapi: N passed, M failed"; exits 1 on any failure, 77
# (SKIP) at once when a tool above is not installed.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-}
DOC=$TOP/doc/openapi.json
HTML=$TOP/doc/docs.html
OAS_SCHEMA=/usr/share/openapi-specification/schemas/v3.0/schema.yaml
. "$TOP/tests/testlib.sh"
need go golang-go
need /usr/share/gocode/src/github.com/getkin/kin-openapi golang-github-getkin-kin-openapi-dev
need /usr/bin/python3 python3
need /usr/lib/python3/dist-packages/jsonschema python3-jsonschema
need /usr/lib/python3/dist-packages/yaml python3-yaml
need "$OAS_SCHEMA" openapi-specification
need_done openapi
E=$(mktemp -d)
trap 'rm -rf "$E"' EXIT
if [ -n "$BUILD" ]; then OUT=$BUILD/tests/openapi-check/build; else OUT=$E/build; fi

# 1. kin-openapi
CHECK=$OUT/openapi-check
if [ ! -x "$CHECK" ] || [ "$TOP/tests/openapi-check/main.go" -nt "$CHECK" ]; then
    if mkdir -p "$OUT" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$OUT/gocache GOENV=off \
             GOFLAGS='' GOPROXY=off go build -o "$CHECK.tmp" "$TOP/tests/openapi-check/main.go" 2>"$E/err" \
         && mv -f "$CHECK.tmp" "$CHECK"; then
        ok "build the kin-openapi checker"
    else
        ko "build the kin-openapi checker" "$(cat "$E/err")"
    fi
fi
if [ -x "$CHECK" ] && "$CHECK" "$DOC" >"$E/list" 2>"$E/err"; then
    ok "kin-openapi: doc/openapi.json is valid, examples match their schemas"
else
    ko "kin-openapi: doc/openapi.json is valid" "$(cat "$E/err" 2>/dev/null)"
fi

# 2. the official JSON Schema of OpenAPI 3.0 (draft 4). Debian's python3,
# not whatever python3 comes first in PATH.
if /usr/bin/python3 - "$OAS_SCHEMA" "$DOC" >"$E/err" 2>&1 <<'EOF'
import json, sys
import jsonschema, yaml
schema = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
doc = json.load(open(sys.argv[2], encoding="utf-8"))
errors = list(jsonschema.Draft4Validator(schema).iter_errors(doc))
for e in errors:
    print("/".join(map(str, e.absolute_path)) + ": " + e.message[:300])
sys.exit(1 if errors else 0)
EOF
then
    ok "OpenAPI 3.0 JSON Schema: doc/openapi.json is valid"
else
    ko "OpenAPI 3.0 JSON Schema: doc/openapi.json is valid" \
       "$(head -n 20 "$E/err")" "(needs python3-jsonschema, python3-yaml and openapi-specification: deploy/deps.sh)"
fi

# 3. in step with the service. $E/list holds "version V", "path P METHODS"
# and "status CODE" lines (empty when the checker could not run).
has_path() { # has_path PATH METHOD...: PATH is in paths with each METHOD
    local p=$1 m line; shift
    line=$(awk -v p="$p" '$1 == "path" && $2 == p' "$E/list")
    [ -n "$line" ] || return 1
    for m in "$@"; do
        case " $line " in *" $m "*) ;; *) return 1 ;; esac
    done
}
for route in "/healthcheck GET HEAD" "/orders/{order_id}/items GET HEAD" "/metrics GET" \
             "/openapi.json GET" "/docs GET" "/orders/enriched POST"; do
    # shellcheck disable=SC2086
    set -- $route
    has_path "$@" && ok "paths has $1 (${*:2})" || ko "paths has $1 (${*:2})" "$(grep '^path' "$E/list" | tr '\n' ';')"
done
# and any constant path src/route.c knows: {"/path", ROUTE_...} in its
# table, or strcmp(path, "/path")
fixed=$(grep -o -E '(\{ *|strcmp\(path, *)"/[^"]*"' "$TOP/src/route.c" | sed 's/.*"\(.*\)"/\1/' | sort -u)
[ -n "$fixed" ] || ko "constant paths found in src/route.c" "the pattern matched nothing"
for p in $fixed; do
    has_path "$p" && ok "src/route.c's $p is in paths" || ko "src/route.c's $p is in paths" "document it in doc/openapi.json"
done
codes=$(sed -n 's/.*\[REPLY_[A-Z_]*\] *= *{ *\([0-9][0-9][0-9]\).*/\1/p' "$TOP/src/reply.c")
[ -n "$codes" ] || ko "status codes found in src/reply.c's table" "the pattern matched nothing"
for c in $(printf '200\n%s\n' "$codes" | sort -u); do
    grep -q -x "status $c" "$E/list" && ok "status $c (src/reply.c) is documented" \
        || ko "status $c (src/reply.c) is documented" "$(grep '^status' "$E/list" | tr '\n' ' ')"
done
ac=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$TOP/configure.ac")
doc=$(sed -n 's/^version //p' "$E/list")
[ -n "$ac" ] && [ "$ac" = "$doc" ] && ok "info.version $doc is AC_INIT's" \
    || ko "info.version is AC_INIT's" "configure.ac: '$ac', doc/openapi.json: '$doc'"

# 4. the page stands alone
if grep -n -i -E 'https?:|src=|@import|url\(' "$HTML" >"$E/ext"; then
    ko "doc/docs.html loads nothing from outside" "$(cat "$E/ext")"
else
    ok "doc/docs.html loads nothing from outside"
fi

# 5. the embedded copies, when built: decode the '\ooo' bytes of each array
DATA=${BUILD:+$BUILD/src/docs-data.c}
if [ -n "$DATA" ] && [ -f "$DATA" ]; then
    for pair in docs_openapi_json:"$DOC" docs_html:"$HTML"; do
        name=${pair%%:*} file=${pair#*:}
        # shellcheck disable=SC2059
        printf "$(sed -n "/^const char $name\[\] = {\$/,/^0};\$/p" "$DATA" | sed '1d;$d' | tr -d "',\n")" \
            >"$E/$name"
        cmp -s "$E/$name" "$file" && ok "src/docs-data.c's $name is ${file#"$TOP"/}" \
            || ko "src/docs-data.c's $name is ${file#"$TOP"/}" "$(cmp "$E/$name" "$file" 2>&1) (run make)"
    done
fi

echo "openapi: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
