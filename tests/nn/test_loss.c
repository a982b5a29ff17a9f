#include <stdint.h>
#include "common.h"

static ag_tensor *P[2];
static ag_real TGT[64];
static int32_t LAB[8];

/* ---- softmax and log-softmax ---- */

/* Reference softmax of each row of [rows, cols], in double. */
static void softmax_ref(const ag_real *x, size_t rows, size_t cols, double *y)
{
    for (size_t r = 0; r < rows; r++) {
        double m = -INFINITY, s = 0;
        for (size_t c = 0; c < cols; c++) m = fmax(m, x[r * cols + c]);
        for (size_t c = 0; c < cols; c++) s += exp(x[r * cols + c] - m);
        for (size_t c = 0; c < cols; c++) y[r * cols + c] = exp(x[r * cols + c] - m) / s;
    }
}

Test(softmax, forward_matches_reference_and_is_stable)
{
    ag_tape *t = ag_tape_new();
    ag_real x[6] = {1, 2, 3, 1000, 1001, 999}; /* the second row would overflow exp */
    ag_tensor *X = ag_tensor_wrap(t, x, AG_SHAPE(2, 3));
    double want[6], logw[6];
    softmax_ref(x, 2, 3, want);
    for (int i = 0; i < 6; i++) logw[i] = log(want[i]);
    assert_close(ag_data(ag_softmax(t, X, 1)), want, 6, TOL);
    assert_close(ag_data(ag_softmax(t, X, -1)), want, 6, TOL);
    assert_close(ag_data(ag_log_softmax(t, X, 1)), logw, 6, TOL);
    /* along axis 0: columns sum to 1 */
    ag_tensor *s0 = ag_softmax(t, X, 0);
    for (int c = 0; c < 3; c++)
        cr_assert_float_eq(ag_data(s0)[c] + ag_data(s0)[3 + c], 1.0, 1e-6);
    ag_tape_free(t);
}

static int AXIS;

static ag_tensor *weigh(ag_tape *t, ag_tensor *y)
{
    static ag_real c[64];
    fill_uniform(c, ag_numel(y), -1, 1, 77);
    return ag_sum_all(t, ag_mul(t, y, ag_tensor_wrap(t, c, ag_shape(y), ag_ndim(y))));
}

static ag_tensor *f_softmax(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weigh(t, ag_softmax(t, P[0], AXIS));
}

static ag_tensor *f_log_softmax(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weigh(t, ag_log_softmax(t, P[0], AXIS));
}

Test(softmax, gradcheck_both_axes)
{
    P[0] = param_rand(AG_SHAPE(3, 5), -2, 2, 1);
    for (AXIS = -1; AXIS <= 0; AXIS++) {
        GRADCHECK(f_softmax, NULL, P, 1);
        GRADCHECK(f_log_softmax, NULL, P, 1);
    }
    ag_param_free(P[0]);
}

/* ---- regression and binary losses ---- */

static ag_tensor *target(ag_tape *t)
{
    return ag_tensor_wrap(t, TGT, ag_shape(P[0]), ag_ndim(P[0]));
}

static ag_tensor *f_mse(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_mse_loss(t, P[0], target(t));
}

static ag_tensor *f_bce(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_bce_loss(t, ag_sigmoid(t, P[0]), target(t));
}

static ag_tensor *f_bce_logits(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_bce_with_logits_loss(t, P[0], target(t));
}

/* Loss of P[0] against TGT by fn, as a double. */
static double loss_value(ag_gradcheck_fn fn)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *l = fn(t, NULL);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_numel(l), 1);
    double v = ag_data(l)[0];
    ag_tape_free(t);
    return v;
}

Test(loss, mse_bce_and_logits_against_loops)
{
    P[0] = param_rand(AG_SHAPE(3, 4), -3, 3, 2);
    fill_uniform(TGT, 12, 0, 1, 3);
    double mse = 0, bce = 0;
    for (int i = 0; i < 12; i++) {
        double x = ag_data(P[0])[i], y = TGT[i], p = 1 / (1 + exp(-x));
        mse += (x - y) * (x - y) / 12;
        bce += -(y * log(p) + (1 - y) * log(1 - p)) / 12;
    }
    cr_assert_float_eq(loss_value(f_mse), mse, 1e-5 * (1 + mse));
    cr_assert_float_eq(loss_value(f_bce), bce, 1e-5 * (1 + bce));
    cr_assert_float_eq(loss_value(f_bce_logits), bce, 1e-5 * (1 + bce));
    GRADCHECK(f_mse, NULL, P, 1);
    GRADCHECK(f_bce, NULL, P, 1);
    GRADCHECK(f_bce_logits, NULL, P, 1);
    ag_param_free(P[0]);
}

