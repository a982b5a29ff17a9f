#include "ops/movement.h"

Test(gather, forward)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = iota(t, AG_SHAPE(3, 4));
    ag_tensor *r = ag_gather(t, x, 0, (int64_t[]){2, 0, 2}, 3); /* rows 2, 0, 2 */
    cr_assert_eq(ag_dim(r, 0), 3);
    assert_close(ag_data(r), (double[]){8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}, 12, 0);
    ag_tensor *k = ag_gather(t, x, -1, (int64_t[]){3, 1}, 2); /* columns 3, 1 */
    cr_assert_eq(ag_dim(k, 1), 2);
    assert_close(ag_data(k), (double[]){3, 1, 7, 5, 11, 9}, 6, 0);
    ag_tensor *e = ag_gather(t, x, 1, NULL, 0);
    cr_assert_eq(ag_numel(e), 0);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    ag_tape_free(t);
}

Test(gather, many_indices)
{
    /* more indices than fit in the constructor's stack buffer */
    enum { N = 1500 };
    static int64_t idx[N];
    static double want[2 * N];
    ag_tape *t = ag_tape_new();
    ag_tensor *x = iota(t, AG_SHAPE(2, 7));
    for (size_t j = 0; j < N; j++) {
        idx[j] = (int64_t)((j * 5 + 3) % 7);
        want[j] = (double)idx[j];
        want[N + j] = 7 + (double)idx[j];
    }
    ag_tensor *y = ag_gather(t, x, 1, idx, N);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_dim(y, 1), N);
    assert_close(ag_data(y), want, 2 * N, 0);
    ag_tape_free(t);
}

Test(scatter_add, forward)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = iota(t, AG_SHAPE(2, 3));
    ag_tensor *y = ag_scatter_add(t, x, 1, (int64_t[]){0, 2, 0}, 4); /* [2,4] */
    cr_assert_eq(ag_dim(y, 1), 4);
    assert_close(ag_data(y), (double[]){0 + 2, 0, 1, 0, 3 + 5, 0, 4, 0}, 8, 0);
    ag_tensor *z = ag_scatter_add(t, x, 0, (int64_t[]){1, 1}, 2); /* both rows into row 1 */
    assert_close(ag_data(z), (double[]){0, 0, 0, 3, 5, 7}, 6, 0);
    ag_tape_free(t);
}

/* <gather(u), v> = <u, scatter_add(v)> for the same indices. */
Test(scatter_add, adjoint_of_gather)
{
    ag_tape *t = ag_tape_new();
    ag_real u[2 * 5 * 3], v[2 * 4 * 3];
    fill_uniform(u, 30, -1, 1, 61);
    fill_uniform(v, 24, -1, 1, 62);
    const int64_t idx[4] = {4, 0, 4, 2};
    ag_tensor *gu = ag_gather(t, ag_tensor_from(t, u, AG_SHAPE(2, 5, 3)), 1, idx, 4);
    ag_tensor *sv = ag_scatter_add(t, ag_tensor_from(t, v, AG_SHAPE(2, 4, 3)), 1, idx, 5);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    double lhs = 0, rhs = 0;
    for (int i = 0; i < 24; i++) lhs += (double)ag_data(gu)[i] * (double)v[i];
    for (int i = 0; i < 30; i++) rhs += (double)u[i] * (double)ag_data(sv)[i];
    cr_assert(fabs(lhs - rhs) <= TOL * (1 + fabs(lhs)), "%g vs %g", lhs, rhs);
    ag_tape_free(t);
}

static ag_tensor *P[1];

static ag_tensor *f_gather(ag_tape *t, void *ctx)
{
    (void)ctx;
    /* index 1 twice, index 0 never: gradients add up or stay 0 */
    return loss_with_direct(t, ag_gather(t, P[0], 1, (int64_t[]){1, 3, 1, 2}, 4), P[0]);
}

static ag_tensor *f_scatter(ag_tape *t, void *ctx)
{
    (void)ctx;
    return loss_with_direct(t, ag_scatter_add(t, P[0], 1, (int64_t[]){2, 0, 2, 1}, 3), P[0]);
}

Test(gather, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(2, 4, 3), -1, 1, 63);
    GRADCHECK(f_gather, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(scatter_add, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(2, 4, 3), -1, 1, 64);
    GRADCHECK(f_scatter, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(gather, errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3));
    cr_assert(ag_is_poisoned(ag_gather(t, x, 1, (int64_t[]){0, 3}, 2)));
    assert_tape_error(t, AG_EINVAL, "ag_gather (node 0): index 3 (position 1) out of range [0, 3) for x[2,3]");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_gather(t, x, 0, (int64_t[]){-1}, 1);
    assert_tape_error(t, AG_EINVAL, "index -1 (position 0) out of range [0, 2)");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_gather(t, x, 2, (int64_t[]){0}, 1);
    assert_tape_error(t, AG_EINVAL, "ag_gather (node 0): axis 2 out of range for x[2,3]");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_gather(t, x, 0, NULL, 2);
    assert_tape_error(t, AG_EINVAL, "idx is NULL with 2 indices");
    ag_tape_free(t);
}

Test(scatter_add, errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3));
    cr_assert(!ag_is_poisoned(ag_scatter_add(t, x, 1, (int64_t[]){0, 3, 1}, 4)));
    cr_assert(ag_is_poisoned(ag_scatter_add(t, x, 1, (int64_t[]){0, 4, 1}, 3)));
    assert_tape_error(t, AG_EINVAL, "ag_scatter_add (node 1): index 4 (position 1) out of range [0, 3)");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_scatter_add(t, x, -3, (int64_t[]){0}, 1);
    assert_tape_error(t, AG_EINVAL, "ag_scatter_add (node 0): axis -3 out of range for x[2,3]");
    ag_tape_free(t);
}
