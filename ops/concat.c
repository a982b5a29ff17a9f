/* y = x_0, ..., x_{n-1} joined along an existing axis (other dims equal).
 * Seen as [outer, *]: each output row is the concatenation of one
 * contiguous block per input (dim_i * inner elements).
 * VJP: gx_i += block i of each row of gy */
#include <string.h>
#include "util.h"

static int concat_shape(ag_opctx *c, size_t *out, int *nd)
{
    const agi_join_attr *a = ag_attr(c);
    ag_view x0 = ag_in(c, 0);
    int ax = agi_axis(a->axis, x0.ndim);
    if (ax < 0)
        return ag_op_fail(c, AG_EINVAL, "axis %d out of range for x0%s", a->axis,
                          ag_in_shape_str(c, 0));
    memcpy(out, x0.shape, (size_t)x0.ndim * sizeof *out);
    for (int i = 1; i < ag_n_in(c); i++) {
        ag_view x = ag_in(c, i);
        int same = x.ndim == x0.ndim;
        for (int d = 0; same && d < x.ndim; d++)
            same = d == ax || x.shape[d] == x0.shape[d];
        if (!same)
            return ag_op_fail(c, AG_EINVAL, "shapes differ off axis %d: x0%s x%d%s", a->axis,
                              ag_in_shape_str(c, 0), i, ag_in_shape_str(c, i));
        out[ax] += x.shape[ax];
    }
    *nd = x0.ndim;
    return 0;
}

const ag_op_def ag_op_concat = {.name = "concat", .n_in = -1, .shape = concat_shape,
                                .forward = agi_join_forward, .vjp = agi_join_vjp};

ag_tensor *ag_concat(ag_tape *t, ag_tensor *const *xs, int n, int axis)
{
    agi_join_attr a = {axis, 0};
    return ag_apply(t, &ag_op_concat, xs, n, &a, sizeof a);
}
