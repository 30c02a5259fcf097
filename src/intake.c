#include "intake.h"

#define INTAKE_HEADER_LEN 8
#define INTAKE_VERSION 1
#define INTAKE_STDIN 5

enum intake_state intake_scan(const unsigned char *buf, size_t len)
{
    size_t off = 0, clen;

    if (len >= INTAKE_WINDOW)
        return INTAKE_READY; /* too big to look at whole */
    while (len - off >= INTAKE_HEADER_LEN) {
        const unsigned char *h = buf + off;

        if (h[0] != INTAKE_VERSION)
            return INTAKE_READY; /* not ours to judge: libfcgi refuses it */
        clen = ((size_t)h[4] << 8) | h[5];
        if (h[1] == INTAKE_STDIN && clen == 0)
            return INTAKE_READY;
        off += INTAKE_HEADER_LEN + clen + h[6];
        if (off > len)
            return INTAKE_MORE;
    }
    return INTAKE_MORE;
}
