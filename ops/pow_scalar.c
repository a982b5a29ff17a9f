/* y = x^p for a constant p     VJP: gx += gy * p * x^(p-1)
 *
 * x^(p-1) is computed directly rather than as y / x, which would be 0/0 at
 * x = 0. For p = 0, y = 1 and the derivative is 0 everywhere (also at x = 0,
 * where 0 * 0^-1 would give NaN). As in libm, a negative x with a
 * non-integer p gives NaN. */
#include "elementwise.h"

static void pow_scalar_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    ag_real p = *(const ag_real *)ag_attr(c);
    for (size_t i = 0; i < y.len; i++) y.x[i] = agi_pow(x.x[i], p);
}

static void pow_scalar_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c);
    ag_real p = *(const ag_real *)ag_attr(c);
    if (p == 0)
        return; /* nothing to add (a first writer's buffer is zeroed on its next use) */
    int first;
    ag_view gx = ag_in_grad_first(c, 0, &first);
    AGI_GRAD_LOOP(x.len, gx.x, first, gy.x[i] * p * agi_pow(x.x[i], p - 1));
}

const ag_op_def ag_op_pow_scalar = {.name = "pow_scalar", .n_in = 1, .shape = agi_same_shape,
                                    .forward = pow_scalar_forward, .vjp = pow_scalar_vjp};

ag_tensor *ag_pow_scalar(ag_tape *t, ag_tensor *x, ag_real p)
{
    return ag_apply(t, &ag_op_pow_scalar, &x, 1, &p, sizeof p);
}
