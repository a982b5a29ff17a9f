/* Error reporting: the sticky tape status and the thread's last message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static _Thread_local char last_msg[512];
static _Thread_local int last_code;

const char *ag_status_str(int s)
{
    switch (s) {
    case AG_OK: return "ok";
    case AG_EINVAL: return "invalid argument";
    case AG_ENOMEM: return "out of memory";
    case AG_ESTATE: return "invalid state";
    case AG_EIO: return "input/output error";
    case AG_EFORMAT: return "bad file format";
    case AG_ENAN: return "NaN or infinity";
    default: return "unknown status";
    }
}

const char *ag_last_errmsg(void)
{
    return last_msg;
}

int agi_last_status(void)
{
    return last_code;
}

/* Read on every error, not cached: errors are rare, and tests set the
 * variable at run time. */
static int strict_mode(void)
{
    const char *e = getenv("AGRAD_STRICT");
    return e && *e && strcmp(e, "0") != 0;
}

int agi_vfail(ag_tape *t, int code, const char *fmt, va_list ap)
{
    char *dst = last_msg;
    size_t cap = sizeof last_msg;
    if (t) {
        if (t->status != AG_OK)
            return code; /* the first error wins */
        t->status = code;
        dst = t->errmsg;
        cap = sizeof t->errmsg;
    } else {
        last_code = code;
    }
    vsnprintf(dst, cap, fmt, ap);
    if (strict_mode()) {
        fprintf(stderr, "AGRAD_STRICT: %s (%s)\n", dst, ag_status_str(code));
        abort();
    }
    return code;
}

int agi_fail(ag_tape *t, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    agi_vfail(t, code, fmt, ap);
    va_end(ap);
    return code;
}
