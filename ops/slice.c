/* y = x[..., start : start + len, ...] along one axis
 * Seen as [outer, dim, inner]: y[o, j, :] = x[o, start + j, :], one
 * contiguous block of len * inner elements per o.
 * VJP: gx[o, start + j, :] += gy[o, j, :] */
#include <string.h>
#include <stddef.h>
#include "internal.h"
#include "util.h"

typedef struct slice_attr {
    int axis;
    size_t start, len;
} slice_attr;

static int slice_shape(ag_opctx *c, size_t *out, int *nd)
{
    const slice_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    int ax = agi_axis(a->axis, x.ndim);
    if (ax < 0)
        return ag_op_fail(c, AG_EINVAL, "axis %d out of range for x%s", a->axis, ag_in_shape_str(c, 0));
    if (a->start > x.shape[ax] || a->len > x.shape[ax] - a->start)
        return ag_op_fail(c, AG_EINVAL, "[%zu, %zu + %zu) exceeds axis %d of x%s", a->start, a->start,
                          a->len, a->axis, ag_in_shape_str(c, 0));
    memcpy(out, x.shape, (size_t)x.ndim * sizeof *out);
    out[ax] = a->len;
    *nd = x.ndim;
    return 0;
}

/* Offsets of the slice: outer rows, x's row length and the block copied. */
static void geom(const ag_opctx *c, size_t *outer, size_t *xrow, size_t *blk, size_t *off)
{
    const slice_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    int ax = agi_axis(a->axis, x.ndim);
    size_t inner = agi_prod(x.shape, ax + 1, x.ndim);
    *outer = agi_prod(x.shape, 0, ax);
    *xrow = x.shape[ax] * inner;
    *blk = a->len * inner;
    *off = a->start * inner;
}

static void slice_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    size_t outer, xrow, blk, off;
    geom(c, &outer, &xrow, &blk, &off);
    for (size_t o = 0; o < outer; o++)
        memcpy(y.x + o * blk, x.x + o * xrow + off, blk * sizeof *y.x);
}

static void slice_vjp(ag_opctx *c)
{
    ag_view gx = ag_in_grad(c, 0), gy = ag_out_grad(c);
    size_t outer, xrow, blk, off;
    geom(c, &outer, &xrow, &blk, &off);
    for (size_t o = 0; o < outer; o++) {
        ag_real *d = gx.x + o * xrow + off;
        const ag_real *g = gy.x + o * blk;
        for (size_t k = 0; k < blk; k++) d[k] += g[k];
    }
}

const ag_op_def ag_op_slice = {.name = "slice", .n_in = 1, .shape = slice_shape,
                               .forward = slice_forward, .vjp = slice_vjp};

/* Where the slice is one contiguous block of x (every axis before `axis`
 * has size 1, or the whole axis is taken), its first element; else -1.
 * Invalid arguments give -1 too: the shape rule then reports them. */
static ptrdiff_t block_start(const ag_tensor *x, int axis, size_t start, size_t len)
{
    if (ag_is_poisoned(x))
        return -1;
    int nd = ag_ndim(x);
    axis = axis < 0 ? axis + nd : axis;
    if (axis < 0 || axis >= nd)
        return -1;
    size_t dim = ag_dim(x, axis);
    if (start > dim || len > dim - start)
        return -1;
    if (len == dim && start == 0)
        return 0;
    for (int d = 0; d < axis; d++)
        if (ag_dim(x, d) != 1)
            return -1;
    size_t inner = 1;
    for (int d = axis + 1; d < nd; d++)
        inner *= ag_dim(x, d);
    return (ptrdiff_t)(start * inner);
}

ag_tensor *ag_slice(ag_tape *t, ag_tensor *x, int axis, size_t start, size_t len)
{
    slice_attr a = {axis, start, len};
    /* A contiguous block is a view (no copy; gradients land in x's buffer);
     * ag_apply(&ag_op_slice, ...) always runs the callbacks above. */
    ptrdiff_t off = block_start(x, axis, start, len);
    if (off >= 0)
        return agi_apply_view_at(t, &ag_op_slice, &x, 1, &a, sizeof a, (size_t)off);
    return ag_apply(t, &ag_op_slice, &x, 1, &a, sizeof a);
}
