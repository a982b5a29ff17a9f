/* y = exp(x)     VJP: gx += gy * y   (d exp(x)/dx = exp(x), reused from the forward) */
#include "elementwise.h"
#include "kernels/vmath.h"

AGI_CLONES
static void exp_d(size_t n, const ag_real *gy, const ag_real *y, const ag_real *unused,
                  ag_real *gx, int store)
{
    (void)unused;
    AGI_GRAD_LOOP(n, gx, store, gy[i] * y[i]);
}

static void exp_forward(ag_opctx *c)
{
    agi_unary_forward(c, agi_vexp);
}

static void exp_vjp(ag_opctx *c)
{
    agi_unary_vjp(c, exp_d, 1);
}

const ag_op_def ag_op_exp = {.name = "exp", .n_in = 1, .shape = agi_same_shape,
                             .forward = exp_forward, .vjp = exp_vjp};

ag_tensor *ag_exp(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_exp, &x, 1, NULL, 0);
}
