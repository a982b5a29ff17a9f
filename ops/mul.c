/* y = a * b (broadcast)
 * VJP: ga += unbroadcast(gy * b),  gb += unbroadcast(gy * a) */
#include "elementwise.h"

AGI_CLONES
static void mul_kernel(size_t n, const ag_real *a, const ag_real *b, ag_real *y)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

AGI_CLONES
static void mul_da(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b, ag_real *g,
                   int store)
{
    (void)a;
    AGI_GRAD_LOOP(n, g, store, gy[i] * b[i]); /* G_a += G_y * b */
}

AGI_CLONES
static void mul_db(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b, ag_real *g,
                   int store)
{
    (void)b;
    AGI_GRAD_LOOP(n, g, store, gy[i] * a[i]); /* G_b += G_y * a */
}

static void mul_forward(ag_opctx *c) { agi_binary_forward(c, mul_kernel); }

static void mul_vjp(ag_opctx *c) { agi_binary_vjp(c, mul_da, mul_db); }

const ag_op_def ag_op_mul = {.name = "mul", .n_in = 2, .shape = agi_bcast_shape,
                             .forward = mul_forward, .vjp = mul_vjp};

ag_tensor *ag_mul(ag_tape *t, ag_tensor *a, ag_tensor *b)
{
    ag_tensor *in[2] = {a, b};
    return ag_apply(t, &ag_op_mul, in, 2, NULL, 0);
}
