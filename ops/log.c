/* y = log(x)     VJP: gx += gy / x
 * log(0) = -inf and log(x < 0) = NaN, as in libm: the caller keeps x > 0. */
#include "elementwise.h"
#include "kernels/vmath.h"

AGI_CLONES
static void log_d(size_t n, const ag_real *gy, const ag_real *x, const ag_real *unused,
                  ag_real *gx, int store)
{
    (void)unused;
    AGI_GRAD_LOOP(n, gx, store, gy[i] / x[i]);
}

static void log_forward(ag_opctx *c)
{
    agi_unary_forward(c, agi_vlog);
}

static void log_vjp(ag_opctx *c)
{
    agi_unary_vjp(c, log_d, 0);
}

const ag_op_def ag_op_log = {.name = "log", .n_in = 1, .shape = agi_same_shape,
                             .forward = log_forward, .vjp = log_vjp};

ag_tensor *ag_log(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_log, &x, 1, NULL, 0);
}
