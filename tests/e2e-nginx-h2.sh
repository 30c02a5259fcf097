#!/bin/sh
# make check: the end-to-end suite behind nginx (2 processes), with the
# upstream behind a TLS gateway offering HTTP/2.
exec "${TOP:-$(dirname "$0")/..}/tests/e2e.sh" nginx h2
