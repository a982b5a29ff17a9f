/* Broadcasting and other helpers shared by the primitive ops. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "util.h"
#include "elementwise.h"

int agi_axis(int axis, int ndim)
{
    if (axis < 0)
        axis += ndim;
    return axis >= 0 && axis < ndim ? axis : -1;
}

int agi_same_shape(ag_opctx *c, size_t *out, int *nd)
{
    ag_view x = ag_in(c, 0);
    for (int i = 0; i < x.ndim; i++) /* a loop: a libc call costs more for a few dims */
        out[i] = x.shape[i];
    *nd = x.ndim;
    return 0;
}

int ag_broadcast_shape(const size_t *a, int na, const size_t *b, int nb, size_t *out, int *out_nd)
{
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        size_t da = i < n - na ? 1 : a[i - (n - na)];
        size_t db = i < n - nb ? 1 : b[i - (n - nb)];
        if (da != db && da != 1 && db != 1)
            return -1;
        out[i] = da == 1 ? db : da;
    }
    *out_nd = n;
    return 0;
}

int agi_bcast_shape(ag_opctx *c, size_t *out, int *nd)
{
    ag_view a = ag_in(c, 0), b = ag_in(c, 1);
    if (ag_broadcast_shape(a.shape, a.ndim, b.shape, b.ndim, out, nd))
        return ag_op_fail(c, AG_EINVAL, "shapes do not broadcast: a%s b%s", ag_in_shape_str(c, 0),
                          ag_in_shape_str(c, 1));
    return 0;
}

#define MAXOPS 5

void agi_bcast_loop(int nops, ag_real *const *base, const size_t *const *shapes, const int *ndims,
                    const size_t *oshape, int ond, agi_run_fn run, void *ud)
{
    size_t dim[AG_MAX_DIMS], st[MAXOPS][AG_MAX_DIMS];
    int nd = 0;
    /* Fast path: every operand has the output's shape, or is a single element. */
    int simple = 1;
    size_t numel = 1, run_s[MAXOPS];
    for (int d = 0; d < ond; d++)
        numel *= oshape[d];
    for (int k = 0; k < nops && simple; k++) {
        int same = ndims[k] == ond, one = 1;
        for (int d = 0; d < ndims[k]; d++) {
            if (same && shapes[k][d] != oshape[d])
                same = 0;
            if (shapes[k][d] != 1)
                one = 0;
        }
        simple = same || one;
        run_s[k] = same ? 1 : 0;
    }
    if (simple) {
        if (numel)
            run(numel, base, run_s, ud);
        return;
    }
    /* Strides of each operand over the output's dims (0 where broadcast),
     * dropping output dims of size 1. */
    size_t acc[MAXOPS];
    for (int k = 0; k < nops; k++)
        acc[k] = 1;
    size_t tmp_st[MAXOPS][AG_MAX_DIMS];
    for (int d = ond - 1; d >= 0; d--) {
        for (int k = 0; k < nops; k++) {
            int kd = d - (ond - ndims[k]);
            size_t sz = kd >= 0 ? shapes[k][kd] : 1;
            tmp_st[k][d] = sz == 1 ? 0 : acc[k];
            acc[k] *= sz;
        }
    }
    for (int d = 0; d < ond; d++) {
        if (oshape[d] == 1)
            continue;
        if (nd > 0) {
            int merge = 1;
            for (int k = 0; k < nops; k++)
                if (st[k][nd - 1] != tmp_st[k][d] * oshape[d])
                    merge = 0;
            if (merge) {
                dim[nd - 1] *= oshape[d];
                for (int k = 0; k < nops; k++)
                    st[k][nd - 1] = tmp_st[k][d];
                continue;
            }
        }
        dim[nd] = oshape[d];
        for (int k = 0; k < nops; k++)
            st[k][nd] = tmp_st[k][d];
        nd++;
    }
    ag_real *p[MAXOPS];
    size_t inner_s[MAXOPS];
    for (int k = 0; k < nops; k++) {
        p[k] = base[k];
        inner_s[k] = nd ? st[k][nd - 1] : 0;
    }
    if (nd == 0) { /* every dim is 1: one element */
        for (int i = 0; i < ond; i++)
            if (oshape[i] == 0)
                return;
        run(1, p, inner_s, ud);
        return;
    }
    for (int d = 0; d < nd; d++)
        if (dim[d] == 0)
            return;
    size_t idx[AG_MAX_DIMS] = {0};
    size_t inner = dim[nd - 1];
    for (;;) {
        run(inner, p, inner_s, ud);
        int d = nd - 2;
        for (; d >= 0; d--) {
            for (int k = 0; k < nops; k++)
                p[k] += st[k][d];
            if (++idx[d] < dim[d])
                break;
            for (int k = 0; k < nops; k++)
                p[k] -= st[k][d] * dim[d];
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
}

void agi_bcast_vjp(ag_opctx *c, int i, agi_run_fn run, void *ud)
{
    ag_view g = ag_in_grad(c, i), gy = ag_out_grad(c), in[MAXOPS - 2];
    int n = ag_n_in(c);
    ag_real *base[MAXOPS] = {g.x, gy.x};
    const size_t *sh[MAXOPS] = {g.shape, gy.shape};
    int nd[MAXOPS] = {g.ndim, gy.ndim};
    for (int k = 0; k < n; k++) {
        in[k] = ag_in(c, k);
        base[k + 2] = in[k].x;
        sh[k + 2] = in[k].shape;
        nd[k + 2] = in[k].ndim;
    }
    agi_bcast_loop(n + 2, base, sh, nd, gy.shape, gy.ndim, run, ud);
}

/* Sum of n contiguous values in 16 interleaved partial sums (a fixed
 * order: the loop vectorises and the result does not depend on threads). */
static ag_real sum_run(const ag_real *g, size_t n)
{
    enum { L = 16 };
    ag_real part[L] = {0}, sum = 0;
    size_t i = 0;
    for (; i + L <= n; i += L)
        for (int k = 0; k < L; k++) part[k] += g[i + k];
    for (int k = 0; k < L; k++) sum += part[k];
    for (; i < n; i++) sum += g[i];
    return sum;
}

static void add_to(ag_real *restrict dst, const ag_real *restrict g, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] += g[i];
}

static void acc_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    (void)ud;
    ag_real *dst = p[0];
    const ag_real *g = p[1];
    if (s[1] == 1 && s[0] <= 1) { /* the common cases, vectorised */
        if (s[0] == 0)
            dst[0] += sum_run(g, n);
        else
            add_to(dst, g, n);
        return;
    }
    if (s[0] == 0) {
        ag_real sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += g[i * s[1]];
        dst[0] += sum;
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i * s[0]] += g[i * s[1]];
    }
}

