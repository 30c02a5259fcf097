#include "conns.h"

#include <string.h>

static int conns_set_limit(CURLM *m, long limit);

/* Over HTTP/2 the first handle takes what the others' one each leaves,
 * up to CONNS_MULTIPLEXED_MAX (none may have 0: to curl, no limit); so
 * does it while the protocol is probed, the others then having none to
 * spare (they carry nothing). */
long conns_limit(const struct conns *c, int i)
{
    long sum = 0, rest;
    int k;

    if (!c->first_only)
        return c->limit[i];
    if (i > 0)
        return c->multiplexed ? 1 : c->limit[i];
    for (k = 0; k < c->count; k++)
        sum += c->limit[k];
    rest = c->multiplexed ? sum - (c->count - 1) : sum;
    return rest < CONNS_MULTIPLEXED_MAX ? rest : CONNS_MULTIPLEXED_MAX;
}

/* Gives every handle the limit of the current mode. */
static void conns_apply_limits(struct conns *c)
{
    int i;

    for (i = 0; i < c->count; i++)
        conns_set_limit(c->multi[i], conns_limit(c, i));
}

static int conns_set_limit(CURLM *m, long limit)
{
    return curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, limit) ||
           curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, limit) ||
           /* keep every connection it was allowed to open for reuse */
           curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, limit);
}

/* A multi handle with the limits of one share; NULL on failure. */
static CURLM *conns_new_multi(long limit)
{
    CURLM *m = curl_multi_init();

    if (!m)
        return NULL;
    if (conns_set_limit(m, limit) || curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX)) {
        curl_multi_cleanup(m);
        return NULL;
    }
    return m;
}

static CURLSH *conns_new_share(void)
{
    CURLSH *sh = curl_share_init();

    if (!sh)
        return NULL;
    if (curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) ||
        curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS)) {
        curl_share_cleanup(sh);
        return NULL;
    }
    return sh;
}

int conns_init(struct conns *c, struct poller *p, long max_connections, int probe)
{
    int i;

    memset(c, 0, sizeof(*c));
    c->poller = p;
    c->probe = c->first_only = probe;
    c->share = conns_new_share();
    if (!c->share)
        return -1;
    c->count = max_connections < CONNS_MULTI_MAX ? (int)max_connections : CONNS_MULTI_MAX;
    for (i = 0; i < c->count; i++)
        c->limit[i] = max_connections / c->count + (i < max_connections % c->count);
    for (i = 0; i < c->count; i++) {
        c->multi[i] = conns_new_multi(conns_limit(c, i));
        if (!c->multi[i] || poller_attach(p, i, c->multi[i]))
            return -1;
    }
    return 0;
}

void conns_free(struct conns *c)
{
    int i;

    for (i = 0; i < c->count; i++) {
        if (c->multi[i])
            curl_multi_cleanup(c->multi[i]);
        c->multi[i] = NULL;
    }
    if (c->share)
        curl_share_cleanup(c->share);
    c->share = NULL;
}

int conns_add_at(struct conns *c, int slot, CURL *e)
{
    if (curl_multi_add_handle(c->multi[slot], e) != CURLM_OK)
        return -1;
    c->used = 1;
    return slot;
}

int conns_add(struct conns *c, CURL *e)
{
    int slot = c->next;

    if (c->first_only)
        return conns_add_at(c, 0, e);
    c->next = (c->next + 1) % c->count;
    return conns_add_at(c, slot, e);
}

void conns_remove(struct conns *c, int slot, CURL *e)
{
    curl_multi_remove_handle(c->multi[slot], e);
}

void conns_multiplexed(struct conns *c)
{
    c->multiplexed = c->first_only = 1;
    conns_apply_limits(c);
}

void conns_spread(struct conns *c)
{
    c->first_only = 0;
    conns_apply_limits(c);
}

CURLMsg *conns_info_read(struct conns *c)
{
    CURLMsg *msg;
    int left;

    for (; c->reading < c->count; c->reading++) {
        msg = curl_multi_info_read(c->multi[c->reading], &left);
        if (msg)
            return msg;
    }
    c->reading = 0;
    return NULL;
}

int conns_reset(struct conns *c)
{
    CURLM *fresh;
    int i, result = 0;

    c->multiplexed = 0; /* the next connection may not speak HTTP/2 */
    c->first_only = c->probe;
    for (i = 0; i < c->count; i++) {
        fresh = conns_new_multi(conns_limit(c, i));
        if (!fresh || poller_attach(c->poller, i, fresh)) {
            if (fresh)
                curl_multi_cleanup(fresh);
            poller_attach(c->poller, i, c->multi[i]); /* keep the old one */
            result = -1;
            continue;
        }
        curl_multi_cleanup(c->multi[i]); /* closes its connections */
        c->multi[i] = fresh;
    }
    c->used = 0;
    return result;
}
