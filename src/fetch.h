/* fetch: one upstream call as a curl easy handle, and what came of it.
 *
 * fetch_new() builds a handle with every safety the service relies on:
 * no signals, connect and total timeouts, no redirects, http(s) only, a
 * size cap enforced both by curl and by our own write callback, the
 * peer's certificate and host name verified against one CA file (tls.h). The
 * struct fetch owns the handle and the body; fetch_release() gives both back
 * to a pool (the caller removes the handle from its multi first).
 *
 * Why a pool: making a curl easy handle costs a dozen allocations and
 * setting every option again; a finished transfer keeps its handle, its
 * options and its body buffer, and the next call only sets its URL and
 * timeout and headers. The pool is used by one thread. */
#ifndef FETCH_H
#define FETCH_H

#include <curl/curl.h>
#include <stdint.h>

#include "jbuf.h"

enum fetch_outcome {
    FETCH_OK,        /* 2xx, body in `body` */
    FETCH_NOT_FOUND, /* the upstream said 404 */
    FETCH_FAILED,    /* anything else: see fetch_describe() */
};

/* What a finished call says of the upstream's health (the breaker's
 * question, not the request's). */
enum fetch_health {
    FETCH_HEALTHY, /* it answered: 2xx, 404, any other status below 500,
                      or an answer we refused (too big, wrong shape) */
    FETCH_FAULT,   /* refused, unresolved, TLS failed, 5xx, or timed out
                      once the call was on the wire: its request sent, or
                      a connection of its own being opened */
    FETCH_BROKEN,  /* a fault of the connection under it (reset, HTTP/2
                      error): every call multiplexed on it fails at once,
                      so the caller counts them as one (fold.h) */
    FETCH_QUEUED,  /* could not get a socket for lack of our own
                      descriptors (fetch_ours()); or timed out before it
                      had a connection: it waited in
                      curl's queue behind max_connections (or for an
                      HTTP/2 connection being opened by another call);
                      or timed out anywhere after our own queue had left
                      it less than a connect timeout (starved): our
                      saturation, nothing of the upstream's */
};

struct fetch_opts {
    const struct curl_slist *headers; /* outlives the fetch */
    long connect_timeout_ms;
    long timeout_ms;
    long max_body;
    long pipewait;  /* wait for an HTTP/2 connection to multiplex on: only
                       for https, where ALPN tells soon; on plain http it
                       would queue every call behind one connection */
    long max_idle_s; /* a kept-alive connection idle longer is not reused */
    long http_version; /* CURL_HTTP_VERSION_2TLS or CURL_HTTP_VERSION_1_1 */
    const char *ca_file; /* NULL for plain http; outlives the fetch */
    CURLSH *share;  /* TLS sessions and DNS, shared by every multi handle */
    curl_opensocket_callback open_socket;   /* who opens and closes */
    curl_closesocket_callback close_socket; /* sockets, and hears that */
    curl_prereq_callback connection_ready;  /* a connection is ready, */
    void *socket_data;                      /* and their argument */
    curl_debug_callback watch; /* NULL, or curl's informational lines go
                                  to it (CURLOPT_VERBOSE): fetch_alpn() */
    void *watch_data;
};

struct fetch {
    CURL *easy;
    struct jbuf body;
    void *owner;   /* the caller's, for CURLOPT_PRIVATE lookups */
    long index;    /* the caller's: which call of its request this is */
    int slot;      /* the caller's: which multi handle it is on */
    struct fetch *prev, *next; /* the caller's list of live fetches */
    struct fetch *wait_prev, *wait_next; /* the caller's, while it waits */
    uint64_t started_ms; /* the caller's: when the call was first started */
    uint64_t end_ms;     /* the caller's: when it must be over, waits included */
    struct fetch *twin;  /* the caller's: the other transfer of a hedged
                            call (twin.h), or NULL */
    struct fetch *hq_prev, *hq_next; /* the caller's, while its hedge is due */
    uint64_t hedge_at;   /* the caller's: when it gets its hedge; 0: none */
    unsigned char is_hedge; /* the caller's: the second transfer of a call */
    unsigned char hq_on;    /* the caller's: on the hedge queue */
    unsigned char kind;     /* the caller's: which kind of call (hedge.h) */
    unsigned char waiting; /* the caller's: parked, not on a multi handle */
    unsigned char retried; /* the caller's: started again once already */
    unsigned char gated;   /* the socket opener said "not now" (errno
                              EAGAIN) at least once */
    int no_fd;             /* a socket could not be made for lack of our
                              own resources (errno, EMFILE and the like) */
    unsigned char starved; /* the caller's: started again with less than
                              a connect timeout left (fetch_health) */
    unsigned char no_reuse; /* CURLOPT_FORBID_REUSE set (fetch_cancel_close) */
    CURLcode code; /* set by fetch_finish() */
    long status;   /* HTTP status, 0 when none came */
    char error[CURL_ERROR_SIZE]; /* curl's own words for a failure */
    curl_opensocket_callback open_socket; /* from fetch_opts */
    void *socket_data;
    long local_port; /* of its connection, 0 when it had none */
    uint64_t data_ms; /* when body bytes last came; 0: none yet */
    int stalled;   /* failed by fetch_stall(), not by curl */
    int sent;      /* its request went out (curl reached pretransfer) */
    int dialed;    /* curl opened a socket for it: it was connecting */
};

