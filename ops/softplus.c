/* y = softplus(x) = log(1 + exp(x))     VJP: gx += gy * sigmoid(x)
 *
 * Stable form: log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)). exp(-|x|) is
 * in (0, 1], so nothing overflows, and log1p keeps the tail accurate where
 * exp(-|x|) is tiny (softplus(-40) = 4.2e-18, not 0). The derivative
 * sigmoid(x) is recomputed from x by the same stable formula: exactly 1/2
 * at 0. */
#include "elementwise.h"

static void softplus_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    for (size_t i = 0; i < y.len; i++) {
        ag_real v = x.x[i];
        y.x[i] = (v > 0 ? v : 0) + agi_log1p(agi_exp(-agi_fabs(v)));
    }
}

static void softplus_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < x.len; i++) gx.x[i] += gy.x[i] * agi_sigmoid(x.x[i]);
}

const ag_op_def ag_op_softplus = {.name = "softplus", .n_in = 1, .shape = agi_same_shape,
                                  .forward = softplus_forward, .vjp = softplus_vjp};

ag_tensor *ag_softplus(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_softplus, &x, 1, NULL, 0);
}
