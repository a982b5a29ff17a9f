/* y = sigmoid(x) = 1 / (1 + exp(-x))     VJP: gx += gy * y * (1 - y)
 * Computed through exp(-|x|), which never overflows (agi_vsigmoid, see
 * kernels/vmath.h): large |x| gives 0 or 1, never NaN. */
#include "elementwise.h"
#include "kernels/vmath.h"

static void sigmoid_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    agi_vsigmoid(y.len, x.x, y.x);
}

static void sigmoid_vjp(ag_opctx *c)
{
    ag_view y = ag_out(c), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < y.len; i++) gx.x[i] += gy.x[i] * y.x[i] * (1 - y.x[i]);
}

const ag_op_def ag_op_sigmoid = {.name = "sigmoid", .n_in = 1, .shape = agi_same_shape,
                                 .forward = sigmoid_forward, .vjp = sigmoid_vjp};

ag_tensor *ag_sigmoid(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_sigmoid, &x, 1, NULL, 0);
}
