#include <stdlib.h>
#include "common.h"
#include "nn/conv_ref.h"

/* pool cases: n, c, h, w, (o unused), k, k, stride, pad, (dil unused) */
static const conv_case CASES[] = {
    {2, 3, 6, 6, 0, 2, 2, 2, 0, 1}, /* the usual 2x2 / 2 */
    {1, 2, 7, 5, 0, 3, 3, 2, 1, 1}, /* padded, sizes that do not divide */
    {2, 1, 5, 8, 0, 3, 3, 1, 1, 1}, /* overlapping windows */
    {1, 2, 4, 4, 0, 4, 4, 3, 2, 1}, /* windows mostly in the padding */
    {1, 1, 5, 5, 0, 3, 3, 3, 0, 1}, /* the last row and column are dropped */
    {2, 2, 6, 6, 0, 3, 3, 3, 0, 1}, /* 3x3 windows tiling the image */
};
#define N_CASES (sizeof CASES / sizeof CASES[0])

static ag_tensor *pool(ag_tape *t, ag_tensor *x, const conv_case *k, int is_max)
{
    return is_max ? ag_maxpool2d(t, x, k->kh, k->stride, k->pad)
                  : ag_avgpool2d(t, x, k->kh, k->stride, k->pad);
}

static void check_forward(int is_max)
{
    for (size_t i = 0; i < N_CASES; i++) {
        const conv_case *k = &CASES[i];
        ag_tape *t = ag_tape_new();
        ag_tensor *x = ag_tensor_new(t, AG_SHAPE(k->n, k->c, k->h, k->w));
        /* all negative, so a padding read as 0 would win the max */
        fill_uniform(ag_data(x), ag_numel(x), -2, -0.5, 70 + (unsigned)i);
        ag_tensor *y = pool(t, x, k, is_max);
        cr_assert_eq(ag_tape_status(t), AG_OK, "case %zu: %s", i, ag_tape_errmsg(t));
        size_t oh = ref_out(k->h, k->kh, k->stride, k->pad, 1);
        size_t ow = ref_out(k->w, k->kw, k->stride, k->pad, 1);
        cr_assert(ag_ndim(y) == 4 && ag_dim(y, 1) == k->c && ag_dim(y, 2) == oh &&
                  ag_dim(y, 3) == ow, "case %zu: wrong shape", i);
        double want[512];
        cr_assert_leq(ag_numel(y), 512);
        ref_pool2d(k, ag_data(x), is_max, want);
        assert_close(ag_data(y), want, ag_numel(y), TOL);
        ag_tape_free(t);
    }
}

Test(maxpool2d, forward_matches_naive_loop) { check_forward(1); }
Test(avgpool2d, forward_matches_naive_loop) { check_forward(0); }

Test(maxpool2d, forward_by_hand)
{
    ag_tape *t = ag_tape_new();
    ag_real x[16] = {1, 3, 2, 1,
                     4, 2, 0, 5,
                     7, 1, 3, 8,
                     2, 6, 4, 1};
    ag_tensor *X = ag_tensor_wrap(t, x, AG_SHAPE(1, 1, 4, 4));
    assert_close(ag_data(ag_maxpool2d(t, X, 2, 0, 0)), (double[]){4, 5, 7, 8}, 4, TOL);
    assert_close(ag_data(ag_avgpool2d(t, X, 2, 2, 0)), (double[]){2.5, 2, 4, 4}, 4, TOL);
    /* 3x3 windows with padding 1, stride 2: corner window sees 1 3 4 2 plus
     * five padding zeros, averaged over all nine */
    ag_tensor *a = ag_avgpool2d(t, X, 3, 2, 1);
    cr_assert_eq(ag_dim(a, 2), 2);
    assert_close(ag_data(a), (double[]){10.0 / 9, 13.0 / 9, 22.0 / 9, 30.0 / 9}, 4, TOL);
    ag_tape_free(t);
}

static ag_tensor *P[1];
static const conv_case *CASE;
static int IS_MAX;
static ag_real R[512];

static ag_tensor *f_pool(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *y = pool(t, P[0], CASE, IS_MAX);
    ag_tensor *r = ag_tensor_wrap(t, R, ag_shape(y), ag_ndim(y));
    return ag_sum_all(t, ag_mul(t, ag_tanh(t, y), r));
}

/* Distinct values spread over [-1, 1) in a shuffled order: no two closer
 * than the finite-difference step, so no perturbation changes a window's
 * maximum (a kink the check could not difference across). */
static void fill_spread(ag_tensor *x, unsigned seed)
{
    size_t n = ag_numel(x);
    ag_real *d = ag_data(x), *key = malloc(n * sizeof *key);
    cr_assert_not_null(key);
    fill_uniform(key, n, 0, 1, seed);
    for (size_t i = 0; i < n; i++) {
        size_t rank = 0;
        for (size_t j = 0; j < n; j++) rank += key[j] < key[i] || (key[j] == key[i] && j < i);
        d[i] = (ag_real)(-1 + 2.0 * (double)rank / (double)n);
    }
    free(key);
}

