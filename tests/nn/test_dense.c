#include "common.h"

/* Reference: y[r, o] = sum_i x[r, i] W[o, i] + b[o], plain loops. */
static void linear_ref(const ag_real *x, const ag_real *w, const ag_real *b, size_t rows,
                       size_t in, size_t out, double *y)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t o = 0; o < out; o++) {
            double s = b ? b[o] : 0;
            for (size_t i = 0; i < in; i++) s += (double)x[r * in + i] * w[o * in + i];
            y[r * out + o] = s;
        }
}

static ag_tensor *P[4];

Test(linear, forward_matches_loops)
{
    ag_tape *t = ag_tape_new();
    P[0] = param_rand(AG_SHAPE(2, 3, 4), -1, 1, 1); /* batched input [2,3,4] */
    P[1] = param_rand(AG_SHAPE(5, 4), -1, 1, 2);
    P[2] = param_rand(AG_SHAPE(5), -1, 1, 3);
    double want[30];
    linear_ref(ag_data(P[0]), ag_data(P[1]), ag_data(P[2]), 6, 4, 5, want);
    ag_tensor *y = ag_linear(t, P[0], P[1], P[2]);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_ndim(y), 3);
    cr_assert_eq(ag_dim(y, 2), 5);
    assert_close(ag_data(y), want, 30, TOL);
    /* no bias */
    linear_ref(ag_data(P[0]), ag_data(P[1]), NULL, 6, 4, 5, want);
    assert_close(ag_data(ag_linear(t, P[0], P[1], NULL)), want, 30, TOL);
    /* a single row [4] gives [5] */
    ag_tensor *v = ag_tensor_from(t, ag_data(P[0]), AG_SHAPE(4));
    ag_tensor *yv = ag_linear(t, v, P[1], P[2]);
    cr_assert_eq(ag_ndim(yv), 1);
    linear_ref(ag_data(P[0]), ag_data(P[1]), ag_data(P[2]), 1, 4, 5, want);
    assert_close(ag_data(yv), want, 5, TOL);
    ag_tape_free(t);
    for (int i = 0; i < 3; i++) ag_param_free(P[i]);
}

/* sum(c * f(x)) with fixed c, so every output entry weighs differently */
static ag_tensor *weigh(ag_tape *t, ag_tensor *y, unsigned seed)
{
    static ag_real c[256];
    fill_uniform(c, ag_numel(y), -1, 1, seed);
    return ag_sum_all(t, ag_mul(t, y, ag_tensor_wrap(t, c, ag_shape(y), ag_ndim(y))));
}

static ag_tensor *f_linear(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weigh(t, ag_linear(t, P[0], P[1], P[2]), 9);
}

Test(linear, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(3, 4), -1, 1, 4);
    P[1] = param_rand(AG_SHAPE(2, 4), -1, 1, 5);
    P[2] = param_rand(AG_SHAPE(2), -1, 1, 6);
    GRADCHECK(f_linear, NULL, P, 3);
    for (int i = 0; i < 3; i++) ag_param_free(P[i]);
}

Test(linear, errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(3, 4));
    ag_tensor *w1 = ag_tensor_new(t, AG_SHAPE(4));
    cr_assert(ag_is_poisoned(ag_linear(t, x, w1, NULL)));
    assert_tape_error(t, AG_EINVAL, "ag_linear: weight must be [out, in], got [4]");
    ag_tape_reset(t);
    x = ag_tensor_new(t, AG_SHAPE(3, 4));
    ag_tensor *w = ag_tensor_new(t, AG_SHAPE(2, 5));
    cr_assert(ag_is_poisoned(ag_linear(t, x, w, NULL)));
    assert_tape_error(t, AG_EINVAL, "ag_linear: input x[3,4] must be [..., 5] for weight w[2,5]");
    ag_tape_free(t);
}

static ag_dense D;

static ag_tensor *f_dense(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weigh(t, ag_tanh(t, ag_dense_forward(t, &D, P[0])), 10);
}

Test(dense, init_forward_params_gradcheck)
{
    ag_rng r;
    ag_rng_seed(&r, 3);
    cr_assert_eq(ag_dense_init(&D, 16, 3, 1, &r), AG_OK);
    cr_assert_eq(ag_dim(D.weight, 0), 3);
    cr_assert_eq(ag_dim(D.weight, 1), 16);
    cr_assert_eq(ag_numel(D.bias), 3);
    /* PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) = U(-0.25, 0.25) */
    double m = 0;
    for (size_t i = 0; i < 48; i++) m = fmax(m, fabs(ag_data(D.weight)[i]));
    cr_assert(m <= 0.25 && m > 0.2, "max |w| = %g", m);
    ag_paramset *s = ag_paramset_new();
    cr_assert_eq(ag_dense_params(&D, s, "fc1"), AG_OK);
    cr_assert_str_eq(ag_param_name(ag_paramset_get(s, 0)), "fc1.weight");
    cr_assert_str_eq(ag_param_name(ag_paramset_get(s, 1)), "fc1.bias");
    cr_assert_eq(ag_paramset_numel(s), 51);
    ag_paramset_free(s);
    P[0] = param_rand(AG_SHAPE(2, 16), -1, 1, 7);
    ag_tensor *wrt[3] = {P[0], D.weight, D.bias};
    GRADCHECK(f_dense, NULL, wrt, 3);
    ag_param_free(P[0]);
    ag_dense_fini(&D);
    cr_assert_null(D.weight);
    ag_dense_fini(&D); /* twice is harmless */
    cr_assert_eq(ag_dense_init(&D, 0, 3, 1, &r), AG_EINVAL);
    cr_assert_eq(ag_dense_init(&D, 2, 3, 0, &r), AG_OK);
    cr_assert_null(D.bias);
    ag_dense_fini(&D);
}

