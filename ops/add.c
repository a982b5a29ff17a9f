/* y = a + b (broadcast)
 * VJP: ga += unbroadcast(gy),  gb += unbroadcast(gy) */
#include "internal.h"
#include "elementwise.h"

static void add_kernel(size_t n, const ag_real *a, const ag_real *b, ag_real *y)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void add_forward(ag_opctx *c) { agi_binary_forward(c, add_kernel); }

static void add_d(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b, ag_real *g,
                   int store)
{
    (void)a, (void)b;
    AGI_GRAD_LOOP(n, g, store, gy[i]);
}

/* A bias add, y[r][j] = x[r][j] + b[j]: the rows of G_y in a fixed number
 * of consecutive groups (from the shape alone), each group copied into G_x
 * and summed into a partial of its own in one pass, the groups over the
 * threads; then G_b gets the partials in group order. The bits depend on
 * the shape only, not on the thread count, and no thread reads rows that
 * another wrote for it. The partials live on the caller's stack, BIAS_COLS
 * columns at a time (backward allocates nothing). */
enum { BIAS_GROUPS = 8, BIAS_COLS = 256 };

typedef struct bias_args {
    const ag_real *gy;
    ag_real *gx; /* NULL when x needs no gradient */
    int store;   /* gx is written first: store */
    ag_real *part;
    size_t rows, cols, per; /* per: rows in a group */
    size_t j0, nj;          /* the block of columns */
} bias_args;

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

/* Input ib is a bias of the other (its shape is the last dim of y's, or
 * ones then that) whose gradient is wanted: handled by bias_groups.
 * Returns 0 if it is not. */
static int bias_vjp(ag_opctx *c, ag_view gy, int ib)
{
    ag_view b = ag_in(c, ib);
    if (!ag_wants_grad(c, ib) || gy.ndim < 2 || b.ndim < 1 || ag_in(c, 1 - ib).len != gy.len ||
        gy.len == 0 || b.shape[b.ndim - 1] != gy.shape[gy.ndim - 1] ||
        b.len != b.shape[b.ndim - 1])
        return 0;
    bias_args a = {.gy = gy.x, .cols = b.len, .rows = gy.len / b.len};
    size_t groups = (gy.len + AGI_ELEM_SPAN - 1) / AGI_ELEM_SPAN;
    groups = groups < BIAS_GROUPS ? groups : BIAS_GROUPS;
    groups = groups < a.rows ? groups : a.rows;
    a.per = (a.rows + groups - 1) / groups;
    groups = (a.rows + a.per - 1) / a.per;
    ag_real part[BIAS_GROUPS * BIAS_COLS];
    a.part = part;
    if (ag_wants_grad(c, 1 - ib))
        a.gx = ag_in_grad_first(c, 1 - ib, &a.store).x;
    int first;
    ag_real *gb = ag_in_grad_first(c, ib, &first).x;
    for (a.j0 = 0; a.j0 < a.cols; a.j0 += BIAS_COLS) {
        a.nj = a.cols - a.j0 < BIAS_COLS ? a.cols - a.j0 : BIAS_COLS;
        agi_parallel_for(groups, 1, bias_groups, &a);
        for (size_t j = 0; j < a.nj; j++) {
            ag_real sum = part[j];
            for (size_t u = 1; u < groups; u++) sum += part[u * a.nj + j];
            gb[a.j0 + j] = first ? sum : gb[a.j0 + j] + sum;
        }
    }
    return 1;
}

/* G_a += G_y, G_b += G_y, each summed over the axes it was broadcast along;
 * the inputs' values are not needed. */
static void add_vjp(ag_opctx *c)
{
    ag_view gy = ag_out_grad(c);
    if (bias_vjp(c, gy, 1) || bias_vjp(c, gy, 0))
        return;
    for (int i = 0; i < 2; i++) {
        if (!ag_wants_grad(c, i))
            continue;
        if (ag_in(c, i).len == gy.len) {
            int first;
            ag_view g = ag_in_grad_first(c, i, &first);
            agi_map_grad(gy.len, add_d, gy.x, NULL, NULL, g.x, first);
        } else {
            ag_view g = ag_in_grad(c, i);
            ag_unbroadcast_add(g.x, g.shape, g.ndim, gy.x, gy.shape, gy.ndim);
        }
    }
}

const ag_op_def ag_op_add = {.name = "add", .n_in = 2, .shape = agi_bcast_shape,
                             .forward = add_forward, .vjp = add_vjp};

ag_tensor *ag_add(ag_tape *t, ag_tensor *a, ag_tensor *b)
{
    ag_tensor *in[2] = {a, b};
    return ag_apply(t, &ag_op_add, in, 2, NULL, 0);
}
