/* ag_gradcheck must catch wrong gradients, skip kinks and report clearly.
 * The ops here are defined in the test through the public op interface. */
#include <math.h>
#include "common.h"

/* y = x^3 with a deliberately wrong VJP (2x^2 instead of 3x^2) */
static void cube_fwd(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    for (size_t i = 0; i < y.len; i++) y.x[i] = x.x[i] * x.x[i] * x.x[i];
}
static void cube_bad_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < gx.len; i++) gx.x[i] += gy.x[i] * 2 * x.x[i] * x.x[i];
}
static void cube_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < gx.len; i++) gx.x[i] += gy.x[i] * 3 * x.x[i] * x.x[i];
}
static int same(ag_opctx *c, size_t *out, int *nd)
{
    ag_view x = ag_in(c, 0);
    for (int i = 0; i < x.ndim; i++) out[i] = x.shape[i];
    *nd = x.ndim;
    return 0;
}
static const ag_op_def cube_bad = {"cube_bad", 1, same, cube_fwd, cube_bad_vjp};
static const ag_op_def cube = {"cube", 1, same, cube_fwd, cube_vjp};

/* y = max(x, 0) with derivative 0 at 0: a kink, where the central
 * difference (1/2) disagrees with the chosen subgradient */
static void relu_fwd(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), y = ag_out(c);
    for (size_t i = 0; i < y.len; i++) y.x[i] = x.x[i] > 0 ? x.x[i] : 0;
}
static void relu_vjp(ag_opctx *c)
{
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < gx.len; i++) gx.x[i] += x.x[i] > 0 ? gy.x[i] : 0;
}
static const ag_op_def myrelu = {"myrelu", 1, same, relu_fwd, relu_vjp};

static ag_tensor *P[2];
static const ag_op_def *OP;

static ag_tensor *f(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *x = P[0];
    return ag_sum_all(t, ag_apply(t, OP, &x, 1, NULL, 0));
}

Test(gradcheck, passes_correct_op)
{
    P[0] = param_rand(AG_SHAPE(5), 0.5, 1.5, 1);
    OP = &cube;
    ag_gradcheck_report r;
    cr_assert(ag_gradcheck(f, NULL, P, 1, NULL, &r));
    cr_assert_eq(r.checked, 5);
    cr_assert_eq(r.failed, 0);
    cr_assert(r.twice_ok);
    ag_param_free(P[0]);
}

Test(gradcheck, catches_wrong_vjp_and_reports)
{
    P[0] = param_rand(AG_SHAPE(5), 0.5, 1.5, 1);
    OP = &cube_bad;
    ag_gradcheck_report r;
    ag_real before[5];
    memcpy(before, ag_data(P[0]), sizeof before);
    ag_grad(P[0])[2] = 42;
    cr_assert(!ag_gradcheck(f, NULL, P, 1, NULL, &r));
    cr_assert_eq(r.failed, 5);
    cr_assert_eq(r.tensors[0].pass, 0);
    cr_assert_gt(r.n_worst, 0);
    /* the worst entry: analytic 2x^2 against numeric 3x^2, signed */
    const ag_gradcheck_entry *w = &r.worst[0];
    double x = ag_data(P[0])[w->index];
    cr_assert_float_eq(w->analytic, 2 * x * x, 1e-4);
    cr_assert_float_eq(w->numeric, 3 * x * x, 3e-2);
    /* inputs and gradients are left as they were */
    cr_assert(memcmp(before, ag_data(P[0]), sizeof before) == 0);
    cr_assert_eq(ag_grad(P[0])[2], 42);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ag_gradcheck_fprint(m, &r);
    fclose(m);
    cr_assert(strstr(buf, "FAIL") && strstr(buf, "worst entries"), "%s", buf);
    free(buf);
    ag_param_free(P[0]);
}

Test(gradcheck, fast_mode_catches_wrong_vjp)
{
    P[0] = param_rand(AG_SHAPE(50), 0.5, 1.5, 2);
    OP = &cube_bad;
    ag_gradcheck_opts o = ag_gradcheck_defaults();
    o.fast = 1;
    ag_gradcheck_report r;
    cr_assert(!ag_gradcheck(f, NULL, P, 1, &o, &r));
    cr_assert_eq(r.checked, 8);
    OP = &cube;
    cr_assert(ag_gradcheck(f, NULL, P, 1, &o, &r));
    ag_param_free(P[0]);
}

Test(gradcheck, skips_kinks)
{
    P[0] = ag_param_new(AG_SHAPE(4));
    ag_real v[4] = {-1, 0, 0.5, 2};
    memcpy(ag_data(P[0]), v, sizeof v);
    OP = &myrelu;
    ag_gradcheck_report r;
    cr_assert(ag_gradcheck(f, NULL, P, 1, NULL, &r));
    cr_assert_eq(r.skipped, 1);
    cr_assert_eq(r.checked, 3);
    ag_param_free(P[0]);
}

static ag_tensor *f_bad_shape(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_matmul(t, P[0], P[0]);
}

Test(gradcheck, reports_errors_of_fn)
{
    P[0] = param_rand(AG_SHAPE(2, 3), -1, 1, 3);
    ag_gradcheck_report r;
    cr_assert(!ag_gradcheck(f_bad_shape, NULL, P, 1, NULL, &r));
    cr_assert_eq(r.status, AG_EINVAL);
    cr_assert(strstr(r.errmsg, "inner dimensions differ") != NULL, "%s", r.errmsg);
    ag_tensor *notparam[1] = {NULL};
    cr_assert(!ag_gradcheck(f, NULL, notparam, 1, NULL, &r));
    cr_assert(strstr(r.errmsg, "not a parameter") != NULL, "%s", r.errmsg);
    ag_param_free(P[0]);
}

/* A step below the precision's resolution (x + h rounds back to x) is an
 * error that says so, not a report full of NaN. */
Test(gradcheck, eps_below_resolution_is_an_error)
{
    P[0] = param_rand(AG_SHAPE(5), 0.5, 1.5, 4);
    OP = &cube;
    ag_gradcheck_opts o = ag_gradcheck_defaults();
    o.eps = 1e-30;
    ag_gradcheck_report r;
    cr_assert(!ag_gradcheck(f, NULL, P, 1, &o, &r));
    cr_assert_eq(r.status, AG_EINVAL);
    cr_assert(strstr(r.errmsg, "is below the resolution of") != NULL, "%s", r.errmsg);
    cr_assert(strstr(r.errmsg, "use a larger eps") != NULL, "%s", r.errmsg);
    ag_param_free(P[0]);
}