static void check_grad(int is_max)
{
    IS_MAX = is_max;
    fill_uniform(R, 512, -1, 1, 8);
    for (size_t i = 0; i < N_CASES; i++) {
        CASE = &CASES[i];
        P[0] = param_rand(AG_SHAPE(CASE->n, CASE->c, CASE->h, CASE->w), -1, 1, 80 + (unsigned)i);
        fill_spread(P[0], 80 + (unsigned)i);
        GRADCHECK(f_pool, NULL, P, 1);
        ag_param_free(P[0]);
    }
}

Test(maxpool2d, gradcheck) { check_grad(1); }
Test(avgpool2d, gradcheck) { check_grad(0); }

Test(maxpool2d, tied_maxima_share_the_gradient)
{
    ag_tensor *x = ag_param_new(AG_SHAPE(1, 1, 2, 2));
    ag_real v[4] = {3, 3, 1, 3};
    memcpy(ag_data(x), v, sizeof v);
    ag_tape *t = ag_tape_new();
    cr_assert_eq(ag_backward(t, ag_sum_all(t, ag_maxpool2d(t, x, 2, 2, 0))), AG_OK);
    assert_close(ag_grad(x), (double[]){1.0 / 3, 1.0 / 3, 0, 1.0 / 3}, 4, TOL);
    ag_tape_free(t);
    ag_param_free(x);
}

static ag_tensor *f_global(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *y = ag_global_avgpool2d(t, P[0]);
    ag_tensor *r = ag_tensor_wrap(t, R, ag_shape(y), ag_ndim(y));
    return ag_sum_all(t, ag_mul(t, ag_tanh(t, y), r));
}

Test(global_avgpool2d, forward_and_gradcheck)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3, 4, 5));
    fill_uniform(ag_data(x), ag_numel(x), -1, 1, 90);
    ag_tensor *y = ag_global_avgpool2d(t, x);
    cr_assert(ag_ndim(y) == 2 && ag_dim(y, 0) == 2 && ag_dim(y, 1) == 3);
    double want[6] = {0};
    for (size_t p = 0; p < 6; p++) {
        for (size_t i = 0; i < 20; i++) want[p] += ag_data(x)[p * 20 + i];
        want[p] /= 20;
    }
    assert_close(ag_data(y), want, 6, TOL);
    ag_tape_free(t);

    P[0] = param_rand(AG_SHAPE(2, 3, 4, 5), -1, 1, 91);
    fill_uniform(R, 512, -1, 1, 9);
    GRADCHECK(f_global, NULL, P, 1);
    ag_param_free(P[0]);
}

static void expect_pool_error(const size_t *xs, int nd, size_t k, size_t s, size_t pad, int is_max,
                              const char *msg)
{
    ag_tape *t = ag_tape_new();
    conv_case c = {0, 0, 0, 0, 0, k, k, s, pad, 1};
    ag_tensor *y = pool(t, ag_tensor_new(t, xs, nd), &c, is_max);
    cr_assert(ag_is_poisoned(y));
    assert_tape_error(t, AG_EINVAL, msg);
    ag_tape_free(t);
}

Test(pool2d, shape_errors_name_the_shapes)
{
    expect_pool_error(AG_SHAPE(1, 1, 2, 2), 3, 0, 0, 1,
                      "ag_maxpool2d: kernel larger than the padded input: x[1,1,2,2], kernel 3x3, "
                      "stride 3, padding 0");
    expect_pool_error(AG_SHAPE(1, 1, 2, 2), 3, 0, 0, 0,
                      "ag_avgpool2d: kernel larger than the padded input: x[1,1,2,2], kernel 3x3");
    expect_pool_error(AG_SHAPE(1, 1, 8, 8), 3, 1, 2, 1,
                      "ag_maxpool2d: need kernel > 0 and padding <= kernel / 2: x[1,1,8,8], "
                      "kernel 3x3, stride 1, padding 2");
    expect_pool_error(AG_SHAPE(1, 8, 8), 2, 0, 0, 1, "ag_maxpool2d: input must be [N, C, H, W]: x[1,8,8]");
    expect_pool_error(AG_SHAPE(1, 1, 8, 8), 0, 0, 0, 0, "need kernel > 0");
    ag_tape *t = ag_tape_new();
    ag_global_avgpool2d(t, ag_tensor_new(t, AG_SHAPE(4, 5)));
    assert_tape_error(t, AG_EINVAL, "ag_global_avgpool2d: input must be [N, C, H, W]: x[4,5]");
    ag_tape_free(t);
}
