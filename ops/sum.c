/* y = sum of x over the chosen axes
 * VJP: gx += broadcast(gy)   (every input element gets the gradient of its sum) */
#include <string.h>
#include "util.h"

static void sum_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    size_t keep[AG_MAX_DIMS];
    agi_reduce_keepshape(c, keep);
    memset(y.x, 0, y.len * sizeof *y.x);
    ag_unbroadcast_add(y.x, keep, x.ndim, x.x, x.shape, x.ndim);
}

static void sum_vjp(ag_opctx *c)
{
    ag_view gx = ag_in_grad(c, 0), gy = ag_out_grad(c);
    size_t keep[AG_MAX_DIMS];
    agi_reduce_keepshape(c, keep);
    agi_broadcast_add(gx.x, gx.shape, gx.ndim, gy.x, keep, gx.ndim, 1);
}

const ag_op_def ag_op_sum = {.name = "sum", .n_in = 1, .shape = agi_reduce_shape,
                             .forward = sum_forward, .vjp = sum_vjp};

ag_tensor *ag_sum(ag_tape *t, ag_tensor *x, const int *axes, int n_axes, int keepdim)
{
    agi_reduce_attr a = agi_reduce_attr_make(axes, n_axes, keepdim);
    return ag_apply(t, &ag_op_sum, &x, 1, &a, sizeof a);
}

ag_tensor *ag_sum_all(ag_tape *t, ag_tensor *x)
{
    return ag_sum(t, x, NULL, 0, 0);
}
