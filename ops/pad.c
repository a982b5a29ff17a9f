/* Constant padding: y has shape before[d] + x.shape[d] + after[d] on every
 * axis d; y = x on the interior (shifted by before), value elsewhere.
 * VJP: gx += the interior of gy (the padding is constant: no gradient). */
#include <string.h>
#include "util.h"

typedef struct pad_attr {
    int ndim;
    int null_arg;
    size_t before[AG_MAX_DIMS], after[AG_MAX_DIMS];
    ag_real value;
} pad_attr;

static int pad_shape(ag_opctx *c, size_t *out, int *nd)
{
    const pad_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    if (a->null_arg)
        return ag_op_fail(c, AG_EINVAL, "before or after is NULL for x%s", ag_in_shape_str(c, 0));
    if (a->ndim != x.ndim)
        return ag_op_fail(c, AG_EINVAL, "%d pad sizes for x%s", a->ndim, ag_in_shape_str(c, 0));
    for (int d = 0; d < x.ndim; d++) {
        if (a->before[d] > SIZE_MAX / 4 || a->after[d] > SIZE_MAX / 4 || x.shape[d] > SIZE_MAX / 4)
            return ag_op_fail(c, AG_EINVAL, "padding of axis %d too large for x%s", d,
                              ag_in_shape_str(c, 0));
        out[d] = a->before[d] + x.shape[d] + a->after[d];
    }
    *nd = x.ndim;
    return 0;
}

/* Axes after merging each unpadded trailing block into the axis before it,
 * so that the innermost copies are as long as possible. */
typedef struct pad_geom {
    int m;
    size_t in[AG_MAX_DIMS], bef[AG_MAX_DIMS], aft[AG_MAX_DIMS];
    size_t ist[AG_MAX_DIMS], ost[AG_MAX_DIMS]; /* row-major strides of x and y */
} pad_geom;

static void geom(const ag_opctx *c, pad_geom *g)
{
    const pad_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    size_t rin[AG_MAX_DIMS], rb[AG_MAX_DIMS], ra[AG_MAX_DIMS];
    int m = 0;
    for (int d = x.ndim - 1; d >= 0; d--) {
        if (m > 0 && rb[m - 1] == 0 && ra[m - 1] == 0) {
            size_t blk = rin[m - 1];
            rin[m - 1] = x.shape[d] * blk;
            rb[m - 1] = a->before[d] * blk;
            ra[m - 1] = a->after[d] * blk;
        } else {
            rin[m] = x.shape[d];
            rb[m] = a->before[d];
            ra[m] = a->after[d];
            m++;
        }
    }
    if (m == 0) { /* a scalar */
        rin[0] = 1;
        rb[0] = ra[0] = 0;
        m = 1;
    }
    g->m = m;
    size_t is = 1, os = 1;
    for (int k = m - 1; k >= 0; k--) {
        int r = m - 1 - k;
        g->in[k] = rin[r];
        g->bef[k] = rb[r];
        g->aft[k] = ra[r];
        g->ist[k] = is;
        g->ost[k] = os;
        is *= rin[r];
        os *= rb[r] + rin[r] + ra[r];
    }
}

static void fill(ag_real *y, size_t n, ag_real v)
{
    for (size_t i = 0; i < n; i++) y[i] = v;
}

/* y (axes k and after) = x padded with v: padding blocks are filled whole,
 * the innermost interior rows are copied with memcpy. */
static void fwd_rec(const pad_geom *g, int k, ag_real *y, const ag_real *x, ag_real v)
{
    if (k == g->m - 1) {
        fill(y, g->bef[k], v);
        memcpy(y + g->bef[k], x, g->in[k] * sizeof *y);
        fill(y + g->bef[k] + g->in[k], g->aft[k], v);
        return;
    }
    fill(y, g->bef[k] * g->ost[k], v);
    y += g->bef[k] * g->ost[k];
    for (size_t i = 0; i < g->in[k]; i++, y += g->ost[k], x += g->ist[k])
        fwd_rec(g, k + 1, y, x, v);
    fill(y, g->aft[k] * g->ost[k], v);
}

/* gx (axes k and after) += interior of gy. */
static void vjp_rec(const pad_geom *g, int k, ag_real *gx, const ag_real *gy)
{
    gy += g->bef[k] * g->ost[k];
    if (k == g->m - 1) {
        for (size_t i = 0; i < g->in[k]; i++) gx[i] += gy[i];
        return;
    }
    for (size_t i = 0; i < g->in[k]; i++, gx += g->ist[k], gy += g->ost[k])
        vjp_rec(g, k + 1, gx, gy);
}

static void pad_forward(ag_opctx *c)
{
    const pad_attr *a = ag_attr(c);
    pad_geom g;
    geom(c, &g);
    fwd_rec(&g, 0, ag_out(c).x, ag_in(c, 0).x, a->value);
}

static void pad_vjp(ag_opctx *c)
{
    pad_geom g;
    geom(c, &g);
    vjp_rec(&g, 0, ag_in_grad(c, 0).x, ag_out_grad(c).x);
}

const ag_op_def ag_op_pad = {.name = "pad", .n_in = 1, .shape = pad_shape,
                             .forward = pad_forward, .vjp = pad_vjp};

ag_tensor *ag_pad(ag_tape *t, ag_tensor *x, const size_t *before, const size_t *after,
                  ag_real value)
{
    pad_attr a;
    memset(&a, 0, sizeof a);
    a.ndim = ag_ndim(x);
    a.null_arg = a.ndim > 0 && (!before || !after);
    if (!a.null_arg && a.ndim > 0) {
        memcpy(a.before, before, (size_t)a.ndim * sizeof *before);
        memcpy(a.after, after, (size_t)a.ndim * sizeof *after);
    }
    a.value = value;
    return ag_apply(t, &ag_op_pad, &x, 1, &a, sizeof a);
}
