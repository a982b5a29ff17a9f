#include "common.h"

static const ag_real X[24] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                              12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

Test(sum, forward_axes)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_from(t, X, AG_SHAPE(2, 3, 4));
    ag_tensor *s1 = ag_sum(t, x, (int[]){1}, 1, 0); /* [2,4] */
    cr_assert_eq(ag_ndim(s1), 2);
    assert_close(ag_data(s1), (double[]){12, 15, 18, 21, 48, 51, 54, 57}, 8, TOL);
    ag_tensor *s2 = ag_sum(t, x, (int[]){0, -1}, 2, 1); /* [1,3,1] */
    cr_assert_eq(ag_ndim(s2), 3);
    cr_assert_eq(ag_dim(s2, 1), 3);
    assert_close(ag_data(s2), (double[]){60, 92, 124}, 3, TOL);
    ag_tensor *s3 = ag_sum_all(t, x);
    cr_assert_eq(ag_ndim(s3), 0);
    assert_close(ag_data(s3), (double[]){276}, 1, TOL);
    ag_tape_free(t);
}

Test(mean, forward_axes)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_from(t, X, AG_SHAPE(2, 3, 4));
    ag_tensor *m = ag_mean(t, x, (int[]){2}, 1, 0);
    assert_close(ag_data(m), (double[]){1.5, 5.5, 9.5, 13.5, 17.5, 21.5}, 6, TOL);
    assert_close(ag_data(ag_mean_all(t, x)), (double[]){11.5}, 1, TOL);
    ag_tape_free(t);
}

static ag_tensor *P[2];
static int AX[2];
static int NAX, KEEP;

static ag_tensor *f_sum(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *s = ag_sum(t, P[0], AX, NAX, KEEP);
    return ag_sum_all(t, ag_mul(t, ag_tanh(t, s), s));
}

static ag_tensor *f_mean(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *s = ag_mean(t, P[0], AX, NAX, KEEP);
    return ag_sum_all(t, ag_mul(t, ag_tanh(t, s), s));
}

Test(sum, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(2, 3, 4), -1, 1, 11);
    AX[0] = 1, NAX = 1, KEEP = 0;
    GRADCHECK(f_sum, NULL, P, 1);
    AX[0] = 0, AX[1] = 2, NAX = 2, KEEP = 1;
    GRADCHECK(f_sum, NULL, P, 1);
    NAX = 0;
    GRADCHECK(f_sum, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(mean, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(2, 3, 4), -1, 1, 12);
    AX[0] = -1, NAX = 1, KEEP = 1;
    GRADCHECK(f_mean, NULL, P, 1);
    AX[0] = 0, AX[1] = 1, NAX = 2, KEEP = 0;
    GRADCHECK(f_mean, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(sum, error_axes)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_sum(t, x, (int[]){2}, 1, 0);
    assert_tape_error(t, AG_EINVAL, "ag_sum (node 0): axis 2 out of range for x[2,3]");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_mean(t, x, (int[]){1, -1}, 2, 0);
    assert_tape_error(t, AG_EINVAL, "ag_mean (node 0): axis -1 given twice");
    ag_tape_free(t);
}
