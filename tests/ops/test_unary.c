/* Unary elementwise ops: forward against values computed by hand (with
 * arguments large and small enough to expose overflow), gradients at the
 * special points, ag_gradcheck on random inputs kept off kinks and domain
 * edges, and the error path. */
#include "elementwise_check.h"

typedef ag_tensor *(*unary_fn)(ag_tape *, ag_tensor *);

/* y = op(x) for the n values of x, compared relatively with want. */
static void check_forward(unary_fn op, const ag_real *x, const double *want, size_t n)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *y = op(t, ag_tensor_from(t, x, (size_t[]){n}, 1));
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_numel(y), n);
    assert_rel(ag_data(y), want, n, TOL);
    ag_tape_free(t);
}

/* d sum(op(x)) / dx, i.e. op'(x), at the n values of x. */
static void check_grad_at(unary_fn op, const ag_real *x, const double *want, size_t n)
{
    ag_tensor *p = ag_param_new((size_t[]){n}, 1);
    memcpy(ag_data(p), x, n * sizeof *x);
    ag_tape *t = ag_tape_new();
    cr_assert_eq(ag_backward(t, ag_sum_all(t, op(t, p))), AG_OK, "%s", ag_tape_errmsg(t));
    assert_rel(ag_grad(p), want, n, TOL);
    ag_tape_free(t);
    ag_param_free(p);
}

static unary_fn OP;
static ag_tensor *P[1];

static ag_tensor *f_unary(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weighted_sum(t, OP(t, P[0]));
}

/* Gradcheck of op on a [3,5] input in [lo, hi), kept `gap` away from 0. */
static void check_gradcheck(unary_fn op, double lo, double hi, double gap)
{
    OP = op;
    P[0] = param_away(AG_SHAPE(3, 5), lo, hi, gap, 11);
    GRADCHECK(f_unary, NULL, P, 1);
    ag_param_free(P[0]);
}

/* A NULL input and a tensor of another tape: each fails the tape with a
 * message naming the op and node, and gives a poisoned tensor. */
static void check_errors(unary_fn op, const char *name)
{
    char want[96];
    ag_tape *t = ag_tape_new(), *u = ag_tape_new();
    cr_assert(ag_is_poisoned(op(t, NULL)));
    snprintf(want, sizeof want, "ag_%s (node 0): NULL tensor as input 0", name);
    assert_tape_error(t, AG_EINVAL, want);
    ag_tape_reset(t);
    cr_assert(ag_is_poisoned(op(t, ag_tensor_new(u, AG_SHAPE(2)))));
    snprintf(want, sizeof want, "ag_%s (node 0): tensor of another tape as input 0", name);
    assert_tape_error(t, AG_ESTATE, want);
    ag_tape_free(t);
    ag_tape_free(u);
}

/* ---- neg ---- */

Test(neg, forward)
{
    check_forward(ag_neg, (ag_real[]){-2, 0, 3.5}, (double[]){2, 0, -3.5}, 3);
}
Test(neg, gradcheck) { check_gradcheck(ag_neg, -2, 2, 0); }
Test(neg, errors) { check_errors(ag_neg, "neg"); }

/* ---- exp ---- */

Test(exp, forward)
{
    check_forward(ag_exp, (ag_real[]){-80, -1, 0, 1, 80},
                  (double[]){1.8048513878454153e-35, 0.36787944117144233, 1,
                             2.718281828459045, 5.54062238439351e+34}, 5);
}
Test(exp, grad_at)
{
    check_grad_at(ag_exp, (ag_real[]){-80, 0, 80},
                  (double[]){1.8048513878454153e-35, 1, 5.54062238439351e+34}, 3);
}
Test(exp, gradcheck) { check_gradcheck(ag_exp, -2, 2, 0); }
Test(exp, errors) { check_errors(ag_exp, "exp"); }

/* ---- log ---- */

