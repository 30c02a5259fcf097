#!/bin/sh
# deploy/spawn-fcgi.sh: api-pedidos without systemd. N processes (one per
# core by default) share one FastCGI socket, which spawn-fcgi binds and
# hands to each as fd 0; nginx or lighttpd connect to it
# (deploy/nginx-site.conf, deploy/lighttpd-site.conf). Under systemd use
# deploy/systemd/ instead (doc/operations.md).
#
#   APIKEY=... sh deploy/spawn-fcgi.sh      as root; settings from the
#                                            environment (api-pedidos --help)
#
# spawn-fcgi -F sends its children's stderr to /dev/null, and stderr is
# where api-pedidos logs. So each child is a shell that sends it to
# $PEDIDOS_LOG_FILE (appended; one write(2) per line, so the
# processes' lines never interleave) and then becomes api-pedidos
# itself (exec): the pids in the pid file are the api-pedidos processes,
# and SIGTERM to them stops each one cleanly. api-pedidos never reopens
# its stderr: rotate the file with logrotate's copytruncate.
set -eu
: "${APIKEY:?set APIKEY to the Maestro API key}"
export APIKEY
PROCS=${PROCS:-$(nproc)}
PEDIDOS_LOG_FILE=${PEDIDOS_LOG_FILE:-/var/log/api-pedidos/api-pedidos.log}
export PEDIDOS_LOG_FILE
install -d -o www-data -g www-data -m 0755 /run/api-pedidos
install -d -o www-data -g www-data -m 0750 "$(dirname "$PEDIDOS_LOG_FILE")"
exec spawn-fcgi -s /run/api-pedidos/api-pedidos.sock -M 0660 -U www-data -G www-data \
    -u www-data -g www-data -F "$PROCS" -P /run/api-pedidos/api-pedidos.pid \
    -- /bin/sh -c 'exec /usr/bin/api-pedidos 2>>"$PEDIDOS_LOG_FILE"'