void ag_unbroadcast_add(ag_real *dst, const size_t *shape, int nd, const ag_real *g,
                        const size_t *gshape, int gnd)
{
    ag_real *base[2] = {dst, (ag_real *)g};
    const size_t *shapes[2] = {shape, gshape};
    int ndims[2] = {nd, gnd};
    agi_bcast_loop(2, base, shapes, ndims, gshape, gnd, acc_run, NULL);
}

agi_reduce_attr agi_reduce_attr_make(const int *axes, int n_axes, int keepdim)
{
    agi_reduce_attr a;
    memset(&a, 0, sizeof a);
    a.n_axes = n_axes;
    for (int i = 0; i < n_axes && i < AG_MAX_DIMS; i++)
        a.axes[i] = axes ? axes[i] : 0;
    if (n_axes > 0 && !axes)
        a.n_axes = -1; /* reported by the shape rule */
    a.keepdim = keepdim != 0;
    return a;
}

/* Bitmask of reduced axes, or -1 after reporting an error. */
static int reduce_mask(ag_opctx *c, const agi_reduce_attr *a, int ndim)
{
    if (a->n_axes < 0 || a->n_axes > AG_MAX_DIMS)
        return ag_op_fail(c, AG_EINVAL, "axes is NULL or n_axes %d out of range [0, %d] for x%s",
                          a->n_axes, AG_MAX_DIMS, ag_in_shape_str(c, 0)), -1;
    if (a->n_axes == 0)
        return (1 << ndim) - 1;
    int mask = 0;
    for (int i = 0; i < a->n_axes; i++) {
        int ax = agi_axis(a->axes[i], ndim);
        if (ax < 0)
            return ag_op_fail(c, AG_EINVAL, "axis %d out of range for x%s", a->axes[i],
                              ag_in_shape_str(c, 0)), -1;
        if (mask & (1 << ax))
            return ag_op_fail(c, AG_EINVAL, "axis %d given twice", a->axes[i]), -1;
        mask |= 1 << ax;
    }
    return mask;
}

