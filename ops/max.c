/* y = max of x over the chosen axes (NaN propagates)
 * VJP: gx[i] += gy[o(i)] * [x[i] == y[o(i)]] / count[o(i)]
 *      where o(i) is the output element x[i] folds into and count[o] the
 *      number of its inputs equal to the maximum: tied maxima share equally.
 * Saved: 1 / count[o] per output element. */
#include <math.h>
#include "internal.h"
#include "elementwise.h"
#include "kernels/vmath.h"

static int max_shape(ag_opctx *c, size_t *out, int *nd)
{
    if (agi_reduce_shape(c, out, nd))
        return AG_EINVAL;
    size_t keep[AG_MAX_DIMS];
    if (agi_reduce_keepshape(c, keep) == 0 && agi_prod(out, 0, *nd) > 0)
        return ag_op_fail(c, AG_EINVAL, "maximum over an empty axis of x%s", ag_in_shape_str(c, 0));
    return 0;
}

#define LANES 16

/* y (keep shape, stride 0 along reduced dims) = max(y, x) along one run.
 * x is the loop's shape, so its stride is 1. A reduction along the run
 * keeps LANES partial maxima to break the dependency chain. */
static void max_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    (void)ud;
    ag_real *y = p[0];
    const ag_real *x = p[1];
    if (s[0] != 0) {
        for (size_t i = 0; i < n; i++)
            y[i * s[0]] = agi_max_nan(x[i], y[i * s[0]]);
        return;
    }
    ag_real lane[LANES], m = y[0];
    size_t i = 0;
    if (n >= LANES) {
        for (int k = 0; k < LANES; k++)
            lane[k] = x[k];
        for (i = LANES; i + LANES <= n; i += LANES)
            for (int k = 0; k < LANES; k++)
                lane[k] = agi_max_nan(x[i + k], lane[k]);
        for (int k = 0; k < LANES; k++)
            m = agi_max_nan(lane[k], m);
    }
    for (; i < n; i++)
        m = agi_max_nan(x[i], m);
    y[0] = m;
}

/* count (keep shape) += [x == y] along one run. */
static void count_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    (void)ud;
    ag_real *cnt = p[0];
    const ag_real *x = p[1], *y = p[2];
    if (s[0] != 0) {
        for (size_t i = 0; i < n; i++)
            cnt[i * s[0]] += x[i] == y[i * s[2]];
        return;
    }
    size_t k = 0;
    ag_real m = y[0];
    for (size_t i = 0; i < n; i++)
        k += x[i] == m;
    cnt[0] += (ag_real)k;
}

typedef struct max_bwd {
    const ag_real *y0, *inv; /* y's base and the saved 1/count, indexed alike */
} max_bwd;

/* gx += gy * [x == y] / count along one run (gx and x have stride 1). */
static void max_vjp_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    const max_bwd *b = ud;
    ag_real *gx = p[0];
    const ag_real *x = p[1], *y = p[2], *gy = p[3];
    const ag_real *inv = b->inv + (y - b->y0);
    if (s[2] == 0) {
        ag_real m = y[0], w = gy[0] * inv[0];
        for (size_t i = 0; i < n; i++)
            gx[i] += x[i] == m ? w : 0;
        return;
    }
    for (size_t i = 0; i < n; i++)
        gx[i] += x[i] == y[i * s[2]] ? gy[i * s[3]] * inv[i * s[2]] : 0;
}

/* The common layout, x [outer, r, inner] reduced over r with inner > 1
 * (pooling windows, reductions over a middle axis): whole rows of inner
 * values at a time, in loops the compiler vectorises. */
static void max_block(const ag_real *restrict x, ag_real *restrict y, ag_real *restrict inv,
                      size_t outer, size_t r, size_t inner)
{
    for (size_t o = 0; o < outer; o++, x += r * inner, y += inner, inv += inner) {
        for (size_t i = 0; i < inner; i++) y[i] = x[i];
        for (size_t j = 1; j < r; j++)
            for (size_t i = 0; i < inner; i++) y[i] = agi_max_nan(x[j * inner + i], y[i]);
        for (size_t i = 0; i < inner; i++) inv[i] = 0;
        for (size_t j = 0; j < r; j++)
            for (size_t i = 0; i < inner; i++) inv[i] += x[j * inner + i] == y[i];
        for (size_t i = 0; i < inner; i++) inv[i] = inv[i] > 0 ? 1 / inv[i] : 0;
    }
}

