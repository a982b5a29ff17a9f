/* y = max(x, 0)     VJP: gx += gy * [x > 0]   (derivative 0 at the kink)
 * Written x < 0 ? 0 : x so that a NaN input stays NaN. */
#include "elementwise.h"

AGI_CLONES
static void relu_k(size_t n, const ag_real *x, ag_real *y)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i];
}

/* gy's value is an argument, loaded unconditionally: the select vectorises */
static inline ag_real relu_grad(ag_real g, ag_real x) { return x > 0 ? g : 0; }

AGI_CLONES
static void relu_d(size_t n, const ag_real *gy, const ag_real *x, const ag_real *unused,
                   ag_real *gx, int store)
{
    (void)unused;
    AGI_GRAD_LOOP(n, gx, store, relu_grad(gy[i], x[i]));
}

static void relu_forward(ag_opctx *c)
{
    agi_unary_forward(c, relu_k);
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
