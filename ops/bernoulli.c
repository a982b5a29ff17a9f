/* y[i] = scale if u_i < p else 0, with u_i uniform in [0, 1) drawn in order
 * from the tape's random stream (so a seed fixes the mask).
 * A source op: no inputs (ag_apply accepts n_in == 0 when the definition
 * says 0) and no VJP, so y is a constant; gradients flow through whatever
 * multiplies it, e.g. dropout's x * mask. */
#include <string.h>
#include "util.h"

typedef struct bernoulli_attr {
    agi_shape_attr s;
    ag_real p, scale;
} bernoulli_attr;

static int bernoulli_shape(ag_opctx *c, size_t *out, int *nd)
{
    const bernoulli_attr *a = ag_attr(c);
    if (agi_shape_attr_check(c, &a->s))
        return AG_EINVAL;
    if (!(a->p >= 0 && a->p <= 1))
        return ag_op_fail(c, AG_EINVAL, "probability %g outside [0, 1]", (double)a->p);
    memcpy(out, a->s.shape, (size_t)a->s.ndim * sizeof *out);
    *nd = a->s.ndim;
    return 0;
}

static void bernoulli_forward(ag_opctx *c)
{
    const bernoulli_attr *a = ag_attr(c);
    ag_view y = ag_out(c);
    double p = (double)a->p;
    for (size_t i = 0; i < y.len; i++)
        y.x[i] = ag_uniform(c) < p ? a->scale : 0;
}

const ag_op_def ag_op_bernoulli = {.name = "bernoulli", .n_in = 0, .shape = bernoulli_shape,
                                   .forward = bernoulli_forward, .vjp = NULL};

ag_tensor *ag_bernoulli(ag_tape *t, const size_t *shape, int ndim, ag_real p, ag_real scale)
{
    bernoulli_attr a;
    memset(&a, 0, sizeof a);
    a.s = agi_shape_attr_make(shape, ndim);
    a.p = p;
    a.scale = scale;
    return ag_apply(t, &ag_op_bernoulli, NULL, 0, &a, sizeof a);
}
