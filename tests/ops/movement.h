/* Helpers shared by the suites of the movement and mask ops. */
#ifndef AGRAD_TEST_MOVEMENT_H
#define AGRAD_TEST_MOVEMENT_H

#include "common.h"

/* sum(w * y * tanh(y)) with weights that differ by position: a VJP that sends
 * a gradient to the wrong element, or the right one twice, changes it. The
 * weights are scaled by 1/numel so that the loss stays near 1, where float
 * finite differences are accurate. */
static inline ag_tensor *weighted_loss(ag_tape *t, ag_tensor *y)
{
    ag_tensor *w = ag_tensor_new(t, ag_shape(y), ag_ndim(y));
    double n = (double)ag_numel(w);
    for (size_t i = 0; i < ag_numel(w) && !ag_is_poisoned(w); i++)
        ag_data(w)[i] = (ag_real)((1 + 0.37 * (double)(i % 7) + 0.01 * (double)i) / n);
    return ag_sum_all(t, ag_mul(t, ag_mul(t, y, ag_tanh(t, y)), w));
}

/* weighted_loss(y) plus a term in x recorded after y: x's gradient is then
 * already nonzero when the VJP of the op that made y runs, so a VJP that
 * overwrites instead of accumulating is caught. */
static inline ag_tensor *loss_with_direct(ag_tape *t, ag_tensor *y, ag_tensor *x)
{
    ag_tensor *l = weighted_loss(t, y);
    return ag_add(t, l, weighted_loss(t, x));
}

/* Values 0, 1, 2, ... as a tape tensor of the given shape. */
static inline ag_tensor *iota(ag_tape *t, const size_t *shape, int nd)
{
    ag_tensor *x = ag_tensor_new(t, shape, nd);
    for (size_t i = 0; i < ag_numel(x); i++)
        ag_data(x)[i] = (ag_real)i;
    return x;
}

/* Row-major strides of a shape. */
static inline void strides_of(const size_t *shape, int nd, size_t *st)
{
    size_t s = 1;
    for (int d = nd - 1; d >= 0; d--) {
        st[d] = s;
        s *= shape[d];
    }
}

/* Multi-index of flat index i in shape. */
static inline void unravel(size_t i, const size_t *shape, int nd, size_t *idx)
{
    for (int d = nd - 1; d >= 0; d--) {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
}

#endif
