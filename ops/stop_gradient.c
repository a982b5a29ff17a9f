/* y = x     VJP: none (the op has no vjp, so its output never requires a
 * gradient and nothing flows back to x through it)
 * ag_stop_gradient() makes a view sharing x's data (ag_apply_view). */
#include <string.h>
#include "util.h"

static void stop_gradient_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    memcpy(y.x, x.x, y.len * sizeof *y.x);
}

const ag_op_def ag_op_stop_gradient = {.name = "stop_gradient", .n_in = 1,
                                       .shape = agi_same_shape,
                                       .forward = stop_gradient_forward, .vjp = NULL};

ag_tensor *ag_stop_gradient(ag_tape *t, ag_tensor *x)
{
    return ag_apply_view(t, &ag_op_stop_gradient, &x, 1, NULL, 0);
}
