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

/* A tensor argument of a layer, for nn_check_args(). */
typedef struct nn_arg {
    ag_tensor *x;
    const char *name; /* "input", "weight"... */
    int optional;     /* NULL allowed (a bias) */
} nn_arg;

/* Check a layer's tensor arguments before any op runs, so that its errors
 * name the layer rather than an op inside it: NULL (EINVAL), poisoned by
 * another tape, of another tape, or made before the last reset (ESTATE),
 * the same conditions ag_apply() checks. Returns NULL if they are fine, else
 * the poisoned result to return (also on a NULL or already failed tape). */
static inline ag_tensor *nn_check_args(ag_tape *t, const char *fn, const nn_arg *a, int n)
{
    if (!t || t->status)
        return ag_scalar(t, 0);
    for (int i = 0; i < n; i++) {
        const ag_tensor *x = a[i].x;
        if (!x && a[i].optional)
            continue;
        if (!x)
            return nn_fail(t, AG_EINVAL, "%s: %s is NULL", fn, a[i].name);
        if (x->flags & AGI_POISON)
            return nn_fail(t, AG_ESTATE, "%s: %s is a poisoned tensor (of another tape)", fn,
                           a[i].name);
        if (x->tape && x->tape != t)
            return nn_fail(t, AG_ESTATE, "%s: %s is a tensor of another tape", fn, a[i].name);
        if (x->tape && x->gen != t->gen)
            return nn_fail(t, AG_ESTATE, "%s: %s was made before the last ag_tape_reset", fn,
                           a[i].name);
    }
    return NULL;
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
