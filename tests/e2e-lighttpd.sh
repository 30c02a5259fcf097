#!/bin/sh
# make check: the end-to-end suite behind lighttpd (1 process).
exec "${TOP:-$(dirname "$0")/..}/tests/e2e.sh" lighttpd
