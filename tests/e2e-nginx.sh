#!/bin/sh
# make check: the end-to-end suite behind nginx (2 processes).
exec "${TOP:-$(dirname "$0")/..}/tests/e2e.sh" nginx
