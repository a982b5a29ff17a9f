#include "ops/movement.h"

Test(where, forward_broadcast)
{
    ag_tape *t = ag_tape_new();
    ag_real k[2] = {1, 0}, a[6] = {1, 2, 3, 4, 5, 6}, kk[3] = {0, -2, 0.5};
    ag_tensor *cond = ag_tensor_from(t, k, AG_SHAPE(2, 1));
    ag_tensor *A = ag_tensor_from(t, a, AG_SHAPE(2, 3));
    ag_tensor *y = ag_where(t, cond, A, ag_scalar(t, -1)); /* [2,3] */
    cr_assert_eq(ag_ndim(y), 2);
    assert_close(ag_data(y), (double[]){1, 2, 3, -1, -1, -1}, 6, 0);
    ag_tensor *z = ag_where(t, ag_tensor_from(t, kk, AG_SHAPE(3)), ag_scalar(t, 7), A);
    assert_close(ag_data(z), (double[]){1, 7, 7, 4, 7, 7}, 6, 0);
    ag_tensor *w = ag_where(t, cond, ag_tensor_from(t, kk, AG_SHAPE(1, 3)), ag_scalar(t, 9));
    assert_close(ag_data(w), (double[]){0, -2, 0.5, 9, 9, 9}, 6, 0);
    ag_real k6[6] = {0, 1, NAN, 0, -1, 0}, b6[6] = {-1, -2, -3, -4, -5, -6};
    ag_tensor *v = ag_where(t, ag_tensor_from(t, k6, AG_SHAPE(2, 3)), A,
                            ag_tensor_from(t, b6, AG_SHAPE(2, 3)));
    assert_close(ag_data(v), (double[]){-1, 2, 3, -4, 5, -6}, 6, 0); /* NaN != 0: a */
    ag_tape_free(t);
}

static ag_tensor *P[3];

static ag_tensor *f_where(ag_tape *t, void *ctx)
{
    (void)ctx;
    /* cond [2,1,3] from fixed data; a [4,1] and b [3] broadcast to [2,4,3] */
    static const ag_real k[6] = {1, 0, 1, 0, 0, 1};
    ag_tensor *cond = ag_tensor_from(t, k, AG_SHAPE(2, 1, 3));
    return ag_add(t, loss_with_direct(t, ag_where(t, cond, P[0], P[1]), P[0]), weighted_loss(t, P[1]));
}

Test(where, gradcheck_broadcast)
{
    P[0] = param_rand(AG_SHAPE(4, 1), -1, 1, 71);
    P[1] = param_rand(AG_SHAPE(3), -1, 1, 72);
    GRADCHECK(f_where, NULL, P, 2);
    ag_param_free(P[0]);
    ag_param_free(P[1]);
}

Test(where, no_gradient_to_cond)
{
    ag_tensor *k = ag_param_new(AG_SHAPE(3)), *a = ag_param_new(AG_SHAPE(3));
    ag_real kv[3] = {1, 0, 2};
    memcpy(ag_data(k), kv, sizeof kv);
    ag_tape *t = ag_tape_new();
    ag_tensor *y = ag_sum_all(t, ag_where(t, k, a, ag_mul(t, a, ag_scalar(t, 3))));
    cr_assert_eq(ag_backward(t, y), AG_OK, "%s", ag_tape_errmsg(t));
    assert_close(ag_grad(a), (double[]){1, 3, 1}, 3, TOL);
    assert_close(ag_grad(k), (double[]){0, 0, 0}, 3, 0);
    ag_tape_free(t);
    ag_param_free(k);
    ag_param_free(a);
}

Test(where, errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *k = ag_tensor_new(t, AG_SHAPE(2)), *a = ag_tensor_new(t, AG_SHAPE(3));
    cr_assert(ag_is_poisoned(ag_where(t, k, a, a)));
    assert_tape_error(t, AG_EINVAL, "ag_where (node 0): shapes do not broadcast: cond[2] a[3] b[3]");
    ag_tape_reset(t);
    k = ag_tensor_new(t, AG_SHAPE(3)), a = ag_tensor_new(t, AG_SHAPE(2, 1));
    ag_where(t, k, a, ag_tensor_new(t, AG_SHAPE(4)));
    assert_tape_error(t, AG_EINVAL, "shapes do not broadcast: cond[3] a[2,1] b[4]");
    ag_tape_free(t);
}

Test(stop_gradient, forward_and_blocks)
{
    ag_tensor *p = param_rand(AG_SHAPE(2, 3), -1, 1, 73);
    ag_tape *t = ag_tape_new();
    ag_tensor *s = ag_stop_gradient(t, p);
    cr_assert_eq(ag_requires_grad(s), 0);
    cr_assert_eq(memcmp(ag_data(s), ag_data(p), 6 * sizeof(ag_real)), 0);
    /* d/dp sum(p * stop(p)) = stop(p) = p, not 2p */
    ag_param_zero_grad(p);
    cr_assert_eq(ag_backward(t, ag_sum_all(t, ag_mul(t, p, s))), AG_OK, "%s", ag_tape_errmsg(t));
    for (int i = 0; i < 6; i++)
        cr_assert_eq(ag_grad(p)[i], ag_data(p)[i]);
    /* nothing at all depends on p through it */
    ag_tape_reset(t);
    cr_assert_eq(ag_backward(t, ag_sum_all(t, ag_stop_gradient(t, p))), AG_EINVAL);
    ag_tape_free(t);
    ag_param_free(p);
}

static ag_tensor *f_stop(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weighted_loss(t, ag_mul(t, P[0], ag_stop_gradient(t, ag_tanh(t, P[1]))));
}

Test(stop_gradient, gradcheck)
{
    /* the values pass through unchanged, so the gradient wrt P[0] is exact */
    P[0] = param_rand(AG_SHAPE(2, 3), -1, 1, 74);
    P[1] = param_rand(AG_SHAPE(2, 3), -1, 1, 75);
    GRADCHECK(f_stop, NULL, P, 1);
    ag_param_free(P[0]);
    ag_param_free(P[1]);
}

Test(stop_gradient, errors)
{
    ag_tape *t = ag_tape_new();
    cr_assert(ag_is_poisoned(ag_stop_gradient(t, NULL)));
    assert_tape_error(t, AG_EINVAL, "ag_stop_gradient (node 0): NULL tensor as input 0");
    ag_tape_free(t);
}
