/* y = softplus(x) = log(1 + exp(x))     VJP: gx += gy * sigmoid(x)
 *
 * Stable form: log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)). exp(-|x|) is
 * in (0, 1], so nothing overflows, and log1p keeps the tail accurate where
 * exp(-|x|) is tiny (softplus(-40) = 4.2e-18, not 0); the kernel is
 * agi_vsoftplus (kernels/vmath.h). The derivative sigmoid(x) is recomputed
 * from x by agi_vsigmoid, blockwise: exactly 1/2 at 0. */
#include "elementwise.h"
#include "kernels/vmath.h"

static void softplus_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    agi_vsoftplus(y.len, x.x, y.x);
}

static void softplus_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c);
    int first;
    ag_view gx = ag_in_grad_first(c, 0, &first);
    enum { BLOCK = 256 };
    ag_real s[BLOCK]; /* sigmoid of one block of x */
    for (size_t k = 0; k < x.len; k += BLOCK) {
        size_t n = x.len - k < BLOCK ? x.len - k : BLOCK;
        agi_vsigmoid(n, x.x + k, s);
        AGI_GRAD_LOOP(n, gx.x + k, first, gy.x[k + i] * s[i]);
    }
}

const ag_op_def ag_op_softplus = {.name = "softplus", .n_in = 1, .shape = agi_same_shape,
                                  .forward = softplus_forward, .vjp = softplus_vjp};

ag_tensor *ag_softplus(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_softplus, &x, 1, NULL, 0);
}
