/* y = a + b (broadcast)
 * VJP: ga += unbroadcast(gy),  gb += unbroadcast(gy) */
#include "internal.h"
#include "elementwise.h"

AGI_CLONES
static void add_kernel(size_t n, const ag_real *a, const ag_real *b, ag_real *y)
{
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void add_forward(ag_opctx *c) { agi_binary_forward(c, add_kernel); }

AGI_CLONES
static void add_d(size_t n, const ag_real *gy, const ag_real *a, const ag_real *b, ag_real *g,
                   int store)
{
    (void)a, (void)b;
    AGI_GRAD_LOOP(n, g, store, gy[i]);
}

/* Input ib is a bias of the other (its shape is the last dim of y's, or
 * ones then that) whose gradient is wanted: handled by agi_bias_grad.
 * Returns 0 if it is not. */
static int bias_vjp(ag_opctx *c, ag_view gy, int ib)
{
    ag_view b = ag_in(c, ib);
    if (!ag_wants_grad(c, ib) || gy.ndim < 2 || b.ndim < 1 || ag_in(c, 1 - ib).len != gy.len ||
        gy.len == 0 || b.shape[b.ndim - 1] != gy.shape[gy.ndim - 1] ||
        b.len != b.shape[b.ndim - 1])
        return 0;
    int store = 0, first;
    ag_real *gx = ag_wants_grad(c, 1 - ib) ? ag_in_grad_first(c, 1 - ib, &store).x : NULL;
    ag_real *gb = ag_in_grad_first(c, ib, &first).x;
    agi_bias_grad(gy.x, gy.len / b.len, b.len, gb, first, gx, store);
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
