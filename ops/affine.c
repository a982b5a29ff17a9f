/* y = a x + b for constants a, b     VJP: gx += a gy (stored if first)
 * The scalar forms are affine maps: x + s = 1 x + s, x s = s x + 0,
 * s - x = -1 x + s. One op, one node each. */
#include "elementwise.h"

typedef struct affine_attr {
    ag_real a, b;
} affine_attr;

static void affine_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    const affine_attr *p = ag_attr(c);
    ag_real a = p->a, b = p->b;
    for (size_t i = 0; i < y.len; i++) y.x[i] = a * x.x[i] + b;
}

static void affine_vjp(ag_opctx *c)
{
    ag_view gy = ag_out_grad(c);
    int first;
    ag_view gx = ag_in_grad_first(c, 0, &first);
    ag_real a = ((const affine_attr *)ag_attr(c))->a;
    AGI_GRAD_LOOP(gy.len, gx.x, first, a * gy.x[i]);
}

const ag_op_def ag_op_affine = {.name = "affine", .n_in = 1, .shape = agi_same_shape,
                                .forward = affine_forward, .vjp = affine_vjp};

ag_tensor *ag_affine(ag_tape *t, ag_tensor *x, ag_real a, ag_real b)
{
    affine_attr p = {a, b};
    return ag_apply(t, &ag_op_affine, &x, 1, &p, sizeof p);
}

ag_tensor *ag_add_scalar(ag_tape *t, ag_tensor *x, ag_real s) { return ag_affine(t, x, 1, s); }

ag_tensor *ag_mul_scalar(ag_tape *t, ag_tensor *x, ag_real s) { return ag_affine(t, x, s, 0); }

ag_tensor *ag_rsub_scalar(ag_tape *t, ag_real s, ag_tensor *x) { return ag_affine(t, x, -1, s); }