Test(log, forward)
{
    check_forward(ag_log, (ag_real[]){(ag_real)1e-30, 0.5, 1, (ag_real)1e30},
                  (double[]){-69.07755278982137, -0.6931471805599453, 0, 69.07755278982137}, 4);
}
Test(log, grad_at)
{
    check_grad_at(ag_log, (ag_real[]){(ag_real)1e-30, 0.25, (ag_real)1e30},
                  (double[]){1e30, 4, 1e-30}, 3);
}
Test(log, gradcheck) { check_gradcheck(ag_log, 0.5, 3, 0); }
Test(log, errors) { check_errors(ag_log, "log"); }

/* ---- sqrt ---- */

Test(sqrt, forward)
{
    check_forward(ag_sqrt, (ag_real[]){0, 0.25, 2, 1e6},
                  (double[]){0, 0.5, 1.4142135623730951, 1000}, 4);
}
Test(sqrt, grad_at) { check_grad_at(ag_sqrt, (ag_real[]){0.25, 1e6}, (double[]){1, 0.0005}, 2); }
Test(sqrt, gradcheck) { check_gradcheck(ag_sqrt, 0.5, 3, 0); }
Test(sqrt, errors) { check_errors(ag_sqrt, "sqrt"); }

/* ---- abs ---- */

Test(abs, forward)
{
    check_forward(ag_abs, (ag_real[]){-3, -0.0, 0.5}, (double[]){3, 0, 0.5}, 3);
}
Test(abs, grad_at) { check_grad_at(ag_abs, (ag_real[]){-3, 0, 0.5}, (double[]){-1, 0, 1}, 3); }
Test(abs, gradcheck) { check_gradcheck(ag_abs, -2, 2, 0.1); }
Test(abs, errors) { check_errors(ag_abs, "abs"); }

/* ---- sigmoid ---- */

Test(sigmoid, forward)
{
    check_forward(ag_sigmoid, (ag_real[]){-1000, -80, -1, 0, 1, 80, 1000},
                  (double[]){0, 1.8048513878454153e-35, 0.2689414213699951, 0.5,
                             0.7310585786300049, 1, 1}, 7);
}
/* sigmoid' = y (1 - y): 1/4 at 0, and 0 (not NaN) far out. */
Test(sigmoid, grad_at)
{
    check_grad_at(ag_sigmoid, (ag_real[]){-1000, -1, 0, 1000},
                  (double[]){0, 0.19661193324148185, 0.25, 0}, 4);
}
Test(sigmoid, gradcheck) { check_gradcheck(ag_sigmoid, -6, 6, 0); }
Test(sigmoid, errors) { check_errors(ag_sigmoid, "sigmoid"); }

/* ---- relu ---- */

Test(relu, forward)
{
    check_forward(ag_relu, (ag_real[]){-2, 0, 3}, (double[]){0, 0, 3}, 3);
}
Test(relu, grad_at) { check_grad_at(ag_relu, (ag_real[]){-2, 0, 3}, (double[]){0, 0, 1}, 3); }
Test(relu, nan_propagates)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *y = ag_relu(t, ag_tensor_from(t, (ag_real[]){NAN}, AG_SHAPE(1)));
    cr_assert(isnan(ag_data(y)[0]));
    ag_tape_free(t);
}
Test(relu, gradcheck) { check_gradcheck(ag_relu, -2, 2, 0.1); }
Test(relu, errors) { check_errors(ag_relu, "relu"); }

/* ---- leaky_relu ---- */

static ag_tensor *leaky(ag_tape *t, ag_tensor *x) { return ag_leaky_relu(t, x, (ag_real)0.1); }

Test(leaky_relu, forward)
{
    check_forward(leaky, (ag_real[]){-2, 0, 3}, (double[]){-0.2, 0, 3}, 3);
}
Test(leaky_relu, grad_at)
{
    check_grad_at(leaky, (ag_real[]){-2, 0, 3}, (double[]){0.1, 0.1, 1}, 3);
}
Test(leaky_relu, gradcheck) { check_gradcheck(leaky, -2, 2, 0.1); }
Test(leaky_relu, errors) { check_errors(leaky, "leaky_relu"); }

