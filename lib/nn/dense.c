/* Dense layer: y = x W^T + b, PyTorch's layout. Composed from public ops. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "nnutil.h"

ag_tensor *ag_linear(ag_tape *t, ag_tensor *x, ag_tensor *w, ag_tensor *b)
{
    ag_tensor *err = nn_check_args(t, "ag_linear",
                                   (const nn_arg[]){{x, "input", 0}, {w, "weight", 0}, {b, "bias", 1}}, 3);
    if (err)
        return err;
    char sx[96], sw[96], sb[96];
    ag_shape_str(ag_shape(x), ag_ndim(x), sx, sizeof sx);
    ag_shape_str(ag_shape(w), ag_ndim(w), sw, sizeof sw);
    if (ag_ndim(w) != 2)
        return nn_fail(t, AG_EINVAL, "ag_linear: weight must be [out, in], got %s", sw);
    if (ag_ndim(x) < 1 || ag_dim(x, -1) != ag_dim(w, 1))
        return nn_fail(t, AG_EINVAL, "ag_linear: input x%s must be [..., %zu] for weight w%s", sx,
                       ag_dim(w, 1), sw);
    if (b && (ag_ndim(b) != 1 || ag_dim(b, 0) != ag_dim(w, 0)))
        return nn_fail(t, AG_EINVAL, "ag_linear: bias b%s does not match weight w%s (want [%zu])",
                       ag_shape_str(ag_shape(b), ag_ndim(b), sb, sizeof sb), sw, ag_dim(w, 0));
    /* x W^T (+ b, the bias starting each tile of the product) */
    if (ag_ndim(x) == 1) {
        /* one row: [in] -> [1, in] -> [1, out] -> [out] */
        ag_tensor *row = ag_reshape(t, x, AG_SHAPE(1, ag_numel(x)));
        ag_tensor *y = b ? ag_matmul_add(t, row, w, b, 0, 1) : ag_matmul_t(t, row, w, 0, 1);
        return ag_reshape(t, y, AG_SHAPE(ag_dim(w, 0)));
    }
    return b ? ag_matmul_add(t, x, w, b, 0, 1) : ag_matmul_t(t, x, w, 0, 1);
}

int ag_dense_init(ag_dense *d, size_t in, size_t out, int bias, ag_rng *r)
{
    if (!d || !r || in == 0 || out == 0)
        return agi_fail(NULL, AG_EINVAL, "ag_dense_init: %s", !d || !r ? "NULL argument"
                        : "in and out must be > 0");
    memset(d, 0, sizeof *d);
    d->weight = ag_param_new(AG_SHAPE(out, in));
    d->bias = bias ? ag_param_new(AG_SHAPE(out)) : NULL;
    if (!d->weight || (bias && !d->bias)) {
        ag_dense_fini(d);
        return agi_last_status(); /* ag_param_new's: too large or out of memory */
    }
    /* nn.Linear: kaiming_uniform(a = sqrt 5) gives bound 1/sqrt(in) for W, same for b */
    double k = 1.0 / sqrt((double)in);
    ag_init_uniform(d->weight, -k, k, r);
    if (d->bias)
        ag_init_uniform(d->bias, -k, k, r);
    d->in = in;
    d->out = out;
    return AG_OK;
}

void ag_dense_fini(ag_dense *d)
{
    if (!d)
        return;
    ag_param_free(d->weight);
    ag_param_free(d->bias);
    memset(d, 0, sizeof *d);
}

ag_tensor *ag_dense_forward(ag_tape *t, const ag_dense *d, ag_tensor *x)
{
    if (!d || !d->weight)
        return nn_fail(t, AG_EINVAL, "ag_dense_forward: layer is NULL or not initialised");
    return ag_linear(t, x, d->weight, d->bias);
}

int ag_dense_params(const ag_dense *d, ag_paramset *s, const char *prefix)
{
    if (!d || !d->weight || !prefix)
        return agi_fail(NULL, AG_EINVAL, "ag_dense_params: NULL or uninitialised argument");
    char name[80];
    snprintf(name, sizeof name, "%s.weight", prefix);
    int rc = ag_paramset_add(s, d->weight, name);
    if (rc || !d->bias)
        return rc;
    snprintf(name, sizeof name, "%s.bias", prefix);
    return ag_paramset_add(s, d->bias, name);
}
