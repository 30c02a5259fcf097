#!/bin/sh
# make check: the end-to-end suite behind nginx (2 processes), with the
# upstream behind a TLS gateway offering HTTP/2; nginx keeps its FastCGI
# connections (fastcgi_keep_conn on and a keepalive pool).
STACK_NGINX_KEEP=1; export STACK_NGINX_KEEP
exec "${TOP:-$(dirname "$0")/..}/tests/e2e.sh" nginx h2
