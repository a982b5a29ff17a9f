/* Broadcasting drivers of the binary elementwise ops (sub, div, maximum).
 *
 * Each op supplies plain contiguous kernels; these drivers handle shapes.
 * With equal element counts the operands all have the output's layout, and
 * the kernel runs once over the whole arrays. Otherwise agi_bcast_loop() cuts
 * the output into runs; an operand that is strided or broadcast along a run is
 * copied into a block of BLOCK elements on the stack, so the kernel never sees
 * a stride. Gradients are reduced back to the input's shape as they are
 * produced (the adjoint of broadcasting is a sum over the broadcast axes). */
#include <string.h>
#include "internal.h"
#include "elementwise.h"

#define BLOCK 256

/* dst[j] = src[j * stride] for j < m (stride 0 repeats src[0]); returns the
 * array the kernel should read: src itself when it is already contiguous. */
static const ag_real *gather(ag_real *dst, const ag_real *src, size_t stride, size_t m)
{
    if (stride == 1)
        return src;
    if (stride == 0) { /* a broadcast value: a fill, which vectorises */
        ag_real v = *src;
        for (size_t j = 0; j < m; j++)
            dst[j] = v;
        return dst;
    }
    for (size_t j = 0; j < m; j++)
        dst[j] = src[j * stride];
    return dst;
}

typedef struct map_args {
    agi_unary_fwd *u; /* a unary forward (a and b unused), or */
    agi_bin_fwd f;
    agi_bin_grad g;
    const ag_real *gy, *a, *b;
    ag_real *y;
    int store; /* the gradient kernel stores (first write) */
} map_args;

static const ag_real *at(const ag_real *p, size_t i)
{
    return p ? p + i : NULL;
}

static void map_span(void *ctx, size_t lo, size_t hi)
{
    const map_args *m = ctx;
    if (m->u) {
        m->u(hi - lo, m->a + lo, m->y + lo);
        return;
    }
    if (m->f) {
        m->f(hi - lo, m->a + lo, at(m->b, lo), m->y + lo);
        return;
    }
    m->g(hi - lo, m->gy + lo, at(m->a, lo), at(m->b, lo), m->y + lo, m->store);
}

static void map_run(size_t n, map_args *m)
{
    if (n <= AGI_ELEM_SPAN) /* what agi_parallel_for would do, without the call */
        map_span(m, 0, n);
    else
        agi_parallel_for(n, AGI_ELEM_SPAN, map_span, m);
}

void agi_map(size_t n, agi_bin_fwd k, const ag_real *a, const ag_real *b, ag_real *y)
{
    map_args m = {NULL, k, NULL, NULL, a, b, y, 0};
    map_run(n, &m);
}

void agi_unary_forward(ag_opctx *c, agi_unary_fwd *f)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    map_args m = {f, NULL, NULL, NULL, x.x, NULL, y.x, 0};
    map_run(y.len, &m);
}

void agi_map_grad(size_t n, agi_bin_grad g, const ag_real *gy, const ag_real *a,
                  const ag_real *b, ag_real *gx, int first)
{
    map_args m = {NULL, NULL, g, gy, a, b, gx, first};
    map_run(n, &m);
}

void agi_unary_vjp(ag_opctx *c, agi_bin_grad d, int from_output)
{
    ag_view v = from_output ? ag_out(c) : ag_in(c, 0), gy = ag_out_grad(c);
    int first;
    ag_view gx = ag_in_grad_first(c, 0, &first);
    agi_map_grad(gy.len, d, gy.x, v.x, NULL, gx.x, first);
}

/* p = {y, a, b} */
static void fwd_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    agi_bin_fwd f = *(const agi_bin_fwd *)ud;
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
        f(n, p[1], p[2], p[0]);
        return;
    }
    ag_real ab[BLOCK], bb[BLOCK], yb[BLOCK];
    for (size_t k = 0; k < n; k += BLOCK) {
        size_t m = n - k < BLOCK ? n - k : BLOCK;
        /* a block of a broadcast value is filled once per run */
        const ag_real *a = k && !s[1] ? ab : gather(ab, p[1] + k * s[1], s[1], m);
        const ag_real *b = k && !s[2] ? bb : gather(bb, p[2] + k * s[2], s[2], m);
        ag_real *y = s[0] == 1 ? p[0] + k : yb;
        f(m, a, b, y);
        if (s[0] != 1) /* only a one-element output has no unit stride */
            for (size_t j = 0; j < m; j++) p[0][(k + j) * s[0]] = yb[j];
    }
}