/* every element of gx is written: with store, the first write into it
 * (ag_in_grad_first) stores */
static void max_block_vjp(ag_real *restrict gx, const ag_real *restrict x,
                          const ag_real *restrict y, const ag_real *restrict gy,
                          const ag_real *restrict inv, size_t outer, size_t r, size_t inner,
                          int store)
{
    for (size_t o = 0; o < outer; o++) {
        const ag_real *yo = y + o * inner, *go = gy + o * inner, *vo = inv + o * inner;
        for (size_t j = 0; j < r; j++) {
            size_t base = (o * r + j) * inner;
            /* w unconditional: the select then vectorises */
            if (store)
                for (size_t i = 0; i < inner; i++) {
                    ag_real w = go[i] * vo[i];
                    gx[base + i] = x[base + i] == yo[i] ? w : 0;
                }
            else
                for (size_t i = 0; i < inner; i++) {
                    ag_real w = go[i] * vo[i];
                    gx[base + i] += x[base + i] == yo[i] ? w : 0;
                }
        }
    }
}

/* x [outer, r1, mid, r2] reduced over r1 and r2: 2-d windows that tile an
 * image (max pooling, x seen as [N C oh, k, ow, k]). Each window is taken
 * in the order (r1, r2) row-major, as from an unfolded window, so y is the
 * generic loops' to the bit. 2 x 2 windows, nearly every pooling layer,
 * have kernels of their own (agi_vmax2x2, in that same order). */
static void max_block2(const ag_real *restrict x, ag_real *restrict y, ag_real *restrict inv,
                       size_t outer, size_t r1, size_t mid, size_t r2)
{
    if (r1 == 2 && r2 == 2) {
        agi_vmax2x2(outer, mid, x, y, inv);
        return;
    }
    size_t row = mid * r2;
    for (size_t o = 0; o < outer; o++, x += r1 * row, y += mid, inv += mid)
        for (size_t m = 0; m < mid; m++) {
            ag_real v = x[m * r2], n = 0;
            for (size_t a = 0; a < r1; a++)
                for (size_t b = 0; b < r2; b++) v = agi_max_nan(x[a * row + m * r2 + b], v);
            for (size_t a = 0; a < r1; a++)
                for (size_t b = 0; b < r2; b++) n += x[a * row + m * r2 + b] == v;
            y[m] = v;
            inv[m] = n > 0 ? 1 / n : 0;
        }
}

/* The VJP over the same layout: every element of gx is written. */
static void max_block2_vjp(ag_real *restrict gx, const ag_real *restrict x,
                           const ag_real *restrict y, const ag_real *restrict gy,
                           const ag_real *restrict inv, size_t outer, size_t r1, size_t mid,
                           size_t r2, int store)
{
    if (r1 == 2 && r2 == 2 && store) {
        agi_vmax2x2_vjp(outer, mid, x, y, gy, inv, gx);
        return;
    }
    size_t row = mid * r2;
    for (size_t o = 0; o < outer; o++, x += r1 * row, gx += r1 * row, y += mid, gy += mid,
                inv += mid)
        for (size_t a = 0; a < r1; a++)
            for (size_t m = 0; m < mid; m++) {
                ag_real w = gy[m] * inv[m], v = y[m];
                const ag_real *xw = x + a * row + m * r2;
                ag_real *gw = gx + a * row + m * r2;
                for (size_t b = 0; b < r2; b++) {
                    ag_real g = xw[b] == v ? w : 0;
                    gw[b] = store ? g : gw[b] + g;
                }
            }
}

/* The block loops over rows [lo, hi) of outer, for the thread pool: rows
 * are independent, so the split changes no result. */
typedef struct block_job {
    const ag_real *x, *y, *gy, *inv_in;
    ag_real *out, *inv, *gx;
    size_t r, inner; /* [outer, r, inner]; [outer, r, inner / r2, r2] when r2 */
    size_t r2;
    int store; /* the VJP's first write into gx */
} block_job;

static void block_fwd_task(void *ctx, size_t lo, size_t hi)
{
    const block_job *j = ctx;
    size_t ri = j->r * j->inner, mid = j->r2 ? j->inner / j->r2 : j->inner;
    if (j->r2)
        max_block2(j->x + lo * ri, j->out + lo * mid, j->inv + lo * mid, hi - lo, j->r, mid,
                   j->r2);
    else
        max_block(j->x + lo * ri, j->out + lo * mid, j->inv + lo * mid, hi - lo, j->r, mid);
}

