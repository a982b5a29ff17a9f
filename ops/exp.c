/* y = exp(x)     VJP: gx += gy * y   (d exp(x)/dx = exp(x), reused from the forward) */
#include "elementwise.h"
#include "kernels/vmath.h"

static void exp_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    agi_vexp(y.len, x.x, y.x);
}

static void exp_vjp(ag_opctx *c)
{
    ag_view y = ag_out(c), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < y.len; i++) gx.x[i] += gy.x[i] * y.x[i];
}

const ag_op_def ag_op_exp = {.name = "exp", .n_in = 1, .shape = agi_same_shape,
                             .forward = exp_forward, .vjp = exp_vjp};

ag_tensor *ag_exp(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_exp, &x, 1, NULL, 0);
}
