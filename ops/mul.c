/* y = a * b (broadcast)
 * VJP: ga += unbroadcast(gy * b),  gb += unbroadcast(gy * a) */
#include "util.h"

static void mul_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    (void)ud;
    ag_real *y = p[0];
    const ag_real *a = p[1], *b = p[2];
    if (s[1] == 1 && s[2] == 1)
        for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i];
    else if (s[1] == 1 && s[2] == 0)
        for (size_t i = 0; i < n; i++) y[i] = a[i] * b[0];
    else
        for (size_t i = 0; i < n; i++) y[i] = a[i * s[1]] * b[i * s[2]];
}

/* p = {g_in, g_out, other}: g_in[i] += g_out[i] * other[i] (g_in may be broadcast: s[0] = 0) */
static void mul_grad_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    (void)ud;
    ag_real *g = p[0];
    const ag_real *gy = p[1], *o = p[2];
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
        for (size_t i = 0; i < n; i++) g[i] += gy[i] * o[i];
    } else if (s[0] == 0) {
        ag_real acc = 0;
        for (size_t i = 0; i < n; i++) acc += gy[i * s[1]] * o[i * s[2]];
        g[0] += acc;
    } else {
        for (size_t i = 0; i < n; i++) g[i * s[0]] += gy[i * s[1]] * o[i * s[2]];
    }
}

static void mul_forward(ag_opctx *c)
{
    ag_view y = ag_out(c), a = ag_in(c, 0), b = ag_in(c, 1);
    ag_real *base[3] = {y.x, a.x, b.x};
    const size_t *sh[3] = {y.shape, a.shape, b.shape};
    int nd[3] = {y.ndim, a.ndim, b.ndim};
    agi_bcast_loop(3, base, sh, nd, y.shape, y.ndim, mul_run, NULL);
}

static void mul_vjp(ag_opctx *c)
{
    ag_view gy = ag_out_grad(c);
    for (int i = 0; i < 2; i++) {
        if (!ag_wants_grad(c, i))
            continue;
        ag_view g = ag_in_grad(c, i), o = ag_in(c, 1 - i);
        ag_real *base[3] = {g.x, gy.x, o.x};             /* G_a += G_y * b */
        const size_t *sh[3] = {g.shape, gy.shape, o.shape};
        int nd[3] = {g.ndim, gy.ndim, o.ndim};
        agi_bcast_loop(3, base, sh, nd, gy.shape, gy.ndim, mul_grad_run, NULL);
    }
}

const ag_op_def ag_op_mul = {.name = "mul", .n_in = 2, .shape = agi_bcast_shape,
                             .forward = mul_forward, .vjp = mul_vjp};

ag_tensor *ag_mul(ag_tape *t, ag_tensor *a, ag_tensor *b)
{
    ag_tensor *in[2] = {a, b};
    return ag_apply(t, &ag_op_mul, in, 2, NULL, 0);
}
