/* y = log(x)     VJP: gx += gy / x
 * log(0) = -inf and log(x < 0) = NaN, as in libm: the caller keeps x > 0. */
#include "elementwise.h"
#include "kernels/vmath.h"

static void log_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    agi_vlog(y.len, x.x, y.x);
}

static void log_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < x.len; i++) gx.x[i] += gy.x[i] / x.x[i];
}

const ag_op_def ag_op_log = {.name = "log", .n_in = 1, .shape = agi_same_shape,
                             .forward = log_forward, .vjp = log_vjp};

ag_tensor *ag_log(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_log, &x, 1, NULL, 0);
}
