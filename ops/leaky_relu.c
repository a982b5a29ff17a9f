/* y = x if x > 0 else alpha x     VJP: gx += gy * (x > 0 ? 1 : alpha)
 * alpha is an attribute (a constant, not differentiated).
 *
 * Both loops split a value into its part for x > 0 and its part for x <= 0
 * (one of them is 0) and add pos + alpha * neg: the same numbers as the
 * branch, NaN included, but with selects against 0, which gcc vectorises,
 * where it leaves a branch (or a select between two computed values)
 * scalar. */
#include "elementwise.h"

static void leaky_relu_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    ag_real alpha = *(const ag_real *)ag_attr(c);
    for (size_t i = 0; i < y.len; i++) {
        ag_real v = x.x[i], pos = v > 0 ? v : 0, neg = v > 0 ? 0 : v;
        y.x[i] = pos + alpha * neg;
    }
}

static void leaky_relu_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c);
    int first;
    ag_view gx = ag_in_grad_first(c, 0, &first);
    ag_real alpha = *(const ag_real *)ag_attr(c);
    AGI_GRAD_LOOP(x.len, gx.x, first,
                  (x.x[i] > 0 ? gy.x[i] : 0) + alpha * (x.x[i] > 0 ? 0 : gy.x[i]));
}

const ag_op_def ag_op_leaky_relu = {.name = "leaky_relu", .n_in = 1, .shape = agi_same_shape,
                                    .forward = leaky_relu_forward, .vjp = leaky_relu_vjp};

ag_tensor *ag_leaky_relu(ag_tape *t, ag_tensor *x, ag_real alpha)
{
    return ag_apply(t, &ag_op_leaky_relu, &x, 1, &alpha, sizeof alpha);
}