/* ---- softplus ---- */

Test(softplus, forward)
{
    check_forward(ag_softplus, (ag_real[]){-1000, -80, -40, -1, 0, 1, 40, 1000},
                  (double[]){0, 1.8048513878454153e-35, 4.248354255291589e-18,
                             0.31326168751822286, 0.6931471805599453, 1.3132616875182228,
                             40, 1000}, 8);
}
/* softplus' = sigmoid: 1/2 exactly at 0, 0 and 1 far out. */
Test(softplus, grad_at)
{
    check_grad_at(ag_softplus, (ag_real[]){-1000, -1, 0, 1000},
                  (double[]){0, 0.2689414213699951, 0.5, 1}, 4);
    ag_tensor *p = ag_param_new(AG_SHAPE(1));
    ag_tape *t = ag_tape_new();
    cr_assert_eq(ag_backward(t, ag_sum_all(t, ag_softplus(t, p))), AG_OK);
    cr_assert_eq(ag_grad(p)[0], (ag_real)0.5);
    ag_tape_free(t);
    ag_param_free(p);
}
Test(softplus, gradcheck) { check_gradcheck(ag_softplus, -6, 6, 0); }
Test(softplus, errors) { check_errors(ag_softplus, "softplus"); }

/* ---- pow_scalar ---- */

static ag_tensor *pow_2_5(ag_tape *t, ag_tensor *x) { return ag_pow_scalar(t, x, 2.5); }
static ag_tensor *pow_3(ag_tape *t, ag_tensor *x) { return ag_pow_scalar(t, x, 3); }
static ag_tensor *pow_m1(ag_tape *t, ag_tensor *x) { return ag_pow_scalar(t, x, -1); }
static ag_tensor *pow_0(ag_tape *t, ag_tensor *x) { return ag_pow_scalar(t, x, 0); }

Test(pow_scalar, forward)
{
    check_forward(pow_2_5, (ag_real[]){0.5, 2, 3},
                  (double[]){0.1767766952966369, 5.656854249492381, 15.588457268119896}, 3);
    check_forward(pow_3, (ag_real[]){-2, 0, 1.5}, (double[]){-8, 0, 3.375}, 3);
    check_forward(pow_m1, (ag_real[]){-4, 0.5}, (double[]){-0.25, 2}, 2);
}
/* p x^(p-1); for p = 0 the derivative is 0 even at x = 0. */
Test(pow_scalar, grad_at)
{
    check_grad_at(pow_3, (ag_real[]){-2, 0, 1.5}, (double[]){12, 0, 6.75}, 3);
    check_grad_at(pow_2_5, (ag_real[]){0, 4}, (double[]){0, 20}, 2);
    check_grad_at(pow_0, (ag_real[]){0, 3}, (double[]){0, 0}, 2);
}
Test(pow_scalar, gradcheck)
{
    check_gradcheck(pow_2_5, 0.5, 2, 0);
    check_gradcheck(pow_3, -2, 2, 0);
    check_gradcheck(pow_m1, 0.5, 2, 0);
}
Test(pow_scalar, errors) { check_errors(pow_3, "pow_scalar"); }

/* ---- affine and its scalar forms ---- */

static ag_tensor *affine(ag_tape *t, ag_tensor *x) { return ag_affine(t, x, 2, 1); }
static ag_tensor *add_s(ag_tape *t, ag_tensor *x) { return ag_add_scalar(t, x, 3); }
static ag_tensor *mul_s(ag_tape *t, ag_tensor *x) { return ag_mul_scalar(t, x, -0.5); }
static ag_tensor *rsub_s(ag_tape *t, ag_tensor *x) { return ag_rsub_scalar(t, 1, x); }

