/* y = log softmax of x along one axis:
 *     y_j = (x_j - m) - log sum_k exp(x_k - m),   m = max_k x_k
 * (m only keeps exp in range; it cancels, and NaN in a run propagates to it.)
 * VJP: gx_j += gy_j - exp(y_j) sum_k gy_k        (exp(y) is the softmax)
 * Attribute: the axis (negative counts from the end).
 *
 * One pass per run of the axis replaces the six ops of the composed form
 * (max, sub, exp, sum, log, sub), and the sums are kept in double. x is
 * seen as [outer, r, inner] with the axis in the middle; runs are
 * independent, so splitting outer over the threads changes no result. */
#include <math.h>
#include "internal.h"
#include "elementwise.h"
#include "kernels/vmath.h"

/* Values handled at once, on the stack: a block of the inner dim, a group
 * of short rows of the last axis, or a piece of a long one. */
#define BLK 256

static int log_softmax_shape(ag_opctx *c, size_t *out, int *nd)
{
    ag_view x = ag_in(c, 0);
    int axis = *(const int *)ag_attr(c), a = agi_axis(axis, x.ndim);
    if (a < 0)
        return ag_op_fail(c, AG_EINVAL, "axis %d out of range for x%s", axis,
                          ag_in_shape_str(c, 0));
    if (x.shape[a] == 0 && agi_prod(x.shape, 0, a) * agi_prod(x.shape, a + 1, x.ndim) > 0)
        return ag_op_fail(c, AG_EINVAL, "softmax over an empty axis %d of x%s", axis,
                          ag_in_shape_str(c, 0));
    for (int d = 0; d < x.ndim; d++) out[d] = x.shape[d];
    *nd = x.ndim;
    return 0;
}

typedef struct ls_job {
    const ag_real *x, *gy;
    ag_real *y, *gx;
    size_t r, inner;
    int store;
} ls_job;

/* Rows [lo, hi) of outer, each in blocks of up to BLK inner values. */
static void forward_task(void *ctx, size_t lo, size_t hi)
{
    const ls_job *j = ctx;
    size_t r = j->r, inner = j->inner;
    ag_real m[BLK], e[BLK];
    double s[BLK];
    for (size_t o = lo; o < hi; o++)
        for (size_t i0 = 0; i0 < inner; i0 += BLK) {
            size_t w = inner - i0 < BLK ? inner - i0 : BLK;
            const ag_real *x = j->x + o * r * inner + i0;
            ag_real *y = j->y + o * r * inner + i0;
            for (size_t i = 0; i < w; i++) m[i] = x[i], s[i] = 0;
            for (size_t k = 1; k < r; k++)
                for (size_t i = 0; i < w; i++) m[i] = agi_max_nan(x[k * inner + i], m[i]);
            for (size_t k = 0; k < r; k++) {
                for (size_t i = 0; i < w; i++) y[k * inner + i] = x[k * inner + i] - m[i];
                agi_vexp(w, y + k * inner, e);
                for (size_t i = 0; i < w; i++) s[i] += e[i];
            }
            for (size_t i = 0; i < w; i++) e[i] = (ag_real)s[i];
            agi_vlog(w, e, e);
            for (size_t k = 0; k < r; k++)
                for (size_t i = 0; i < w; i++) y[k * inner + i] -= e[i];
        }
}

/* The same layout for the VJP. */
static void vjp_task(void *ctx, size_t lo, size_t hi)
{
    const ls_job *j = ctx;
    size_t r = j->r, inner = j->inner;
    ag_real e[BLK], sg[BLK];
    double s[BLK];
    for (size_t o = lo; o < hi; o++)
        for (size_t i0 = 0; i0 < inner; i0 += BLK) {
            size_t w = inner - i0 < BLK ? inner - i0 : BLK, off = o * r * inner + i0;
            const ag_real *y = j->y + off, *gy = j->gy + off;
            ag_real *gx = j->gx + off;
            for (size_t i = 0; i < w; i++) s[i] = 0;
            for (size_t k = 0; k < r; k++)
                for (size_t i = 0; i < w; i++) s[i] += gy[k * inner + i];
            for (size_t i = 0; i < w; i++) sg[i] = (ag_real)s[i];
            for (size_t k = 0; k < r; k++) {
                const ag_real *yk = y + k * inner, *gk = gy + k * inner;
                ag_real *xk = gx + k * inner;
                agi_vexp(w, yk, e);
                AGI_GRAD_LOOP(w, xk, j->store, gk[i] - e[i] * sg[i]);
            }
        }
}

/* Rows of the last axis, runs of r <= BLK values: as many whole rows as
 * fit in BLK values at a time, so that each vector exp and log call covers
 * a group of rows (W-MLP's [64, 10] logits: 3.3 -> 1.0 us forward). */
