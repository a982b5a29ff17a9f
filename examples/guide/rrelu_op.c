/* A random primitive op: the randomized leaky ReLU (Xu et al., 2015),
 *
 *     y = x          if x >= 0
 *     y = a x        otherwise, a ~ U(lower, upper) per element in training,
 *                    a = (lower + upper) / 2 in evaluation
 *
 *     VJP: gx += gy         where x >= 0
 *          gx += gy a       elsewhere (the same a as in forward)
 *
 * The slopes come from the tape's random stream (ag_uniform) and are saved
 * for the VJP. The program checks that the slopes lie in [lower, upper), that
 * a given seed gives the same slopes, and that the gradient passes a
 * finite-difference check; it exits with 1 if any check fails.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <agrad.h>

typedef struct rrelu_attr {
    ag_real lower, upper;
    int training;
} rrelu_attr;

static int rrelu_shape(ag_opctx *c, size_t *out_shape, int *out_ndim)
{
    const rrelu_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0);
    if (!(0 <= a->lower && a->lower <= a->upper))
        return ag_op_fail(c, AG_EINVAL, "need 0 <= lower <= upper, got %g and %g (x%s)",
                          (double)a->lower, (double)a->upper, ag_in_shape_str(c, 0));
    memcpy(out_shape, x.shape, (size_t)x.ndim * sizeof *out_shape);
    *out_ndim = x.ndim;
    return 0;
}

/* [forward] */
static void rrelu_forward(ag_opctx *c)
{
    const rrelu_attr *a = ag_attr(c);
    ag_view x = ag_in(c, 0), y = ag_out(c);
    ag_real *slope = ag_save_alloc(c, y.len * sizeof *slope);
    if (!slope)
        return;
    for (size_t i = 0; i < y.len; i++) {
        slope[i] = a->training
                       ? (ag_real)(a->lower + (a->upper - a->lower) * ag_uniform(c))
                       : (a->lower + a->upper) / 2;
        y.x[i] = x.x[i] >= 0 ? x.x[i] : slope[i] * x.x[i];
    }
}
/* [forward] */

static void rrelu_vjp(ag_opctx *c)
{
    const ag_real *slope = ag_saved(c);
    ag_view x = ag_in(c, 0), gy = ag_out_grad(c), gx = ag_in_grad(c, 0);
    for (size_t i = 0; i < x.len; i++) /* gx += gy (1 or a) */
        gx.x[i] += x.x[i] >= 0 ? gy.x[i] : gy.x[i] * slope[i];
}

static const ag_op_def rrelu_op = {.name = "rrelu", .n_in = 1, .shape = rrelu_shape,
                                   .forward = rrelu_forward, .vjp = rrelu_vjp};

static ag_tensor *rrelu(ag_tape *t, ag_tensor *x, ag_real lower, ag_real upper, int training)
{
    rrelu_attr a = {lower, upper, training};
    return ag_apply(t, &rrelu_op, &x, 1, &a, sizeof a);
}

#define N 1000
#define LOWER ((ag_real)0.125)
#define UPPER ((ag_real)(1.0 / 3))

static ag_tensor *x_param, *w_param;

static ag_tensor *loss_fn(ag_tape *t, void *ctx)
{
    (void)ctx;
    return ag_sum_all(t, ag_mul(t, rrelu(t, x_param, LOWER, UPPER, 1), w_param));
}

/* Slopes drawn on a tape seeded with seed, for the N inputs of x_param (all negative). */
static int draw(uint64_t seed, ag_real *slopes)
{
    ag_tape *t = ag_tape_new();
    ag_tape_seed(t, seed);
    ag_tensor *y = rrelu(t, ag_tensor_from(t, ag_data(x_param), AG_SHAPE(N)), LOWER, UPPER, 1);
    int ok = ag_tape_status(t) == AG_OK;
    for (size_t i = 0; ok && i < N; i++)
        slopes[i] = ag_data(y)[i] / ag_data(x_param)[i];
    ag_tape_free(t);
    return ok;
}

int main(void)
{
    static ag_real s1[N], s2[N], s3[N];
    x_param = ag_param_new(AG_SHAPE(N));
    w_param = ag_param_new(AG_SHAPE(N));
    if (!x_param || !w_param)
        return 1;
    for (size_t i = 0; i < N; i++) {
        ag_data(x_param)[i] = (ag_real)(-0.5 - sin((double)i) * sin((double)i)); /* < 0 */
        ag_data(w_param)[i] = (ag_real)cos((double)i);
    }
    int ok = draw(7, s1) && draw(7, s2) && draw(8, s3);
    double mean = 0;
    int in_range = 1;
    for (size_t i = 0; i < N; i++) {
        /* y / x recovers the slope up to rounding */
        in_range &= s1[i] >= LOWER * (1 - 1e-5) && s1[i] <= UPPER * (1 + 1e-5);
        mean += (double)s1[i] / N;
    }
    int same = ok && memcmp(s1, s2, sizeof s1) == 0, differ = ok && memcmp(s1, s3, sizeof s1) != 0;
    printf("slopes in [%.3f, %.3f): %s, mean %.4f (expected %.4f)\n", (double)LOWER,
           (double)UPPER, in_range ? "yes" : "NO", mean, (double)(LOWER + UPPER) / 2);
    printf("same seed, same slopes: %s; another seed, other slopes: %s\n", same ? "yes" : "NO",
           differ ? "yes" : "NO");
    ok = ok && in_range && same && differ && fabs(mean - (double)(LOWER + UPPER) / 2) < 0.01;

    /* Gradcheck on 16 of the inputs, half of them made positive. */
    ag_tensor *x_all = x_param;
    x_param = ag_param_new(AG_SHAPE(16));
    ag_tensor *w_all = w_param;
    w_param = ag_param_new(AG_SHAPE(16));
    for (size_t i = 0; i < 16; i++) {
        ag_data(x_param)[i] = ag_data(x_all)[i] * (i % 2 ? -1 : 1);
        ag_data(w_param)[i] = ag_data(w_all)[i];
    }
    ag_tensor *wrt[] = {x_param, w_param};
    ag_gradcheck_report r;
    int gc = ag_gradcheck(loss_fn, NULL, wrt, 2, NULL, &r);
    ag_gradcheck_fprint(stdout, &r);
    ok = ok && gc;
    ag_param_free(x_all);
    ag_param_free(w_all);
    ag_param_free(x_param);
    ag_param_free(w_param);
    printf("rrelu_op: %s\n", ok ? "all checks passed" : "FAILED");
    return ok ? 0 : 1;
}
