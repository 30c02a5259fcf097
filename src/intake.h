/* intake: one FastCGI request, read as its bytes arrive.
 *
 * The acceptor reads every connection itself, without ever waiting
 * (server.c: non-blocking recv, edge-triggered epoll), and feeds what
 * came to intake_feed(), which takes the records apart incrementally:
 * header, content, padding, however the bytes are split (one at a time,
 * or many records in one read). It keeps the params (decoded from their
 * 1- or 4-byte name and value lengths) and the FCGI_STDIN stream, the
 * body, and says when the request is all there, or what is wrong.
 *
 * Why one reader for every request, and not libfcgi: libfcgi reads with
 * blocking reads, so it could only be handed a request already whole in
 * the socket; a request larger than what one MSG_PEEK can look at (a
 * body) then held the acceptor, every other request waiting. Reading
 * every request here costs one recv() for a request that came in one
 * piece (the usual case), where the peek, libfcgi's read and the
 * setsockopt() for its read timeout took three (measured: 4 system calls
 * per healthcheck instead of 6, and no more CPU); and there is one code
 * path, the one every test exercises, not a rare second one for large
 * requests. libfcgi's crafted-length crashes (CVE-2025-23016 and the
 * abort on lengths summing past 2 GiB) cannot happen here: no length is
 * trusted before the bytes are counted against a cap.
 *
 * What is taken, as libfcgi takes it (FastCGI 1.0):
 * - records of version 1 only; anything else closes the connection;
 * - FCGI_BEGIN_REQUEST (8 bytes, request id not 0, role responder;
 *   FCGI_KEEP_CONN is kept in `keep`, for the caller to honour), then
 *   FCGI_PARAMS to its empty record, then FCGI_STDIN to its empty
 *   record and that record's padding (the request is settled once its
 *   last byte is in: answered earlier, the sender's padding would meet a
 *   closed socket, or the next request's reader);
 * - another role (authorizer, filter, any other) is answered
 *   FCGI_END_REQUEST FCGI_UNKNOWN_ROLE (section 5.1) and its records
 *   skipped: with FCGI_KEEP_CONN the intake then waits for the next
 *   FCGI_BEGIN_REQUEST, without it the request is INTAKE_REFUSED;
 * - a second FCGI_BEGIN_REQUEST of another id is answered
 *   FCGI_END_REQUEST FCGI_CANT_MPX_CONN and its request skipped; one of
 *   the live request's id is skipped (answering it would end the live
 *   request twice); records of other request ids are skipped;
 * - management records (request id 0): FCGI_GET_VALUES is answered
 *   FCGI_GET_VALUES_RESULT (FCGI_MAX_CONNS 1, FCGI_MAX_REQS 1,
 *   FCGI_MPXS_CONNS 0), any other type FCGI_UNKNOWN_TYPE; those answers
 *   wait in `reply` for the caller to write;
 * - FCGI_ABORT_REQUEST for the request: INTAKE_ABORTED, answered
 *   FCGI_END_REQUEST FCGI_REQUEST_COMPLETE in `reply` (section 5.4);
 *   any other record type for it where params or input are due: a
 *   protocol error, INTAKE_BAD.
 *
 * Bounds: the params stream at most INTAKE_PARAMS_MAX bytes as sent,
 * past it INTAKE_BAD (the web servers' own header limits, 8 to 32 KiB
 * by default, refuse such requests long before); the body at most
 * INTAKE_BODY_MAX bytes, past it INTAKE_TOO_LARGE (answered 413). Params
 * and body are jbufs, so they count against --max-memory (jbuf.h); a
 * body the budget refuses is INTAKE_NO_MEMORY (answered 503). The params
 * are never refused by the budget (jbuf_init_always): a request that
 * cannot be read cannot be answered, not even 503, and the web server
 * would answer its client 502.
 *
 * A refused body is still read to its end, only not kept: nginx goes on
 * writing a body after the answer began, and a connection closed with
 * the body unread resets it, and it drops the answer (a 413 with no
 * body, or its own HTML 502). So the refusal is said once the empty
 * FCGI_STDIN record came, or once the records pass INTAKE_WIRE_MAX
 * (then without the rest), or when the caller's deadline passes
 * (intake_cut_short()). A request that is not refused, past
 * INTAKE_WIRE_MAX bytes of records in all: INTAKE_BAD. Time is the
 * caller's to bound.
 *
 * No I/O. The struct intake owns its params, body and replies;
 * intake_free() releases them, intake_take_body() hands the body over
 * (there is one only on INTAKE_READY: a refused body is freed at once). */
#ifndef INTAKE_H
#define INTAKE_H

#include <stddef.h>

#include "jbuf.h"

