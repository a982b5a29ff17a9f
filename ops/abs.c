/* y = |x|     VJP: gx += gy * sign(x), with sign(0) = 0 (a subgradient) */
#include "elementwise.h"

static void abs_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    for (size_t i = 0; i < y.len; i++) y.x[i] = agi_fabs(x.x[i]);
}

static void abs_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < x.len; i++)
        gx.x[i] += gy.x[i] * (ag_real)((x.x[i] > 0) - (x.x[i] < 0));
}

const ag_op_def ag_op_abs = {.name = "abs", .n_in = 1, .shape = agi_same_shape,
                             .forward = abs_forward, .vjp = abs_vjp};

ag_tensor *ag_abs(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_abs, &x, 1, NULL, 0);
}
