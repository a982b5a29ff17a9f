/* y = a + w (b - a)   (a, b and w broadcast together; PyTorch's lerp(a, b, w))
 * VJP: ga += unbroadcast(gy - gy w),  gb += unbroadcast(gy w),
 *      gw += unbroadcast(gy (b - a))
 *
 * One node where sub, mul and add took three: a GRU's h' = n + z (h - n)
 * at every time step. With equal shapes the loops run over the whole arrays,
 * split over the thread pool like the other elementwise ops; otherwise
 * agi_bcast_loop() walks the runs, a gradient broadcast along a run summing
 * it in order. */
#include "internal.h"
#include "elementwise.h"

static int lerp_shape(ag_opctx *c, size_t *out, int *nd)
{
    ag_view a = ag_in(c, 0), b = ag_in(c, 1), w = ag_in(c, 2);
    size_t ab[AG_MAX_DIMS];
    int nab;
    if (ag_broadcast_shape(a.shape, a.ndim, b.shape, b.ndim, ab, &nab) ||
        ag_broadcast_shape(ab, nab, w.shape, w.ndim, out, nd))
        return ag_op_fail(c, AG_EINVAL, "shapes do not broadcast: a%s b%s w%s",
                          ag_in_shape_str(c, 0), ag_in_shape_str(c, 1), ag_in_shape_str(c, 2));
    return 0;
}

/* ---- equal shapes: contiguous loops over spans ---- */

typedef struct lerp_job {
    const ag_real *a, *b, *w, *gy;
    ag_real *y;      /* forward: the output */
    ag_real *g[3];   /* VJP: the gradients wanted (NULL otherwise) */
    int store[3];    /* ... stored on their first write */
} lerp_job;

AGI_CLONES
static void fwd_span(void *ctx, size_t lo, size_t hi)
{
    const lerp_job *j = ctx;
    const ag_real *a = j->a + lo, *b = j->b + lo, *w = j->w + lo;
    ag_real *y = j->y + lo;
    for (size_t i = 0; i < hi - lo; i++) y[i] = a[i] + w[i] * (b[i] - a[i]);
}

AGI_CLONES
static void vjp_span(void *ctx, size_t lo, size_t hi)
{
    const lerp_job *j = ctx;
    const ag_real *a = j->a + lo, *b = j->b + lo, *w = j->w + lo, *gy = j->gy + lo;
    size_t n = hi - lo;
    if (j->g[0])
        AGI_GRAD_LOOP(n, j->g[0] + lo, j->store[0], gy[i] - gy[i] * w[i]);
    if (j->g[1])
        AGI_GRAD_LOOP(n, j->g[1] + lo, j->store[1], gy[i] * w[i]);
    if (j->g[2])
        AGI_GRAD_LOOP(n, j->g[2] + lo, j->store[2], gy[i] * (b[i] - a[i]));
}

static void run_spans(size_t n, agi_task_fn *fn, lerp_job *j)
{
    if (n <= AGI_ELEM_SPAN)
        fn(j, 0, n);
    else
        agi_parallel_for(n, AGI_ELEM_SPAN, fn, j);
}

static int same_shapes(ag_opctx *c)
{
    size_t n = ag_out(c).len;
    return ag_in(c, 0).len == n && ag_in(c, 1).len == n && ag_in(c, 2).len == n;
}

/* ---- broadcast: runs with strides ---- */

/* p = {y, a, b, w} */
static void fwd_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < n; i++) {
        ag_real a = p[1][i * s[1]], b = p[2][i * s[2]], w = p[3][i * s[3]];
        p[0][i * s[0]] = a + w * (b - a);
    }
}

/* p = {g, gy, a, b, w}; *ud is the input whose gradient g is (0, 1, 2) */
static void vjp_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    int which = *(const int *)ud;
    ag_real *g = p[0];
    const ag_real *gy = p[1], *a = p[2], *b = p[3], *w = p[4];
    for (size_t i = 0; i < n; i++) {
        ag_real d = gy[i * s[1]], wi = w[i * s[4]];
        g[i * s[0]] += which == 0   ? d - d * wi
                       : which == 1 ? d * wi
                                    : d * (b[i * s[3]] - a[i * s[2]]);
    }
}

static void lerp_forward(ag_opctx *c)
{
    ag_view y = ag_out(c), a = ag_in(c, 0), b = ag_in(c, 1), w = ag_in(c, 2);
    if (same_shapes(c)) {
        lerp_job j = {.a = a.x, .b = b.x, .w = w.x, .y = y.x};
        run_spans(y.len, fwd_span, &j);
        return;
    }
    ag_real *base[4] = {y.x, a.x, b.x, w.x};
    const size_t *sh[4] = {y.shape, a.shape, b.shape, w.shape};
    int nd[4] = {y.ndim, a.ndim, b.ndim, w.ndim};
    agi_bcast_loop(4, base, sh, nd, y.shape, y.ndim, fwd_run, NULL);
}

static void lerp_vjp(ag_opctx *c)
{
    ag_view gy = ag_out_grad(c), a = ag_in(c, 0), b = ag_in(c, 1), w = ag_in(c, 2);
    if (same_shapes(c)) {
        lerp_job j = {.a = a.x, .b = b.x, .w = w.x, .gy = gy.x};
        for (int i = 0; i < 3; i++)
            if (ag_wants_grad(c, i))
                j.g[i] = ag_in_grad_first(c, i, &j.store[i]).x;
        run_spans(gy.len, vjp_span, &j);
        return;
    }
    for (int i = 0; i < 3; i++)
        if (ag_wants_grad(c, i))
            agi_bcast_vjp(c, i, vjp_run, &i);
}

const ag_op_def ag_op_lerp = {.name = "lerp", .n_in = 3, .shape = lerp_shape,
                              .forward = lerp_forward, .vjp = lerp_vjp};

ag_tensor *ag_lerp(ag_tape *t, ag_tensor *a, ag_tensor *b, ag_tensor *w)
{
    ag_tensor *in[3] = {a, b, w};
    return ag_apply(t, &ag_op_lerp, in, 3, NULL, 0);
}