static void block_vjp_task(void *ctx, size_t lo, size_t hi)
{
    const block_job *j = ctx;
    size_t ri = j->r * j->inner, mid = j->r2 ? j->inner / j->r2 : j->inner, o = lo * mid;
    if (j->r2)
        max_block2_vjp(j->gx + lo * ri, j->x + lo * ri, j->y + o, j->gy + o, j->inv_in + o,
                       hi - lo, j->r, mid, j->r2, j->store);
    else
        max_block_vjp(j->gx + lo * ri, j->x + lo * ri, j->y + o, j->gy + o, j->inv_in + o,
                      hi - lo, j->r, mid, j->store);
}

/* The block layouts the loops above take: [outer, r, inner] with inner > 1
 * (r2 = 0), or [outer, r1, mid, r2]; 0 for the generic loops. */
static int block_layout(ag_opctx *c, block_job *j, size_t *outer)
{
    size_t r, inner, r1, mid, r2;
    if (agi_reduce_block(c, outer, &r, &inner) && inner > 1 && r > 0) {
        j->r = r, j->inner = inner, j->r2 = 0;
        return 1;
    }
    if (agi_reduce_block2(c, outer, &r1, &mid, &r2)) {
        j->r = r1, j->inner = mid * r2, j->r2 = r2;
        return 1;
    }
    return 0;
}

static size_t rows_per_span(size_t r, size_t inner)
{
    return AGI_ELEM_SPAN / (r * inner) + 1;
}

static void max_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    size_t keep[AG_MAX_DIMS], outer;
    ag_real *inv = ag_save_alloc(c, y.len * sizeof *inv);
    if (!inv)
        return;
    block_job j = {.x = x.x, .out = y.x, .inv = inv};
    if (block_layout(c, &j, &outer)) {
        agi_parallel_for(outer, rows_per_span(j.r, j.inner), block_fwd_task, &j);
        return;
    }
    agi_reduce_keepshape(c, keep);
    for (size_t i = 0; i < y.len; i++)
        y.x[i] = -(ag_real)INFINITY;
    ag_real *b1[2] = {y.x, x.x};
    const size_t *s1[2] = {keep, x.shape};
    int n1[2] = {x.ndim, x.ndim};
    agi_bcast_loop(2, b1, s1, n1, x.shape, x.ndim, max_run, NULL);
    ag_real *b2[3] = {inv, x.x, y.x};
    const size_t *s2[3] = {keep, x.shape, keep};
    int n2[3] = {x.ndim, x.ndim, x.ndim};
    agi_bcast_loop(3, b2, s2, n2, x.shape, x.ndim, count_run, NULL);
    for (size_t i = 0; i < y.len; i++)
        inv[i] = inv[i] > 0 ? 1 / inv[i] : 0; /* count 0: y is NaN, no gradient */
}

static void max_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c), gy = ag_out_grad(c);
    size_t keep[AG_MAX_DIMS], outer;
    block_job j = {.x = x.x, .y = y.x, .gy = gy.x, .inv_in = ag_saved(c)};
    if (block_layout(c, &j, &outer)) {
        int first;
        j.gx = ag_in_grad_first(c, 0, &first).x;
        j.store = first;
        agi_parallel_for(outer, rows_per_span(j.r, j.inner), block_vjp_task, &j);
        return;
    }
    ag_view gx = ag_in_grad(c, 0);
    agi_reduce_keepshape(c, keep);
    max_bwd b = {y.x, ag_saved(c)};
    ag_real *base[4] = {gx.x, x.x, y.x, gy.x};
    const size_t *sh[4] = {x.shape, x.shape, keep, keep};
    int nd[4] = {x.ndim, x.ndim, x.ndim, x.ndim};
    agi_bcast_loop(4, base, sh, nd, x.shape, x.ndim, max_vjp_run, &b);
}

const ag_op_def ag_op_max = {.name = "max", .n_in = 1, .shape = max_shape,
                             .forward = max_forward, .vjp = max_vjp};

ag_tensor *ag_max(ag_tape *t, ag_tensor *x, const int *axes, int n_axes, int keepdim)
{
    agi_reduce_attr a = agi_reduce_attr_make(axes, n_axes, keepdim);
    return ag_apply(t, &ag_op_max, &x, 1, &a, sizeof a);
}
