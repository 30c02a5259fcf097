#include "intake.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INTAKE_VERSION 1
#define INTAKE_T_BEGIN 1
#define INTAKE_T_ABORT 2
#define INTAKE_T_END 3
#define INTAKE_T_PARAMS 4
#define INTAKE_T_STDIN 5
#define INTAKE_T_GET_VALUES 9
#define INTAKE_T_GET_VALUES_RESULT 10
#define INTAKE_T_UNKNOWN 11
#define INTAKE_CANT_MPX_CONN 1
#define INTAKE_UNKNOWN_ROLE 3
#define INTAKE_RESPONDER 1
#define INTAKE_KEEP_CONN 1 /* the flags bit of FCGI_BEGIN_REQUEST */
#define INTAKE_BEGIN_LEN 8
/* decoded params: each pair grows by its NUL, and pairs take at least
 * two bytes as sent */
#define INTAKE_DECODED_MAX (INTAKE_PARAMS_MAX + INTAKE_PARAMS_MAX / 2)

void intake_init(struct intake *in)
{
    memset(in, 0, sizeof(*in));
    jbuf_init_always(&in->params, INTAKE_DECODED_MAX); /* see intake.h */
    jbuf_init(&in->body, INTAKE_BODY_MAX);
}

void intake_free(struct intake *in)
{
    jbuf_free(&in->params);
    jbuf_free(&in->body);
}

static enum intake_state intake_bad(struct intake *in, const char *why)
{
    in->why = why;
    in->phase = INTAKE_DONE;
    return INTAKE_BAD;
}

/* --- answers to management records and multiplexing --- */

static int intake_put_reply(struct intake *in, int type, unsigned id, const unsigned char *c,
                            size_t len)
{
    size_t pad = (8 - len % 8) % 8;
    unsigned char *h = in->reply + in->reply_len;

    if (INTAKE_REPLY_MAX - in->reply_len < INTAKE_HEADER_LEN + len + pad)
        return -1;
    h[0] = INTAKE_VERSION;
    h[1] = (unsigned char)type;
    h[2] = (unsigned char)(id >> 8);
    h[3] = (unsigned char)id;
    h[4] = (unsigned char)(len >> 8);
    h[5] = (unsigned char)len;
    h[6] = (unsigned char)pad;
    h[7] = 0;
    memcpy(h + INTAKE_HEADER_LEN, c, len);
    memset(h + INTAKE_HEADER_LEN + len, 0, pad);
    in->reply_len += INTAKE_HEADER_LEN + len + pad;
    return 0;
}

/* A FastCGI length at p (1 byte, or 4 with the high bit set) within
 * end; the bytes it took, or 0 when cut short. */
