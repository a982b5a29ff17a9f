/* y = x if x > 0 else alpha x     VJP: gx += gy * (x > 0 ? 1 : alpha)
 * alpha is an attribute (a constant, not differentiated). */
#include "elementwise.h"

static void leaky_relu_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    ag_real alpha = *(const ag_real *)ag_attr(c);
    for (size_t i = 0; i < y.len; i++) y.x[i] = x.x[i] > 0 ? x.x[i] : alpha * x.x[i];
}

static void leaky_relu_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    ag_real alpha = *(const ag_real *)ag_attr(c);
    for (size_t i = 0; i < x.len; i++) gx.x[i] += x.x[i] > 0 ? gy.x[i] : alpha * gy.x[i];
}

const ag_op_def ag_op_leaky_relu = {.name = "leaky_relu", .n_in = 1, .shape = agi_same_shape,
                                    .forward = leaky_relu_forward, .vjp = leaky_relu_vjp};

ag_tensor *ag_leaky_relu(ag_tape *t, ag_tensor *x, ag_real alpha)
{
    return ag_apply(t, &ag_op_leaky_relu, &x, 1, &alpha, sizeof alpha);
}