static void forward_rows(void *ctx, size_t lo, size_t hi)
{
    const ls_job *j = ctx;
    size_t r = j->r, per = BLK / r;
    ag_real e[BLK], ls[BLK];
    for (size_t o0 = lo; o0 < hi; o0 += per) {
        size_t g = hi - o0 < per ? hi - o0 : per;
        const ag_real *x = j->x + o0 * r;
        ag_real *y = j->y + o0 * r;
        for (size_t q = 0; q < g; q++) {
            const ag_real *xq = x + q * r;
            ag_real m = xq[0];
            for (size_t k = 1; k < r; k++) m = agi_max_nan(xq[k], m);
            for (size_t k = 0; k < r; k++) y[q * r + k] = xq[k] - m;
        }
        agi_vexp(g * r, y, e);
        for (size_t q = 0; q < g; q++) {
            double s = 0;
            for (size_t k = 0; k < r; k++) s += e[q * r + k];
            ls[q] = (ag_real)s;
        }
        agi_vlog(g, ls, ls);
        for (size_t q = 0; q < g; q++)
            for (size_t k = 0; k < r; k++) y[q * r + k] -= ls[q];
    }
}

static void vjp_rows(void *ctx, size_t lo, size_t hi)
{
    const ls_job *j = ctx;
    size_t r = j->r, per = BLK / r;
    ag_real e[BLK];
    for (size_t o0 = lo; o0 < hi; o0 += per) {
        size_t g = hi - o0 < per ? hi - o0 : per;
        const ag_real *y = j->y + o0 * r, *gy = j->gy + o0 * r;
        ag_real *gx = j->gx + o0 * r;
        agi_vexp(g * r, y, e);
        for (size_t q = 0; q < g; q++) {
            double s = 0;
            for (size_t k = 0; k < r; k++) s += gy[q * r + k];
            ag_real sg = (ag_real)s;
            const ag_real *gq = gy + q * r, *eq = e + q * r;
            AGI_GRAD_LOOP(r, gx + q * r, j->store, gq[i] - eq[i] * sg);
        }
    }
}

/* Rows of the last axis longer than BLK: one row at a time, its exps BLK
 * values at a time. */
static void forward_long(void *ctx, size_t lo, size_t hi)
{
    const ls_job *j = ctx;
    size_t r = j->r;
    ag_real e[BLK];
    for (size_t o = lo; o < hi; o++) {
        const ag_real *x = j->x + o * r;
        ag_real *y = j->y + o * r;
        ag_real m = x[0];
        for (size_t k = 1; k < r; k++) m = agi_max_nan(x[k], m);
        double s = 0;
        for (size_t k0 = 0; k0 < r; k0 += BLK) {
            size_t w = r - k0 < BLK ? r - k0 : BLK;
            for (size_t k = 0; k < w; k++) y[k0 + k] = x[k0 + k] - m;
            agi_vexp(w, y + k0, e);
            for (size_t k = 0; k < w; k++) s += e[k];
        }
        e[0] = (ag_real)s;
        agi_vlog(1, e, e);
        for (size_t k = 0; k < r; k++) y[k] -= e[0];
    }
}

static void vjp_long(void *ctx, size_t lo, size_t hi)
{
    const ls_job *j = ctx;
    size_t r = j->r;
    ag_real e[BLK];
    for (size_t o = lo; o < hi; o++) {
        const ag_real *y = j->y + o * r, *gy = j->gy + o * r;
        ag_real *gx = j->gx + o * r;
        double s = 0;
        for (size_t k = 0; k < r; k++) s += gy[k];
        ag_real sg = (ag_real)s;
        for (size_t k0 = 0; k0 < r; k0 += BLK) {
            size_t w = r - k0 < BLK ? r - k0 : BLK;
            agi_vexp(w, y + k0, e);
            AGI_GRAD_LOOP(w, gx + k0, j->store, gy[k0 + i] - e[i] * sg);
        }
    }
}

/* The job's [outer, r, inner] split over the pool, at least
 * AGI_ELEM_SPAN values a piece. */
static void run(ls_job *j, const ag_view *x, int axis, int vjp)
{
    int a = agi_axis(axis, x->ndim); /* (checked by the shape rule) */
    size_t outer = agi_prod(x->shape, 0, a), inner = agi_prod(x->shape, a + 1, x->ndim);
    j->r = x->shape[a];
    j->inner = inner;
    if (x->len == 0)
        return;
    size_t per_row = j->r * inner, min_rows = AGI_ELEM_SPAN / per_row + 1;
    agi_task_fn *fn = inner > 1      ? (vjp ? vjp_task : forward_task)
                      : j->r <= BLK ? (vjp ? vjp_rows : forward_rows)
                                    : (vjp ? vjp_long : forward_long);
    agi_parallel_for(outer, min_rows, fn, j);
}

static void log_softmax_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    ls_job j = {.x = x.x, .y = y.x};
    run(&j, &x, *(const int *)ag_attr(c), 0);
}

static void log_softmax_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c), gy = ag_out_grad(c);
    int first;
    ag_view gx = ag_in_grad_first(c, 0, &first);
    if (!gx.x)
        return;
    ls_job j = {.y = y.x, .gy = gy.x, .gx = gx.x, .store = first};
    run(&j, &x, *(const int *)ag_attr(c), 1);
}

const ag_op_def ag_op_log_softmax = {.name = "log_softmax", .n_in = 1,
                                     .shape = log_softmax_shape,
                                     .forward = log_softmax_forward,
                                     .vjp = log_softmax_vjp};

ag_tensor *ag_log_softmax(ag_tape *t, ag_tensor *x, int axis)
{
    return ag_apply(t, &ag_op_log_softmax, &x, 1, &axis, sizeof axis);
}
