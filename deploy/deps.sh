#!/bin/sh
# Installs, from the Debian archive (12 "bookworm" or 13 "trixie"), what
# building, running and testing api-pedidos needs: the same names in both. Does nothing when all of it is already there.
#   deploy/deps.sh [extra packages...]
set -eu

PKGS="build-essential autoconf automake pkg-config ca-certificates curl
libfcgi-dev libcurl4-openssl-dev libcjson-dev check libmicrohttpd-dev
spawn-fcgi nginx lighttpd openssl
golang-go golang-github-getkin-kin-openapi-dev python3-jsonschema python3-yaml openapi-specification $*"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing:$missing; run as root (or install them) first" >&2
    exit 1
fi

# Packages like nginx and lighttpd start a service on port 80 when they
# are installed; both would want it. Keep services from starting while
# we install, as container images do, unless the machine already says.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
