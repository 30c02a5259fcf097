#!/bin/sh
# How api-pedidos is started in production: spawn-fcgi owns the socket
# (handed to each process as fd 0) and starts one process per core.
# Settings come from the environment; see `api-pedidos --help`.
: "${APIKEY:?set APIKEY to the Maestro API key}"
export APIKEY
exec spawn-fcgi -s /run/api-pedidos.sock -M 0660 -U www-data -G www-data \
    -u www-data -g www-data -F "$(nproc)" -P /run/api-pedidos.pid \
    -- /usr/bin/api-pedidos
