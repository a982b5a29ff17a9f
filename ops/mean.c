/* y = mean of x over the chosen axes = sum / count
 * VJP: gx += broadcast(gy) / count */
#include <math.h>
#include <string.h>
#include "util.h"

static void mean_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    size_t keep[AG_MAX_DIMS];
    size_t count = agi_reduce_keepshape(c, keep);
    memset(y.x, 0, y.len * sizeof *y.x);
    ag_unbroadcast_add(y.x, keep, x.ndim, x.x, x.shape, x.ndim);
    ag_real inv = count ? (ag_real)1 / (ag_real)count : (ag_real)0;
    for (size_t i = 0; i < y.len; i++)
        y.x[i] = count ? y.x[i] * inv : (ag_real)NAN;
}

static void mean_vjp(ag_opctx *c)
{
    ag_view gx = ag_in_grad(c, 0), gy = ag_out_grad(c);
    size_t keep[AG_MAX_DIMS];
    size_t count = agi_reduce_keepshape(c, keep);
    if (count)
        agi_broadcast_add(gx.x, gx.shape, gx.ndim, gy.x, keep, gx.ndim, (ag_real)1 / (ag_real)count);
}

const ag_op_def ag_op_mean = {.name = "mean", .n_in = 1, .shape = agi_reduce_shape,
                              .forward = mean_forward, .vjp = mean_vjp};

ag_tensor *ag_mean(ag_tape *t, ag_tensor *x, const int *axes, int n_axes, int keepdim)
{
    agi_reduce_attr a = agi_reduce_attr_make(axes, n_axes, keepdim);
    return ag_apply(t, &ag_op_mean, &x, 1, &a, sizeof a);
}

ag_tensor *ag_mean_all(ag_tape *t, ag_tensor *x)
{
    return ag_mean(t, x, NULL, 0, 0);
}
