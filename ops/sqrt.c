/* y = sqrt(x)     VJP: gx += gy / (2 y)
 * At x = 0 the derivative is +inf, as the math says. */
#include "elementwise.h"

static void sqrt_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    for (size_t i = 0; i < y.len; i++) y.x[i] = agi_sqrt(x.x[i]);
}

static void sqrt_vjp(ag_opctx *c)
{
    ag_view y = ag_out(c), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < y.len; i++) gx.x[i] += gy.x[i] / (2 * y.x[i]);
}

const ag_op_def ag_op_sqrt = {.name = "sqrt", .n_in = 1, .shape = agi_same_shape,
                              .forward = sqrt_forward, .vjp = sqrt_vjp};

ag_tensor *ag_sqrt(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_sqrt, &x, 1, NULL, 0);
}
