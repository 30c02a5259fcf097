/* tls: what an https upstream is trusted with, settled once at start.
 *
 * The upstream's certificate is checked against one PEM bundle: the one
 * given (--ca-file) or libcurl's built-in default (Debian's
 * /etc/ssl/certs/ca-certificates.crt). Never a CA directory: with
 * CURLOPT_CAPATH set, libcurl (7.88 and 8.x alike) skips its cached CA
 * store and parses the whole system bundle again for every new
 * connection, about 25 ms of CPU each, which turned a burst of new
 * connections into a storm of connect timeouts. With a file only, the
 * store is parsed once per multi handle and kept (CURLOPT_CA_CACHE_TIMEOUT,
 * 24 h by default; libcurl 7.87 and later, with OpenSSL, as Debian 12 and
 * 13 ship it).
 *
 * Peer and host-name verification are never turned off; nothing here
 * or elsewhere can. */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include "config.h"

/* For an https upstream: sets c->ca_file to the bundle to use (the
 * default one when none was given) and checks that it holds at least one
 * certificate. 0, or -1 with the one-line reason in err. Call after
 * curl_global_init(). */
int tls_settle_ca(struct config *c, char *err, size_t errlen);

#endif
