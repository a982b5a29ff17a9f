/* Helpers shared by the layer and loss files (internal). */
#ifndef AGRAD_NN_UTIL_H
#define AGRAD_NN_UTIL_H

#include <stdarg.h>
#include "internal.h"

/* Record an error on the tape (the first one wins) and return a poisoned
 * tensor, so a layer fails the same way an op does. */
static inline ag_tensor *nn_fail(ag_tape *t, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    agi_vfail(t, code, fmt, ap);
    va_end(ap);
    return ag_scalar(t, 0); /* on a failed (or NULL) tape: the poisoned tensor */
}

/* Nonzero if a and b have the same shape (poisoned inputs count as equal:
 * the ops that follow propagate their error). */
static inline int nn_same_shape(const ag_tensor *a, const ag_tensor *b)
{
    if (ag_is_poisoned(a) || ag_is_poisoned(b))
        return 1;
    if (ag_ndim(a) != ag_ndim(b))
        return 0;
    for (int i = 0; i < ag_ndim(a); i++)
        if (ag_shape(a)[i] != ag_shape(b)[i])
            return 0;
    return 1;
}

#endif
