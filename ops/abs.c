/* y = |x|     VJP: gx += gy * sign(x), with sign(0) = 0 (a subgradient) */
#include "elementwise.h"

AGI_CLONES
static void abs_k(size_t n, const ag_real *x, ag_real *y)
{
    for (size_t i = 0; i < n; i++) y[i] = agi_fabs(x[i]);
}

AGI_CLONES
static void abs_d(size_t n, const ag_real *gy, const ag_real *x, const ag_real *unused,
                  ag_real *gx, int store)
{
    (void)unused;
    AGI_GRAD_LOOP(n, gx, store, gy[i] * (ag_real)((x[i] > 0) - (x[i] < 0)));
}

static void abs_forward(ag_opctx *c)
{
    agi_unary_forward(c, abs_k);
}

static void abs_vjp(ag_opctx *c)
{
    agi_unary_vjp(c, abs_d, 0);
}

const ag_op_def ag_op_abs = {.name = "abs", .n_in = 1, .shape = agi_same_shape,
                             .forward = abs_forward, .vjp = abs_vjp};

ag_tensor *ag_abs(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_abs, &x, 1, NULL, 0);
}
