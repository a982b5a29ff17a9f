/* y = x_0, ..., x_{n-1} (one shape) joined along a new axis:
 * y[..., i, ...] = x_i, y.shape = x.shape with n inserted at axis.
 * Seen as [outer, n, inner]: each output row is the concatenation of one
 * contiguous block of inner elements per input.
 * VJP: gx_i += gy[..., i, ...] */
#include <string.h>
#include "util.h"

static int stack_shape(ag_opctx *c, size_t *out, int *nd)
{
    const agi_join_attr *a = ag_attr(c);
    ag_view x0 = ag_in(c, 0);
    int ax = agi_axis(a->axis, x0.ndim + 1);
    if (x0.ndim >= AG_MAX_DIMS)
        return ag_op_fail(c, AG_EINVAL, "stacking x0%s would exceed %d dims", ag_in_shape_str(c, 0),
                          AG_MAX_DIMS);
    if (ax < 0)
        return ag_op_fail(c, AG_EINVAL, "axis %d out of range for stacking x0%s", a->axis,
                          ag_in_shape_str(c, 0));
    for (int i = 1; i < ag_n_in(c); i++) {
        ag_view x = ag_in(c, i);
        if (x.ndim != x0.ndim || memcmp(x.shape, x0.shape, (size_t)x.ndim * sizeof *x.shape))
            return ag_op_fail(c, AG_EINVAL, "shapes differ: x0%s x%d%s", ag_in_shape_str(c, 0), i,
                              ag_in_shape_str(c, i));
    }
    for (int d = 0, k = 0; d <= x0.ndim; d++)
        out[d] = d == ax ? (size_t)ag_n_in(c) : x0.shape[k++];
    *nd = x0.ndim + 1;
    return 0;
}

const ag_op_def ag_op_stack = {.name = "stack", .n_in = -1, .shape = stack_shape,
                               .forward = agi_join_forward, .vjp = agi_join_vjp};

ag_tensor *ag_stack(ag_tape *t, ag_tensor *const *xs, int n, int axis)
{
    agi_join_attr a = {axis, 1};
    return ag_apply(t, &ag_op_stack, xs, n, &a, sizeof a);
}