int agi_reduce_shape(ag_opctx *c, size_t *out, int *nd)
{
    const agi_reduce_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    int mask = reduce_mask(c, a, x.ndim);
    if (mask < 0)
        return AG_EINVAL;
    int k = 0;
    for (int d = 0; d < x.ndim; d++) {
        if (!(mask & (1 << d)))
            out[k++] = x.shape[d];
        else if (a->keepdim)
            out[k++] = 1;
    }
    *nd = k;
    return 0;
}

size_t agi_reduce_keepshape(ag_opctx *c, size_t *keep)
{
    const agi_reduce_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    int mask = a->n_axes == 0 ? (1 << x.ndim) - 1 : 0;
    for (int i = 0; i < a->n_axes; i++)
        mask |= 1 << agi_axis(a->axes[i], x.ndim);
    size_t count = 1;
    for (int d = 0; d < x.ndim; d++) {
        keep[d] = (mask & (1 << d)) ? 1 : x.shape[d];
        if (mask & (1 << d))
            count *= x.shape[d];
    }
    return count;
}

int agi_reduce_block(ag_opctx *c, size_t *outer, size_t *r, size_t *inner)
{
    size_t keep[AG_MAX_DIMS];
    ag_view x = ag_in(c, 0);
    agi_reduce_keepshape(c, keep);
    int first = -1, last = -1;
    for (int d = 0; d < x.ndim; d++) {
        if (keep[d] == x.shape[d])
            continue; /* kept, or reduced with size 1: either way neutral */
        if (first < 0)
            first = d;
        else
            for (int e = last + 1; e < d; e++)
                if (x.shape[e] != 1)
                    return 0; /* a kept axis between two reduced ones */
        last = d;
    }
    if (first < 0)
        return 0;
    *outer = agi_prod(x.shape, 0, first);
    *r = agi_prod(x.shape, first, last + 1);
    *inner = agi_prod(x.shape, last + 1, x.ndim);
    return 1;
}

int agi_reduce_block2(ag_opctx *c, size_t *outer, size_t *r1, size_t *mid, size_t *r2)
{
    size_t keep[AG_MAX_DIMS];
    ag_view x = ag_in(c, 0);
    agi_reduce_keepshape(c, keep);
    /* The axes of size > 1 after outer's: runs reduced, kept, reduced;
     * start[i] is the first axis of run i. */
    int runs = 0, start[3] = {0, 0, 0}, prev = -1;
    for (int d = 0; d < x.ndim; d++) {
        if (x.shape[d] == 1)
            continue;
        int red = keep[d] != x.shape[d];
        if (runs == 0 && !red)
            continue; /* part of outer */
        if (red != prev) {
            if (runs == 3)
                return 0; /* a third run: kept axes after the second */
            start[runs++] = d;
            prev = red;
        }
    }
    if (runs != 3)
        return 0;
    *outer = agi_prod(x.shape, 0, start[0]);
    *r1 = agi_prod(x.shape, start[0], start[1]);
    *mid = agi_prod(x.shape, start[1], start[2]);
    *r2 = agi_prod(x.shape, start[2], x.ndim);
    return 1;
}

static void badd_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    ag_real scale = *(const ag_real *)ud;
    ag_real *dx = p[0];
    const ag_real *g = p[1];
    if (s[1] == 0) {
        ag_real v = g[0] * scale;
        for (size_t i = 0; i < n; i++) dx[i] += v;
    } else {
        for (size_t i = 0; i < n; i++) dx[i] += g[i * s[1]] * scale;
    }
}

void agi_broadcast_add(ag_real *dx, const size_t *xshape, int xnd, const ag_real *g,
                       const size_t *gshape, int gnd, ag_real scale)
{
    ag_real *base[2] = {dx, (ag_real *)g};
    const size_t *sh[2] = {xshape, gshape};
    int nd[2] = {xnd, gnd};
    agi_bcast_loop(2, base, sh, nd, xshape, xnd, badd_run, &scale);
}

size_t agi_prod(const size_t *shape, int from, int to)
{
    size_t p = 1;
    for (int d = from; d < to; d++)
        p *= shape[d];
    return p;
}

static size_t join_outer(const ag_opctx *c)
{
    const agi_join_attr *a = ag_attr(c);
    ag_view x0 = ag_in(c, 0);
    return agi_prod(x0.shape, 0, agi_axis(a->axis, x0.ndim + (a->new_axis != 0)));
}

void agi_join_forward(ag_opctx *c)
{
    ag_view y = ag_out(c);
    int n = ag_n_in(c);
    ag_real *dst = y.x;
    if (y.len == 0)
        return;
    size_t outer = join_outer(c);
    for (size_t o = 0; o < outer; o++) {
        for (int i = 0; i < n; i++) {
            ag_view x = ag_in(c, i);
            size_t b = x.len / outer;
            memcpy(dst, x.x + o * b, b * sizeof *dst);
            dst += b;
        }
    }
}

