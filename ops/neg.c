/* y = -x     VJP: gx -= gy */
#include "elementwise.h"

AGI_CLONES
static void neg_k(size_t n, const ag_real *x, ag_real *y)
{
    for (size_t i = 0; i < n; i++) y[i] = -x[i];
}

AGI_CLONES
static void neg_d(size_t n, const ag_real *gy, const ag_real *unused_x, const ag_real *unused,
                  ag_real *gx, int store)
{
    (void)unused_x, (void)unused;
    AGI_GRAD_LOOP(n, gx, store, -gy[i]);
}

static void neg_forward(ag_opctx *c)
{
    agi_unary_forward(c, neg_k);
}

static void neg_vjp(ag_opctx *c)
{
    agi_unary_vjp(c, neg_d, 0);
}

const ag_op_def ag_op_neg = {.name = "neg", .n_in = 1, .shape = agi_same_shape,
                             .forward = neg_forward, .vjp = neg_vjp};

ag_tensor *ag_neg(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_neg, &x, 1, NULL, 0);
}
