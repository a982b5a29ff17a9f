/* y = a / b (broadcast)
 * VJP: ga += unbroadcast(gy / b),  gb -= unbroadcast(gy * a / b^2)
 * Division by zero gives inf or NaN, as in IEEE arithmetic. */
#include "elementwise.h"

AGI_CLONES
static void div_kernel(size_t n, const ag_real *a, const ag_real *b, ag_real *y)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] / b[i];
}

AGI_CLONES
static void div_da(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b, ag_real *g,
                   int store)
{
    (void)a;
    AGI_GRAD_LOOP(n, g, store, gy[i] / b[i]);
}

/* (gy * a / b) / b rather than gy * a / (b * b): b * b overflows sooner. */
AGI_CLONES
static void div_db(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b, ag_real *g,
                   int store)
{
    AGI_GRAD_LOOP(n, g, store, -(gy[i] * a[i] / b[i] / b[i])); /* x + -y == x - y */
}

static void div_forward(ag_opctx *c) { agi_binary_forward(c, div_kernel); }

static void div_vjp(ag_opctx *c) { agi_binary_vjp(c, div_da, div_db); }

const ag_op_def ag_op_div = {.name = "div", .n_in = 2, .shape = agi_bcast_shape,
                             .forward = div_forward, .vjp = div_vjp};

ag_tensor *ag_div(ag_tape *t, ag_tensor *a, ag_tensor *b)
{
    ag_tensor *in[2] = {a, b};
    return ag_apply(t, &ag_op_div, in, 2, NULL, 0);
}
