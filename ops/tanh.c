/* y = tanh(x)     VJP: gx += gy * (1 - y^2)
 * Forward by the vector kernel agi_vtanh (error bound in kernels/vmath.h). */
#include "elementwise.h"
#include "kernels/vmath.h"

AGI_CLONES
static void tanh_d(size_t n, const ag_real *gy, const ag_real *y, const ag_real *unused,
                   ag_real *gx, int store)
{
    (void)unused;
    AGI_GRAD_LOOP(n, gx, store, gy[i] * (1 - y[i] * y[i]));
}

static void tanh_forward(ag_opctx *c)
{
    agi_unary_forward(c, agi_vtanh);
}

static void tanh_vjp(ag_opctx *c)
{
    agi_unary_vjp(c, tanh_d, 1);
}

const ag_op_def ag_op_tanh = {.name = "tanh", .n_in = 1, .shape = agi_same_shape,
                              .forward = tanh_forward, .vjp = tanh_vjp};

ag_tensor *ag_tanh(ag_tape *t, ag_tensor *x)
{
    return ag_apply(t, &ag_op_tanh, &x, 1, NULL, 0);
}
