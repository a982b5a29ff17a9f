#include "common.h"

Test(tanh, forward)
{
    ag_tape *t = ag_tape_new();
    ag_real x[5] = {-30, -1, 0, 0.5, 30};
    ag_tensor *y = ag_tanh(t, ag_tensor_wrap(t, x, AG_SHAPE(5)));
    assert_close(ag_data(y), (double[]){-1, -0.7615941559557649, 0, 0.46211715726000974, 1}, 5, TOL);
    ag_tape_free(t);
}

static ag_tensor *P[1];

static ag_tensor *f(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_sum_all(t, ag_mul(t, ag_tanh(t, P[0]), P[0]));
}

Test(tanh, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(4, 5), -3, 3, 7);
    GRADCHECK(f, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(tanh, error_poisoned_input)
{
    ag_tape *t = ag_tape_new(), *u = ag_tape_new();
    ag_tensor *other = ag_tensor_new(u, AG_SHAPE(2));
    ag_tanh(t, other);
    assert_tape_error(t, AG_ESTATE, "ag_tanh (node 0): tensor of another tape");
    ag_tape_free(t);
    ag_tape_free(u);
}
