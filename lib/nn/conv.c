/* Convolution layers, composed from public ops (their gradients come from
 * those ops; nothing here differentiates):
 *
 *   conv2d:  cols = unfold(x)                  [N, C kh kw, oh ow]
 *            y    = w[O, C kh kw] cols + b[O, 1]  [N, O, oh ow]   (one matmul)
 *            y    = reshape(y)                    [N, O, oh, ow]
 *
 * The unfold layout puts each image's output straight in NCHW order, so no
 * permute is needed. conv1d is a conv2d of height 1. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "convutil.h"

/* Validate a convolution's arguments; NULL if they are fine, else the
 * poisoned tensor of the recorded error. nd is 4 (conv2d) or 3 (conv1d);
 * g holds the geometry with the kernel size still unset. */
static ag_tensor *check_conv(ag_tape *t, const char *fn, int nd, ag_tensor *x, ag_tensor *w,
                             ag_tensor *b, ag_window2d g)
{
    ag_tensor *err = nn_check_args(t, fn,
                                   (const nn_arg[]){{x, "input", 0}, {w, "weight", 0}, {b, "bias", 1}}, 3);
    if (err)
        return err;
    if (ag_ndim(x) != nd || ag_ndim(w) != nd)
        return nn_fail(t, AG_EINVAL, "%s: input must be %s and weight %s: x%s w%s", fn,
                       nd == 4 ? "[N, C, H, W]" : "[N, C, L]",
                       nd == 4 ? "[out_c, in_c, kh, kw]" : "[out_c, in_c, k]",
                       conv_shape_of(x).s, conv_shape_of(w).s);
    if (ag_dim(x, 1) != ag_dim(w, 1))
        return nn_fail(t, AG_EINVAL,
                       "%s: channel mismatch: x%s has %zu channels, w%s expects %zu", fn,
                       conv_shape_of(x).s, ag_dim(x, 1), conv_shape_of(w).s, ag_dim(w, 1));
    if (b && (ag_ndim(b) != 1 || ag_dim(b, 0) != ag_dim(w, 0)))
        return nn_fail(t, AG_EINVAL, "%s: bias b%s does not match w%s (want [%zu])", fn,
                       conv_shape_of(b).s, conv_shape_of(w).s, ag_dim(w, 0));
    size_t h = nd == 4 ? ag_dim(x, 2) : 1, wd = ag_dim(x, -1);
    g.kh = nd == 4 ? ag_dim(w, 2) : 1;
    g.kw = ag_dim(w, -1);
    if (ag_window2d_out(&g, h, wd, NULL, NULL))
        return nn_fail(t, AG_EINVAL,
                       "%s: kernel larger than the padded input: x%s with padding %zu, "
                       "dilation %zu, w%s",
                       fn, conv_shape_of(x).s, g.pad_w, g.dil_w ? g.dil_w : 1,
                       conv_shape_of(w).s);
    return NULL;
}

/* The composition, on validated 4-d x [N, C, H, W] and w [O, C, kh, kw]. */
static ag_tensor *conv_core(ag_tape *t, ag_tensor *x, ag_tensor *w, ag_tensor *b, ag_window2d g)
{
    size_t n = ag_dim(x, 0), o = ag_dim(w, 0), oh = 0, ow = 0;
    g.kh = ag_dim(w, 2);
    g.kw = ag_dim(w, 3);
    ag_window2d_out(&g, ag_dim(x, 2), ag_dim(x, 3), &oh, &ow);
    ag_tensor *cols = ag_unfold(t, x, &g);
    ag_tensor *wm = ag_reshape(t, w, AG_SHAPE(o, ag_dim(w, 1) * g.kh * g.kw));
    ag_tensor *y = b ? ag_matmul_add(t, wm, cols, ag_reshape(t, b, AG_SHAPE(o, 1)), 0, 0)
                     : ag_matmul(t, wm, cols);
    return ag_reshape(t, y, AG_SHAPE(n, o, oh, ow));
}

ag_tensor *ag_conv2d_fn(ag_tape *t, ag_tensor *x, ag_tensor *w, ag_tensor *b, size_t stride,
                        size_t pad, size_t dilation)
{
    ag_window2d g = {.stride_h = stride, .stride_w = stride, .pad_h = pad, .pad_w = pad,
                     .dil_h = dilation, .dil_w = dilation};
    ag_tensor *err = check_conv(t, "ag_conv2d", 4, x, w, b, g);
    return err ? err : conv_core(t, x, w, b, g);
}

ag_tensor *ag_conv1d_fn(ag_tape *t, ag_tensor *x, ag_tensor *w, ag_tensor *b, size_t stride,
                        size_t pad, size_t dilation)
{
    ag_window2d g = {.stride_w = stride, .pad_w = pad, .dil_w = dilation};
    ag_tensor *err = check_conv(t, "ag_conv1d", 3, x, w, b, g);
    if (err)
        return err;
    /* [N, C, L] as [N, C, 1, L] and [O, C, k] as [O, C, 1, k] */
    size_t n = ag_dim(x, 0), o = ag_dim(w, 0);
    ag_tensor *x4 = ag_reshape(t, x, AG_SHAPE(n, ag_dim(x, 1), 1, ag_dim(x, 2)));
    ag_tensor *w4 = ag_reshape(t, w, AG_SHAPE(o, ag_dim(w, 1), 1, ag_dim(w, 2)));
    ag_tensor *y = conv_core(t, x4, w4, b, g); /* [N, O, 1, L_out] */
    return ag_reshape(t, y, AG_SHAPE(n, o, ag_dim(y, 3)));
}