Test(loss, extremes_stay_finite)
{
    ag_tape *t = ag_tape_new();
    ag_real p[4] = {0, 1, 0, 1}, y[4] = {1, 0, 0, 1};
    ag_tensor *l = ag_bce_loss(t, ag_tensor_wrap(t, p, AG_SHAPE(4)), ag_tensor_wrap(t, y, AG_SHAPE(4)));
    /* two confident mistakes at the clamp: -log(1e-12) / 2 = 13.8 */
    cr_assert_float_eq(ag_data(l)[0], -log(1e-12) / 2, 1e-3);
    ag_real x[4] = {-200, 200, -200, 200};
    l = ag_bce_with_logits_loss(t, ag_tensor_wrap(t, x, AG_SHAPE(4)), ag_tensor_wrap(t, y, AG_SHAPE(4)));
    cr_assert_float_eq(ag_data(l)[0], 100.0, 1e-3); /* (200 + 200 + 0 + 0) / 4 */
    ag_tape_free(t);
    /* the gradient at the clamp is finite too */
    P[0] = ag_param_new(AG_SHAPE(2));
    t = ag_tape_new();
    ag_real yy[2] = {1, 0};
    l = ag_bce_loss(t, P[0], ag_tensor_wrap(t, yy, AG_SHAPE(2))); /* p = 0 */
    cr_assert_eq(ag_backward(t, l), AG_OK);
    cr_assert(isfinite(ag_grad(P[0])[0]) && isfinite(ag_grad(P[0])[1]));
    ag_tape_free(t);
    ag_param_free(P[0]);
}

Test(loss, shape_mismatch)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *a = ag_tensor_new(t, AG_SHAPE(2, 3)), *b = ag_tensor_new(t, AG_SHAPE(3));
    cr_assert(ag_is_poisoned(ag_mse_loss(t, a, b)));
    assert_tape_error(t, AG_EINVAL, "ag_mse_loss: pred[2,3] and target[3] differ in shape");
    ag_tape_reset(t);
    a = ag_tensor_new(t, AG_SHAPE(2, 3));
    b = ag_tensor_new(t, AG_SHAPE(3));
    cr_assert(ag_is_poisoned(ag_bce_with_logits_loss(t, a, b)));
    assert_tape_error(t, AG_EINVAL, "ag_bce_with_logits_loss: logits[2,3] and target[3]");
    ag_tape_free(t);
}

/* ---- softmax cross-entropy ---- */

static ag_tensor *f_ce(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_softmax_cross_entropy(t, P[0], LAB);
}

Test(loss, softmax_cross_entropy_against_loop)
{
    P[0] = param_rand(AG_SHAPE(4, 5), -3, 3, 4);
    int32_t lab[4] = {0, 4, 2, 2};
    memcpy(LAB, lab, sizeof lab);
    double want = 0;
    for (int r = 0; r < 4; r++) {
        const ag_real *z = ag_data(P[0]) + 5 * r;
        double s = 0;
        for (int c = 0; c < 5; c++) s += exp(z[c]);
        want += (log(s) - z[lab[r]]) / 4;
    }
    cr_assert_float_eq(loss_value(f_ce), want, 1e-5 * (1 + want));
    GRADCHECK(f_ce, NULL, P, 1);
    /* the gradient is (softmax - onehot) / B */
    ag_tape *t = ag_tape_new();
    ag_param_zero_grad(P[0]);
    cr_assert_eq(ag_backward(t, f_ce(t, NULL)), AG_OK);
    double sm[20];
    softmax_ref(ag_data(P[0]), 4, 5, sm);
    for (int r = 0; r < 4; r++) sm[5 * r + lab[r]] -= 1;
    for (int i = 0; i < 20; i++) sm[i] /= 4;
    assert_close(ag_grad(P[0]), sm, 20, 1e-5);
    ag_tape_free(t);
    ag_param_free(P[0]);
}

Test(loss, softmax_cross_entropy_large_logits)
{
    ag_tape *t = ag_tape_new();
    ag_real z[3] = {1000, 0, -1000};
    int32_t y = 1;
    ag_tensor *l = ag_softmax_cross_entropy(t, ag_tensor_wrap(t, z, AG_SHAPE(1, 3)), &y);
    cr_assert_float_eq(ag_data(l)[0], 1000.0, 1e-3);
    ag_tape_free(t);
}

Test(loss, softmax_cross_entropy_errors)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *z = ag_tensor_new(t, AG_SHAPE(3, 4));
    int32_t bad[3] = {0, 4, 1};
    cr_assert(ag_is_poisoned(ag_softmax_cross_entropy(t, z, bad)));
    assert_tape_error(t, AG_EINVAL, "ag_softmax_cross_entropy: label 4 of row 1 is outside [0, 4)");
    ag_tape_reset(t);
    int32_t neg[3] = {0, 1, -1};
    z = ag_tensor_new(t, AG_SHAPE(3, 4));
    cr_assert(ag_is_poisoned(ag_softmax_cross_entropy(t, z, neg)));
    assert_tape_error(t, AG_EINVAL, "label -1 of row 2");
    ag_tape_reset(t);
    z = ag_tensor_new(t, AG_SHAPE(12));
    cr_assert(ag_is_poisoned(ag_softmax_cross_entropy(t, z, neg)));
    assert_tape_error(t, AG_EINVAL, "logits must be [B, C] with B, C > 0, got [12]");
    ag_tape_free(t);
}
