/* Unfold (im2col): the kh x kw patches of an NCHW image, one column per
 * window position, so that a convolution is one matrix product.
 *
 *   y[n, (c kh + i) kw + j, oy ow + ox] = xp[n, c, oy sh + i dh, ox sw + j dw]
 *
 * where xp is x surrounded by ph rows and pw columns of pad_value. y is
 * [N, C kh kw, oh ow]: row r of image n is tap (c, i, j), in the order of a
 * weight [out_c, C, kh, kw] flattened to [out_c, C kh kw].
 *
 * Every entry of y is a copy of one entry of x or of the constant padding, so
 * VJP:  gx += fold(gy)   (each pixel collects the gradients of all its copies;
 *                         entries read from the padding carry no gradient). */
#include <stdint.h>
#include "window.h"

static int unfold_shape(ag_opctx *c, size_t *out, int *nd)
{
    const ag_window2d *g = ag_attr(c);
    ag_view x = ag_in(c, 0);
    if (x.ndim != 4)
        return ag_op_fail(c, AG_EINVAL, "input must be NCHW (4 dims): x%s", ag_in_shape_str(c, 0));
    char msg[160];
    size_t oh, ow;
    if (agi_window_check(g, x.shape[2], x.shape[3], &oh, &ow, msg, sizeof msg))
        return ag_op_fail(c, AG_EINVAL, "%s: x%s", msg, ag_in_shape_str(c, 0));
    if (x.shape[1] > SIZE_MAX / (g->kh * g->kw))
        return ag_op_fail(c, AG_EINVAL, "too many columns: x%s", ag_in_shape_str(c, 0));
    out[0] = x.shape[0];
    out[1] = x.shape[1] * g->kh * g->kw;
    out[2] = oh * ow;
    *nd = 3;
    return 0;
}

static void unfold_forward(ag_opctx *c)
{
    const ag_window2d *g = ag_attr(c);
    ag_view x = ag_in(c, 0), y = ag_out(c);
    agi_window_geom k = agi_window_geom_of(g, x.shape);
    agi_im2col_batch(x.x, &k, g, 0, g->pad_value, y.x);
}

static void unfold_vjp(ag_opctx *c)
{
    const ag_window2d *g = ag_attr(c);
    ag_view gy = ag_out_grad(c);
    int first;
    ag_view gx = ag_in_grad_first(c, 0, &first);
    agi_window_geom k = agi_window_geom_of(g, gx.shape);
    agi_col2im_batch(gy.x, &k, g, first, gx.x); /* G_x += fold(G_y) */
}

const ag_op_def ag_op_unfold = {.name = "unfold", .n_in = 1, .shape = unfold_shape,
                                .forward = unfold_forward, .vjp = unfold_vjp};

ag_tensor *ag_unfold(ag_tape *t, ag_tensor *x, const ag_window2d *win)
{
    static const ag_window2d none;
    ag_window2d g = agi_window_norm(win ? win : &none);
    return ag_apply(t, &ag_op_unfold, &x, 1, &g, sizeof g);
}
