/* y = cond != 0 ? a : b, with cond, a and b broadcast together
 * VJP: ga += unbroadcast(gy * [cond != 0]),  gb += unbroadcast(gy * [cond == 0]);
 *      cond gets no gradient (it only selects). */
#include "util.h"

static int where_shape(ag_opctx *c, size_t *out, int *nd)
{
    ag_view k = ag_in(c, 0), a = ag_in(c, 1), b = ag_in(c, 2);
    size_t ab[AG_MAX_DIMS];
    int nab;
    if (ag_broadcast_shape(a.shape, a.ndim, b.shape, b.ndim, ab, &nab) ||
        ag_broadcast_shape(k.shape, k.ndim, ab, nab, out, nd))
        return ag_op_fail(c, AG_EINVAL, "shapes do not broadcast: cond%s a%s b%s",
                          ag_in_shape_str(c, 0), ag_in_shape_str(c, 1), ag_in_shape_str(c, 2));
    return 0;
}

static void where_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    (void)ud;
    ag_real *y = p[0];
    const ag_real *k = p[1], *a = p[2], *b = p[3];
    if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {
        for (size_t i = 0; i < n; i++)
            y[i] = k[i] != 0 ? a[i] : b[i];
        return;
    }
    for (size_t i = 0; i < n; i++)
        y[i * s[0]] = k[i * s[1]] != 0 ? a[i * s[2]] : b[i * s[3]];
}

static void where_forward(ag_opctx *c)
{
    ag_view y = ag_out(c), k = ag_in(c, 0), a = ag_in(c, 1), b = ag_in(c, 2);
    ag_real *base[4] = {y.x, k.x, a.x, b.x};
    const size_t *sh[4] = {y.shape, k.shape, a.shape, b.shape};
    int nd[4] = {y.ndim, k.ndim, a.ndim, b.ndim};
    agi_bcast_loop(4, base, sh, nd, y.shape, y.ndim, where_run, NULL);
}

/* g (broadcast: stride 0 sums the run) += gy where [cond != 0] == *ud. */
static void where_vjp_run(size_t n, ag_real *const *p, const size_t *s, void *ud)
{
    int pick = *(const int *)ud;
    ag_real *g = p[0];
    const ag_real *gy = p[1], *k = p[2];
    for (size_t i = 0; i < n; i++)
        if ((k[i * s[2]] != 0) == pick)
            g[i * s[0]] += gy[i * s[1]];
}

static void where_vjp(ag_opctx *c)
{
    for (int i = 1; i <= 2; i++) {
        int pick = i == 1;
        if (ag_wants_grad(c, i))
            agi_bcast_vjp(c, i, where_vjp_run, &pick);
    }
}

const ag_op_def ag_op_where = {.name = "where", .n_in = 3, .shape = where_shape,
                               .forward = where_forward, .vjp = where_vjp};

ag_tensor *ag_where(ag_tape *t, ag_tensor *cond, ag_tensor *a, ag_tensor *b)
{
    ag_tensor *in[3] = {cond, a, b};
    return ag_apply(t, &ag_op_where, in, 3, NULL, 0);
}
