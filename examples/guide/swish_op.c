/* A primitive op defined outside the library: swish with a slope beta,
 *
 *     y = x sigmoid(beta x)
 *     dy/dx = s + beta x s (1 - s),  s = sigmoid(beta x)
 *
 * and since x s = y, the VJP needs only s (saved in forward) and y:
 *
 *     gx += gy (s + beta y (1 - s))
 *
 * With beta = 1 it is SiLU. The program checks the forward values against
 * hand-computed ones, the gradient against finite differences, and the error
 * raised for a bad beta; it exits with 1 if any check fails.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <agrad.h>

/* [attr] */
typedef struct swish_attr {
    ag_real beta;
} swish_attr;
/* [attr] */

/* [shape] */
static int swish_shape(ag_opctx *c, size_t *out_shape, int *out_ndim)
{
    const swish_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    if (!(a->beta > 0))
        return ag_op_fail(c, AG_EINVAL, "beta must be positive, got %g (x%s)", (double)a->beta,
                          ag_in_shape_str(c, 0));
    memcpy(out_shape, x.shape, (size_t)x.ndim * sizeof *out_shape);
    *out_ndim = x.ndim;
    return 0;
}
/* [shape] */

/* [forward] */
static double sigmoid(double z)
{
    /* exp of a non-positive number only: no overflow for large |z| */
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

static void swish_forward(ag_opctx *c)
{
    const swish_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0), y = ag_out(c);
    ag_real *s = ag_save_alloc(c, y.len * sizeof *s);
    if (!s)
        return; /* the tape has failed with AG_ENOMEM; the output is discarded */
    for (size_t i = 0; i < y.len; i++) {
        s[i] = (ag_real)sigmoid((double)a->beta * (double)x.x[i]);
        y.x[i] = x.x[i] * s[i];
    }
}
/* [forward] */

/* [vjp] */
static void swish_vjp(ag_opctx *c)
{
    const swish_attr *a = ag_attr(c);
    const ag_real *s = ag_saved(c);
    ag_view y = ag_out(c), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < y.len; i++) /* gx += gy (s + beta y (1 - s)) */
        gx.x[i] += gy.x[i] * (s[i] + a->beta * y.x[i] * (1 - s[i]));
}
/* [vjp] */

/* [def] */
static const ag_op_def swish_op = {.name = "swish", .n_in = 1, .shape = swish_shape,
                                   .forward = swish_forward, .vjp = swish_vjp};

static ag_tensor *swish(ag_tape *t, ag_tensor *x, ag_real beta)
{
    swish_attr a = {beta};
    return ag_apply(t, &swish_op, &x, 1, &a, sizeof a);
}
/* [def] */

/* [check] */
static ag_tensor *x_param, *w_param;

/* f(x) = sum(swish(x) * w): the weights w make each entry of df/dx different. */
static ag_tensor *loss_fn(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_sum_all(t, ag_mul(t, swish(t, x_param, (ag_real)1.5), w_param));
}

static int check_gradient(void)
{
    ag_tensor *wrt[] = {x_param, w_param};
    ag_gradcheck_report r;
    int ok = ag_gradcheck(loss_fn, NULL, wrt, 2, NULL, &r);
    ag_gradcheck_fprint(stdout, &r);
    return ok;
}
/* [check] */

static int check_forward(void)
{
    /* swish_1(x) for x = -2, 0, 1, 3 by hand: x / (1 + e^-x) */
    static ag_real xs[4] = {-2, 0, 1, 3};
    const double want[4] = {-2 / (1 + exp(2.0)), 0, 1 / (1 + exp(-1.0)), 3 / (1 + exp(-3.0))};
    ag_tape *t = ag_tape_new();
    ag_tensor *y = swish(t, ag_tensor_wrap(t, xs, AG_SHAPE(4)), 1);
    int ok = ag_tape_status(t) == AG_OK;
    for (int i = 0; ok && i < 4; i++)
        ok = fabs((double)ag_data(y)[i] - want[i]) < 1e-6;
    printf("forward: %s\n", ok ? "matches the hand-computed values" : "WRONG");
    ag_tape_free(t);
    return ok;
}

/* [error] */
static int check_error(void)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_tensor_new(t, AG_SHAPE(2, 3));
    ag_tensor *y = swish(t, x, -1);
    printf("error: %s\n", ag_tape_errmsg(t));
    int ok = ag_is_poisoned(y) && ag_tape_status(t) == AG_EINVAL &&
             strstr(ag_tape_errmsg(t), "ag_swish (node") &&
             strstr(ag_tape_errmsg(t), "beta must be positive, got -1 (x[2,3])");
    ag_tape_free(t);
    return ok;
}
/* [error] */

int main(void)
{
    x_param = ag_param_new(AG_SHAPE(3, 4));
    w_param = ag_param_new(AG_SHAPE(3, 4));
    if (!x_param || !w_param)
        return 1;
    for (size_t i = 0; i < 12; i++) {
        ag_data(x_param)[i] = (ag_real)(-3 + 0.5 * (double)i); /* -3 .. 2.5 */
        ag_data(w_param)[i] = (ag_real)cos((double)i);
    }
    int ok = check_forward();
    ok &= check_gradient();
    ok &= check_error();
    ag_param_free(x_param);
    ag_param_free(w_param);
    printf("swish_op: %s\n", ok ? "all checks passed" : "FAILED");
    return ok ? 0 : 1;
}