/* A broadcast forward split over the threads along the output's first
 * axis: rows [lo, hi) of it, with each operand's matching rows (or all of
 * an operand broadcast along that axis). */
typedef struct fwd_rows_args {
    agi_bin_fwd f;
    ag_view v[3];   /* y, a, b */
    size_t step[3]; /* elements per row of the first axis; 0 if broadcast along it */
} fwd_rows_args;

static void fwd_rows(void *ctx, size_t lo, size_t hi)
{
    fwd_rows_args *q = ctx;
    size_t shape[3][AG_MAX_DIMS];
    const size_t *sh[3];
    ag_real *base[3];
    int nd[3];
    for (int k = 0; k < 3; k++) {
        const ag_view *v = &q->v[k];
        for (int d = 0; d < v->ndim; d++) shape[k][d] = v->shape[d];
        if (q->step[k])
            shape[k][0] = hi - lo;
        sh[k] = shape[k];
        nd[k] = v->ndim;
        base[k] = v->x + lo * q->step[k];
    }
    agi_bcast_loop(3, base, sh, nd, shape[0], nd[0], fwd_run, &q->f);
}

void agi_binary_forward(ag_opctx *c, agi_bin_fwd f)
{
    ag_view y = ag_out(c), a = ag_in(c, 0), b = ag_in(c, 1);
    if (a.len == y.len && b.len == y.len) {
        agi_map(y.len, f, a.x, b.x, y.x);
        return;
    }
    fwd_rows_args q = {f, {y, a, b}, {0, 0, 0}};
    size_t rows = y.ndim ? y.shape[0] : 1;
    for (int k = 0; k < 3; k++) /* an operand with the output's first axis, not broadcast */
        if (q.v[k].ndim == y.ndim && y.ndim && q.v[k].shape[0] == rows && rows > 1)
            q.step[k] = q.v[k].len / rows;
    if (rows > 1 && y.len >= 2 * AGI_ELEM_SPAN) {
        agi_parallel_for(rows, (AGI_ELEM_SPAN + q.step[0] - 1) / q.step[0], fwd_rows, &q);
        return;
    }
    fwd_rows(&q, 0, rows);
}

/* p = {g, gy, a, b}; g is the gradient of one input: stride 0 where that
 * input is broadcast along the run, so the run's terms sum into one entry. */
static void grad_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    agi_bin_grad kern = *(const agi_bin_grad *)ud;
    if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {
        kern(n, p[1], p[2], p[3], p[0], 0);
        return;
    }
    ag_real gb[BLOCK], ab[BLOCK], bb[BLOCK], tb[BLOCK];
    for (size_t k = 0; k < n; k += BLOCK) {
        size_t m = n - k < BLOCK ? n - k : BLOCK;
        const ag_real *gy = gather(gb, p[1] + k * s[1], s[1], m);
        const ag_real *a = k && !s[2] ? ab : gather(ab, p[2] + k * s[2], s[2], m);
        const ag_real *b = k && !s[3] ? bb : gather(bb, p[3] + k * s[3], s[3], m);
        if (s[0] == 1) {
            kern(m, gy, a, b, p[0] + k, 0);
            continue;
        }
        kern(m, gy, a, b, tb, 1); /* stores */
        if (s[0] == 0) {
            ag_real sum = 0;
            for (size_t j = 0; j < m; j++) sum += tb[j];
            p[0][0] += sum;
        } else {
            for (size_t j = 0; j < m; j++) p[0][(k + j) * s[0]] += tb[j];
        }
    }
}

void agi_binary_vjp(ag_opctx *c, agi_bin_grad da, agi_bin_grad db)
{
    ag_view gy = ag_out_grad(c), a = ag_in(c, 0), b = ag_in(c, 1);
    agi_bin_grad kern[2] = {da, db};
    for (int i = 0; i < 2; i++) {
        if (!ag_wants_grad(c, i))
            continue;
        if (a.len == gy.len && b.len == gy.len) {
            int first;
            ag_view g = ag_in_grad_first(c, i, &first);
            agi_map_grad(gy.len, kern[i], gy.x, a.x, b.x, g.x, first);
            continue;
        }
        ag_view g = ag_in_grad(c, i);
        ag_real *base[4] = {g.x, gy.x, a.x, b.x};
        const size_t *sh[4] = {g.shape, gy.shape, a.shape, b.shape};
        int nd[4] = {g.ndim, gy.ndim, a.ndim, b.ndim};
        agi_bcast_loop(4, base, sh, nd, gy.shape, gy.ndim, grad_run, &kern[i]);
    }
}
