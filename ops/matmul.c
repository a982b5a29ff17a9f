/* y = op(a) op(b) [+ c], batched over leading dims; op transposes the last
 * two dims when the flag is set; c, when given, is broadcast to y's shape.
 * VJP (C = A B in terms of op(A), op(B)):
 *   G_op(A) = G op(B)^T     G_op(B) = op(A)^T G     G_c = unbroadcast(G)
 * and for a stored transposed operand the transpose of those. */
#include "elementwise.h"
#include "kernels/kernels.h"

typedef struct mm_attr {
    int ta, tb;
} mm_attr;

/* Geometry of one call: matrix sizes and per-batch element offsets. */
typedef struct mm_geom {
    size_t m, n, k, batch;
    size_t sa, sb, sc; /* batch strides (0 for a shared 2-d operand) */
    int fold;          /* batched a times shared b, no transpose: one GEMM of batch*m rows */
} mm_geom;

static mm_geom geom(const ag_opctx *c)
{
    const mm_attr *at = ag_attr(c);
    ag_view a = ag_in(c, 0), b = ag_in(c, 1);
    mm_geom g;
    g.m = a.shape[a.ndim - (at->ta ? 1 : 2)];
    g.k = a.shape[a.ndim - (at->ta ? 2 : 1)];
    g.n = b.shape[b.ndim - (at->tb ? 2 : 1)];
    const ag_view *big = a.ndim >= b.ndim ? &a : &b;
    g.batch = 1;
    for (int d = 0; d < big->ndim - 2; d++)
        g.batch *= big->shape[d];
    g.sa = a.ndim > 2 ? g.m * g.k : 0;
    g.sb = b.ndim > 2 ? g.k * g.n : 0;
    g.sc = g.m * g.n;
    g.fold = b.ndim == 2 && !at->ta;
    return g;
}

static int mm_shape(ag_opctx *c, size_t *out, int *nd)
{
    const mm_attr *at = ag_attr(c);
    if (ag_n_in(c) != 2 && ag_n_in(c) != 3)
        return ag_op_fail(c, AG_EINVAL, "takes 2 operands and an optional addend, not %d inputs",
                          ag_n_in(c));
    ag_view a = ag_in(c, 0), b = ag_in(c, 1);
    if (a.ndim < 2 || b.ndim < 2)
        return ag_op_fail(c, AG_EINVAL, "operands must have at least 2 dims: a%s b%s",
                          ag_in_shape_str(c, 0), ag_in_shape_str(c, 1));
    size_t ka = a.shape[a.ndim - (at->ta ? 2 : 1)];
    size_t kb = b.shape[b.ndim - (at->tb ? 1 : 2)];
    if (ka != kb)
        return ag_op_fail(c, AG_EINVAL, "inner dimensions differ: a%s%s b%s%s",
                          ag_in_shape_str(c, 0), at->ta ? "^T" : "", ag_in_shape_str(c, 1),
                          at->tb ? "^T" : "");
    if (a.ndim > 2 && b.ndim > 2) {
        int same = a.ndim == b.ndim;
        for (int d = 0; same && d < a.ndim - 2; d++)
            same = a.shape[d] == b.shape[d];
        if (!same)
            return ag_op_fail(c, AG_EINVAL, "batch dimensions differ: a%s b%s",
                              ag_in_shape_str(c, 0), ag_in_shape_str(c, 1));
    }
    const ag_view *big = a.ndim >= b.ndim ? &a : &b;
    *nd = big->ndim;
    for (int d = 0; d < big->ndim - 2; d++)
        out[d] = big->shape[d];
    out[*nd - 2] = a.shape[a.ndim - (at->ta ? 1 : 2)];
    out[*nd - 1] = b.shape[b.ndim - (at->tb ? 2 : 1)];
    if (ag_n_in(c) == 3) { /* the addend broadcasts to the product, not beyond */
        ag_view d = ag_in(c, 2);
        int ok = d.ndim <= *nd;
        for (int i = 1; ok && i <= d.ndim; i++)
            ok = d.shape[d.ndim - i] == 1 || d.shape[d.ndim - i] == out[*nd - i];
        if (!ok) {
            char ys[AG_MAX_DIMS * 21 + 3];
            ag_shape_str(out, *nd, ys, sizeof ys);
            return ag_op_fail(c, AG_EINVAL, "addend c%s does not broadcast to the product%s",
                              ag_in_shape_str(c, 2), ys);
        }
    }
    return 0;
}

/* How the addend c enters the GEMM (an AGI_BIAS_* kind): a bias along the
 * columns of each product (c[j]: c's last two dims [1, n], or [n]), along
 * its rows (c[i]: [m, 1]) or the whole [m, n]; one for all products
 * (leading dims of c all 1, *stride 0) or one for each (c's leading dims
 * the product's batch dims, *stride its size). -1 any other way (added
 * after the product). A batch folded into one product of batch m rows
 * takes a bias along columns, or an [m, n] for each product (then one
 * matrix). */
