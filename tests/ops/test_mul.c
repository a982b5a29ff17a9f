#include "common.h"

Test(mul, forward)
{
    ag_tape *t = ag_tape_new();
    ag_real a[4] = {1, 2, 3, 4}, b[2] = {-1, 0.5};
    ag_tensor *y = ag_mul(t, ag_tensor_wrap(t, a, AG_SHAPE(2, 2)), ag_tensor_wrap(t, b, AG_SHAPE(2)));
    assert_close(ag_data(y), (double[]){-1, 1, -3, 2}, 4, TOL);
    ag_tape_free(t);
}

static ag_tensor *P[2];

static ag_tensor *f(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_sum_all(t, ag_mul(t, ag_mul(t, P[0], P[1]), P[0]));
}

Test(mul, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(3, 4), -2, 2, 1);
    P[1] = param_rand(AG_SHAPE(3, 4), -2, 2, 2);
    GRADCHECK(f, NULL, P, 2);
    ag_param_free(P[0]);
    ag_param_free(P[1]);
}

Test(mul, gradcheck_broadcast)
{
    P[0] = param_rand(AG_SHAPE(2, 3, 4), -2, 2, 3);
    P[1] = param_rand(AG_SHAPE(3, 1), -2, 2, 4);
    GRADCHECK(f, NULL, P, 2);
    ag_param_free(P[0]);
    ag_param_free(P[1]);
}

Test(mul, error_shapes)
{
    ag_tape *t = ag_tape_new();
    ag_mul(t, ag_tensor_new(t, AG_SHAPE(2, 3)), ag_tensor_new(t, AG_SHAPE(3, 2)));
    assert_tape_error(t, AG_EINVAL, "ag_mul (node 0): shapes do not broadcast: a[2,3] b[3,2]");
    ag_tape_free(t);
}
