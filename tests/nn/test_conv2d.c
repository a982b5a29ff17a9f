#include "common.h"
#include "nn/conv_ref.h"

/* The textbook example: a 5x5 binary image convolved with a 3x3 kernel
 * gives a 3x3 feature map whose first value is 4. */
Test(conv2d, seed_example_5x5_image_3x3_kernel)
{
    ag_tape *t = ag_tape_new();
    ag_real img[25] = {1, 1, 1, 0, 0,
                       0, 1, 1, 1, 0,
                       0, 0, 1, 1, 1,
                       0, 0, 1, 1, 0,
                       0, 1, 1, 0, 0};
    ag_real ker[9] = {1, 0, 1,
                      0, 1, 0,
                      1, 0, 1};
    ag_tensor *y = ag_conv2d_fn(t, ag_tensor_wrap(t, img, AG_SHAPE(1, 1, 5, 5)),
                                ag_tensor_wrap(t, ker, AG_SHAPE(1, 1, 3, 3)), NULL, 1, 0, 1);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_ndim(y), 4);
    cr_assert(ag_dim(y, 2) == 3 && ag_dim(y, 3) == 3);
    cr_assert_eq(ag_data(y)[0], 4);
    assert_close(ag_data(y), (double[]){4, 3, 4, 2, 4, 3, 2, 3, 4}, 9, TOL);
    ag_tape_free(t);
}

static const conv_case CASES[] = {
    {2, 3, 7, 6, 4, 3, 2, 2, 1, 1},  /* non-square kernel, stride 2, sizes that do not divide */
    {1, 2, 8, 8, 3, 3, 3, 1, 2, 2},  /* dilation 2, padding 2 */
    {3, 1, 5, 5, 2, 1, 1, 1, 0, 1},  /* 1x1 kernel */
    {1, 4, 6, 9, 2, 2, 4, 3, 2, 1},  /* stride 3, padding 2 */
    {2, 2, 4, 4, 5, 5, 5, 1, 1, 1},  /* kernel larger than the image, not the padded one */
};
#define N_CASES (sizeof CASES / sizeof CASES[0])

static size_t numel4(size_t a, size_t b, size_t c, size_t d) { return a * b * c * d; }

Test(conv2d, forward_matches_naive_loop)
{
    for (size_t i = 0; i < N_CASES; i++) {
        const conv_case *k = &CASES[i];
        ag_tape *t = ag_tape_new();
        ag_tensor *x = ag_tensor_new(t, AG_SHAPE(k->n, k->c, k->h, k->w));
        ag_tensor *w = ag_tensor_new(t, AG_SHAPE(k->o, k->c, k->kh, k->kw));
        ag_tensor *b = ag_tensor_new(t, AG_SHAPE(k->o));
        fill_uniform(ag_data(x), ag_numel(x), -1, 1, 10 + (unsigned)i);
        fill_uniform(ag_data(w), ag_numel(w), -1, 1, 20 + (unsigned)i);
        fill_uniform(ag_data(b), ag_numel(b), -1, 1, 30 + (unsigned)i);
        ag_tensor *y = ag_conv2d_fn(t, x, w, i % 2 ? NULL : b, k->stride, k->pad, k->dil);
        cr_assert_eq(ag_tape_status(t), AG_OK, "case %zu: %s", i, ag_tape_errmsg(t));
        size_t oh = ref_out(k->h, k->kh, k->stride, k->pad, k->dil);
        size_t ow = ref_out(k->w, k->kw, k->stride, k->pad, k->dil);
        cr_assert(ag_dim(y, 0) == k->n && ag_dim(y, 1) == k->o && ag_dim(y, 2) == oh &&
                  ag_dim(y, 3) == ow, "case %zu: wrong output shape", i);
        double want[2048];
        cr_assert_leq(numel4(k->n, k->o, oh, ow), 2048);
        ref_conv2d(k, ag_data(x), ag_data(w), i % 2 ? NULL : ag_data(b), want);
        assert_close(ag_data(y), want, ag_numel(y), 10 * TOL);
        ag_tape_free(t);
    }
}

static ag_tensor *P[3];
static const conv_case *CASE;
static ag_real R[2048];

/* sum(tanh(conv(x)) * R) with fixed random R: every output position
 * weighs differently, so a misplaced gradient shows. */
static ag_tensor *f_conv(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *y = ag_conv2d_fn(t, P[0], P[1], P[2], CASE->stride, CASE->pad, CASE->dil);
    ag_tensor *r = ag_tensor_wrap(t, R, ag_shape(y), ag_ndim(y));
    return ag_sum_all(t, ag_mul(t, ag_tanh(t, y), r));
}

Test(conv2d, gradcheck_input_weight_bias)
{
    fill_uniform(R, 2048, -1, 1, 5);
    for (size_t i = 0; i < N_CASES; i++) {
        CASE = &CASES[i];
        P[0] = param_rand(AG_SHAPE(CASE->n, CASE->c, CASE->h, CASE->w), -1, 1, 40 + (unsigned)i);
        P[1] = param_rand(AG_SHAPE(CASE->o, CASE->c, CASE->kh, CASE->kw), -0.5, 0.5, 50 + (unsigned)i);
        P[2] = param_rand(AG_SHAPE(CASE->o), -0.5, 0.5, 60 + (unsigned)i);
        GRADCHECK(f_conv, NULL, P, 3);
        for (int j = 0; j < 3; j++) ag_param_free(P[j]);
    }
}

