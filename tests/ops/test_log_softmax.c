/* log_softmax, a primitive: forward and VJP against a double loop along
 * each axis of a 3-d tensor (the inner-run and the last-axis paths, runs
 * longer than one block of 256), gradcheck, NaN and infinities, the same
 * bits at any thread count, an input used twice, errors. */
#include <stdlib.h>
#include <string.h>
#include "elementwise_check.h"

/* y = log softmax along `axis` of x [d0, d1, d2] and the VJP of dy, both
 * accumulated twice, in double. */
static void reference(const ag_real *x, const ag_real *dy, const size_t *d, int axis, double *y,
                      double *gx)
{
    size_t r = d[axis], inner = 1, outer = 1;
    for (int k = axis + 1; k < 3; k++) inner *= d[k];
    for (int k = 0; k < axis; k++) outer *= d[k];
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            size_t base = o * r * inner + i;
            double m = -INFINITY, s = 0, sg = 0;
            for (size_t k = 0; k < r; k++) m = fmax(m, x[base + k * inner]);
            for (size_t k = 0; k < r; k++) s += exp(x[base + k * inner] - m);
            for (size_t k = 0; k < r; k++) {
                y[base + k * inner] = x[base + k * inner] - m - log(s);
                sg += dy[base + k * inner];
            }
            for (size_t k = 0; k < r; k++)
                gx[base + k * inner] =
                    2 * (dy[base + k * inner] - exp(y[base + k * inner]) * sg);
        }
}

/* Checks ag_log_softmax(x, axis) on x [d0, d1, d2] against reference();
 * with bits, copies y and the gradient there (2 n values). */
static void check_axis(size_t d0, size_t d1, size_t d2, int axis, ag_real *bits)
{
    size_t d[3] = {d0, d1, d2}, n = d0 * d1 * d2;
    ag_tensor *p = param_rand(AG_SHAPE(d0, d1, d2), -6, 6, 71 + (unsigned)axis);
    ag_real *dy = malloc(n * sizeof *dy);
    double *y = malloc(n * sizeof *y), *gx = malloc(n * sizeof *gx);
    cr_assert(dy && y && gx);
    fill_uniform(dy, n, -1, 1, 72);
    reference(ag_data(p), dy, d, axis, y, gx);
    for (int pass = 0; pass < 2; pass++) {
        ag_tape *t = ag_tape_new();
        /* a negative axis on the second pass: the same op */
        ag_tensor *out = ag_log_softmax(t, p, pass ? axis - 3 : axis);
        cr_assert_eq(ag_numel(out), n, "%s", ag_tape_errmsg(t));
        assert_close(ag_data(out), y, n, 10 * TOL);
        if (bits)
            memcpy(bits, ag_data(out), n * sizeof *bits);
        cr_assert_eq(ag_backward_with(t, out, dy), AG_OK, "%s", ag_tape_errmsg(t));
        ag_tape_free(t);
    }
    assert_close(ag_grad(p), gx, n, 100 * TOL);
    if (bits)
        memcpy(bits + n, ag_grad(p), n * sizeof *bits);
    ag_param_free(p);
    free(dy);
    free(y);
    free(gx);
}

Test(log_softmax, reference_every_axis)
{
    for (int axis = 0; axis < 3; axis++) {
        check_axis(3, 5, 7, axis, NULL);
        check_axis(2, 300, 3, axis, NULL);  /* runs and rows past one block of 256 */
        check_axis(2, 3, 600, axis, NULL);
    }
    check_axis(1, 1, 1, 2, NULL); /* a run of one: y = 0, gx = 0 */
}

Test(log_softmax, forward_by_hand)
{
    ag_tape *t = ag_tape_new();
    /* [0, ln 3]: softmax [1/4, 3/4]; the second row would overflow exp */
    ag_tensor *x = ag_tensor_from(t, (ag_real[]){0, (ag_real)log(3.0), 1000, 1000},
                                  AG_SHAPE(2, 2));
    ag_tensor *y = ag_log_softmax(t, x, 1);
    assert_close(ag_data(y), (double[]){log(0.25), log(0.75), -log(2.0), -log(2.0)}, 4, TOL);
    ag_tape_free(t);
}

