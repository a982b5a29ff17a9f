/* y = a + b (broadcast)
 * VJP: ga += unbroadcast(gy),  gb += unbroadcast(gy) */
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

/* G_a += G_y, G_b += G_y, each summed over the axes it was broadcast along;
 * the inputs' values are not needed. */
static void add_vjp(ag_opctx *c)
{
    ag_view gy = ag_out_grad(c);
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