Test(activation, each_kind)
{
    ag_tape *t = ag_tape_new();
    ag_real xs[4] = {-2, -0.5f, 0.5f, 3};
    ag_tensor *x = ag_tensor_wrap(t, xs, AG_SHAPE(4));
    double sg[4], th[4], re[4], lr[4];
    for (int i = 0; i < 4; i++) {
        sg[i] = 1 / (1 + exp(-xs[i]));
        th[i] = tanh(xs[i]);
        re[i] = xs[i] > 0 ? xs[i] : 0;
        lr[i] = xs[i] > 0 ? xs[i] : 0.01 * xs[i];
    }
    cr_assert_eq(ag_activate(t, x, AG_ACT_NONE), x);
    assert_close(ag_data(ag_activate(t, x, AG_ACT_SIGMOID)), sg, 4, TOL);
    assert_close(ag_data(ag_activate(t, x, AG_ACT_TANH)), th, 4, TOL);
    assert_close(ag_data(ag_activate(t, x, AG_ACT_RELU)), re, 4, TOL);
    assert_close(ag_data(ag_activate(t, x, AG_ACT_LEAKY_RELU)), lr, 4, TOL);
    cr_assert(ag_is_poisoned(ag_activate(t, x, (ag_activation)42)));
    assert_tape_error(t, AG_EINVAL, "ag_activate: unknown activation 42");
    ag_tape_free(t);
}

static ag_activation ACT;

static ag_tensor *f_activate(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weigh(t, ag_activate(t, P[0], ACT), 13);
}

Test(activation, gradcheck_each_kind)
{
    /* entries kept away from 0, where relu and leaky_relu have a kink */
    P[0] = param_rand(AG_SHAPE(3, 4), 0.1, 2, 14);
    for (int i = 0; i < 12; i += 2) ag_data(P[0])[i] = -ag_data(P[0])[i];
    for (ACT = AG_ACT_NONE; ACT <= AG_ACT_LEAKY_RELU; ACT++)
        GRADCHECK(f_activate, NULL, P, 1);
    ag_param_free(P[0]);
}

static ag_tensor *f_dropout(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weigh(t, ag_dropout(t, ag_tanh(t, P[0]), 0.4, 1), 11);
}

Test(dropout, train_eval_and_gradcheck)
{
    ag_tape *t = ag_tape_new();
    ag_tape_seed(t, 5);
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(100, 50));
    for (size_t i = 0; i < 5000; i++) ag_data(x)[i] = (ag_real)(1 + i % 7);
    cr_assert_eq(ag_dropout(t, x, 0.3, 0), x); /* evaluation: identity */
    cr_assert_eq(ag_dropout(t, x, 0, 1), x);
    ag_tensor *y = ag_dropout(t, x, 0.3, 1);
    size_t zeros = 0;
    for (size_t i = 0; i < 5000; i++) {
        double v = ag_data(y)[i], want = ag_data(x)[i] / 0.7;
        if (v == 0)
            zeros++;
        else
            cr_assert_float_eq(v, want, 1e-5 * want, "kept entries are scaled by 1/(1-p)");
    }
    cr_assert(zeros > 1350 && zeros < 1650, "%zu of 5000 dropped, want about 1500", zeros);
    cr_assert(ag_is_poisoned(ag_dropout(t, x, 1.0, 1)));
    assert_tape_error(t, AG_EINVAL, "ag_dropout: probability 1 outside [0, 1)");
    ag_tape_free(t);
    P[0] = param_rand(AG_SHAPE(4, 5), -1, 1, 8);
    GRADCHECK(f_dropout, NULL, P, 1);
    ag_param_free(P[0]);
}

static ag_tensor *f_flatten(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weigh(t, ag_flatten(t, ag_tanh(t, P[0])), 12);
}

Test(flatten, shape_and_gradcheck)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *y = ag_flatten(t, ag_tensor_new(t, AG_SHAPE(2, 3, 4, 5)));
    cr_assert_eq(ag_ndim(y), 2);
    cr_assert_eq(ag_dim(y, 0), 2);
    cr_assert_eq(ag_dim(y, 1), 60);
    cr_assert(ag_is_poisoned(ag_flatten(t, ag_scalar(t, 1))));
    assert_tape_error(t, AG_EINVAL, "ag_flatten");
    ag_tape_free(t);
    P[0] = param_rand(AG_SHAPE(2, 3, 2), -1, 1, 9);
    GRADCHECK(f_flatten, NULL, P, 1);
    ag_param_free(P[0]);
}