static ag_tensor *P[1];
static int AXIS;

static ag_tensor *f_log_softmax(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weighted_sum(t, ag_log_softmax(t, P[0], AXIS));
}

Test(log_softmax, gradcheck)
{
    P[0] = param_rand(AG_SHAPE(2, 3, 4), -3, 3, 81);
    for (AXIS = -3; AXIS < 3; AXIS++)
        GRADCHECK(f_log_softmax, NULL, P, 1);
    ag_param_free(P[0]);
}

/* NaN in a run makes that run NaN and leaves the others; +inf likewise
 * (inf - inf); -inf entries get -inf while the rest of the run is finite. */
Test(log_softmax, special_values)
{
    ag_tape *t = ag_tape_new();
    ag_real v[9] = {1, NAN, 2, 1, INFINITY, 2, 0, -INFINITY, 0};
    ag_tensor *y = ag_log_softmax(t, ag_tensor_from(t, v, AG_SHAPE(3, 3)), 1);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    const ag_real *o = ag_data(y);
    for (int k = 0; k < 6; k++) cr_assert(isnan(o[k]), "element %d: %g", k, (double)o[k]);
    cr_assert_float_eq(o[6], -log(2.0), 1e-6);
    cr_assert(isinf(o[7]) && o[7] < 0, "got %g", (double)o[7]);
    cr_assert_float_eq(o[8], -log(2.0), 1e-6);
    ag_tape_free(t);
}

/* Runs enough to be split over the pool: the same bits with 1, 2, 3 threads. */
Test(log_softmax, threads_same_bits)
{
    size_t n = 64 * 40 * 10;
    ag_real *one = malloc(2 * n * sizeof *one), *other = malloc(2 * n * sizeof *other);
    cr_assert(one && other);
    int before = ag_get_threads();
    for (int axis = 1; axis < 3; axis++) {
        ag_set_threads(1);
        check_axis(64, 40, 10, axis, one);
        for (int nt = 2; nt <= 3; nt++) {
            ag_set_threads(nt);
            check_axis(64, 40, 10, axis, other);
            cr_assert_eq(memcmp(one, other, 2 * n * sizeof *one), 0, "axis %d, %d threads",
                         axis, nt);
        }
    }
    ag_set_threads(before);
    free(one);
    free(other);
}

/* The input also feeds another op: the VJP adds to what is there. */
Test(log_softmax, shared_input)
{
    ag_tensor *a = param_rand(AG_SHAPE(2, 3), -1, 1, 91);
    ag_tape *t = ag_tape_new();
    ag_tensor *x = ag_mul(t, a, ag_scalar(t, 2));
    /* sum(x + log_softmax(x)): d/dx = 1 + (1 - 3 softmax), times 2 */
    ag_tensor *l = ag_sum_all(t, ag_add(t, x, ag_log_softmax(t, x, 1)));
    ag_param_zero_grad(a);
    cr_assert_eq(ag_backward(t, l), AG_OK, "%s", ag_tape_errmsg(t));
    double want[6];
    for (int r = 0; r < 2; r++) {
        double s = 0;
        for (int k = 0; k < 3; k++) s += exp(2 * (double)ag_data(a)[3 * r + k]);
        for (int k = 0; k < 3; k++)
            want[3 * r + k] = 2 * (2 - 3 * exp(2 * (double)ag_data(a)[3 * r + k]) / s);
    }
    assert_close(ag_grad(a), want, 6, 10 * TOL);
    ag_tape_free(t);
    ag_param_free(a);
}

Test(log_softmax, errors)
{
    ag_tape *t = ag_tape_new();
    cr_assert(ag_is_poisoned(ag_log_softmax(t, ag_tensor_new(t, AG_SHAPE(2, 3)), 2)));
    assert_tape_error(t, AG_EINVAL, "ag_log_softmax (node 0): axis 2 out of range for x[2,3]");
    ag_tape_reset(t);
    cr_assert(ag_is_poisoned(ag_log_softmax(t, ag_tensor_new(t, AG_SHAPE(4, 0)), -1)));
    assert_tape_error(t, AG_EINVAL,
                      "ag_log_softmax (node 0): softmax over an empty axis -1 of x[4,0]");
    ag_tape_free(t);
}
