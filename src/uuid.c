#include "uuid.h"

#include <string.h>
#include <strings.h>

#define UUID_URN "urn:uuid:"
#define UUID_URN_LEN (sizeof(UUID_URN) - 1)

int uuid_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Is position i of a 36-character form a hyphen? */
static int uuid_hyphen_at(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

/* Copies the 32 hex digits of a bare form (32 or 36 long) into hex. */
static int uuid_digits(const char *s, size_t len, char hex[32])
{
    size_t i, n = 0;

    if (len != 32 && len != 36)
        return -1;
    for (i = 0; i < len; i++) {
        if (len == 36 && uuid_hyphen_at(i)) {
            if (s[i] != '-')
                return -1;
            continue;
        }
        if (uuid_hexval(s[i]) < 0)
            return -1;
        hex[n++] = s[i];
    }
    return 0;
}

int uuid_normalize(const char *in, size_t len, char out[UUID_STR_LEN])
{
    static const char lower[] = "0123456789abcdef";
    char hex[32];
    size_t i, n = 0;

    if (len >= UUID_URN_LEN && strncasecmp(in, UUID_URN, UUID_URN_LEN) == 0) {
        in += UUID_URN_LEN;
        len -= UUID_URN_LEN;
    }
    if (len >= 2 && in[0] == '{' && in[len - 1] == '}') {
        in++;
        len -= 2;
    }
    if (uuid_digits(in, len, hex))
        return -1;
    for (i = 0; i < 36; i++)
        out[i] = uuid_hyphen_at(i) ? '-' : lower[uuid_hexval(hex[n++])];
    out[36] = '\0';
    return 0;
}
