/* y = sqrt(x)     VJP: gx += gy / (2 y)
 * At x = 0 the derivative is +inf, as the math says. */
#include "elementwise.h"

AGI_CLONES
static void sqrt_k(size_t n, const ag_real *x, ag_real *y)
{
    for (size_t i = 0; i < n; i++) y[i] = agi_sqrt(x[i]);
}

AGI_CLONES
static void sqrt_d(size_t n, const ag_real *gy, const ag_real *y, const ag_real *unused,
                   ag_real *gx, int store)
{
    (void)unused;
    AGI_GRAD_LOOP(n, gx, store, gy[i] / (2 * y[i]));
}

static void sqrt_forward(ag_opctx *c)
{
    agi_unary_forward(c, sqrt_k);
}

static void sqrt_vjp(ag_opctx *c)
{
    agi_unary_vjp(c, sqrt_d, 1);
}

const ag_op_def ag_op_sqrt = {.name = "sqrt", .n_in = 1, .shape = agi_same_shape,
                              .forward = sqrt_forward, .vjp = sqrt_vjp};

ag_tensor *ag_sqrt(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_sqrt, &x, 1, NULL, 0);
}
