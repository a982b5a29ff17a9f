/* y = max(a, b) (broadcast)
 * VJP: ga += unbroadcast(gy * [a > b] + gy/2 * [a == b]),
 *      gb += unbroadcast(gy * [b > a] + gy/2 * [a == b])
 * At a tie the gradient is split in halves: the two shares still add up to
 * gy, and the result is symmetric in a and b. A NaN in either input gives
 * NaN (as NumPy's maximum does), and no gradient flows through it. */
#include "elementwise.h"

AGI_CLONES
static void maximum_kernel(size_t n, const ag_real *a, const ag_real *b, ag_real *y)
{
    for (size_t i = 0; i < n; i++) y[i] = (a[i] >= b[i] || a[i] != a[i]) ? a[i] : b[i];
}

AGI_CLONES
static void maximum_da(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b, ag_real *g,
                   int store)
{
    AGI_GRAD_LOOP(n, g, store, a[i] > b[i] ? gy[i] : a[i] == b[i] ? gy[i] / 2 : 0);
}

AGI_CLONES
static void maximum_db(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b, ag_real *g,
                   int store)
{
    maximum_da(n, gy, b, a, g, store);   /* max is symmetric: swap the roles */
}

static void maximum_forward(ag_opctx *c) { agi_binary_forward(c, maximum_kernel); }

static void maximum_vjp(ag_opctx *c) { agi_binary_vjp(c, maximum_da, maximum_db); }

const ag_op_def ag_op_maximum = {.name = "maximum", .n_in = 2, .shape = agi_bcast_shape,
                                 .forward = maximum_forward, .vjp = maximum_vjp};

ag_tensor *ag_maximum(ag_tape *t, ag_tensor *a, ag_tensor *b)
{
    ag_tensor *in[2] = {a, b};
    return ag_apply(t, &ag_op_maximum, in, 2, NULL, 0);
}
