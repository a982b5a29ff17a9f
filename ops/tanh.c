/* y = tanh(x)     VJP: gx += gy * (1 - y^2)
 * Forward by the vector kernel agi_vtanh (error bound in kernels/vmath.h). */
#include "util.h"
#include "kernels/vmath.h"

static void tanh_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    agi_vtanh(y.len, x.x, y.x);
}

static void tanh_vjp(ag_opctx *c)
{
    ag_view y = ag_out(c), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < y.len; i++)
        gx.x[i] += gy.x[i] * (1 - y.x[i] * y.x[i]);
}

const ag_op_def ag_op_tanh = {.name = "tanh", .n_in = 1, .shape = agi_same_shape,
                              .forward = tanh_forward, .vjp = tanh_vjp};

ag_tensor *ag_tanh(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_tanh, &x, 1, NULL, 0);
}
