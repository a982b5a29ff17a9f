/* Pooling, composed from public ops (gradients come from those ops):
 *
 *   cols = unfold(x)                       [N, C k k, oh ow]
 *   y    = reduce(cols as [N, C, k k, oh ow], axis 2)   ->  [N, C, oh, ow]
 *
 * with reduce = max (padding reads -inf, so it never wins; ties share the
 * gradient) or mean (padding reads 0 and counts, PyTorch's default
 * count_include_pad). Max pooling whose windows tile the image (stride =
 * kernel, no padding, sizes that divide) needs no columns:
 *
 *   y    = max(x as [N C oh, k, ow, k], axes 1 and 3)   ->  [N, C, oh, ow]
 *
 * the same values and gradients without unfold's copy (max has loops for
 * that layout). */
#include <math.h>
#include "convutil.h"

/* Why the arguments are invalid, or NULL. A poisoned x passes: the ops pass
 * its error on. */
static const char *pool_error(const ag_tensor *x, size_t k, size_t pad, const ag_window2d *g)
{
    if (ag_is_poisoned(x))
        return NULL;
    if (ag_ndim(x) != 4)
        return "input must be [N, C, H, W]";
    if (k == 0 || pad > k / 2)
        return "need kernel > 0 and padding <= kernel / 2";
    if (ag_window2d_out(g, ag_dim(x, 2), ag_dim(x, 3), NULL, NULL))
        return "kernel larger than the padded input";
    return NULL;
}

static ag_tensor *pool2d(ag_tape *t, const char *fn, ag_tensor *x, size_t k, size_t stride,
                         size_t pad, int is_max)
{
    ag_tensor *err = nn_check_args(t, fn, (const nn_arg[]){{x, "input", 0}}, 1);
    if (err)
        return err;
    ag_window2d g = {.kh = k, .kw = k, .stride_h = stride ? stride : k,
                     .stride_w = stride ? stride : k, .pad_h = pad, .pad_w = pad,
                     .pad_value = is_max ? -(ag_real)INFINITY : 0};
    const char *why = pool_error(x, k, pad, &g);
    if (why)
        return nn_fail(t, AG_EINVAL, "%s: %s: x%s, kernel %zux%zu, stride %zu, padding %zu", fn,
                       why, conv_shape_of(x).s, k, k, g.stride_h, pad);
    size_t oh = 0, ow = 0, n = ag_dim(x, 0), c = ag_dim(x, 1);
    ag_window2d_out(&g, ag_dim(x, 2), ag_dim(x, 3), &oh, &ow);
    if (is_max && g.stride_h == k && pad == 0 && oh * k == ag_dim(x, 2) &&
        ow * k == ag_dim(x, 3)) {
        ag_tensor *win = ag_reshape(t, x, AG_SHAPE(n * c * oh, k, ow, k));
        ag_tensor *y = ag_max(t, win, (const int[]){1, 3}, 2, 0);
        return ag_reshape(t, y, AG_SHAPE(n, c, oh, ow));
    }
    ag_tensor *win = ag_reshape(t, ag_unfold(t, x, &g), AG_SHAPE(n, c, k * k, oh * ow));
    int axis = 2;
    ag_tensor *y = is_max ? ag_max(t, win, &axis, 1, 0) : ag_mean(t, win, &axis, 1, 0);
    return ag_reshape(t, y, AG_SHAPE(n, c, oh, ow));
}

ag_tensor *ag_maxpool2d(ag_tape *t, ag_tensor *x, size_t kernel, size_t stride, size_t pad)
{
    return pool2d(t, "ag_maxpool2d", x, kernel, stride, pad, 1);
}

ag_tensor *ag_avgpool2d(ag_tape *t, ag_tensor *x, size_t kernel, size_t stride, size_t pad)
{
    return pool2d(t, "ag_avgpool2d", x, kernel, stride, pad, 0);
}

ag_tensor *ag_global_avgpool2d(ag_tape *t, ag_tensor *x)
{
    ag_tensor *err = nn_check_args(t, "ag_global_avgpool2d", (const nn_arg[]){{x, "input", 0}}, 1);
    if (err)
        return err;
    if (ag_ndim(x) != 4) {
        return nn_fail(t, AG_EINVAL, "ag_global_avgpool2d: input must be [N, C, H, W]: x%s",
                         conv_shape_of(x).s);
    }
    return ag_mean(t, x, (const int[]){2, 3}, 2, 0);
}
