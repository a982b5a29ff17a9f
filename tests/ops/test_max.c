#include "ops/movement.h"

static const ag_real X[24] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8,
                              9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4};

Test(max, forward_axes)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_from(t, X, AG_SHAPE(2, 3, 4));
    ag_tensor *m1 = ag_max(t, x, (int[]){1}, 1, 0); /* [2,4] */
    cr_assert_eq(ag_ndim(m1), 2);
    cr_assert_eq(ag_dim(m1, 1), 4);
    assert_close(ag_data(m1), (double[]){5, 9, 5, 8, 9, 7, 9, 4}, 8, TOL);
    ag_tensor *m2 = ag_max(t, x, (int[]){0, -1}, 2, 1); /* [1,3,1] */
    cr_assert_eq(ag_ndim(m2), 3);
    cr_assert_eq(ag_dim(m2, 1), 3);
    assert_close(ag_data(m2), (double[]){9, 9, 8}, 3, TOL);
    ag_tensor *m3 = ag_max(t, x, NULL, 0, 0);
    cr_assert_eq(ag_ndim(m3), 0);
    assert_close(ag_data(m3), (double[]){9}, 1, TOL);
    ag_real neg[3] = {-5, -2, -7};
    assert_close(ag_data(ag_max(t, ag_tensor_from(t, neg, AG_SHAPE(3)), NULL, 0, 0)),
                 (double[]){-2}, 1, TOL);
    ag_tape_free(t);
}

Test(max, nan_propagates)
{
    ag_tape *t = ag_tape_new();
    ag_real v[6] = {1, NAN, 3, 4, 5, 6};
    ag_tensor *m = ag_max(t, ag_tensor_from(t, v, AG_SHAPE(2, 3)), (int[]){1}, 1, 0);
    cr_assert(isnan(ag_data(m)[0]));
    assert_close(ag_data(m) + 1, (double[]){6}, 1, TOL);
    /* along the other axis (elementwise maxima), a NaN first or later */
    ag_tensor *k = ag_max(t, ag_tensor_from(t, v, AG_SHAPE(3, 2)), (int[]){0}, 1, 0);
    cr_assert(isnan(ag_data(k)[1]));
    assert_close(ag_data(k), (double[]){5}, 1, TOL);
    /* long rows, reduced in several partial maxima */
    static ag_real w[2 * 53];
    for (int i = 0; i < 2 * 53; i++)
        w[i] = (ag_real)((i * 37) % 53) - 60;
    w[20] = NAN;
    w[53 + 44] = 7;
    ag_tensor *r = ag_max(t, ag_tensor_from(t, w, AG_SHAPE(2, 53)), (int[]){-1}, 1, 0);
    cr_assert(isnan(ag_data(r)[0]));
    assert_close(ag_data(r) + 1, (double[]){7}, 1, TOL);
    ag_tape_free(t);
}

Test(max, ties_share_gradient)
{
    /* rows: a three-way tie, a two-way tie, a single maximum */
    ag_tensor *p = ag_param_new(AG_SHAPE(3, 4));
    ag_real v[12] = {2, 2, 1, 2, 0, 5, 5, -1, 7, 1, 2, 3};
    memcpy(ag_data(p), v, sizeof v);
    ag_tape *t = ag_tape_new();
    ag_tensor *m = ag_max(t, p, (int[]){1}, 1, 1);
    cr_assert_eq(ag_dim(m, 1), 1);
    assert_close(ag_data(m), (double[]){2, 5, 7}, 3, TOL);
    ag_real dy[3] = {3, 10, 4};
    cr_assert_eq(ag_backward_with(t, m, dy), AG_OK, "%s", ag_tape_errmsg(t));
    double want[12] = {1, 1, 0, 1, 0, 5, 5, 0, 4, 0, 0, 0};
    assert_close(ag_grad(p), want, 12, TOL);
    ag_tape_free(t);
    ag_param_free(p);
}

/* The same over a middle axis (x [outer, r, inner], the pooling layout,
 * which has its own loops): ties, a NaN and a single maximum per column. */
Test(max, ties_share_gradient_middle_axis)
{
    ag_tensor *p = ag_param_new(AG_SHAPE(2, 3, 3));
    /* image 0 columns: {2,2,2} three-way, {0,5,5} two-way, {7,1,2} single;
     * image 1 columns: {1,NaN,0} NaN, {4,4,-1} two-way, {-3,-2,-9} single */
    ag_real v[18] = {2, 0, 7, 2, 5, 1, 2, 5, 2, 1, 4, -3, NAN, 4, -2, 0, -1, -9};
    memcpy(ag_data(p), v, sizeof v);
    ag_tape *t = ag_tape_new();
    ag_tensor *m = ag_max(t, p, (int[]){1}, 1, 0);
    cr_assert_eq(ag_ndim(m), 2);
    cr_assert(isnan(ag_data(m)[3]));
    assert_close(ag_data(m), (double[]){2, 5, 7}, 3, TOL);
    assert_close(ag_data(m) + 4, (double[]){4, -2}, 2, TOL);
    ag_real dy[6] = {3, 10, 4, 8, 6, 2};
    cr_assert_eq(ag_backward_with(t, m, dy), AG_OK, "%s", ag_tape_errmsg(t));
    double want[18] = {1, 0, 4, 1, 5, 0, 1, 5, 0, 0, 3, 0, 0, 3, 2, 0, 0, 0};
    assert_close(ag_grad(p), want, 18, TOL);
    ag_tape_free(t);
    ag_param_free(p);
}

