/* y = a - b (broadcast)
 * VJP: ga += unbroadcast(gy),  gb -= unbroadcast(gy) */
#include "elementwise.h"

AGI_CLONES
static void sub_kernel(size_t n, const ag_real *a, const ag_real *b, ag_real *y)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] - b[i];
}

AGI_CLONES
static void sub_da(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b, ag_real *g,
                   int store)
{
    (void)a, (void)b;
    AGI_GRAD_LOOP(n, g, store, gy[i]); /* G_a += G_y */
}

AGI_CLONES
static void sub_db(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b, ag_real *g,
                   int store)
{
    (void)a, (void)b;
    AGI_GRAD_LOOP(n, g, store, -gy[i]); /* G_b -= G_y (x + -y == x - y) */
}

static void sub_forward(ag_opctx *c) { agi_binary_forward(c, sub_kernel); }

static void sub_vjp(ag_opctx *c) { agi_binary_vjp(c, sub_da, sub_db); }

const ag_op_def ag_op_sub = {.name = "sub", .n_in = 2, .shape = agi_bcast_shape,
                             .forward = sub_forward, .vjp = sub_vjp};

ag_tensor *ag_sub(ag_tape *t, ag_tensor *a, ag_tensor *b)
{
    ag_tensor *in[2] = {a, b};
    return ag_apply(t, &ag_op_sub, in, 2, NULL, 0);
}
