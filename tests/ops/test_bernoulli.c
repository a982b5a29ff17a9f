#include "ops/movement.h"

static ag_tensor *mask(ag_tape *t, uint64_t seed, size_t n, ag_real p, ag_real scale)
{
    ag_tape_seed(t, seed);
    ag_tensor *m = ag_bernoulli(t, AG_SHAPE(n), p, scale);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    return m;
}

Test(bernoulli, seeded_and_distributed)
{
    enum { N = 20000 };
    ag_tape *t = ag_tape_new();
    ag_tensor *a = mask(t, 7, N, 0.3, 2.5), *b = mask(t, 7, N, 0.3, 2.5), *c = mask(t, 8, N, 0.3, 2.5);
    cr_assert_eq(ag_ndim(a), 1);
    cr_assert_eq(ag_numel(a), N);
    cr_assert_eq(memcmp(ag_data(a), ag_data(b), N * sizeof(ag_real)), 0, "same seed, other mask");
    cr_assert_neq(memcmp(ag_data(a), ag_data(c), N * sizeof(ag_real)), 0, "other seed, same mask");
    size_t on = 0;
    for (size_t i = 0; i < N; i++) {
        ag_real v = ag_data(a)[i];
        cr_assert(v == 0 || v == (ag_real)2.5, "element %zu is %g", i, (double)v);
        on += v != 0;
    }
    /* binomial: sd = sqrt(N p (1-p)) = 65; allow 5 sd */
    cr_assert(fabs((double)on - 0.3 * N) < 5 * 65, "%zu of %d set", on, N);
    /* draws continue the stream: a second mask without reseeding differs */
    ag_tensor *d = ag_bernoulli(t, AG_SHAPE(N), 0.3, 2.5);
    cr_assert_neq(memcmp(ag_data(c), ag_data(d), N * sizeof(ag_real)), 0);
    ag_tape_free(t);
}

Test(bernoulli, extremes_and_shape)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *z = ag_bernoulli(t, AG_SHAPE(2, 3, 4), 0, 1);
    ag_tensor *o = ag_bernoulli(t, AG_SHAPE(2, 3, 4), 1, 3);
    cr_assert_eq(ag_ndim(z), 3);
    cr_assert_eq(ag_dim(z, 2), 4);
    for (int i = 0; i < 24; i++) {
        cr_assert_eq(ag_data(z)[i], 0);
        cr_assert_eq(ag_data(o)[i], 3);
    }
    ag_tensor *s = ag_bernoulli(t, NULL, 0, 1, 5);
    cr_assert_eq(ag_ndim(s), 0);
    assert_close(ag_data(s), (double[]){5}, 1, 0);
    cr_assert_eq(ag_requires_grad(o), 0);
    ag_tape_free(t);
}

static ag_tensor *P[1];

static ag_tensor *f_dropout(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *m = ag_bernoulli(t, ag_shape(P[0]), ag_ndim(P[0]), 0.5, 2);
    return weighted_loss(t, ag_mul(t, P[0], m));
}

Test(bernoulli, gradcheck_through_mask)
{
    P[0] = param_rand(AG_SHAPE(4, 5), -1, 1, 81);
    GRADCHECK(f_dropout, NULL, P, 1);
    /* the gradient is zero exactly where the mask dropped the element */
    ag_tape *t = ag_tape_new();
    ag_tape_seed(t, 99);
    ag_tensor *m = ag_bernoulli(t, AG_SHAPE(4, 5), 0.5, 2);
    ag_param_zero_grad(P[0]);
    cr_assert_eq(ag_backward(t, ag_sum_all(t, ag_mul(t, P[0], m))), AG_OK);
    size_t zeros = 0;
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(ag_grad(P[0])[i], ag_data(m)[i]);
        zeros += ag_data(m)[i] == 0;
    }
    cr_assert(zeros > 0 && zeros < 20);
    ag_tape_free(t);
    ag_param_free(P[0]);
}

Test(bernoulli, errors)
{
    ag_tape *t = ag_tape_new();
    cr_assert(ag_is_poisoned(ag_bernoulli(t, AG_SHAPE(3), 1.5, 1)));
    assert_tape_error(t, AG_EINVAL, "ag_bernoulli (node 0): probability 1.5 outside [0, 1]");
    ag_tape_reset(t);
    ag_bernoulli(t, AG_SHAPE(3), NAN, 1);
    assert_tape_error(t, AG_EINVAL, "probability nan outside [0, 1]");
    ag_tape_reset(t);
    ag_bernoulli(t, NULL, 2, 0.5, 1);
    assert_tape_error(t, AG_EINVAL, "ag_bernoulli (node 0): shape is NULL or ndim 2 out of range");
    ag_tape_reset(t);
    ag_bernoulli(t, AG_SHAPE(1, 1, 1, 1, 1, 1, 1, 1, 1), 0.5, 1);
    assert_tape_error(t, AG_EINVAL, "ndim 9 out of range [0, 8]");
    ag_tape_free(t);
}