static size_t intake_get_len(const unsigned char *p, const unsigned char *end, size_t *n)
{
    if (p >= end)
        return 0;
    if (!(p[0] & 0x80)) {
        *n = p[0];
        return 1;
    }
    if (end - p < 4)
        return 0;
    *n = ((size_t)(p[0] & 0x7f) << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    return 4;
}

/* The index of a name FCGI_GET_VALUES may ask about, or -1. */
static int intake_known(const unsigned char *name, size_t len)
{
    static const char *const known[] = {"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"};
    int i;

    for (i = 0; i < 3; i++) {
        if (strlen(known[i]) == len && memcmp(known[i], name, len) == 0)
            return i;
    }
    return -1;
}

/* FCGI_GET_VALUES: each known name asked, once, with its value (one
 * connection, one request, no multiplexing). */
static enum intake_state intake_get_values(struct intake *in)
{
    static const char values[] = "110";
    const unsigned char *p = in->small, *end = in->small + in->small_len;
    unsigned char out[64];
    size_t olen = 0, nlen, vlen, k;
    int i, asked = 0;

    while (p < end) {
        k = intake_get_len(p, end, &nlen);
        if (!k)
            return intake_bad(in, "bad FCGI_GET_VALUES");
        p += k;
        k = intake_get_len(p, end, &vlen);
        if (!k || nlen > (size_t)(end - p) - k || vlen > (size_t)(end - p) - k - nlen)
            return intake_bad(in, "bad FCGI_GET_VALUES");
        p += k;
        i = intake_known(p, nlen);
        if (i >= 0 && !(asked & (1 << i))) { /* 3 names of 15 bytes at most fit */
            asked |= 1 << i;
            out[olen++] = (unsigned char)nlen;
            out[olen++] = 1;
            memcpy(out + olen, p, nlen);
            olen += nlen;
            out[olen++] = (unsigned char)values[i];
        }
        p += nlen + vlen;
    }
    if (intake_put_reply(in, INTAKE_T_GET_VALUES_RESULT, 0, out, olen))
        return intake_bad(in, "management records not read");
    return INTAKE_MORE;
}

static enum intake_state intake_management(struct intake *in)
{
    unsigned char body[8] = {(unsigned char)in->rec_type};

    if (in->rec_type == INTAKE_T_GET_VALUES)
        return intake_get_values(in);
    if (intake_put_reply(in, INTAKE_T_UNKNOWN, 0, body, sizeof(body)))
        return intake_bad(in, "management records not read");
    return INTAKE_MORE;
}

/* --- params: the stream decoded as it comes --- */

/* Moves past parts of the pair that are complete, zero-length ones
 * included; a finished value gets its NUL. */
static enum intake_state intake_pair_settle(struct intake *in)
{
    if (in->pair == INTAKE_NAME && in->left == 0) {
        in->pair = INTAKE_VALUE;
        in->left = in->value_len;
    }
    if (in->pair == INTAKE_VALUE && in->left == 0) {
        if (jbuf_putc(&in->params, '\0'))
            return intake_bad(in, "memory budget reached");
        in->pair = INTAKE_NAME_LEN;
    }
    return INTAKE_MORE;
}

/* One byte of a name or value length. */
static enum intake_state intake_len_byte(struct intake *in, unsigned char c)
{
    size_t n = 0;

    in->lenbuf[in->len_have++] = c;
    if (jbuf_putc(&in->params, (char)c))
        return intake_bad(in, "memory budget reached");
    if (!intake_get_len(in->lenbuf, in->lenbuf + in->len_have, &n))
        return INTAKE_MORE;
    in->len_have = 0;
    if (n > INTAKE_PARAMS_MAX)
        return intake_bad(in, "params past 64 KiB");
    if (in->pair == INTAKE_NAME_LEN) {
        in->left = n;
        in->pair = INTAKE_VALUE_LEN;
        return INTAKE_MORE;
    }
    in->value_len = n;
    in->pair = INTAKE_NAME;
    return intake_pair_settle(in);
}

static enum intake_state intake_params(struct intake *in, const unsigned char *p, size_t n)
{
    enum intake_state st = INTAKE_MORE;
    size_t take;

    in->params_in += n;
    if (in->params_in > INTAKE_PARAMS_MAX)
        return intake_bad(in, "params past 64 KiB");
    while (n > 0 && st == INTAKE_MORE) {
        if (in->pair == INTAKE_NAME_LEN || in->pair == INTAKE_VALUE_LEN) {
            st = intake_len_byte(in, *p);
            take = 1;
        } else {
            take = n < in->left ? n : in->left;
            if (jbuf_put(&in->params, p, take))
                return intake_bad(in, "memory budget reached");
            in->left -= take;
            st = intake_pair_settle(in);
        }
        p += take;
        n -= take;
    }
    return st;
}

/* --- records --- */

/* FCGI_ABORT_REQUEST for the request: the application answers it with
 * FCGI_END_REQUEST (FastCGI 1.0, section 5.4), here app status 0,
 * FCGI_REQUEST_COMPLETE. */
static enum intake_state intake_abort(struct intake *in)
{
    static const unsigned char complete[8] = {0};

    if (intake_put_reply(in, INTAKE_T_END, in->id, complete, sizeof(complete)))
        return intake_bad(in, "management records not read");
    in->phase = INTAKE_DONE;
    return INTAKE_ABORTED;
}

/* The header is in: where the content goes, or what is wrong. */
static enum intake_state intake_record_start(struct intake *in)
{
    const unsigned char *h = in->head;

    in->rec_type = h[1];
    in->rec_id = ((unsigned)h[2] << 8) | h[3];
    in->rec_len = in->content_left = ((size_t)h[4] << 8) | h[5];
    in->pad_left = h[6];
    in->small_len = 0;
    in->sink = INTAKE_SKIP;
    if (h[0] != INTAKE_VERSION)
        return intake_bad(in, "not FastCGI 1.0");
    if (in->rec_type == INTAKE_T_BEGIN) {
        if (in->rec_id == 0 || in->rec_len != INTAKE_BEGIN_LEN)
            return intake_bad(in, "bad FCGI_BEGIN_REQUEST");
        in->sink = INTAKE_SMALL;
        return INTAKE_MORE;
    }
    if (in->rec_id == 0) {
        if (in->rec_len > INTAKE_MGMT_MAX)
            return intake_bad(in, "management record too long");
        in->sink = INTAKE_SMALL;
        return INTAKE_MORE;
    }
    if (in->phase == INTAKE_BEGIN || in->rec_id != in->id)
        return INTAKE_MORE; /* not our request: skipped */
    if (in->rec_type == INTAKE_T_ABORT)
        return intake_abort(in);
    if (in->rec_type != (in->phase == INTAKE_PARAMS ? INTAKE_T_PARAMS : INTAKE_T_STDIN))
        return intake_bad(in, "unexpected record type");
    in->sink = in->phase == INTAKE_PARAMS ? INTAKE_TO_PARAMS : INTAKE_TO_BODY;
    return INTAKE_MORE;
}

/* FCGI_BEGIN_REQUEST. One request at a time: another id while one is
 * live is answered FCGI_CANT_MPX_CONN; the live id again is not a new
 * request (its end would be the live one's, twice): skipped. A role
 * other than responder is answered FCGI_UNKNOWN_ROLE (section 5.1) and
 * its records skipped; without FCGI_KEEP_CONN the connection is then
 * done (INTAKE_REFUSED). */
static enum intake_state intake_begin(struct intake *in)
{
    static const unsigned char cant_mpx[8] = {0, 0, 0, 0, INTAKE_CANT_MPX_CONN};
    static const unsigned char unknown_role[8] = {0, 0, 0, 0, INTAKE_UNKNOWN_ROLE};
    int role = (in->small[0] << 8) | in->small[1];
    int keep = (in->small[2] & INTAKE_KEEP_CONN) != 0;

    if (in->phase != INTAKE_BEGIN && in->rec_id == in->id)
        return INTAKE_MORE;
    if (in->phase != INTAKE_BEGIN || role != INTAKE_RESPONDER) {
        if (intake_put_reply(in, INTAKE_T_END, in->rec_id,
                             in->phase != INTAKE_BEGIN ? cant_mpx : unknown_role, 8))
            return intake_bad(in, "management records not read");
        if (in->phase != INTAKE_BEGIN || keep)
            return INTAKE_MORE;
        in->phase = INTAKE_DONE;
        return INTAKE_REFUSED;
    }
    in->role = role;
    in->keep = keep;
    in->id = in->rec_id;
    in->phase = INTAKE_PARAMS;
    return INTAKE_MORE;
}

/* The content of the record is all in. */
static enum intake_state intake_record_end(struct intake *in)
{
    if (in->rec_type == INTAKE_T_BEGIN)
        return intake_begin(in);
    if (in->rec_id == 0)
        return intake_management(in);
    if (in->sink == INTAKE_TO_PARAMS && in->rec_len == 0) {
        if (in->pair != INTAKE_NAME_LEN || in->len_have != 0)
            return intake_bad(in, "params end inside a pair");
        in->phase = INTAKE_STDIN;
    } else if (in->sink == INTAKE_TO_BODY && in->rec_len == 0) {
        in->phase = INTAKE_DONE;
        return in->refused != INTAKE_MORE ? in->refused : INTAKE_READY;
    }
    return INTAKE_MORE;
}

/* Body bytes: kept; or the body is refused (what came of it is freed:
 * of no use any more) and the rest is read but not kept (intake.h). */
static enum intake_state intake_body(struct intake *in, const unsigned char *p, size_t n)
{
    if (in->refused != INTAKE_MORE)
        return INTAKE_MORE;
    if (n > INTAKE_BODY_MAX - in->body.len)
        in->refused = INTAKE_TOO_LARGE;
    else if (jbuf_put(&in->body, p, n))
        in->refused = INTAKE_NO_MEMORY;
    if (in->refused != INTAKE_MORE)
        jbuf_free(&in->body);
    return INTAKE_MORE;
}

static enum intake_state intake_content(struct intake *in, const unsigned char *p, size_t n)
{
    switch (in->sink) {
    case INTAKE_SMALL:
        memcpy(in->small + in->small_len, p, n);
        in->small_len += n;
        return INTAKE_MORE;
    case INTAKE_TO_PARAMS:
        return intake_params(in, p, n);
    case INTAKE_TO_BODY:
        return intake_body(in, p, n);
    default:
        return INTAKE_MORE;
    }
}

/* A request settled by a record whose padding is still due (the end
 * of FCGI_STDIN, an abort) is settled once the padding is in: answered
 * at the header, the connection would be closed (or read for the next
 * request) while its sender still writes the padding. */
static void intake_hold(struct intake *in, enum intake_state *st)
{
    size_t due = in->content_left + in->pad_left;

    if ((*st == INTAKE_READY || *st == INTAKE_ABORTED) && due > 0) {
        in->held = *st;
        *st = INTAKE_MORE;
    } else if (*st == INTAKE_MORE && in->held != INTAKE_MORE && due == 0) {
        *st = in->held;
        in->held = INTAKE_MORE;
    }
}

/* Takes bytes of the header, the content or the padding of the
 * current record; how many, and the state in *st. */
static size_t intake_step(struct intake *in, const unsigned char *p, size_t len,
                          enum intake_state *st)
{
    size_t n;

    if (in->head_len < INTAKE_HEADER_LEN) {
        n = INTAKE_HEADER_LEN - in->head_len < len ? INTAKE_HEADER_LEN - in->head_len : len;
        memcpy(in->head + in->head_len, p, n);
        in->head_len += n;
        if (in->head_len == INTAKE_HEADER_LEN)
            *st = intake_record_start(in);
        if (*st == INTAKE_MORE && in->head_len == INTAKE_HEADER_LEN && in->content_left == 0)
            *st = intake_record_end(in);
    } else if (in->content_left > 0) {
        n = in->content_left < len ? in->content_left : len;
        in->content_left -= n;
        *st = intake_content(in, p, n);
        if (*st == INTAKE_MORE && in->content_left == 0)
            *st = intake_record_end(in);
    } else {
        n = in->pad_left < len ? in->pad_left : len;
        in->pad_left -= n;
    }
    intake_hold(in, st);
    if (in->head_len == INTAKE_HEADER_LEN && in->content_left == 0 && in->pad_left == 0)
        in->head_len = 0; /* the next record */
    return n;
}

enum intake_state intake_feed(struct intake *in, const unsigned char *buf, size_t len)
{
    enum intake_state st = INTAKE_MORE;
    size_t n;

    if (in->phase == INTAKE_DONE && in->held == INTAKE_MORE)
        return intake_bad(in, "fed after its end");
    if (len > INTAKE_WIRE_MAX - in->fed && in->refused != INTAKE_MORE)
        return intake_cut_short(in);
    if (len > INTAKE_WIRE_MAX - in->fed)
        return intake_bad(in, "records past 32 MiB");
    in->fed += len;
    while (len > 0 && st == INTAKE_MORE) {
        n = intake_step(in, buf, len, &st);
        buf += n;
        len -= n;
    }
    in->rest = len;
    return st;
}

enum intake_state intake_cut_short(struct intake *in)
{
    if (in->refused == INTAKE_MORE || in->phase != INTAKE_STDIN)
        return INTAKE_MORE;
    in->phase = INTAKE_DONE;
    return in->refused;
}

const char *intake_param(const struct intake *in, const char *name)
{
    const unsigned char *p = (const unsigned char *)in->params.data, *end;
    size_t want = strlen(name), nlen = 0, vlen = 0, k1, k2;

    if (in->phase < INTAKE_STDIN || !p)
        return NULL; /* not all in, or none at all */
    end = p + in->params.len;
    while (p < end) {
        /* the pairs were checked as they came; a request cut short
           (aborted, refused) may end inside one: stop there */
        k1 = intake_get_len(p, end, &nlen);
        k2 = k1 ? intake_get_len(p + k1, end, &vlen) : 0;
        if (!k2 || nlen + vlen + 1 > (size_t)(end - p - k1 - k2))
            return NULL;
        p += k1 + k2;
        if (nlen == want && memcmp(p, name, want) == 0)
            return (const char *)p + nlen;
        p += nlen + vlen + 1;
    }
    return NULL;
}

char *intake_take_body(struct intake *in, size_t *len)
{
    char *data, *trimmed;

    *len = 0;
    if (in->body.len == 0 || jbuf_cstr(&in->body))
        return NULL;
    data = jbuf_take(&in->body, len);
    trimmed = realloc(data, *len + 1); /* the doubling's slack back */
    return trimmed ? trimmed : data;
}
