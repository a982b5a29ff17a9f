/* y = sigmoid(x) = 1 / (1 + exp(-x))     VJP: gx += gy * y * (1 - y)
 * Computed through exp(-|x|), which never overflows (agi_vsigmoid, see
 * kernels/vmath.h): large |x| gives 0 or 1, never NaN. */
#include "elementwise.h"
#include "kernels/vmath.h"

AGI_CLONES
static void sigmoid_d(size_t n, const ag_real *gy, const ag_real *y, const ag_real *unused,
                      ag_real *gx, int store)
{
    (void)unused;
    AGI_GRAD_LOOP(n, gx, store, gy[i] * y[i] * (1 - y[i]));
}

static void sigmoid_forward(ag_opctx *c)
{
    agi_unary_forward(c, agi_vsigmoid);
}

static void sigmoid_vjp(ag_opctx *c)
{
    agi_unary_vjp(c, sigmoid_d, 1);
}

const ag_op_def ag_op_sigmoid = {.name = "sigmoid", .n_in = 1, .shape = agi_same_shape,
                                 .forward = sigmoid_forward, .vjp = sigmoid_vjp};

ag_tensor *ag_sigmoid(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_sigmoid, &x, 1, NULL, 0);
}
