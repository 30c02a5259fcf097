#include "fetch.h"

#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_RECV_BUFFER 4096L

/* Stores the body; returning less than given makes curl fail the
 * transfer with CURLE_WRITE_ERROR, which is how the cap bites. */
static size_t fetch_on_data(char *p, size_t size, size_t n, void *arg)
{
    struct fetch *f = arg;

    if (jbuf_put(&f->body, p, size * n))
        return 0;
    f->data_ms = clock_ms();
    return size * n;
}

/* Opens the transfer's socket through the caller's opener, and notes
 * when it said "not now" (the caller then parks the call).
 * A socket opened means the call was connecting to the upstream itself,
 * not waiting in curl's queue for a connection: measured on libcurl
 * 7.88, a transfer that timed out queued behind
 * CURLMOPT_MAX_HOST_CONNECTIONS has PRETRANSFER and CONNECT times of 0,
 * as has one whose connect to a silent upstream timed out; NAMELOOKUP
 * and LOCAL_PORT are set or not depending on whether it got a reused
 * connection before its timeout was noticed. Only this tells the two
 * apart. */
static curl_socket_t fetch_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct fetch *f = arg;
    curl_socket_t s;

    errno = 0;
    s = f->open_socket(f->socket_data, purpose, a);
    if (s != CURL_SOCKET_BAD)
        f->dialed = 1;
    else if (errno == EAGAIN)
        f->gated = 1;
    else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        f->no_fd = errno;
    return s;
}

/* Who opens, closes and hears of the transfer's sockets (fetch_opts). */
static int fetch_set_sockets(struct fetch *f, const struct fetch_opts *o)
{
    CURL *e = f->easy;

    f->open_socket = o->open_socket;
    f->socket_data = o->socket_data;
    return curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, fetch_open_socket) ||
           curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, f) ||
           curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, o->close_socket) ||
           curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, o->socket_data) ||
           curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, o->connection_ready) ||
           curl_easy_setopt(e, CURLOPT_PREREQDATA, o->socket_data);
}

/* curl's informational lines go to o->watch while it is set (only
 * while the upstream's protocol is unknown: see fetch_alpn()). */
static int fetch_set_watch(CURL *e, const struct fetch_opts *o)
{
    return curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, o->watch) ||
           curl_easy_setopt(e, CURLOPT_DEBUGDATA, o->watch_data) ||
           curl_easy_setopt(e, CURLOPT_VERBOSE, o->watch ? 1L : 0L);
}

int fetch_alpn(curl_infotype type, const char *text, size_t len)
{
    static const char accepted[] = "ALPN: server accepted ";
    static const char refused[] = "ALPN: server did not agree";
    size_t n = sizeof(accepted) - 1;

    if (type != CURLINFO_TEXT)
        return 0;
    if (len >= n + 2 && memcmp(text, accepted, n) == 0)
        return memcmp(text + n, "h2", 2) == 0 ? 2 : 1;
    if (len >= sizeof(refused) - 1 && memcmp(text, refused, sizeof(refused) - 1) == 0)
        return 1;
    return 0;
}

static int fetch_setopts(struct fetch *f, const char *url, const struct fetch_opts *o)
{
    CURL *e = f->easy;

    return curl_easy_setopt(e, CURLOPT_URL, url) ||
           curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
           curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") ||
           curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) ||
           curl_easy_setopt(e, CURLOPT_HTTPHEADER, o->headers) ||
           curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms) ||
           curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms) ||
           curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body) ||
           /* 16 KiB by default, per handle: with thousands of calls in
              flight that is most of the memory; bodies are a few KiB */
           curl_easy_setopt(e, CURLOPT_BUFFERSIZE, FETCH_RECV_BUFFER) ||
           curl_easy_setopt(e, CURLOPT_PIPEWAIT, o->pipewait) ||
           curl_easy_setopt(e, CURLOPT_HTTP_VERSION, o->http_version) ||
           curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) ||
           curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) ||
           (o->ca_file && curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file)) ||
           /* a CA directory would defeat the cached store: tls.h */
           curl_easy_setopt(e, CURLOPT_CAPATH, NULL) ||
           curl_easy_setopt(e, CURLOPT_SHARE, o->share) ||
           curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_on_data) ||
           curl_easy_setopt(e, CURLOPT_WRITEDATA, f) ||
           curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, o->max_idle_s) ||
           (o->open_socket && fetch_set_sockets(f, o)) ||
           fetch_set_watch(e, o) ||
           curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->error) ||
           curl_easy_setopt(e, CURLOPT_PRIVATE, f);
}

static void fetch_destroy(struct fetch *f)
{
    if (f->easy)
        curl_easy_cleanup(f->easy);
    jbuf_free(&f->body);
    free(f);
}

static struct fetch *fetch_create(const char *url, const struct fetch_opts *o)
{
    struct fetch *f = calloc(1, sizeof(*f));

    if (!f)
        return NULL;
    jbuf_init(&f->body, (size_t)o->max_body);
    f->easy = curl_easy_init();
    if (!f->easy || fetch_setopts(f, url, o)) {
        fetch_destroy(f);
        return NULL;
    }
    return f;
}

/* A pooled transfer keeps every option; only these change per call
 * (the headers carry the request's id). */
static struct fetch *fetch_reuse(struct fetch_pool *p, const char *url, const struct fetch_opts *o)
{
    struct fetch *f = p->idle;

    p->idle = f->next;
    p->count--;
    jbuf_count(f->body.alloc); /* in use again: counted (fetch_release) */
    if (curl_easy_setopt(f->easy, CURLOPT_URL, url) ||
        curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, o->headers) ||
        curl_easy_setopt(f->easy, CURLOPT_PIPEWAIT, o->pipewait) ||
        fetch_set_watch(f->easy, o) ||
        (f->no_reuse && curl_easy_setopt(f->easy, CURLOPT_FORBID_REUSE, 0L)) ||
        curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, o->timeout_ms)) {
        fetch_destroy(f);
        return NULL;
    }
    f->no_reuse = 0;
    return f;
}

