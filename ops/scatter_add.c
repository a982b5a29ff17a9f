/* Adjoint of gather: with x seen as [outer, n, inner] around axis,
 * y = 0 of shape [outer, dim, inner], then y[o, idx[j], :] += x[o, j, :].
 * VJP: gx[o, j, :] += gy[o, idx[j], :]   (a gather of gy) */
#include <string.h>
#include "util.h"

static void scatter_forward(ag_opctx *c)
{
    const agi_index_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0), y = ag_out(c);
    int ax = agi_axis(a->axis, x.ndim);
    memset(y.x, 0, y.len * sizeof *y.x);
    agi_index_put_add(y.x, a->dim, x.x, agi_prod(x.shape, 0, ax),
                      agi_prod(x.shape, ax + 1, x.ndim), a->idx, a->n);
}

static void scatter_vjp(ag_opctx *c)
{
    const agi_index_attr *a = ag_attr(c);
    ag_view gx = ag_in_grad(c, 0);
    int ax = agi_axis(a->axis, gx.ndim);
    agi_index_take(gx.x, ag_out_grad(c).x, agi_prod(gx.shape, 0, ax), a->dim,
                   agi_prod(gx.shape, ax + 1, gx.ndim), a->idx, a->n, 1);
}

const ag_op_def ag_op_scatter_add = {.name = "scatter_add", .n_in = 1, .shape = agi_index_shape,
                                     .forward = scatter_forward, .vjp = scatter_vjp};

ag_tensor *ag_scatter_add(ag_tape *t, ag_tensor *x, int axis, const int64_t *idx, size_t dim)
{
    return agi_index_apply(t, &ag_op_scatter_add, x, axis, idx, ag_dim(x, axis), dim, 1);
}
