/* libFuzzer target: intake.c, the FastCGI records a web server (or
 * anyone who can write to the socket) sends.
 *
 * Input layout: bytes 0 and 1 are the size of the pieces the rest is
 * fed in (1 to 65536: one byte at a time up to whole reads), the rest
 * is the connection's bytes. Invariants (abort()):
 *
 *   every state but INTAKE_MORE ends the feeding; reply_len never passes
 *   INTAKE_REPLY_MAX and the replies are whole records;
 *   once the params are in (READY, TOO_LARGE, NO_MEMORY) a lookup gives
 *   NULL or a string, and a name looked up twice gives the same value;
 *   on READY the body is at most INTAKE_BODY_MAX bytes, NUL-terminated,
 *   NULL only when empty; the bytes fed never pass INTAKE_WIRE_MAX.
 *
 * Built and run by `make fuzz` / `make fuzz-smoke` (see Makefile.am). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"

/* The replies are records: 8-byte headers, content and padding. */
static void fuzz_check_replies(const struct intake *in)
{
    size_t off = 0, len;

    if (in->reply_len > INTAKE_REPLY_MAX)
        abort();
    while (off < in->reply_len) {
        if (in->reply_len - off < 8 || in->reply[off] != 1)
            abort();
        len = 8 + (((size_t)in->reply[off + 4] << 8) | in->reply[off + 5]) + in->reply[off + 6];
        if (len > in->reply_len - off)
            abort();
        off += len;
    }
}

static void fuzz_check_params(const struct intake *in)
{
    static const char *const names[] = {"PATH_INFO", "REQUEST_METHOD", "", "X", "HTTP_X_REQUEST_ID"};
    const char *a, *b;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        a = intake_param(in, names[i]);
        b = intake_param(in, names[i]);
        if (a != b || (a && strlen(a) > INTAKE_PARAMS_MAX))
            abort();
    }
}

static void fuzz_check_body(struct intake *in)
{
    size_t len;
    char *body = intake_take_body(in, &len);

    if (body ? (len == 0 || len > INTAKE_BODY_MAX || body[len] != '\0') : len != 0)
        abort();
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct intake in;
    enum intake_state st = INTAKE_MORE;
    size_t step, off = 0, n;

    if (size < 2)
        return 0;
    step = ((size_t)data[0] << 8 | data[1]) + 1;
    data += 2;
    size -= 2;
    intake_init(&in);
    while (off < size && st == INTAKE_MORE) {
        n = size - off < step ? size - off : step;
        st = intake_feed(&in, data + off, n);
        fuzz_check_replies(&in);
        in.reply_len = 0; /* as if written */
        off += n;
    }
    if (in.fed > INTAKE_WIRE_MAX)
        abort();
    if (st == INTAKE_READY || st == INTAKE_TOO_LARGE || st == INTAKE_NO_MEMORY)
        fuzz_check_params(&in);
    if (st == INTAKE_READY)
        fuzz_check_body(&in);
    if (st != INTAKE_MORE && intake_feed(&in, (const uint8_t *)"x", 1) != INTAKE_BAD)
        abort();
    intake_free(&in);
    return 0;
}
