#include "common.h"

typedef struct c1_case {
    size_t n, c, len, o, k, stride, pad, dil;
} c1_case;

static const c1_case CASES[] = {
    {2, 3, 9, 4, 3, 1, 1, 1},
    {1, 2, 10, 3, 4, 3, 2, 1}, /* stride 3: the length does not divide */
    {3, 1, 7, 2, 2, 1, 0, 3},  /* dilation 3 */
};
#define N_CASES (sizeof CASES / sizeof CASES[0])

static size_t out_len(const c1_case *k)
{
    return (k->len + 2 * k->pad - k->dil * (k->k - 1) - 1) / k->stride + 1;
}

/* y[n, o, i] = b[o] + sum_{c,a} w[o, c, a] x[n, c, i s + a d - p] */
static void ref_conv1d(const c1_case *k, const ag_real *x, const ag_real *w, const ag_real *b,
                       double *y)
{
    size_t lo = out_len(k);
    for (size_t n = 0; n < k->n; n++)
        for (size_t o = 0; o < k->o; o++)
            for (size_t i = 0; i < lo; i++) {
                double s = b[o];
                for (size_t c = 0; c < k->c; c++)
                    for (size_t a = 0; a < k->k; a++) {
                        long p = (long)(i * k->stride + a * k->dil) - (long)k->pad;
                        if (p >= 0 && p < (long)k->len)
                            s += (double)w[(o * k->c + c) * k->k + a] *
                                 (double)x[(n * k->c + c) * k->len + (size_t)p];
                    }
                *y++ = s;
            }
}

Test(conv1d, forward_matches_naive_loop)
{
    for (size_t i = 0; i < N_CASES; i++) {
        const c1_case *k = &CASES[i];
        ag_tape *t = ag_tape_new();
        ag_tensor *x = ag_tensor_new(t, AG_SHAPE(k->n, k->c, k->len));
        ag_tensor *w = ag_tensor_new(t, AG_SHAPE(k->o, k->c, k->k));
        ag_tensor *b = ag_tensor_new(t, AG_SHAPE(k->o));
        fill_uniform(ag_data(x), ag_numel(x), -1, 1, 11 + (unsigned)i);
        fill_uniform(ag_data(w), ag_numel(w), -1, 1, 21 + (unsigned)i);
        fill_uniform(ag_data(b), ag_numel(b), -1, 1, 31 + (unsigned)i);
        ag_tensor *y = ag_conv1d_fn(t, x, w, b, k->stride, k->pad, k->dil);
        cr_assert_eq(ag_tape_status(t), AG_OK, "case %zu: %s", i, ag_tape_errmsg(t));
        cr_assert(ag_ndim(y) == 3 && ag_dim(y, 0) == k->n && ag_dim(y, 1) == k->o &&
                  ag_dim(y, 2) == out_len(k), "case %zu: wrong shape", i);
        double want[256];
        ref_conv1d(k, ag_data(x), ag_data(w), ag_data(b), want);
        assert_close(ag_data(y), want, ag_numel(y), 10 * TOL);
        ag_tape_free(t);
    }
}

static ag_tensor *P[3];
static const c1_case *CASE;
static ag_real R[256];

static ag_tensor *f_conv1d(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *y = ag_conv1d_fn(t, P[0], P[1], P[2], CASE->stride, CASE->pad, CASE->dil);
    ag_tensor *r = ag_tensor_wrap(t, R, ag_shape(y), ag_ndim(y));
    return ag_sum_all(t, ag_mul(t, ag_tanh(t, y), r));
}

Test(conv1d, gradcheck_input_weight_bias)
{
    fill_uniform(R, 256, -1, 1, 6);
    for (size_t i = 0; i < N_CASES; i++) {
        CASE = &CASES[i];
        P[0] = param_rand(AG_SHAPE(CASE->n, CASE->c, CASE->len), -1, 1, 41 + (unsigned)i);
        P[1] = param_rand(AG_SHAPE(CASE->o, CASE->c, CASE->k), -0.5, 0.5, 51 + (unsigned)i);
        P[2] = param_rand(AG_SHAPE(CASE->o), -0.5, 0.5, 61 + (unsigned)i);
        GRADCHECK(f_conv1d, NULL, P, 3);
        for (int j = 0; j < 3; j++) ag_param_free(P[j]);
    }
}

Test(conv1d, layer_and_errors)
{
    ag_rng r;
    ag_rng_seed(&r, 2);
    ag_conv1d c;
    cr_assert_eq(ag_conv1d_init(&c, 3, 5, 4, 2, 1, 1, &r), AG_OK);
    cr_assert(ag_ndim(c.weight) == 3 && ag_dim(c.weight, 0) == 5 && ag_dim(c.weight, 2) == 4);
    for (size_t i = 0; i < ag_numel(c.weight); i++)
        cr_assert(fabs(ag_data(c.weight)[i]) <= 1 / sqrt(12.0));
    ag_tape *t = ag_tape_new();
    ag_tensor *y = ag_conv1d_forward(t, &c, ag_tensor_new(t, AG_SHAPE(2, 3, 11)));
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert(ag_dim(y, 1) == 5 && ag_dim(y, 2) == 5); /* (11 + 2 - 4) / 2 + 1 */
    ag_paramset *s = ag_paramset_new();
    cr_assert_eq(ag_conv1d_params(&c, s, "c1"), AG_OK);
    cr_assert_eq(ag_paramset_count(s), 2);
    ag_paramset_free(s);

    ag_conv1d_forward(t, &c, ag_tensor_new(t, AG_SHAPE(2, 4, 11)));
    assert_tape_error(t, AG_EINVAL,
                      "ag_conv1d: channel mismatch: x[2,4,11] has 4 channels, w[5,3,4] expects 3");
    ag_tape_reset(t);
    ag_conv1d_forward(t, &c, ag_tensor_new(t, AG_SHAPE(2, 3, 1)));
    assert_tape_error(t, AG_EINVAL,
                      "ag_conv1d: kernel larger than the padded input: x[2,3,1] with padding 1");
    ag_tape_reset(t);
    ag_conv1d_forward(t, &c, ag_tensor_new(t, AG_SHAPE(2, 3, 1, 11)));
    assert_tape_error(t, AG_EINVAL, "input must be [N, C, L] and weight [out_c, in_c, k]");
    ag_tape_free(t);
    ag_conv1d_fini(&c);
    cr_assert_null(c.weight);
}