static int addend_kind(ag_view d, ag_view y, mm_geom g, size_t *stride)
{
    int lead = d.ndim > 2 ? d.ndim - 2 : 0, own = lead > 0 && d.ndim == y.ndim && g.batch > 1;
    int shared = 1;
    for (int i = 0; i < lead; i++) {
        own &= d.shape[i] == y.shape[i];
        shared &= d.shape[i] == 1;
    }
    if (!shared && !own)
        return -1;
    size_t last = d.shape[d.ndim - 1], prev = d.ndim > 1 ? d.shape[d.ndim - 2] : 1;
    int kind = -1, folded = g.fold && g.batch > 1;
    size_t size = 0;
    if (prev == 1 && last == g.n && !(folded && own))
        kind = AGI_BIAS_COLS, size = g.n;
    else if (d.ndim > 1 && last == 1 && prev == g.m && !folded)
        kind = AGI_BIAS_ROWS, size = g.m;
    else if (d.ndim > 1 && last == g.n && prev == g.m && (!folded || own))
        kind = AGI_BIAS_FULL, size = g.m * g.n;
    *stride = shared || folded ? 0 : size;
    return kind;
}

static void mm_forward(ag_opctx *c)
{
    const mm_attr *at = ag_attr(c);
    ag_view a = ag_in(c, 0), b = ag_in(c, 1), y = ag_out(c);
    mm_geom g = geom(c);
    size_t lda = at->ta ? g.m : g.k, ldb = at->tb ? g.k : g.n;
    size_t rows = g.fold ? g.m * g.batch : g.m, nb = g.fold ? 1 : g.batch;
    if (ag_n_in(c) == 3) {
        ag_view d = ag_in(c, 2);
        size_t sd;
        int kind = addend_kind(d, y, g, &sd);
        if (kind >= 0) { /* the GEMM starts each tile from the bias */
            agi_gemm_bias_with(agi_gemm_current(), at->ta, at->tb, nb, rows, g.n, g.k, 1, a.x,
                               lda, g.sa, b.x, ldb, g.sb, d.x, sd, kind, y.x, g.n, g.sc);
            return;
        }
    }
    agi_gemm_batch(at->ta, at->tb, nb, rows, g.n, g.k, 1, a.x, lda, g.sa, b.x, ldb, g.sb, 0, y.x,
                   g.n, g.sc);
    if (ag_n_in(c) == 3) {
        ag_view d = ag_in(c, 2);
        agi_broadcast_add(y.x, y.shape, y.ndim, d.x, d.shape, d.ndim, 1);
    }
}

/* Input i's gradient and the GEMM's beta: 0 when the GEMM writes it first
 * (ag_in_grad_first), 1 to accumulate (always for a shared operand). */
static ag_real *grad_for(ag_opctx *c, int i, int shared, ag_real *beta)
{
    int first = 0;
    ag_real *g = shared ? ag_in_grad(c, i).x : ag_in_grad_first(c, i, &first).x;
    *beta = first ? 0 : 1;
    return g;
}

/* One product of the VJP: C (stored [m, n], batches nb) += op(A) op(B). */
typedef struct vjp_gemm {
    int ta, tb;
    size_t nb, m, n, k, lda, sa, ldb, sb, ldc, sc;
    const ag_real *A, *B;
    ag_real beta, *C;
} vjp_gemm;

static void run_gemm(const vjp_gemm *p)
{
    agi_gemm_batch(p->ta, p->tb, p->nb, p->m, p->n, p->k, 1, p->A, p->lda, p->sa, p->B, p->ldb,
                   p->sb, p->beta, p->C, p->ldc, p->sc);
}

static void pair_task(void *ctx, size_t lo, size_t hi)
{
    const vjp_gemm *p = ctx;
    for (size_t i = lo; i < hi; i++) run_gemm(&p[i]);
}

static double gemm_flops(const vjp_gemm *p)
{
    return 2.0 * (double)p->nb * (double)p->m * (double)p->n * (double)p->k;
}

/* When both input gradients are products of PAIR_MIN_FLOPS to PAIR_MAX_FLOPS,
 * with two or more threads they run side by side, one whole product per thread,
 * instead of one after the other, each split over the threads. A product
 * inside a parallel region runs on its thread alone, and agi_gemm gives the
 * same bits however a product is split, so the results do not change. Two
 * threads, `bench_models --threads 2`, three rounds alternating, steps/s:
 * W-LSTM 417-438 -> 442-457, W-GRU 606-616 -> 616-631, W-RNN 2258-2295 ->
 * 2268-2304, W-MLP 5914-6006 -> 5928-6040 (a time step's dh and dW_hh are
 * 1-4 MFLOP each, W-MLP's second layer's 4.2). */
#define PAIR_MAX_FLOPS 16e6
/* Smaller products stay with the caller, which runs them in less time than
 * a region takes (W-MLP's last layer, 0.16 MFLOP each: the same steps/s with
 * a floor of 2 MFLOP as without). A worker that takes one allocates its own
 * packing buffer the first time, which the floor keeps out of tiny models:
 * a caller that happens to take both in the first step would see that
 * allocation in a later one. */
#define PAIR_MIN_FLOPS 0.5e6

