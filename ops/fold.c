/* Fold (col2im), the adjoint of unfold: column entries are added back into
 * the pixel each one would have been copied from; overlapping windows sum,
 * and entries that fall in the padding are dropped.
 *
 *   y[n, c, i, j] = sum of x[n, (c kh + a) kw + b, oy ow + ox]
 *                   over taps (a, b) and windows (oy, ox) with
 *                   oy sh + a dh - ph = i  and  ox sw + b dw - pw = j
 *
 * x is [N, C kh kw, oh ow] (the layout ag_unfold() produces for an h x w
 * image); y is [N, C, h, w]. fold is linear with transpose unfold, so
 * VJP:  gx += unfold(gy)   (zero padding: dropped entries get no gradient). */
#include <string.h>
#include "window.h"

typedef struct fold_attr {
    ag_window2d g;
    size_t h, w; /* image size */
} fold_attr;

static int fold_shape(ag_opctx *c, size_t *out, int *nd)
{
    const fold_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    if (x.ndim != 3)
        return ag_op_fail(c, AG_EINVAL, "columns must be [N, C*kh*kw, L] (3 dims): x%s",
                          ag_in_shape_str(c, 0));
    char msg[160];
    size_t oh, ow;
    if (agi_window_check(&a->g, a->h, a->w, &oh, &ow, msg, sizeof msg))
        return ag_op_fail(c, AG_EINVAL, "%s: x%s", msg, ag_in_shape_str(c, 0));
    size_t taps = a->g.kh * a->g.kw;
    if (x.shape[1] % taps || x.shape[2] != oh * ow)
        return ag_op_fail(c, AG_EINVAL,
                          "columns x%s do not match a %zux%zu kernel over a %zux%zu image "
                          "(want [N, C*%zu, %zu])",
                          ag_in_shape_str(c, 0), a->g.kh, a->g.kw, a->h, a->w, taps, oh * ow);
    out[0] = x.shape[0];
    out[1] = x.shape[1] / taps;
    out[2] = a->h;
    out[3] = a->w;
    *nd = 4;
    return 0;
}

static void fold_forward(ag_opctx *c)
{
    const fold_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0), y = ag_out(c);
    agi_window_geom k = agi_window_geom_of(&a->g, y.shape);
    agi_col2im_batch(x.x, &k, &a->g, 1, y.x); /* y = 0, then the sums */
}

static void fold_vjp(ag_opctx *c)
{
    const fold_attr *a = ag_attr(c);
    ag_view gx = ag_in_grad(c, 0), gy = ag_out_grad(c);
    agi_window_geom k = agi_window_geom_of(&a->g, gy.shape);
    agi_im2col_batch(gy.x, &k, &a->g, 1, 0, gx.x); /* G_x += unfold(G_y) */
}

const ag_op_def ag_op_fold = {.name = "fold", .n_in = 1, .shape = fold_shape,
                              .forward = fold_forward, .vjp = fold_vjp};

ag_tensor *ag_fold(ag_tape *t, ag_tensor *cols, size_t h, size_t w, const ag_window2d *win)
{
    static const ag_window2d none;
    fold_attr a = {agi_window_norm(win ? win : &none), h, w};
    return ag_apply(t, &ag_op_fold, &cols, 1, &a, sizeof a);
}