void agi_join_vjp(ag_opctx *c)
{
    ag_view gy = ag_out_grad(c);
    if (gy.len == 0)
        return;
    size_t outer = join_outer(c);
    size_t row = gy.len / outer, off = 0;
    for (int i = 0; i < ag_n_in(c); i++) {
        size_t b = ag_in(c, i).len / outer;
        if (ag_wants_grad(c, i)) {
            ag_real *gx = ag_in_grad(c, i).x;
            for (size_t o = 0; o < outer; o++) {
                const ag_real *g = gy.x + o * row + off;
                ag_real *d = gx + o * b;
                for (size_t k = 0; k < b; k++) d[k] += g[k];   /* G_x_i += block i of G_y */
            }
        }
        off += b;
    }
}

/* Indices up to this count are copied on the stack; more go through the
 * library's allocator (so fault injection reaches them). */
#define INDEX_STACK 512

ag_tensor *agi_index_apply(ag_tape *t, const ag_op_def *op, ag_tensor *x, int axis,
                           const int64_t *idx, size_t n, size_t dim, int scatter)
{
    union {
        agi_index_attr a;
        unsigned char bytes[sizeof(agi_index_attr) + INDEX_STACK * sizeof(int64_t)];
    } local;
    agi_index_attr *a = &local.a;
    int bad = n && !idx ? AGI_INDEX_NULL : 0;
    size_t copy = bad ? 0 : n, bytes = 0;
    if (copy > INDEX_STACK) {
        bytes = sizeof *a + copy * sizeof(int64_t);
        a = copy <= (SIZE_MAX - sizeof *a) / sizeof(int64_t) ? agi_alloc(bytes) : NULL;
        if (!a) {
            a = &local.a;
            copy = 0;
            bad = AGI_INDEX_NOMEM;
        }
    }
    a->axis = axis;
    a->bad = bad;
    a->scatter = scatter;
    a->n = n;
    a->dim = dim;
    if (copy)
        memcpy(a->idx, idx, copy * sizeof(int64_t));
    ag_tensor *y = ag_apply(t, op, &x, 1, a, sizeof *a + copy * sizeof(int64_t));
    if (a != &local.a)
        agi_free(a, bytes);
    return y;
}

int agi_index_shape(ag_opctx *c, size_t *out, int *nd)
{
    const agi_index_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    int ax = agi_axis(a->axis, x.ndim);
    if (ax < 0)
        return ag_op_fail(c, AG_EINVAL, "axis %d out of range for x%s", a->axis, ag_in_shape_str(c, 0));
    if (a->bad == AGI_INDEX_NULL)
        return ag_op_fail(c, AG_EINVAL, "idx is NULL with %zu indices", a->n);
    if (a->bad == AGI_INDEX_NOMEM)
        return ag_op_fail(c, AG_ENOMEM, "out of memory copying %zu indices", a->n);
    if (a->scatter && a->n != x.shape[ax])
        return ag_op_fail(c, AG_EINVAL, "%zu indices for axis %d of x%s", a->n, a->axis,
                          ag_in_shape_str(c, 0));
    size_t dim = a->scatter ? a->dim : x.shape[ax];
    for (size_t j = 0; j < a->n; j++)
        if (a->idx[j] < 0 || (uint64_t)a->idx[j] >= dim)
            return ag_op_fail(c, AG_EINVAL, "index %lld (position %zu) out of range [0, %zu) for x%s",
                              (long long)a->idx[j], j, dim, ag_in_shape_str(c, 0));
    memcpy(out, x.shape, (size_t)x.ndim * sizeof *out);
    out[ax] = a->scatter ? a->dim : a->n;
    *nd = x.ndim;
    return 0;
}

void agi_index_take(ag_real *dst, const ag_real *src, size_t outer, size_t sdim, size_t inner,
                    const int64_t *idx, size_t n, int accumulate)
{
    for (size_t o = 0; o < outer; o++) {
        const ag_real *s = src + o * sdim * inner;
        ag_real *d = dst + o * n * inner;
        for (size_t j = 0; j < n; j++, d += inner) {
            const ag_real *r = s + (size_t)idx[j] * inner;
            if (accumulate)
                for (size_t k = 0; k < inner; k++) d[k] += r[k];
            else
                memcpy(d, r, inner * sizeof *d);
        }
    }
}

