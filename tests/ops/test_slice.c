#include "ops/movement.h"

Test(slice, forward)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = iota(t, AG_SHAPE(2, 3, 4));
    ag_tensor *y = ag_slice(t, x, 1, 1, 2); /* [2,2,4] */
    cr_assert_eq(ag_dim(y, 1), 2);
    assert_close(ag_data(y), (double[]){4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23},
                 16, 0);
    ag_tensor *z = ag_slice(t, x, -1, 3, 1); /* [2,3,1] */
    assert_close(ag_data(z), (double[]){3, 7, 11, 15, 19, 23}, 6, 0);
    ag_tensor *e = ag_slice(t, x, 0, 2, 0); /* empty, at the end */
    cr_assert_eq(ag_numel(e), 0);
    cr_assert_eq(ag_tape_status(t), AG_OK);
    ag_tape_free(t);
}

static ag_tensor *P[3];

static ag_tensor *f_slice(ag_tape *t, void *ctx)
{
    (void)ctx;
    /* overlapping slices: the gradients of both must add up */
    ag_tensor *a = ag_slice(t, P[0], 1, 0, 3), *b = ag_slice(t, P[0], 1, 2, 2);
    return ag_add(t, weighted_loss(t, a), weighted_loss(t, ag_slice(t, b, 0, 1, 1)));
}

Test(slice, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(3, 5, 2), -1, 1, 41);
    GRADCHECK(f_slice, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(slice, errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3));
    cr_assert(ag_is_poisoned(ag_slice(t, x, 1, 2, 2)));
    assert_tape_error(t, AG_EINVAL, "ag_slice (node 0): [2, 2 + 2) exceeds axis 1 of x[2,3]");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_slice(t, x, 2, 0, 1);
    assert_tape_error(t, AG_EINVAL, "ag_slice (node 0): axis 2 out of range for x[2,3]");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_slice(t, x, 0, 1, SIZE_MAX); /* start + len wraps around */
    assert_tape_error(t, AG_EINVAL, "exceeds axis 0");
    ag_tape_free(t);
}

Test(pad, forward)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = iota(t, AG_SHAPE(2, 2));
    ag_tensor *y = ag_pad(t, x, (size_t[]){1, 0}, (size_t[]){0, 2}, -1); /* [3,4] */
    cr_assert_eq(ag_dim(y, 0), 3);
    cr_assert_eq(ag_dim(y, 1), 4);
    assert_close(ag_data(y), (double[]){-1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1}, 12, 0);
    /* padding only an outer axis: whole rows are copied at once */
    ag_tensor *z = ag_pad(t, iota(t, AG_SHAPE(2, 1, 2)), (size_t[]){0, 1, 0},
                          (size_t[]){0, 1, 0}, 7); /* [2,3,2] */
    assert_close(ag_data(z), (double[]){7, 7, 0, 1, 7, 7, 7, 7, 2, 3, 7, 7}, 12, 0);
    ag_tensor *s = ag_pad(t, ag_scalar(t, 5), NULL, NULL, 0);
    assert_close(ag_data(s), (double[]){5}, 1, 0);
    ag_tensor *e = ag_pad(t, ag_tensor_new(t, AG_SHAPE(0, 2)), (size_t[]){1, 1}, (size_t[]){0, 0}, 3);
    cr_assert_eq(ag_numel(e), 3);
    assert_close(ag_data(e), (double[]){3, 3, 3}, 3, 0);
    ag_tape_free(t);
}

/* Reference: y[i] = x[i - before] inside, value outside. */
Test(pad, forward_vs_reference_4d)
{
    ag_tape *t = ag_tape_new();
    size_t xs[4] = {2, 3, 4, 5}, b[4] = {0, 1, 2, 0}, a[4] = {1, 0, 1, 0}, ys[4], st[4], idx[4];
    ag_tensor *x = iota(t, xs, 4);
    ag_tensor *y = ag_pad(t, x, b, a, -2);
    for (int d = 0; d < 4; d++)
        ys[d] = b[d] + xs[d] + a[d];
    strides_of(xs, 4, st);
    static double want[3 * 4 * 7 * 5];
    for (size_t i = 0; i < ag_numel(y); i++) {
        unravel(i, ys, 4, idx);
        size_t off = 0;
        int in = 1;
        for (int d = 0; d < 4; d++) {
            in &= idx[d] >= b[d] && idx[d] < b[d] + xs[d];
            off += (idx[d] - b[d]) * st[d];
        }
        want[i] = in ? (double)ag_data(x)[off] : -2;
    }
    cr_assert_eq(ag_numel(y), sizeof want / sizeof *want);
    assert_close(ag_data(y), want, ag_numel(y), 0);
    ag_tape_free(t);
}

static ag_tensor *f_pad(ag_tape *t, void *ctx)
{
    (void)ctx;
    return loss_with_direct(t, ag_pad(t, P[0], (size_t[]){1, 0, 2}, (size_t[]){0, 0, 1}, 0.5), P[0]);
}

Test(pad, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(2, 3, 3), -1, 1, 42);
    GRADCHECK(f_pad, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(pad, errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3));
    cr_assert(ag_is_poisoned(ag_pad(t, x, (size_t[]){1, 1}, NULL, 0)));
    assert_tape_error(t, AG_EINVAL, "ag_pad (node 0): before or after is NULL for x[2,3]");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_pad(t, x, (size_t[]){0, SIZE_MAX}, (size_t[]){0, 0}, 0);
    assert_tape_error(t, AG_EINVAL, "padding of axis 1 too large for x[2,3]");
    ag_tape_free(t);
}

/* A slice that is one contiguous block (leading axes of size 1, or the
 * whole axis) is a view of x; the others, and ag_apply on the op, copy.
 * Values and gradients are the same either way. */
Test(slice, view_and_copy_agree)
{
    ag_tensor *p = param_rand(AG_SHAPE(1, 5, 3), -1, 1, 36);
    ag_real g[2][15];
    for (int copy = 0; copy < 2; copy++) {
        ag_tape *t = ag_tape_new();
        ag_param_zero_grad(p);
        ag_tensor *h = ag_tanh(t, p), *l = NULL;
        for (size_t i = 0; i + 2 <= 5; i++) {
            struct { int axis; size_t start, len; } a = {1, i, 2};
            ag_tensor *s = copy ? ag_apply(t, &ag_op_slice, &h, 1, &a, sizeof a)
                                : ag_slice(t, h, 1, i, 2);
            cr_assert_eq(ag_data(s) == ag_data(h) + 3 * i, !copy);
            ag_tensor *q = ag_sum_all(t, ag_mul(t, s, ag_scalar(t, (ag_real)(i + 1))));
            l = l ? ag_add(t, l, ag_mul(t, q, q)) : ag_mul(t, q, q);
        }
        /* not contiguous: a copy even through ag_slice */
        ag_tensor *cols = ag_slice(t, h, 2, 1, 2);
        cr_assert(ag_data(cols) < ag_data(h) || ag_data(cols) >= ag_data(h) + 15);
        l = ag_add(t, l, ag_sum_all(t, cols));
        cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
        memcpy(g[copy], ag_grad(p), sizeof g[copy]);
        ag_tape_free(t);
    }
    for (int i = 0; i < 15; i++)
        cr_assert_float_eq(g[0][i], g[1][i], 1e-6, "gradient %d: view %g, copy %g", i,
                           (double)g[0][i], (double)g[1][i]);
    ag_param_free(p);
}