#define INTAKE_PARAMS_MAX (64 * 1024)  /* params stream, as sent */
#define INTAKE_BODY_MAX (1024 * 1024)  /* FCGI_STDIN bytes */
/* All bytes of a connection, framing and skipped records included: a
 * read loop on a peer that never stops is bounded by it. Twice what the
 * largest request takes in its smallest records (1 content byte and 7
 * of padding in each: 16 bytes on the wire a byte). */
#define INTAKE_WIRE_MAX (32 * 1024 * 1024)
#define INTAKE_MGMT_MAX 256            /* content of a management record */
#define INTAKE_REPLY_MAX 256           /* management answers not yet written */
#define INTAKE_HEADER_LEN 8

enum intake_state {
    INTAKE_MORE,      /* not all there yet: feed more */
    INTAKE_READY,     /* begin, params and the whole body are in */
    INTAKE_TOO_LARGE, /* the body passed INTAKE_BODY_MAX; params are in */
    INTAKE_NO_MEMORY, /* the memory budget refused the body; params are in */
    INTAKE_ABORTED,   /* FCGI_ABORT_REQUEST: the web server gave up on it
                         (its FCGI_END_REQUEST is in `reply`) */
    INTAKE_REFUSED,   /* a role we do not play, without FCGI_KEEP_CONN
                         (FCGI_UNKNOWN_ROLE is in `reply`): close */
    INTAKE_BAD,       /* not a request we take (see `why`): close */
};

enum intake_phase { INTAKE_BEGIN, INTAKE_PARAMS, INTAKE_STDIN, INTAKE_DONE };

/* Where the content of the current record goes. */
enum intake_sink { INTAKE_SKIP, INTAKE_SMALL, INTAKE_TO_PARAMS, INTAKE_TO_BODY };

/* Where the params decoder is in a name-value pair. */
enum intake_pair { INTAKE_NAME_LEN, INTAKE_VALUE_LEN, INTAKE_NAME, INTAKE_VALUE };

struct intake {
    enum intake_phase phase;
    unsigned id;                      /* the request's id (phase > BEGIN) */
    int role;                         /* 1 responder, the one role taken */
    int keep;                         /* FCGI_KEEP_CONN was set */
    enum intake_state held;           /* settled, its padding still due */
    size_t rest;                      /* bytes of the last feed past the
                                         request's end (pipelined: not taken) */
    size_t fed;                       /* bytes fed so far */
    /* the record being read */
    unsigned char head[INTAKE_HEADER_LEN];
    size_t head_len;
    unsigned rec_type, rec_id;
    size_t rec_len, content_left, pad_left;
    enum intake_sink sink;
    unsigned char small[INTAKE_MGMT_MAX]; /* a begin or management body */
    size_t small_len;
    /* params: the stream as sent is decoded into `params`, each pair as
     * its two lengths (as sent), name, value and a NUL */
    enum intake_pair pair;
    unsigned char lenbuf[4];
    size_t len_have, left;            /* length bytes; name or value bytes due */
    size_t value_len;
    size_t params_in;                 /* stream bytes so far */
    struct jbuf params;
    struct jbuf body;
    /* answers to management records, for the caller to write */
    unsigned char reply[INTAKE_REPLY_MAX];
    size_t reply_len;
    const char *why;                  /* INTAKE_BAD: a static reason */
    /* INTAKE_TOO_LARGE or INTAKE_NO_MEMORY once the body is refused (its
     * rest then read and dropped), else INTAKE_MORE */
    enum intake_state refused;
};

void intake_init(struct intake *in);
void intake_free(struct intake *in);
/* Takes len more bytes of the connection. Once it returns anything but
 * INTAKE_MORE the request is settled and feeding it more is an error
 * (INTAKE_BAD); `rest` says how many of the last len were not taken.
 * Check reply_len after each call. */
enum intake_state intake_feed(struct intake *in, const unsigned char *buf, size_t len);
/* The caller gives up on the rest of a refused body (its deadline
 * passed): the refusal, settled as it stands; INTAKE_MORE (nothing
 * changed) when the body was not refused. */
enum intake_state intake_cut_short(struct intake *in);
/* The value of param name, NUL-terminated (a value holding a NUL reads
 * short, as with FCGX_GetParam); the first one when sent twice; NULL
 * when absent or while the params are not all in. Names are compared
 * whole, byte for byte. Valid until intake_free(). */
const char *intake_param(const struct intake *in, const char *name);
/* Hands the body over: NULL when there was none, else a malloc'd
 * buffer of *len bytes followed by a NUL (not counted), no longer
 * counted against the budget; the caller frees it. */
char *intake_take_body(struct intake *in, size_t *len);

#endif
