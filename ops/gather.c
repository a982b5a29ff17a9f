/* index_select: y[o, j, :] = x[o, idx[j], :] with x seen as [outer, dim, inner]
 * around axis (y has n = len(idx) entries along it; indices may repeat).
 * VJP: gx[o, idx[j], :] += gy[o, j, :]   (repeated indices add up) */
#include "util.h"

static void gather_forward(ag_opctx *c)
{
    const agi_index_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    int ax = agi_axis(a->axis, x.ndim);
    agi_index_take(ag_out(c).x, x.x, agi_prod(x.shape, 0, ax), x.shape[ax],
                   agi_prod(x.shape, ax + 1, x.ndim), a->idx, a->n, 0);
}

static void gather_vjp(ag_opctx *c)
{
    const agi_index_attr *a = ag_attr(c);
    ag_view gx = ag_in_grad(c, 0);
    int ax = agi_axis(a->axis, gx.ndim);
    agi_index_put_add(gx.x, gx.shape[ax], ag_out_grad(c).x, agi_prod(gx.shape, 0, ax),
                      agi_prod(gx.shape, ax + 1, gx.ndim), a->idx, a->n);
}

const ag_op_def ag_op_gather = {.name = "gather", .n_in = 1, .shape = agi_index_shape,
                                .forward = gather_forward, .vjp = gather_vjp};

ag_tensor *ag_gather(ag_tape *t, ag_tensor *x, int axis, const int64_t *idx, size_t n)
{
    return agi_index_apply(t, &ag_op_gather, x, axis, idx, n, 0, 0);
}
