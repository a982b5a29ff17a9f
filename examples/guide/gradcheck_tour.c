/* Finite-difference gradient tests with ag_gradcheck(), case by case:
 * a report that passes, a broken VJP and how its report points at the bug,
 * the step eps, kinks, random ops, and fast mode for large tensors.
 *
 * Each case prints its report and checks what the guide says about it; the
 * program exits with 1 if one of those statements does not hold.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <agrad.h>

static ag_tensor *a, *b;

static void fill(ag_tensor *x, double scale, double phase)
{
    for (size_t i = 0; i < ag_numel(x); i++)
        ag_data(x)[i] = (ag_real)(scale * sin(phase + 1.7 * (double)i));
}

/* [pass] */
/* f(a, b) = sum(tanh(a b)): every entry of both gradients is different. */
static ag_tensor *tanh_matmul(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_sum_all(t, ag_tanh(t, ag_matmul(t, a, b)));
}

static int passing(void)
{
    ag_tensor *wrt[] = {a, b};
    ag_gradcheck_report r;
    int ok = ag_gradcheck(tanh_matmul, NULL, wrt, 2, NULL, &r); /* NULL: default options */
    ag_gradcheck_fprint(stdout, &r);
    return ok && r.checked == 12 + 12 && r.failed == 0;
}
/* [pass] */

/* [broken] */
/* y = x^2 with a VJP that forgets the factor 2: gx += gy x. */
static void square_forward(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    for (size_t i = 0; i < y.len; i++)
        y.x[i] = x.x[i] * x.x[i];
}

static void square_vjp_wrong(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < x.len; i++)
        gx.x[i] += gy.x[i] * x.x[i]; /* should be 2 x */
}

static int same_shape(ag_opctx *c, size_t *out, int *nd)
{
    ag_view x = ag_in(c, 0);
    memcpy(out, x.shape, (size_t)x.ndim * sizeof *out);
    *nd = x.ndim;
    return 0;
}

static const ag_op_def square_op = {.name = "square", .n_in = 1, .shape = same_shape,
                                    .forward = square_forward, .vjp = square_vjp_wrong};

static ag_tensor *broken_fn(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_sum_all(t, ag_apply(t, &square_op, &a, 1, NULL, 0));   /* df/da = 2 a */
}
/* [broken] */

static int broken(void)
{
    ag_tensor *wrt[] = {a};
    ag_gradcheck_report r;
    int ok = ag_gradcheck(broken_fn, NULL, wrt, 1, NULL, &r);
    ag_gradcheck_fprint(stdout, &r);
    /* every entry fails, and analytic / numeric is 1/2 */
    int half = r.n_worst > 0;
    for (int i = 0; i < r.n_worst; i++)
        half &= fabs(r.worst[i].analytic / r.worst[i].numeric - 0.5) < 0.01;
    return !ok && r.failed == r.checked && half;
}

/* [eps] */
static ag_tensor *exp_fn(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_sum_all(t, ag_exp(t, a));
}

static void try_eps(double eps)
{
    ag_gradcheck_opts o = ag_gradcheck_defaults();
    o.eps = eps;
    ag_gradcheck_report r;
    ag_tensor *wrt[] = {a};
    ag_gradcheck(exp_fn, NULL, wrt, 1, &o, &r);
    printf("eps %.0e: %s  checked %zu, failed %zu, skipped %zu, max rel err %.1e\n", eps,
           r.pass ? "PASS" : "FAIL", r.checked, r.failed, r.skipped, r.tensors[0].max_rel);
}
/* [eps] */

/* [kink] */
/* relu(x) at x = 0 has no derivative: the one-sided differences disagree. */
static ag_tensor *relu_fn(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_sum_all(t, ag_relu(t, a));
}
/* [kink] */

