#!/usr/bin/env bash
# One truth, checked: the documents say what the program does.
#
# - The settings (flag, environment variable, default) of
#   `api-pedidos --help` are those of the man page (OPTIONS and
#   ENVIRONMENT), of the settings table of doc/operations.md and of
#   deploy/systemd/api-pedidos.default: the same names, the same
#   defaults, none missing, none extra.
# - The version of configure.ac (PACKAGE_VERSION) is the one `--version`
#   prints, and that of doc/openapi.json, of the man page, of the first
#   entry of NEWS and of the image tags in deploy/.
# - Every FastCGI socket path in deploy/ (the test templates aside) and
#   in the man page is the one path, /run/api-pedidos/api-pedidos.sock.
# - The metrics table of doc/operations.md names every metric of
#   src/metrics.c, and no other.
# - No document, script or source points at the project's parent
#   directory (the shared notes are not part of the repository).
#
# Closes with "docs: N passed, M failed". Needs only bash, sed, awk, grep.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$TOP}
BIN=$BUILD/src/api-pedidos
. "$TOP/tests/testlib.sh"
E=$(mktemp -d)
trap 'rm -rf "$E"' EXIT

# compare NAME FILE-GOT FILE-WANT: ok when equal, else the diff
compare() {
    if diff -u "$3" "$2" > "$E/diff"; then
        ok "$1"
    else
        ko "$1" "$(sed -n '3,40p' "$E/diff")"
    fi
}

# Settings as "FLAG ENV DEFAULT" lines, sorted: FLAG "-" for a variable
# without a flag, DEFAULT "-" for none (required, or no value).

# --help: an option's line, its continuations joined, ends in [ENV]; its
# default is the word after "default " (a phrase there, such as "the
# system's store", is no value: none). The Environment section gives the
# variables without a flag.
env -i PATH="$PATH" "$BIN" --help > "$E/help.txt" 2>&1 </dev/null
awk '
    /^Environment:/ { envsec = 1; next }
    !envsec && /^  --/ { if (cur != "") print cur; cur = $0; next }
    !envsec && /^    / && cur != "" { sub(/^ +/, " "); cur = cur $0; next }
    !envsec { if (cur != "") print cur; cur = "" }
    envsec && /^  [A-Z][A-Z0-9_]+ / { print "ENV" $0 }
    END { if (cur != "") print cur }