/* Weight of the given shape and optional bias [shape[0]], both from
 * U(-k, k), k = 1 / sqrt(fan_in): PyTorch's default for its conv layers
 * (kaiming_uniform with a = sqrt 5 gives this bound for the weight). */
static int init_wb(const char *fn, ag_tensor **w, ag_tensor **b, const size_t *shape, int nd,
                   int bias, ag_rng *r)
{
    size_t fan_in = 1;
    for (int i = 1; i < nd; i++) fan_in *= shape[i];
    for (int i = 0; i < nd; i++)
        if (!shape[i])
            return agi_fail(NULL, AG_EINVAL, "%s: channels and kernel sizes must be > 0", fn);
    if (!r)
        return agi_fail(NULL, AG_EINVAL, "%s: generator is NULL", fn);
    *w = ag_param_new(shape, nd);
    *b = bias ? ag_param_new(shape, 1) : NULL;
    if (!*w || (bias && !*b)) {
        ag_param_free(*w);
        ag_param_free(*b);
        *w = *b = NULL;
        return agi_last_status(); /* ag_param_new's: too large or out of memory */
    }
    double k = 1.0 / sqrt((double)fan_in);
    ag_init_uniform(*w, -k, k, r);
    if (*b)
        ag_init_uniform(*b, -k, k, r);
    return AG_OK;
}

/* Add "<prefix>.weight" and, if any, "<prefix>.bias". */
static int add_wb(const char *fn, ag_tensor *w, ag_tensor *b, ag_paramset *s, const char *prefix)
{
    if (!w || !prefix)
        return agi_fail(NULL, AG_EINVAL, "%s: NULL or uninitialised argument", fn);
    char name[80];
    snprintf(name, sizeof name, "%s.weight", prefix);
    int rc = ag_paramset_add(s, w, name);
    if (rc || !b)
        return rc;
    snprintf(name, sizeof name, "%s.bias", prefix);
    return ag_paramset_add(s, b, name);
}

int ag_conv2d_init(ag_conv2d *c, size_t in_c, size_t out_c, size_t kh, size_t kw, size_t stride,
                   size_t pad, int bias, ag_rng *r)
{
    if (!c)
        return agi_fail(NULL, AG_EINVAL, "ag_conv2d_init: layer is NULL");
    memset(c, 0, sizeof *c);
    int rc = init_wb("ag_conv2d_init", &c->weight, &c->bias, AG_SHAPE(out_c, in_c, kh, kw),
                     bias, r);
    if (rc)
        return rc;
    c->in_c = in_c;
    c->out_c = out_c;
    c->kh = kh;
    c->kw = kw;
    c->stride = stride ? stride : 1;
    c->pad = pad;
    c->dilation = 1;
    return AG_OK;
}

void ag_conv2d_fini(ag_conv2d *c)
{
    if (!c)
        return;
    ag_param_free(c->weight);
    ag_param_free(c->bias);
    memset(c, 0, sizeof *c);
}

ag_tensor *ag_conv2d_forward(ag_tape *t, const ag_conv2d *c, ag_tensor *x)
{
    if (!c || !c->weight)
        return nn_fail(t, AG_EINVAL, "ag_conv2d_forward: layer is NULL or not initialised");
    return ag_conv2d_fn(t, x, c->weight, c->bias, c->stride, c->pad, c->dilation);
}

int ag_conv2d_params(const ag_conv2d *c, ag_paramset *s, const char *prefix)
{
    return add_wb("ag_conv2d_params", c ? c->weight : NULL, c ? c->bias : NULL, s, prefix);
}

int ag_conv1d_init(ag_conv1d *c, size_t in_c, size_t out_c, size_t ksize, size_t stride,
                   size_t pad, int bias, ag_rng *r)
{
    if (!c)
        return agi_fail(NULL, AG_EINVAL, "ag_conv1d_init: layer is NULL");
    memset(c, 0, sizeof *c);
    int rc = init_wb("ag_conv1d_init", &c->weight, &c->bias, AG_SHAPE(out_c, in_c, ksize), bias, r);
    if (rc)
        return rc;
    c->in_c = in_c;
    c->out_c = out_c;
    c->k = ksize;
    c->stride = stride ? stride : 1;
    c->pad = pad;
    c->dilation = 1;
    return AG_OK;
}

void ag_conv1d_fini(ag_conv1d *c)
{
    if (!c)
        return;
    ag_param_free(c->weight);
    ag_param_free(c->bias);
    memset(c, 0, sizeof *c);
}

ag_tensor *ag_conv1d_forward(ag_tape *t, const ag_conv1d *c, ag_tensor *x)
{
    if (!c || !c->weight)
        return nn_fail(t, AG_EINVAL, "ag_conv1d_forward: layer is NULL or not initialised");
    return ag_conv1d_fn(t, x, c->weight, c->bias, c->stride, c->pad, c->dilation);
}

int ag_conv1d_params(const ag_conv1d *c, ag_paramset *s, const char *prefix)
{
    return add_wb("ag_conv1d_params", c ? c->weight : NULL, c ? c->bias : NULL, s, prefix);
}
