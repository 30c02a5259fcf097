#include "tls.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_PEM_MARK "-----BEGIN CERTIFICATE-----"
#define TLS_SCAN_MAX (64L * 1024 * 1024) /* a bundle larger than this is not one */

/* libcurl's built-in CA bundle path, copied; NULL when it has none. */
static char *tls_default_bundle(void)
{
    CURL *e = curl_easy_init();
    char *path = NULL, *copy = NULL;

    if (!e)
        return NULL;
    if (curl_easy_getinfo(e, CURLINFO_CAINFO, &path) == CURLE_OK && path)
        copy = strdup(path);
    curl_easy_cleanup(e);
    return copy;
}

/* 1 when the file holds a PEM certificate within its first TLS_SCAN_MAX
 * bytes. Reads by lines, so a mark is never split across two reads. */
static int tls_has_certificate(FILE *f)
{
    char line[512];
    long seen = 0;

    while (seen < TLS_SCAN_MAX && fgets(line, sizeof(line), f)) {
        if (strncmp(line, TLS_PEM_MARK, strlen(TLS_PEM_MARK)) == 0)
            return 1;
        seen += (long)strlen(line);
    }
    return 0;
}

static int tls_check_bundle(const char *path, int given, char *err, size_t errlen)
{
    const char *hint = given ? "" : " (install ca-certificates, or give --ca-file)";
    FILE *f = fopen(path, "r");
    int found;

    if (!f) {
        snprintf(err, errlen, "cannot read the CA bundle %s: %s%s", path, strerror(errno), hint);
        return -1;
    }
    found = tls_has_certificate(f);
    fclose(f);
    if (!found) {
        snprintf(err, errlen, "the CA bundle %s holds no PEM certificate%s", path, hint);
        return -1;
    }
    return 0;
}

int tls_settle_ca(struct config *c, char *err, size_t errlen)
{
    int given = c->ca_file != NULL;

    if (strncmp(c->maestro, "https://", 8) != 0)
        return 0;
    if (!given)
        c->ca_file = tls_default_bundle();
    if (!c->ca_file) {
        snprintf(err, errlen, "this libcurl has no default CA bundle: give --ca-file");
        return -1;
    }
    return tls_check_bundle(c->ca_file, given, err, errlen);
}
