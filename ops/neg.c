/* y = -x     VJP: gx -= gy */
#include "elementwise.h"

static void neg_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    for (size_t i = 0; i < y.len; i++) y.x[i] = -x.x[i];
}

static void neg_vjp(ag_opctx *c)
{
    ag_view gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < gy.len; i++) gx.x[i] -= gy.x[i];
}

const ag_op_def ag_op_neg = {.name = "neg", .n_in = 1, .shape = agi_same_shape,
                             .forward = neg_forward, .vjp = neg_vjp};

ag_tensor *ag_neg(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_neg, &x, 1, NULL, 0);
}
