/* Helpers of the convolution and pooling layers (internal). */
#ifndef AGRAD_NN_CONVUTIL_H
#define AGRAD_NN_CONVUTIL_H

#include <stdarg.h>
#include "internal.h"

/* Record an error on the tape (the first one wins) and return a poisoned
 * tensor, so a layer fails the way an op does. */
static inline ag_tensor *conv_fail(ag_tape *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    agi_vfail(t, AG_EINVAL, fmt, ap);
    va_end(ap);
    return ag_scalar(t, 0); /* on a failed (or NULL) tape: the poisoned tensor */
}

/* A tensor's shape as "[2,3,8,8]", in a struct so it can be passed by value. */
typedef struct conv_shape {
    char s[96];
} conv_shape;

static inline conv_shape conv_shape_of(const ag_tensor *x)
{
    conv_shape r;
    ag_shape_str(ag_shape(x), ag_ndim(x), r.s, sizeof r.s);
    return r;
}

#endif