void agi_index_put_add(ag_real *dst, size_t ddim, const ag_real *src, size_t outer, size_t inner,
                       const int64_t *idx, size_t n)
{
    for (size_t o = 0; o < outer; o++) {
        ag_real *d = dst + o * ddim * inner;
        const ag_real *s = src + o * n * inner;
        for (size_t j = 0; j < n; j++, s += inner) {
            ag_real *r = d + (size_t)idx[j] * inner;
            for (size_t k = 0; k < inner; k++) r[k] += s[k];
        }
    }
}

agi_shape_attr agi_shape_attr_make(const size_t *shape, int ndim)
{
    agi_shape_attr a;
    memset(&a, 0, sizeof a);
    a.ndim = ndim;
    a.null_shape = ndim > 0 && !shape;
    if (shape && ndim > 0 && ndim <= AG_MAX_DIMS)
        memcpy(a.shape, shape, (size_t)ndim * sizeof *shape);
    return a;
}

int agi_shape_attr_check(ag_opctx *c, const agi_shape_attr *a)
{
    if (a->ndim < 0 || a->ndim > AG_MAX_DIMS || a->null_shape)
        return ag_op_fail(c, AG_EINVAL, "shape is NULL or ndim %d out of range [0, %d]", a->ndim,
                          AG_MAX_DIMS);
    return 0;
}

/* The bias gradient, G_b[j] (+)= sum over r of G_y[r][j] (agi_bias_grad):
 * the rows of G_y in a fixed number of consecutive groups (from the shape
 * alone), each group summed into a partial of its own in one pass (and
 * copied into G_x on the way, when wanted), the groups over the threads;
 * then G_b gets the partials in group order. The bits depend on the shape
 * only, not on the thread count, and no thread reads rows that another
 * wrote for it. The partials live on the caller's stack, BIAS_COLS columns
 * at a time (backward allocates nothing). */
enum { BIAS_GROUPS = 8, BIAS_COLS = 256 };

typedef struct bias_args {
    const ag_real *gy;
    ag_real *gx; /* NULL when x needs no gradient */
    int store;   /* gx is written first: store */
    ag_real *part;
    size_t rows, cols, per; /* per: rows in a group */
    size_t j0, nj;          /* the block of columns */
} bias_args;

AGI_CLONES
static void bias_groups(void *ctx, size_t lo, size_t hi)
{
    const bias_args *a = ctx;
    size_t nj = a->nj;
    for (size_t u = lo; u < hi; u++) {
        size_t r0 = u * a->per, r1 = r0 + a->per < a->rows ? r0 + a->per : a->rows;
        ag_real *p = a->part + u * nj;
        for (size_t r = r0; r < r1; r++) {
            const ag_real *g = a->gy + r * a->cols + a->j0;
            if (r == r0)
                for (size_t j = 0; j < nj; j++) p[j] = g[j];
            else
                for (size_t j = 0; j < nj; j++) p[j] += g[j];
            if (a->gx)
                AGI_GRAD_LOOP(nj, a->gx + r * a->cols + a->j0, a->store, g[i]);
        }
    }
}

void agi_bias_grad(const ag_real *gy, size_t rows, size_t cols, ag_real *gb, int gb_first,
                   ag_real *gx, int gx_store)
{
    if (rows == 0 || cols == 0) {
        if (gb_first) /* the first writer writes every element */
            memset(gb, 0, cols * sizeof *gb);
        return;
    }
    bias_args a = {.gy = gy, .gx = gx, .store = gx_store, .rows = rows, .cols = cols};
    size_t groups = (rows * cols + AGI_ELEM_SPAN - 1) / AGI_ELEM_SPAN;
    groups = groups < BIAS_GROUPS ? groups : BIAS_GROUPS;
    groups = groups < rows ? groups : rows;
    a.per = (rows + groups - 1) / groups;
    groups = (rows + a.per - 1) / a.per;
    ag_real part[BIAS_GROUPS * BIAS_COLS];
    a.part = part;
    for (a.j0 = 0; a.j0 < cols; a.j0 += BIAS_COLS) {
        a.nj = cols - a.j0 < BIAS_COLS ? cols - a.j0 : BIAS_COLS;
        agi_parallel_for(groups, 1, bias_groups, &a);
        for (size_t j = 0; j < a.nj; j++) {
            ag_real sum = part[j];
            for (size_t u = 1; u < groups; u++) sum += part[u * a.nj + j];
            gb[a.j0 + j] = gb_first ? sum : gb[a.j0 + j] + sum;
        }
    }
}