static int pair_size(const vjp_gemm *p)
{
    double f = gemm_flops(p);
    return f >= PAIR_MIN_FLOPS && f <= PAIR_MAX_FLOPS;
}

static void mm_vjp(ag_opctx *c)
{
    const mm_attr *at = ag_attr(c);
    ag_view a = ag_in(c, 0), b = ag_in(c, 1), gy = ag_out_grad(c);
    mm_geom g = geom(c);
    size_t lda = at->ta ? g.m : g.k, ldb = at->tb ? g.k : g.n;
    size_t rows = g.fold ? g.m * g.batch : g.m, nb = g.fold ? 1 : g.batch;
    /* Per batch item; a shared operand's gradient (stride 0) sums the items
     * in order. beta = 0 when this is the first write into the gradient
     * (every element is written once), except for a shared operand, whose
     * items all add into it. */
    vjp_gemm p[2];
    int np = 0;
    if (ag_wants_grad(c, 0)) {
        ag_real beta;
        ag_real *ga = grad_for(c, 0, g.sa == 0 && nb > 1, &beta);
        if (!at->ta) /* G_A += G op(B)^T */
            p[np++] = (vjp_gemm){0, !at->tb, nb, rows, g.k, g.n, g.n, g.sc, ldb, g.sb, lda,
                                 g.sa, gy.x, b.x, beta, ga};
        else         /* G_A (stored [k,m]) += op(B) G^T */
            p[np++] = (vjp_gemm){at->tb, 1, nb, g.k, g.m, g.n, ldb, g.sb, g.n, g.sc, lda, g.sa,
                                 b.x, gy.x, beta, ga};
    }
    if (ag_wants_grad(c, 1)) {
        ag_real beta;
        ag_real *gb = grad_for(c, 1, g.sb == 0 && nb > 1, &beta);
        if (!at->tb) /* G_B += op(A)^T G */
            p[np++] = (vjp_gemm){!at->ta, 0, nb, g.k, g.n, rows, lda, g.sa, g.n, g.sc, ldb,
                                 g.sb, a.x, gy.x, beta, gb};
        else         /* G_B (stored [n,k]) += G^T op(A) */
            p[np++] = (vjp_gemm){1, at->ta, nb, g.n, g.k, rows, g.n, g.sc, lda, g.sa, ldb, g.sb,
                                 gy.x, a.x, beta, gb};
    }
    /* (the two gradients must be apart: not one tensor, nor two views of
     * one base that overlap) */
    int pair = np == 2 && ag_get_threads() > 1 && pair_size(&p[0]) && pair_size(&p[1]) &&
               (p[0].C + a.len <= p[1].C || p[1].C + b.len <= p[0].C);
    if (pair)
        agi_parallel_for(2, 1, pair_task, p);
    else
        for (int i = 0; i < np; i++) run_gemm(&p[i]);
    if (ag_n_in(c) == 3 && ag_wants_grad(c, 2)) { /* G_c += G summed over the broadcast */
        ag_view d = ag_in(c, 2);
        size_t sd;
        int kind = gy.len > 0 ? addend_kind(d, gy, g, &sd) : -1;
        if (kind == AGI_BIAS_COLS) { /* over the threads */
            int first;
            ag_real *gc = ag_in_grad_first(c, 2, &first).x;
            size_t items = sd ? g.batch : 1, per = gy.len / items;
            for (size_t t = 0; t < items; t++)
                agi_bias_grad(gy.x + t * per, per / g.n, g.n, gc + t * sd, first, NULL, 0);
        } else if (kind == AGI_BIAS_FULL && d.len == gy.len) { /* G_c = G, not summed */
            int first;
            ag_real *gc = ag_in_grad_first(c, 2, &first).x;
            AGI_GRAD_LOOP(gy.len, gc, first, gy.x[i]);
        } else {
            ag_view gc = ag_in_grad(c, 2);
            ag_unbroadcast_add(gc.x, gc.shape, gc.ndim, gy.x, gy.shape, gy.ndim);
        }
    }
}

const ag_op_def ag_op_matmul = {.name = "matmul", .n_in = -1, .shape = mm_shape,
                                .forward = mm_forward, .vjp = mm_vjp};

ag_tensor *ag_matmul_t(ag_tape *t, ag_tensor *a, ag_tensor *b, int trans_a, int trans_b)
{
    ag_tensor *in[2] = {a, b};
    mm_attr at = {trans_a != 0, trans_b != 0};
    return ag_apply(t, &ag_op_matmul, in, 2, &at, sizeof at);
}

ag_tensor *ag_matmul_add(ag_tape *t, ag_tensor *a, ag_tensor *b, ag_tensor *c, int trans_a,
                         int trans_b)
{
    ag_tensor *in[3] = {a, b, c};
    mm_attr at = {trans_a != 0, trans_b != 0};
    return ag_apply(t, &ag_op_matmul, in, 3, &at, sizeof at);
}

ag_tensor *ag_matmul(ag_tape *t, ag_tensor *a, ag_tensor *b)
{
    return ag_matmul_t(t, a, b, 0, 0);
}