Test(conv2d, layer_init_forward_params)
{
    ag_rng r;
    ag_rng_seed(&r, 1);
    ag_conv2d c;
    cr_assert_eq(ag_conv2d_init(&c, 3, 8, 3, 2, 2, 1, 1, &r), AG_OK);
    cr_assert(ag_ndim(c.weight) == 4 && ag_dim(c.weight, 0) == 8 && ag_dim(c.weight, 1) == 3 &&
              ag_dim(c.weight, 2) == 3 && ag_dim(c.weight, 3) == 2);
    cr_assert_eq(ag_dim(c.bias, 0), 8);
    cr_assert_eq(c.dilation, 1);
    /* PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = 3*3*2 */
    double bound = 1 / sqrt(18.0), lo = 1, hi = -1;
    for (size_t i = 0; i < ag_numel(c.weight); i++) {
        double v = ag_data(c.weight)[i];
        cr_assert(fabs(v) <= bound, "weight %zu = %g beyond %g", i, v, bound);
        lo = fmin(lo, v), hi = fmax(hi, v);
    }
    cr_assert(hi - lo > bound, "weights not spread over the range");
    for (size_t i = 0; i < 8; i++) cr_assert(fabs(ag_data(c.bias)[i]) <= bound);

    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3, 7, 6));
    fill_uniform(ag_data(x), ag_numel(x), -1, 1, 3);
    ag_tensor *y = ag_conv2d_forward(t, &c, x);
    ag_tensor *z = ag_conv2d_fn(t, x, c.weight, c.bias, 2, 1, 1);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert(ag_dim(y, 2) == 4 && ag_dim(y, 3) == 4);
    cr_assert_eq(memcmp(ag_data(y), ag_data(z), ag_numel(y) * sizeof(ag_real)), 0);

    ag_paramset *s = ag_paramset_new();
    cr_assert_eq(ag_conv2d_params(&c, s, "conv1"), AG_OK);
    cr_assert_eq(ag_paramset_find(s, "conv1.weight"), c.weight);
    cr_assert_eq(ag_paramset_find(s, "conv1.bias"), c.bias);
    ag_paramset_free(s);
    ag_tape_free(t);
    ag_conv2d_fini(&c);
    cr_assert_null(c.weight);
    ag_conv2d_fini(&c);
    ag_conv2d_fini(NULL);

    cr_assert_eq(ag_conv2d_init(&c, 3, 0, 3, 3, 1, 0, 1, &r), AG_EINVAL);
    cr_assert_null(c.weight);
    cr_assert_eq(ag_conv2d_init(&c, 3, 4, 3, 3, 1, 0, 0, &r), AG_OK);
    cr_assert_null(c.bias);
    ag_conv2d_fini(&c);
}

static void expect_conv_error(const size_t *xs, const size_t *ws, const size_t *bs, size_t pad,
                              const char *msg)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, xs, 4), *w = ag_tensor_new(t, ws, 4);
    ag_tensor *b = bs ? ag_tensor_new(t, bs, 1) : NULL;
    ag_tensor *y = ag_conv2d_fn(t, x, w, b, 1, pad, 1);
    cr_assert(ag_is_poisoned(y));
    assert_tape_error(t, AG_EINVAL, msg);
    cr_assert(ag_is_poisoned(ag_relu(t, y)), "later ops must return poison");
    ag_tape_free(t);
}

Test(conv2d, shape_errors_name_the_shapes)
{
    expect_conv_error((size_t[]){2, 3, 8, 8}, (size_t[]){8, 2, 3, 3}, NULL, 0,
                      "ag_conv2d: channel mismatch: x[2,3,8,8] has 3 channels, w[8,2,3,3] expects 2");
    expect_conv_error((size_t[]){1, 1, 3, 3}, (size_t[]){1, 1, 5, 5}, NULL, 0,
                      "ag_conv2d: kernel larger than the padded input: x[1,1,3,3] with padding 0, "
                      "dilation 1, w[1,1,5,5]");
    expect_conv_error((size_t[]){1, 1, 3, 3}, (size_t[]){1, 1, 5, 5}, (size_t[]){2}, 1,
                      "bias b[2] does not match w[1,1,5,5] (want [1])");
    ag_tape *t = ag_tape_new();
    ag_conv2d_fn(t, ag_tensor_new(t, AG_SHAPE(3, 8, 8)), ag_tensor_new(t, AG_SHAPE(2, 3, 3, 3)),
                 NULL, 1, 0, 1);
    assert_tape_error(t, AG_EINVAL, "input must be [N, C, H, W] and weight [out_c, in_c, kh, kw]: "
                                    "x[3,8,8] w[2,3,3,3]");
    ag_tape_reset(t);
    /* padding 1 makes a 3x3 image fit a 5x5 kernel */
    ag_tensor *y = ag_conv2d_fn(t, ag_tensor_new(t, AG_SHAPE(1, 1, 3, 3)),
                                ag_tensor_new(t, AG_SHAPE(1, 1, 5, 5)), NULL, 1, 1, 1);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert(ag_dim(y, 2) == 1 && ag_dim(y, 3) == 1);
    ag_conv2d_fn(t, NULL, ag_tensor_new(t, AG_SHAPE(1, 1, 1, 1)), NULL, 1, 0, 1);
    assert_tape_error(t, AG_EINVAL, "ag_conv2d: input is NULL");
    ag_tape_free(t);
}