' "$E/help.txt" | awk '
    /^ENV/ {
        sub(/^ENV +/, ""); name = $1; def = "-"
        if (match($0, /; default [^ ]+/)) def = substr($0, RSTART + 10, RLENGTH - 10)
        print "- " name " " def; next
    }
    match($0, /\[[A-Z0-9_]+\]$/) {
        envname = substr($0, RSTART + 1, RLENGTH - 2)
        flag = $1; def = "-"
        if (match($0, /default [^[]*\[/)) {
            d = substr($0, RSTART + 8, RLENGTH - 9); sub(/ +$/, "", d)
            if (d !~ / /) def = d
        }
        print flag " " envname " " def
    }
' | sort > "$E/help.set"
grep -o -- '^  --[a-z0-9-]*' "$E/help.txt" | sed 's/^ *//' | sort > "$E/help.flags"
[ "$(wc -l < "$E/help.set")" -ge 20 ] && ok "--help lists $(wc -l < "$E/help.set") settings" \
    || ko "--help parsed" "$(cat "$E/help.txt")"

# The man page: in OPTIONS, ".BI \-\-NAME" starts an option; the line
# after "Environment:" names its variable; "Default: VALUE" (or
# "Default:" and the value on the next line) its default, "none" for
# none. In ENVIRONMENT, ".B NAME" after ".TP" starts a variable.
MAN=$TOP/doc/api-pedidos.1
sed -e 's/\\f[BIRP]//g' -e 's/\\%//g' -e 's/\\-/-/g' -e 's/\\(,c/c/g' "$MAN" | awk '
    function flush() { if (name != "") print (flag == "" ? "-" : flag) " " name " " (def == "" ? "-" : def); name = ""; flag = ""; def = "" }
    function value(s) { sub(/^\.BR? /, "", s); split(s, w, " "); v = w[1]; sub(/[.,;:]+$/, "", v); return v == "none" ? "-" : v }
    /^\.SH OPTIONS/ { sec = "opt"; next }
    /^\.SH ENVIRONMENT/ { flush(); sec = "env"; next }
    /^\.SH / { flush(); sec = ""; next }
    sec == "opt" && prev == ".TP" && /^\.BI? --[a-z0-9-]+/ {
        flush(); flag = $2; print "F " flag > flags; wantenv = 0; prev = $0; next
    }
    sec == "env" && prev == ".TP" && /^\.B [A-Z][A-Z0-9_]+$/ { flush(); name = $2; prev = $0; next }
    /^Environment:/ { wantenv = 1; prev = $0; next }
    wantenv && /^\.BR? [A-Z][A-Z0-9_]+/ { name = $2; wantenv = 0; prev = $0; next }
    /^Default:$/ { wantdef = 1; prev = $0; next }
    wantdef { def = value($0); wantdef = 0; prev = $0; next }
    /^Default: / { sub(/^Default: /, ""); def = value($0); prev = $0; next }
    { prev = $0 }
    END { flush() }
' flags="$E/man.flags.raw" | sort > "$E/man.set"
compare "man page OPTIONS and ENVIRONMENT: the settings of --help, same defaults" "$E/man.set" "$E/help.set"
cut -d' ' -f2 "$E/man.flags.raw" | sort > "$E/man.flags"
compare "man page OPTIONS: every flag of --help, --help and --version included" "$E/man.flags" "$E/help.flags"

# doc/operations.md: the table under "## Settings": | `--flag ARG` |
# `ENV` | `default` or (none...) | meaning |
OPS=$TOP/doc/operations.md
awk '/^## Settings/ { on = 1; next } /^## / { on = 0 } on && /^\| / && !/^\| flag/ && !/^\| ---/' "$OPS" |
    awk -F' [|] ' '{
        flag = "-"; if (match($1, /--[a-z0-9-]+/)) flag = substr($1, RSTART, RLENGTH)
        envname = $2; gsub(/[` ]/, "", envname)
        def = "-"; if (match($3, /^`[^`]*`/)) def = substr($3, 2, RLENGTH - 2)
        print flag " " envname " " def
    }' | sort > "$E/ops.set"
compare "doc/operations.md settings table: the settings of --help, same defaults" "$E/ops.set" "$E/help.set"

# deploy/systemd/api-pedidos.default: "#ENV=default" (or set) lines
DEF=$TOP/deploy/systemd/api-pedidos.default
sed -n 's/^#\{0,1\}\([A-Z][A-Z0-9_]*\)=\(.*\)$/\1 \2/p' "$DEF" |
    awk '{ print $1 " " ($2 == "" ? "-" : $2) }' | sort > "$E/def.set"
awk '{ print $2 " " $3 }' "$E/help.set" | sort > "$E/help.env"
compare "deploy/systemd/api-pedidos.default: every variable of --help, same defaults" "$E/def.set" "$E/help.env"

# Versions: configure.ac is the one place; the rest must follow it.
V=$(sed -n 's/^AC_INIT(\[api-pedidos\], \[\([^]]*\)\].*/\1/p' "$TOP/configure.ac")
[ -n "$V" ] && ok "configure.ac: version $V" || ko "configure.ac: AC_INIT version"
check "--version prints configure.ac's version" "$(env -i "$BIN" --version 2>&1 </dev/null)" "api-pedidos $V"
check "doc/openapi.json info.version" \
    "$(sed -n 's/^    "version": "\([^"]*\)",$/\1/p' "$TOP/doc/openapi.json")" "$V"
check "man page .TH version" "$(sed -n 's/^\.TH .*"api-pedidos \([^"]*\)".*/\1/p' "$MAN")" "$V"
check "NEWS: the first entry is this version" \
    "$(grep -m1 -o '^api-pedidos [0-9][0-9.]*' "$TOP/NEWS" | cut -d' ' -f2)" "$V"
tags=$(grep -rhoE 'api-pedidos:[0-9]+\.[0-9]+\.[0-9]+' "$TOP/deploy" | sort -u | tr '\n' ' ')
check "deploy/: image tags" "$tags" "api-pedidos:$V "

# One socket path.
SOCK=/run/api-pedidos/api-pedidos.sock
grep -rhoE '/[A-Za-z0-9_./-]*\.sock\b' "$TOP/deploy" "$MAN" --exclude='*.in' --exclude=demo |
    sed 's/\\-/-/g' | sort -u > "$E/socks"
check "deploy/ and the man page: one FastCGI socket path" "$(tr '\n' ' ' < "$E/socks")" "$SOCK "

# Metrics: src/metrics.c's "# TYPE" names against the table of
# doc/operations.md's "## Metrics".
grep -o '# TYPE api_pedidos_[a-z_]*' "$TOP/src/metrics.c" | cut -d' ' -f3 | sort -u > "$E/metrics.src"
awk '/^## Metrics/ { on = 1; next } /^## / { on = 0 } on && /^\| `api_pedidos_/' "$OPS" |
    grep -o '^| `api_pedidos_[a-z_]*' | tr -d '|` ' | sort -u > "$E/metrics.doc"
compare "doc/operations.md metrics table: every metric of src/metrics.c" "$E/metrics.doc" "$E/metrics.src"

# Nothing points outside the repository.
parent=..; parent=$parent/shared
if grep -rIlF --exclude="*.log" --exclude="*.trs" -- "$parent" "$TOP/README.md" "$TOP/NEWS" "$TOP/doc" "$TOP/deploy" "$TOP/bench" \
        "$TOP/src" "$TOP/tests" "$TOP/Makefile.am" "$TOP/configure.ac" > "$E/refs" 2>/dev/null; then
    ko "no file points at $parent" "$(cat "$E/refs")"
else
    ok "no file points at $parent"
fi

echo "docs: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
