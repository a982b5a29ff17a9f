/* y = max(x, 0)     VJP: gx += gy * [x > 0]   (derivative 0 at the kink)
 * Written x < 0 ? 0 : x so that a NaN input stays NaN. */
#include "elementwise.h"

static void relu_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    for (size_t i = 0; i < y.len; i++) y.x[i] = x.x[i] < 0 ? 0 : x.x[i];
}

static void relu_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < x.len; i++) {
        ag_real g = gy.x[i];   /* loaded unconditionally: the select vectorises */
        gx.x[i] += x.x[i] > 0 ? g : 0;
    }
}

const ag_op_def ag_op_relu = {.name = "relu", .n_in = 1, .shape = agi_same_shape,
                              .forward = relu_forward, .vjp = relu_vjp};

ag_tensor *ag_relu(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_relu, &x, 1, NULL, 0);
}