struct fetch_pool {
    struct fetch *idle;  /* finished transfers, ready for reuse */
    size_t count, max;
};

/* A pooled transfer keeps a body buffer up to this size for its next
 * call; larger ones are freed. A kept buffer is not counted against
 * --max-memory while it waits in the pool (it is again once a call uses
 * it): memory held for nothing in flight must not refuse orders (it
 * once did, for good: 512 idle buffers of up to 64 KiB counted). The
 * pool so holds at most max * FETCH_POOL_KEEP_BODY bytes outside the
 * budget (8 MiB for 512). */
#define FETCH_POOL_KEEP_BODY (16 * 1024)

void fetch_pool_init(struct fetch_pool *p, size_t max);
/* Frees every idle transfer. */
void fetch_pool_clear(struct fetch_pool *p);

/* A ready-to-add transfer for url, from the pool when it has one; NULL
 * when out of memory. o may differ from call to call on one pool only in
 * headers, timeout_ms, pipewait and watch. */
struct fetch *fetch_new(struct fetch_pool *p, const char *url, const struct fetch_opts *o,
                        void *owner, long index);
/* Records how a finished transfer ended and classifies it. Also for a
 * transfer cancelled as it timed out (code CURLE_OPERATION_TIMEDOUT),
 * before it is removed from its multi handle. */
enum fetch_outcome fetch_finish(struct fetch *f, CURLcode code);
/* 1 when f's body has begun and nothing more came for stall_ms. curl
 * cannot tell such a stream: an HTTP/2 gateway (nginx 1.22, seen on
 * the wire) whose upstream cut an answer mid-body queues the stream's
 * reset without sending it while the connection is otherwise quiet, and the
 * connection itself stays alive for the other calls on it. */
int fetch_stalled(const struct fetch *f, uint64_t now, long stall_ms);
/* Ends a stalled transfer as fetch_finish() would a timed-out one (a
 * fault of the upstream: its request was sent), before it is removed
 * from its multi handle. */
enum fetch_outcome fetch_stall(struct fetch *f);
/* A short reason for logs ("status 500", curl's detailed message such as
 * "SSL certificate problem: certificate has expired"), with no double
 * quote or control character in it. */
const char *fetch_describe(const struct fetch *f, char *buf, size_t cap);
/* 1 when the call died with a kept-alive connection that it reused
 * (FETCH_BROKEN with no new connection made: the server closed it as
 * the request went out, an HTTP/2 GOAWAY, an idle close, a reset): a GET
 * may be sent again on another connection. */
int fetch_died_with_connection(const struct fetch *f);
/* 1 when the call failed only because the socket opener said "not
 * now" to every address curl tried: it never left us (the caller parks
 * it). A call that got a socket for another address ended as any other. */
int fetch_held_back(const struct fetch *f);
/* 1 when the call failed only because we had no descriptor (or memory)
 * for its socket: our saturation, nothing of the upstream's (503). */
int fetch_ours(const struct fetch *f);
/* Makes a finished transfer ready to be added again, for timeout_ms. */
int fetch_again(struct fetch *f, long timeout_ms);
/* What f, once fetch_finish()ed, says of the upstream's health. Pure:
 * reads code, status, sent and dialed only. */
enum fetch_health fetch_health(const struct fetch *f);
/* What one of curl's informational lines (a CURLOPT_DEBUGFUNCTION's
 * type and text) says of the protocol ALPN chose as the TLS handshake
 * ended: 2 HTTP/2, 1 HTTP/1.1 (or no ALPN), 0 nothing. libcurl has no
 * other way to tell it before an answer comes (CURLINFO_HTTP_VERSION is
 * set by the answer); 7.88 and 8.14 both say "ALPN: server accepted
 * PROTO". */
int fetch_alpn(curl_infotype type, const char *text, size_t len);
/* Before an unfinished f is taken off a multiplexed (HTTP/2) connection:
 * libcurl queues the stream's RST_STREAM and writes it only with the
 * connection's next frame out (7.88 keeps frames under 1 KiB in its
 * output buffer; 8.14 flushes its queue only when it next sends), so on
 * a connection no other call uses, the upstream would work the call to
 * its end. With reuse forbidden, libcurl closes the connection when f
 * was its last transfer, and the gateway learns of the cancel at once;
 * when others still use it, the reset goes out with their traffic. */
void fetch_cancel_close(struct fetch *f);
/* Gives f back to the pool (or frees it when the pool is full). */
void fetch_release(struct fetch_pool *p, struct fetch *f);

#endif
