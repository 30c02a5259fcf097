#include "fold.h"

#include <string.h>

void fold_init(struct fold *f)
{
    memset(f, 0, sizeof(*f));
}

int fold_new_fault(struct fold *f, long port, uint64_t now)
{
    size_t i;

    if (port <= 0 || port > 65535)
        return 1;
    i = (size_t)port % FOLD_SLOTS;
    /* the span runs from the fault counted, not from the latest failure:
       a port that keeps failing is counted again once a span is over */
    if (f->slot[i].port == port && now >= f->slot[i].at && now - f->slot[i].at < FOLD_SPAN_MS)
        return 0;
    f->slot[i].port = port;
    f->slot[i].at = now;
    return 1;
}
