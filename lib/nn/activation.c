/* Activations, dropout, flatten and softmax, composed from public ops
 * (log-softmax is a primitive, ops/log_softmax.c). */
#include <math.h>
#include "nnutil.h"

ag_tensor *ag_activate(ag_tape *t, ag_tensor *x, ag_activation act)
{
    switch (act) {
    case AG_ACT_NONE: return x;
    case AG_ACT_SIGMOID: return ag_sigmoid(t, x);
    case AG_ACT_TANH: return ag_tanh(t, x);
    case AG_ACT_RELU: return ag_relu(t, x);
    case AG_ACT_LEAKY_RELU: return ag_leaky_relu(t, x, (ag_real)0.01);
    }
    return nn_fail(t, AG_EINVAL, "ag_activate: unknown activation %d", (int)act);
}

ag_tensor *ag_dropout(ag_tape *t, ag_tensor *x, double p, int training)
{
    ag_tensor *err = nn_check_args(t, "ag_dropout", (const nn_arg[]){{x, "input", 0}}, 1);
    if (err)
        return err;
    if (!(p >= 0 && p < 1))
        return nn_fail(t, AG_EINVAL, "ag_dropout: probability %g outside [0, 1)", p);
    if (!training || p == 0)
        return x;
    /* keep with probability 1 - p and scale kept entries by 1/(1 - p): E[y] = x */
    ag_tensor *mask = ag_bernoulli(t, ag_shape(x), ag_ndim(x), (ag_real)(1 - p),
                                   (ag_real)(1 / (1 - p)));
    return ag_mul(t, x, mask);
}

ag_tensor *ag_flatten(ag_tape *t, ag_tensor *x)
{
    ag_tensor *err = nn_check_args(t, "ag_flatten", (const nn_arg[]){{x, "input", 0}}, 1);
    if (err)
        return err;
    if (ag_ndim(x) < 1)
        return nn_fail(t, AG_EINVAL, "ag_flatten: input must have a batch dimension, got a scalar");
    size_t f = 1; /* product of the other dims, also when the batch is empty */
    for (int i = 1; i < ag_ndim(x); i++) f *= ag_dim(x, i);
    return ag_reshape(t, x, AG_SHAPE(ag_dim(x, 0), f));
}

/* The error of a softmax's arguments, or NULL. */
static ag_tensor *softmax_check(ag_tape *t, const char *fn, ag_tensor *x, int axis)
{
    ag_tensor *err = nn_check_args(t, fn, (const nn_arg[]){{x, "input", 0}}, 1);
    if (err || (axis >= -ag_ndim(x) && axis < ag_ndim(x)))
        return err;
    char s[96];
    return nn_fail(t, AG_EINVAL, "%s: axis %d out of range for x%s", fn, axis,
                   ag_shape_str(ag_shape(x), ag_ndim(x), s, sizeof s));
}

/* x - max(x) along axis, the max held constant: softmax is invariant to it. */
static ag_tensor *shift_by_max(ag_tape *t, ag_tensor *x, int axis)
{
    ag_tensor *m = ag_stop_gradient(t, ag_max(t, x, &axis, 1, 1));
    return ag_sub(t, x, m);
}

ag_tensor *ag_softmax(ag_tape *t, ag_tensor *x, int axis)
{
    ag_tensor *err = softmax_check(t, "ag_softmax", x, axis);
    if (err)
        return err;
    ag_tensor *e = ag_exp(t, shift_by_max(t, x, axis));            /* e = exp(x - m) */
    return ag_div(t, e, ag_sum(t, e, &axis, 1, 1));                 /* e / sum(e) */
}
