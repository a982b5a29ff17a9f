#include "ops/movement.h"

Test(concat, forward)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *a = iota(t, AG_SHAPE(2, 2)), *b = ag_tensor_new(t, AG_SHAPE(2, 1));
    ag_data(b)[0] = 10, ag_data(b)[1] = 11;
    ag_tensor *y = ag_concat(t, (ag_tensor *[]){a, b, a}, 3, -1); /* [2,5] */
    cr_assert_eq(ag_dim(y, 1), 5);
    assert_close(ag_data(y), (double[]){0, 1, 10, 0, 1, 2, 3, 11, 2, 3}, 10, 0);
    ag_tensor *z = ag_concat(t, (ag_tensor *[]){a, ag_transpose(t, b, 0, 1)}, 2, 0); /* [3,2] */
    cr_assert_eq(ag_dim(z, 0), 3);
    assert_close(ag_data(z), (double[]){0, 1, 2, 3, 10, 11}, 6, 0);
    ag_tensor *e = ag_concat(t, (ag_tensor *[]){a, ag_tensor_new(t, AG_SHAPE(0, 2))}, 2, 0);
    assert_close(ag_data(e), (double[]){0, 1, 2, 3}, 4, 0);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    ag_tape_free(t);
}

Test(stack, forward)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *a = iota(t, AG_SHAPE(2, 2)), *b = ag_add(t, a, ag_scalar(t, 10));
    ag_tensor *y0 = ag_stack(t, (ag_tensor *[]){a, b}, 2, 0); /* [2,2,2] */
    assert_close(ag_data(y0), (double[]){0, 1, 2, 3, 10, 11, 12, 13}, 8, 0);
    ag_tensor *y1 = ag_stack(t, (ag_tensor *[]){a, b}, 2, 1);
    assert_close(ag_data(y1), (double[]){0, 1, 10, 11, 2, 3, 12, 13}, 8, 0);
    ag_tensor *y2 = ag_stack(t, (ag_tensor *[]){a, b, a}, 3, -1); /* [2,2,3] */
    cr_assert_eq(ag_dim(y2, 2), 3);
    assert_close(ag_data(y2), (double[]){0, 10, 0, 1, 11, 1, 2, 12, 2, 3, 13, 3}, 12, 0);
    ag_tensor *s = ag_stack(t, (ag_tensor *[]){ag_scalar(t, 4), ag_scalar(t, 5)}, 2, 0);
    cr_assert_eq(ag_ndim(s), 1);
    assert_close(ag_data(s), (double[]){4, 5}, 2, 0);
    ag_tape_free(t);
}

static ag_tensor *P[3];
static int AXIS;

static ag_tensor *f_concat(ag_tape *t, void *ctx)
{
    (void)ctx;
    /* P[0] appears twice: its two gradient blocks add up */
    return weighted_loss(t, ag_concat(t, (ag_tensor *[]){P[0], P[1], P[0]}, 3, AXIS));
}

static ag_tensor *f_stack(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weighted_loss(t, ag_stack(t, (ag_tensor *[]){P[0], P[2], P[0]}, 3, AXIS));
}

Test(concat, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(2, 3, 2), -1, 1, 51);
    P[1] = param_rand(AG_SHAPE(2, 1, 2), -1, 1, 52);
    AXIS = 1;
    GRADCHECK(f_concat, NULL, P, 2);
    ag_param_free(P[1]);
    P[1] = param_rand(AG_SHAPE(2, 3, 3), -1, 1, 53);
    AXIS = -1;
    GRADCHECK(f_concat, NULL, P, 2);
    ag_param_free(P[0]);
    ag_param_free(P[1]);
}

Test(stack, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(2, 3), -1, 1, 54);
    P[2] = param_rand(AG_SHAPE(2, 3), -1, 1, 55);
    ag_tensor *w[2] = {P[0], P[2]};
    for (AXIS = -3; AXIS <= 2; AXIS++)
        GRADCHECK(f_stack, NULL, w, 2);
    ag_param_free(P[0]);
    ag_param_free(P[2]);
}

Test(concat, errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *a = ag_tensor_new(t, AG_SHAPE(2, 3)), *b = ag_tensor_new(t, AG_SHAPE(3, 3));
    cr_assert(ag_is_poisoned(ag_concat(t, (ag_tensor *[]){a, b}, 2, 1)));
    assert_tape_error(t, AG_EINVAL, "ag_concat (node 0): shapes differ off axis 1: x0[2,3] x1[3,3]");
    ag_tape_reset(t);
    a = ag_tensor_new(t, AG_SHAPE(2, 3)), b = ag_tensor_new(t, AG_SHAPE(2, 3, 1));
    ag_concat(t, (ag_tensor *[]){a, b}, 2, 0);
    assert_tape_error(t, AG_EINVAL, "shapes differ off axis 0: x0[2,3] x1[2,3,1]");
    ag_tape_reset(t);
    a = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_concat(t, (ag_tensor *[]){a, a}, 2, 2);
    assert_tape_error(t, AG_EINVAL, "ag_concat (node 0): axis 2 out of range for x0[2,3]");
    ag_tape_reset(t);
    ag_concat(t, NULL, 0, 0);
    assert_tape_error(t, AG_EINVAL, "ag_concat (node 0)");
    ag_tape_free(t);
}

Test(stack, errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *a = ag_tensor_new(t, AG_SHAPE(2, 3)), *b = ag_tensor_new(t, AG_SHAPE(3, 2));
    cr_assert(ag_is_poisoned(ag_stack(t, (ag_tensor *[]){a, b}, 2, 0)));
    assert_tape_error(t, AG_EINVAL, "ag_stack (node 0): shapes differ: x0[2,3] x1[3,2]");
    ag_tape_reset(t);
    a = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_stack(t, (ag_tensor *[]){a, a}, 2, 3);
    assert_tape_error(t, AG_EINVAL, "ag_stack (node 0): axis 3 out of range for stacking x0[2,3]");
    ag_tape_reset(t);
    a = ag_tensor_new(t, AG_SHAPE(1, 1, 1, 1, 1, 1, 1, 2));
    ag_stack(t, (ag_tensor *[]){a, a}, 2, 0);
    assert_tape_error(t, AG_EINVAL, "stacking x0[1,1,1,1,1,1,1,2] would exceed 8 dims");
    ag_tape_free(t);
}