/* A transfer about to be added, afresh or again. */
static void fetch_clear(struct fetch *f)
{
    f->gated = 0;
    f->no_fd = 0;
    f->code = CURLE_OK;
    f->status = 0;
    f->error[0] = '\0';
    f->local_port = 0;
    f->sent = f->dialed = 0;
    f->stalled = 0;
    f->data_ms = 0;
    f->body.len = 0;
}

struct fetch *fetch_new(struct fetch_pool *p, const char *url, const struct fetch_opts *o,
                        void *owner, long index)
{
    struct fetch *f = p->idle ? fetch_reuse(p, url, o) : fetch_create(url, o);

    if (!f)
        return NULL;
    f->owner = owner;
    f->index = index;
    f->prev = f->next = f->wait_prev = f->wait_next = NULL;
    f->waiting = f->retried = f->starved = 0;
    fetch_clear(f);
    return f;
}

int fetch_again(struct fetch *f, long timeout_ms)
{
    fetch_clear(f);
    return curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ? -1 : 0;
}

enum fetch_outcome fetch_finish(struct fetch *f, CURLcode code)
{
    curl_off_t pretransfer = 0;

    f->code = code;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &f->status);
    curl_easy_getinfo(f->easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    curl_easy_getinfo(f->easy, CURLINFO_LOCAL_PORT, &f->local_port);
    if (f->local_port < 0)
        f->local_port = 0; /* libcurl 8: -1 when it never had a connection */
    f->sent = pretransfer > 0;
    if (code != CURLE_OK)
        return FETCH_FAILED;
    if (f->status == 404)
        return FETCH_NOT_FOUND;
    return f->status >= 200 && f->status < 300 ? FETCH_OK : FETCH_FAILED;
}

int fetch_stalled(const struct fetch *f, uint64_t now, long stall_ms)
{
    return f->data_ms && now >= f->data_ms + (uint64_t)stall_ms;
}

enum fetch_outcome fetch_stall(struct fetch *f)
{
    enum fetch_outcome out = fetch_finish(f, CURLE_OPERATION_TIMEDOUT);

    f->stalled = 1;
    f->sent = 1; /* its answer began: the upstream's fault, not our queue's */
    return out;
}

/* Log lines quote the reason: no quote, backslash or control byte in it. */
static void fetch_sanitise(char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
            *s = '?';
    }
}

const char *fetch_describe(const struct fetch *f, char *buf, size_t cap)
{
    if (f->stalled)
        snprintf(buf, cap, "answer stalled mid-body (%zu bytes came)", f->body.len);
    else if (fetch_ours(f))
        snprintf(buf, cap, "no socket for an upstream call: %s (our limit)", strerror(f->no_fd));
    else if (f->code == CURLE_WRITE_ERROR || f->code == CURLE_FILESIZE_EXCEEDED)
        snprintf(buf, cap, "body over the cap");
    else if (f->code != CURLE_OK)
        snprintf(buf, cap, "%s", f->error[0] ? f->error : curl_easy_strerror(f->code));
    else
        snprintf(buf, cap, "status %ld", f->status);
    fetch_sanitise(buf);
    return buf;
}

enum fetch_health fetch_health(const struct fetch *f)
{
    switch (f->code) {
    case CURLE_OK:
        return f->status >= 500 ? FETCH_FAULT : FETCH_HEALTHY;
    case CURLE_OPERATION_TIMEDOUT:
        return (f->sent || f->dialed) && !f->starved ? FETCH_FAULT : FETCH_QUEUED;
    case CURLE_COULDNT_CONNECT:
        return fetch_ours(f) ? FETCH_QUEUED : FETCH_FAULT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return FETCH_FAULT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return FETCH_BROKEN;
    default:
        return FETCH_HEALTHY; /* an answer we refused: it did answer */
    }
}

int fetch_ours(const struct fetch *f)
{
    return f->no_fd && !f->dialed && f->code == CURLE_COULDNT_CONNECT;
}

int fetch_held_back(const struct fetch *f)
{
    return f->gated && !f->dialed && f->code == CURLE_COULDNT_CONNECT;
}

int fetch_died_with_connection(const struct fetch *f)
{
    long connects = -1;

    /* no new connection made: the call went out on a kept-alive one */
    return fetch_health(f) == FETCH_BROKEN &&
           curl_easy_getinfo(f->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK &&
           connects == 0;
}

void fetch_cancel_close(struct fetch *f)
{
    if (curl_easy_setopt(f->easy, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK)
        f->no_reuse = 1;
}

void fetch_release(struct fetch_pool *p, struct fetch *f)
{
    if (!f)
        return;
    if (p->count >= p->max) {
        fetch_destroy(f);
        return;
    }
    if (f->body.alloc > FETCH_POOL_KEEP_BODY)
        jbuf_free(&f->body);
    jbuf_uncount(f->body.alloc); /* idle: see FETCH_POOL_KEEP_BODY */
    f->owner = NULL;
    f->next = p->idle;
    p->idle = f;
    p->count++;
}

void fetch_pool_init(struct fetch_pool *p, size_t max)
{
    p->idle = NULL;
    p->count = 0;
    p->max = max;
}

void fetch_pool_clear(struct fetch_pool *p)
{
    struct fetch *f;

    while ((f = p->idle) != NULL) {
        p->idle = f->next;
        jbuf_count(f->body.alloc); /* uncounted while idle; freed counted */
        fetch_destroy(f);
    }
    p->count = 0;
}