/* Two reduced runs with kept axes between and none after: x [outer, r1,
 * mid, r2], the layout of 2-d pooling windows that tile an image, which
 * has loops of its own (2 x 2 windows, and any other size). Against a
 * plain loop over each window: the maximum, NaN passed on, ties sharing
 * the gradient, a NaN window passing none; a second consumer of the same
 * input adds to what the first stored. */
Test(max, two_separated_axes)
{
    static const size_t shapes[][4] = {{3, 2, 5, 2}, {2, 3, 4, 3}};
    for (int s = 0; s < 2; s++) {
        size_t o_n = shapes[s][0], r1 = shapes[s][1], mid = shapes[s][2], r2 = shapes[s][3];
        ag_tensor *p = ag_param_new(shapes[s], 4);
        size_t n = ag_numel(p), nw = o_n * mid;
        ag_real *d = ag_data(p);
        for (size_t i = 0; i < n; i++)
            d[i] = (ag_real)((i * 7) % 5); /* every window has ties */
        d[5] = NAN;
        d[n - 1] = 9; /* a single maximum */
        ag_tape *t = ag_tape_new();
        ag_tensor *x = ag_affine(t, p, 1, 0);
        ag_tensor *m = ag_max(t, x, (int[]){1, 3}, 2, 0);
        ag_tensor *m2 = ag_max(t, x, (int[]){-1, 1}, 2, 1);
        cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
        cr_assert(ag_ndim(m) == 2 && ag_dim(m, 0) == o_n && ag_dim(m, 1) == mid);
        cr_assert(ag_ndim(m2) == 4 && ag_dim(m2, 1) == 1 && ag_dim(m2, 3) == 1);
        ag_real dy[64];
        for (size_t w = 0; w < nw; w++) dy[w] = (ag_real)(w + 1);
        /* loss = dy . m + 2 sum(m2) */
        ag_tensor *dyt = ag_tensor_wrap(t, dy, AG_SHAPE(o_n, mid));
        ag_tensor *loss = ag_add(t, ag_sum_all(t, ag_mul(t, m, dyt)),
                                 ag_affine(t, ag_sum_all(t, m2), 2, 0));
        cr_assert_eq(ag_backward(t, loss), AG_OK, "%s", ag_tape_errmsg(t));
        double want[216] = {0};
        cr_assert_leq(n, 216);
        for (size_t o = 0; o < o_n; o++)
            for (size_t j = 0; j < mid; j++) {
                double v = -INFINITY, ties = 0;
                int nan = 0;
                for (size_t a = 0; a < r1; a++)
                    for (size_t b = 0; b < r2; b++) {
                        double e = d[((o * r1 + a) * mid + j) * r2 + b];
                        nan |= isnan(e);
                        v = e > v ? e : v;
                    }
                ag_real got = ag_data(m)[o * mid + j];
                if (nan) {
                    cr_assert(isnan(got) && isnan(ag_data(m2)[o * mid + j]), "window %zu,%zu",
                              o, j);
                    continue; /* no gradient */
                }
                cr_assert_eq(got, (ag_real)v, "window %zu,%zu: %g, want %g", o, j, (double)got, v);
                cr_assert_eq(ag_data(m2)[o * mid + j], (ag_real)v);
                for (size_t a = 0; a < r1; a++)
                    for (size_t b = 0; b < r2; b++)
                        ties += d[((o * r1 + a) * mid + j) * r2 + b] == v;
                for (size_t a = 0; a < r1; a++)
                    for (size_t b = 0; b < r2; b++) {
                        size_t i = ((o * r1 + a) * mid + j) * r2 + b;
                        if (d[i] == v)
                            want[i] = (dy[o * mid + j] + 2) / ties;
                    }
            }
        assert_close(ag_grad(p), want, n, TOL);
        ag_tape_free(t);
        ag_param_free(p);
    }
}

static ag_tensor *P[1];
static int AX[2];
static int NAX, KEEP;

static ag_tensor *f_max(ag_tape *t, void *ctx)
{
    (void)ctx;
    return loss_with_direct(t, ag_max(t, P[0], AX, NAX, KEEP), P[0]);
}

Test(max, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(3, 4, 5), -1, 1, 21);
    AX[0] = 1, NAX = 1, KEEP = 0;
    GRADCHECK(f_max, NULL, P, 1);
    AX[0] = 0, AX[1] = 2, NAX = 2, KEEP = 1;
    GRADCHECK(f_max, NULL, P, 1);
    AX[0] = -1, NAX = 1, KEEP = 1;
    GRADCHECK(f_max, NULL, P, 1);
    NAX = 0, KEEP = 0;
    GRADCHECK(f_max, NULL, P, 1);
    ag_param_free(P[0]);
    /* 2 x 2 windows ([outer, 2, mid, 2]) */
    P[0] = param_rand(AG_SHAPE(3, 2, 4, 2), -1, 1, 22);
    AX[0] = 1, AX[1] = 3, NAX = 2, KEEP = 0;
    GRADCHECK(f_max, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(max, error_axes)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3));
    cr_assert(ag_is_poisoned(ag_max(t, x, (int[]){-3}, 1, 0)));
    assert_tape_error(t, AG_EINVAL, "ag_max (node 0): axis -3 out of range for x[2,3]");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(2, 0));
    ag_max(t, x, (int[]){1}, 1, 0);
    assert_tape_error(t, AG_EINVAL, "ag_max (node 0): maximum over an empty axis of x[2,0]");
    ag_tape_free(t);
}
