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

static ag_tensor *f_bias(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *w = ag_tanh(t, P[2]);
    return ag_sum_all(t, ag_mul(t, w, ag_add(t, P[0], P[1])));
}

/* A bias (the last dim of the other operand, alone or after ones) on
 * either side: its own VJP path, against finite differences. */
Test(add, gradcheck_bias)
{
    static const size_t shapes[][2][3] = {{{3, 5, 0}, {5, 0, 0}}, {{5, 0, 0}, {3, 5, 0}},
                                          {{2, 3, 4}, {1, 4, 0}}};
    static const int nds[][2] = {{2, 1}, {1, 2}, {3, 2}};
    for (int s = 0; s < 3; s++) {
        P[0] = param_rand(shapes[s][0], nds[s][0], -1, 1, 7);
        P[1] = param_rand(shapes[s][1], nds[s][1], -1, 1, 8);
        int big = nds[s][0] >= nds[s][1] ? 0 : 1;
        P[2] = param_rand(shapes[s][big], nds[s][big], -1, 1, 9);
        GRADCHECK(f_bias, NULL, P, 2);
        for (int i = 0; i < 3; i++) ag_param_free(P[i]);
    }
}

/* y = h + b for h [70, 300] (21000 values: the rows go in three groups),
 * loss = sum(w * y) + 3 sum(b), the second use of b recorded before or
 * after the add (so the bias sum is stored first or added second). G_h = w
 * exactly; G_b[j] = sum_r w[r][j] + 3 against a double sum; and G_b's bits
 * are the same on 1, 2 and 3 threads. */
Test(add, bias_gradient_in_groups)
{
    enum { R = 70, C = 300 };
    ag_tensor *x = param_rand(AG_SHAPE(R, C), -1, 1, 10);
    ag_tensor *b = param_rand(AG_SHAPE(C), -1, 1, 11);
    ag_real *w = malloc(sizeof(ag_real) * R * C), gb1[C];
    cr_assert(w);
    fill_uniform(w, R * C, -1, 1, 12);
    for (int order = 0; order < 2; order++)
        for (int threads = 1; threads <= 3; threads++) {
            ag_set_threads(threads);
            ag_tape *t = ag_tape_new();
            ag_param_zero_grad(x);
            ag_param_zero_grad(b);
            ag_tensor *h = ag_affine(t, x, 1, 0), *extra = NULL;
            if (order == 0)
                extra = ag_sum_all(t, ag_mul_scalar(t, b, 3));
            ag_tensor *y = ag_add(t, h, b);
            ag_tensor *l = ag_sum_all(t, ag_mul(t, ag_tensor_wrap(t, w, AG_SHAPE(R, C)), y));
            if (order == 1)
                extra = ag_sum_all(t, ag_mul_scalar(t, b, 3));
            cr_assert_eq(ag_backward(t, ag_add(t, l, extra)), AG_OK, "%s", ag_tape_errmsg(t));
            for (size_t i = 0; i < (size_t)R * C; i++)
                cr_assert(ag_grad(x)[i] == w[i], "G_h[%zu] = %g, want %g", i,
                          (double)ag_grad(x)[i], (double)w[i]);
            for (int j = 0; j < C; j++) {
                double want = 3, mag = 3;
                for (int r = 0; r < R; r++) {
                    want += w[r * C + j];
                    mag += fabs((double)w[r * C + j]);
                }
                /* a sum of R + 1 terms, each rounding at most eps of the total */
                double eps = AG_REAL_IS_DOUBLE ? 0x1p-52 : 0x1p-23;
                double tol = (R + 2) * eps * mag;
                cr_assert(fabs(ag_grad(b)[j] - want) <= tol, "G_b[%d] = %g, want %g (tol %g)", j,
                          (double)ag_grad(b)[j], want, tol);
            }
            if (threads == 1)
                memcpy(gb1, ag_grad(b), sizeof gb1);
            else
                cr_assert(memcmp(gb1, ag_grad(b), sizeof gb1) == 0,
                          "G_b differs between 1 and %d threads", threads);
            ag_tape_free(t);
        }
    ag_set_threads(0);
    free(w);
    ag_param_free(x);
    ag_param_free(b);
}