static int kink(void)
{
    ag_real saved = ag_data(a)[5];
    ag_data(a)[5] = 0;                      /* one entry exactly at the kink */
    ag_tensor *wrt[] = {a};
    ag_gradcheck_report r;
    int ok = ag_gradcheck(relu_fn, NULL, wrt, 1, NULL, &r);
    ag_gradcheck_fprint(stdout, &r);
    ag_data(a)[5] = saved;
    return ok && r.checked + r.skipped == 12;
}

/* [random] */
/* Dropout draws its mask from the tape's random stream. ag_gradcheck reseeds
 * the stream (opts.seed) before every evaluation, so each evaluation of f
 * drops the same entries and the differences are those of one function. */
static ag_tensor *dropout_fn(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_sum_all(t, ag_dropout(t, ag_tanh(t, ag_matmul(t, a, b)), 0.5, 1));
}

static int random_op(void)
{
    ag_tensor *wrt[] = {a, b};
    ag_gradcheck_opts o = ag_gradcheck_defaults();
    int ok = 1;
    for (uint64_t seed = 1; seed <= 3; seed++) {   /* three different masks */
        o.seed = seed;
        ag_gradcheck_report r;
        ok &= ag_gradcheck(dropout_fn, NULL, wrt, 2, &o, &r);
        printf("dropout, seed %llu: %s (%zu entries)\n", (unsigned long long)seed,
               r.pass ? "PASS" : "FAIL", r.checked);
    }
    return ok;
}
/* [random] */

/* [fast] */
static ag_tensor *big_a, *big_b;

static ag_tensor *big_fn(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_sum_all(t, ag_tanh(t, ag_matmul(t, big_a, big_b)));
}

static int fast_mode(void)
{
    ag_tensor *wrt[] = {big_a, big_b};
    ag_gradcheck_opts o = ag_gradcheck_defaults();
    o.fast = 1;       /* compare directional derivatives along random +-1 vectors */
    o.n_proj = 8;     /* per tensor: 2 x 8 x 2 evaluations instead of 2 x 2 x 16384 */
    ag_gradcheck_report r;
    int ok = ag_gradcheck(big_fn, NULL, wrt, 2, &o, &r);
    ag_gradcheck_fprint(stdout, &r);
    return ok && r.checked == 16;
}
/* [fast] */

int main(void)
{
    a = ag_param_new(AG_SHAPE(3, 4));
    b = ag_param_new(AG_SHAPE(4, 3));
    big_a = ag_param_new(AG_SHAPE(128, 128));
    big_b = ag_param_new(AG_SHAPE(128, 128));
    if (!a || !b || !big_a || !big_b)
        return 1;
    fill(a, 1, 0.3);
    fill(b, 1, 1);
    fill(big_a, 0.2, 2);
    fill(big_b, 0.2, 3);
    printf("build: ag_real is %s\n\n", AG_REAL_IS_DOUBLE ? "double" : "float");

    printf("--- a passing check\n");
    int ok_pass = passing();
    printf("\n--- a VJP missing a factor 2\n");
    int ok_broken = broken();
    printf("\n--- the step eps (f = sum(exp(a)))\n");
    try_eps(0.5);                              /* too large: truncation error */
    try_eps(ag_gradcheck_defaults().eps);      /* the default */
    try_eps(AG_REAL_IS_DOUBLE ? 1e-11 : 1e-5); /* too small: rounding error */
    printf("\n--- a kink\n");
    int ok_kink = kink();
    printf("\n--- a random op\n");
    int ok_random = random_op();
    printf("\n--- fast mode\n");
    int ok_fast = fast_mode();

    ag_param_free(a);
    ag_param_free(b);
    ag_param_free(big_a);
    ag_param_free(big_b);
    int ok = ok_pass && ok_broken && ok_kink && ok_random && ok_fast;
    printf("\ngradcheck_tour: pass %s, broken %s, kink %s, random %s, fast %s\n",
           ok_pass ? "ok" : "FAILED", ok_broken ? "ok" : "FAILED", ok_kink ? "ok" : "FAILED",
           ok_random ? "ok" : "FAILED", ok_fast ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
