/* y = x with a new shape of the same numel (row-major order kept)
 * VJP: gx += gy   (same elements, same order)
 * ag_reshape() makes a view (ag_apply_view: no copy, the gradient lands in
 * x's buffer directly); ag_apply(&ag_op_reshape, ...) runs the callbacks
 * below, which define the same map. */
#include <string.h>
#include "util.h"

static int reshape_shape(ag_opctx *c, size_t *out, int *nd)
{
    const agi_shape_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    if (agi_shape_attr_check(c, a))
        return AG_EINVAL;
    int infer = -1;
    size_t known = 1;
    for (int d = 0; d < a->ndim; d++) {
        if (a->shape[d] == AG_INFER) {
            if (infer >= 0)
                return ag_op_fail(c, AG_EINVAL, "more than one AG_INFER in the new shape");
            infer = d;
            continue;
        }
        if (a->shape[d] && known > SIZE_MAX / a->shape[d])
            return ag_op_fail(c, AG_EINVAL, "new shape overflows for x%s", ag_in_shape_str(c, 0));
        known *= a->shape[d];
    }
    memcpy(out, a->shape, (size_t)a->ndim * sizeof *out);
    *nd = a->ndim;
    if (infer >= 0) {
        if (known == 0 || x.len % known)
            return ag_op_fail(c, AG_EINVAL, "cannot infer a size: x%s has %zu elements, the other sizes multiply to %zu",
                              ag_in_shape_str(c, 0), x.len, known);
        out[infer] = x.len / known;
        known = x.len;
    }
    if (known != x.len) {
        char b[160];
        return ag_op_fail(c, AG_EINVAL, "numel differs: x%s has %zu elements, new shape %s has %zu",
                          ag_in_shape_str(c, 0), x.len, ag_shape_str(out, *nd, b, sizeof b), known);
    }
    return 0;
}

static void reshape_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    memcpy(y.x, x.x, y.len * sizeof *y.x);
}

static void reshape_vjp(ag_opctx *c)
{
    ag_view gx = ag_in_grad(c, 0), gy = ag_out_grad(c);
    for (size_t i = 0; i < gy.len; i++) gx.x[i] += gy.x[i];   /* G_x += G_y */
}

const ag_op_def ag_op_reshape = {.name = "reshape", .n_in = 1, .shape = reshape_shape,
                                 .forward = reshape_forward, .vjp = reshape_vjp};

ag_tensor *ag_reshape(ag_tape *t, ag_tensor *x, const size_t *shape, int ndim)
{
    agi_shape_attr a = agi_shape_attr_make(shape, ndim);
    return ag_apply_view(t, &ag_op_reshape, &x, 1, &a, sizeof a);
}
