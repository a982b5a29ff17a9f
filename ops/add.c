/* y = a + b (broadcast)
 * VJP: ga += unbroadcast(gy),  gb += unbroadcast(gy) */
#include "util.h"

static void add_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    (void)ud;
    ag_real *y = p[0];
    const ag_real *a = p[1], *b = p[2];
    if (s[1] == 1 && s[2] == 1)
        for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
    else if (s[1] == 1 && s[2] == 0)
        for (size_t i = 0; i < n; i++) y[i] = a[i] + b[0];
    else
        for (size_t i = 0; i < n; i++) y[i] = a[i * s[1]] + b[i * s[2]];
}

static void add_forward(ag_opctx *c)
{
    ag_view y = ag_out(c), a = ag_in(c, 0), b = ag_in(c, 1);
    ag_real *base[3] = {y.x, a.x, b.x};
    const size_t *sh[3] = {y.shape, a.shape, b.shape};
    int nd[3] = {y.ndim, a.ndim, b.ndim};
    agi_bcast_loop(3, base, sh, nd, y.shape, y.ndim, add_run, NULL);
}

static void add_vjp(ag_opctx *c)
{
    ag_view gy = ag_out_grad(c);
    for (int i = 0; i < 2; i++) {
        if (!ag_wants_grad(c, i))
            continue;
        ag_view g = ag_in_grad(c, i);
        if (g.len == gy.len)
            for (size_t k = 0; k < g.len; k++) g.x[k] += gy.x[k];   /* G_x += G_y */
        else
            ag_unbroadcast_add(g.x, g.shape, g.ndim, gy.x, gy.shape, gy.ndim);
    }
}

const ag_op_def ag_op_add = {.name = "add", .n_in = 2, .shape = agi_bcast_shape,
                             .forward = add_forward, .vjp = add_vjp};

ag_tensor *ag_add(ag_tape *t, ag_tensor *a, ag_tensor *b)
{
    ag_tensor *in[2] = {a, b};
    return ag_apply(t, &ag_op_add, in, 2, NULL, 0);
}
