#include "common.h"

Test(add, forward_broadcast)
{
    ag_tape *t = ag_tape_new();
    ag_real a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30}, c[2] = {100, 200};
    ag_tensor *A = ag_tensor_wrap(t, a, AG_SHAPE(2, 3));
    ag_tensor *B = ag_tensor_wrap(t, b, AG_SHAPE(3));
    ag_tensor *C = ag_tensor_wrap(t, c, AG_SHAPE(2, 1));
    ag_tensor *y = ag_add(t, A, B);
    double want[6] = {11, 22, 33, 14, 25, 36};
    cr_assert_eq(ag_ndim(y), 2);
    assert_close(ag_data(y), want, 6, TOL);
    ag_tensor *z = ag_add(t, C, B); /* [2,1] + [3] -> [2,3] */
    double wz[6] = {110, 120, 130, 210, 220, 230};
    cr_assert_eq(ag_dim(z, 0), 2);
    cr_assert_eq(ag_dim(z, 1), 3);
    assert_close(ag_data(z), wz, 6, TOL);
    ag_tensor *s = ag_add(t, A, ag_scalar(t, 1));
    assert_close(ag_data(s), (double[]){2, 3, 4, 5, 6, 7}, 6, TOL);
    ag_tape_free(t);
}

static ag_tensor *P[3];

static ag_tensor *f_same(ag_tape *t, void *ctx)
{
    (void)ctx;
    /* sum(w * (a + b)) with fixed weights so every gradient entry differs */
    ag_tensor *w = ag_tanh(t, P[2]);
    return ag_sum_all(t, ag_mul(t, w, ag_add(t, P[0], P[1])));
}

Test(add, gradcheck_same_shape)
{
    P[0] = param_rand(AG_SHAPE(3, 4), -1, 1, 1);
    P[1] = param_rand(AG_SHAPE(3, 4), -1, 1, 2);
    P[2] = param_rand(AG_SHAPE(3, 4), -1, 1, 3);
    GRADCHECK(f_same, NULL, P, 2);
    for (int i = 0; i < 3; i++) ag_param_free(P[i]);
}

static ag_tensor *f_bcast(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *w = ag_tanh(t, P[2]);
    return ag_sum_all(t, ag_mul(t, w, ag_add(t, P[0], P[1])));
}

Test(add, gradcheck_broadcast)
{
    /* [2,1,4] + [3,1] -> [2,3,4] */
    P[0] = param_rand(AG_SHAPE(2, 1, 4), -1, 1, 4);
    P[1] = param_rand(AG_SHAPE(3, 1), -1, 1, 5);
    P[2] = param_rand(AG_SHAPE(2, 3, 4), -1, 1, 6);
    GRADCHECK(f_bcast, NULL, P, 2);
    /* the VJP sums over broadcast axes: d/dP1 of sum(add) = 2*4 per entry */
    ag_tape *t = ag_tape_new();
    ag_tensor *y = ag_sum_all(t, ag_add(t, P[0], P[1]));
    ag_param_zero_grad(P[1]);
    cr_assert_eq(ag_backward(t, y), AG_OK);
    for (int i = 0; i < 3; i++) cr_assert_float_eq(ag_grad(P[1])[i], 8.0, 1e-6);
    ag_tape_free(t);
    for (int i = 0; i < 3; i++) ag_param_free(P[i]);
}

Test(add, error_shapes)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *a = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_tensor *b = ag_tensor_new(t, AG_SHAPE(4));
    ag_tensor *y = ag_add(t, a, b);
    cr_assert(ag_is_poisoned(y));
    assert_tape_error(t, AG_EINVAL, "ag_add (node 0): shapes do not broadcast: a[2,3] b[4]");
    ag_tape_free(t);
}