Test(affine, forward)
{
    const ag_real x[3] = {-2, 0, 1.5};
    check_forward(affine, x, (double[]){-3, 1, 4}, 3);
    check_forward(add_s, x, (double[]){1, 3, 4.5}, 3);
    check_forward(mul_s, x, (double[]){1, 0, -0.75}, 3);
    check_forward(rsub_s, x, (double[]){3, 1, -0.5}, 3);
}
Test(affine, grad_at)
{
    const ag_real x[2] = {-2, 1.5};
    check_grad_at(affine, x, (double[]){2, 2}, 2);
    check_grad_at(add_s, x, (double[]){1, 1}, 2);
    check_grad_at(mul_s, x, (double[]){-0.5, -0.5}, 2);
    check_grad_at(rsub_s, x, (double[]){-1, -1}, 2);
}
Test(affine, gradcheck)
{
    check_gradcheck(affine, -2, 2, 0);
    check_gradcheck(rsub_s, -2, 2, 0);
}
/* The scalar forms are affine nodes: their errors name ag_affine. */
Test(affine, errors)
{
    check_errors(affine, "affine");
    check_errors(add_s, "affine");
    check_errors(mul_s, "affine");
    check_errors(rsub_s, "affine");
}

/* ---- a unary op's VJP as first writer and as second ----
 *
 * h = 1 x + 0 is a recorded node, so its gradient buffer starts fresh
 * (holding whatever the arena held). loss = sum(op(h)) + sum(2 h), with the
 * two consumers recorded in either order: whichever VJP runs first stores
 * into h's gradient and the other adds to it, so both orders must give
 * exactly op'(x) + 2, where op alone gives op'(x). Each order records and
 * sweeps twice on one tape, so the second sweep finds the buffers dirty. */
static void check_first_and_second(unary_fn op, double lo, double hi, double gap)
{
    enum { N = 15 };
    ag_tensor *p = param_away(AG_SHAPE(3, 5), lo, hi, gap, 21);
    ag_real alone[N];
    ag_tape *t = ag_tape_new();
    ag_param_zero_grad(p);
    cr_assert_eq(ag_backward(t, ag_sum_all(t, op(t, ag_affine(t, p, 1, 0)))), AG_OK);
    memcpy(alone, ag_grad(p), sizeof alone);
    for (int order = 0; order < 2; order++)
        for (int sweep = 0; sweep < 2; sweep++) {
            ag_tape_reset(t);
            ag_param_zero_grad(p);
            ag_tensor *h = ag_affine(t, p, 1, 0), *a, *b;
            if (order) { /* op recorded last: its VJP runs first */
                a = ag_sum_all(t, ag_mul_scalar(t, h, 2));
                b = ag_sum_all(t, op(t, h));
            } else {
                a = ag_sum_all(t, op(t, h));
                b = ag_sum_all(t, ag_mul_scalar(t, h, 2));
            }
            cr_assert_eq(ag_backward(t, ag_add(t, a, b)), AG_OK, "%s", ag_tape_errmsg(t));
            for (int i = 0; i < N; i++) {
                ag_real want = alone[i] + (ag_real)2;
                cr_assert(ag_grad(p)[i] == want, "order %d sweep %d: grad[%d] = %.9g, want %.9g",
                          order, sweep, i, (double)ag_grad(p)[i], (double)want);
            }
        }
    ag_tape_free(t);
    ag_param_free(p);
}

Test(unary, first_writer_stores_second_adds)
{
    check_first_and_second(ag_neg, -2, 2, 0);
    check_first_and_second(ag_exp, -2, 2, 0);
    check_first_and_second(ag_log, 0.5, 3, 0);
    check_first_and_second(ag_sqrt, 0.5, 3, 0);
    check_first_and_second(ag_abs, -2, 2, 0.1);
    check_first_and_second(ag_tanh, -2, 2, 0);
    check_first_and_second(ag_sigmoid, -6, 6, 0);
    check_first_and_second(ag_relu, -2, 2, 0.1);
    check_first_and_second(leaky, -2, 2, 0.1);
    check_first_and_second(ag_softplus, -6, 6, 0);
    check_first_and_second(pow_2_5, 0.5, 3, 0);
    check_first_and_second(pow_0, 0.5, 3, 0);
}
