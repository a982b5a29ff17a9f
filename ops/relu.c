/* y = max(x, 0)     VJP: gx += gy * [x > 0]   (derivative 0 at the kink)
 * Written x < 0 ? 0 : x so that a NaN input stays NaN. */
#include "elementwise.h"

static void relu_k(size_t n, const ag_real *x, const ag_real *unused, ag_real *y)
{
    (void)unused;
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i];
}

static void relu_d(size_t n, const ag_real *gy, const ag_real *x, const ag_real *unused,
                   ag_real *gx, int store)
{
    (void)unused;
    /* gy loaded unconditionally: the select vectorises */
    for (size_t i = 0; i < n; i++) {
        ag_real g = gy[i], d = x[i] > 0 ? g : 0;
        gx[i] = store ? d : gx[i] + d;
    }
}

static void relu_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    agi_map(y.len, relu_k, x.x, NULL, y.x);
}

static void relu_vjp(ag_opctx *c)
{
    agi_unary_vjp(c, relu_d, 0);
}

const ag_op_def ag_op_relu = {.name = "relu", .n_in = 1, .shape = agi_same_shape,
                              .forward = relu_forward, .vjp = relu_vjp};

ag_tensor *ag_relu(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_relu, &x, 1, NULL, 0);
}
