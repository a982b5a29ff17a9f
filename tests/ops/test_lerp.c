/* lerp: y = a + w (b - a), the three broadcast together. Forward by hand,
 * gradcheck on equal and broadcast shapes, agreement of forward and VJP
 * with a plain loop (also on arrays long enough to be split over threads,
 * with the same bits at any thread count), inputs used twice, errors. */
#include "elementwise_check.h"

Test(lerp, forward)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *a = ag_tensor_from(t, (ag_real[]){1, 2, 3, 4}, AG_SHAPE(2, 2));
    ag_tensor *b = ag_tensor_from(t, (ag_real[]){10}, AG_SHAPE(1));
    ag_tensor *w = ag_tensor_from(t, (ag_real[]){0, 0.5}, AG_SHAPE(2));
    ag_tensor *y = ag_lerp(t, a, b, w); /* row i: a[i][j] + w[j] (10 - a[i][j]) */
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_ndim(y), 2);
    assert_rel(ag_data(y), (double[]){1, 6, 3, 7}, 4, TOL);
    /* equal shapes; w = 1 gives b, w = -1 and 2 extrapolate */
    ag_tensor *z = ag_lerp(t, ag_tensor_from(t, (ag_real[]){1, 1, 1, -2}, AG_SHAPE(4)),
                           ag_tensor_from(t, (ag_real[]){3, 3, 3, 2}, AG_SHAPE(4)),
                           ag_tensor_from(t, (ag_real[]){1, -1, 2, 0.25}, AG_SHAPE(4)));
    assert_rel(ag_data(z), (double[]){3, -1, 5, -1}, 4, TOL);
    ag_tape_free(t);
}

static ag_tensor *P[3];

static ag_tensor *f_lerp(ag_tape *t, void *ctx)
{
    (void)ctx;
    return weighted_sum(t, ag_lerp(t, P[0], P[1], P[2]));
}

static void check_gradcheck(const size_t *sa, int na, const size_t *sb, int nb, const size_t *sw,
                            int nw)
{
    P[0] = param_rand(sa, na, -2, 2, 41);
    P[1] = param_rand(sb, nb, -2, 2, 42);
    P[2] = param_rand(sw, nw, -0.5, 1.5, 43);
    GRADCHECK(f_lerp, NULL, P, 3);
    for (int i = 0; i < 3; i++) ag_param_free(P[i]);
}

Test(lerp, gradcheck)
{
    check_gradcheck(AG_SHAPE(3, 4), AG_SHAPE(3, 4), AG_SHAPE(3, 4));
    check_gradcheck(AG_SHAPE(2, 3, 4), AG_SHAPE(3, 1), AG_SHAPE(4));
    check_gradcheck(AG_SHAPE(4), AG_SHAPE(2, 3, 4), NULL, 0);
    check_gradcheck(AG_SHAPE(2, 1, 4), AG_SHAPE(3, 1), AG_SHAPE(2, 3, 1));
}

/* ---- agreement with a plain loop over the output ---- */

/* Flat index into an operand of shape s (nd <= 3, aligned at the trailing
 * dims) of output element (i0, i1, i2) of an output [d0, d1, d2]. */
static size_t bindex(const size_t *s, int nd, size_t i0, size_t i1, size_t i2)
{
    size_t full[3] = {1, 1, 1}, idx[3] = {i0, i1, i2}, k = 0;
    for (int d = 0; d < nd; d++) full[3 - nd + d] = s[d];
    for (int d = 0; d < 3; d++) k = k * full[d] + (full[d] == 1 ? 0 : idx[d]);
    return k;
}

typedef struct operand {
    const size_t *s;
    int nd;
} operand;

/* Forward and VJP against doubles, output [d0, d1, d2]; the gradients are
 * accumulated onto a first backward pass (so both the store and the add
 * paths run). Returns the output and gradients' bits for comparison. */
static void check_reference(size_t d0, size_t d1, size_t d2, operand oa, operand ob, operand ow,
                            ag_real *bits)
{
    size_t n = d0 * d1 * d2;
    ag_tensor *p[3] = {param_rand(oa.s, oa.nd, -2, 2, 51), param_rand(ob.s, ob.nd, -2, 2, 52),
                       param_rand(ow.s, ow.nd, -0.5, 1.5, 53)};
    ag_real *dy = malloc(n * sizeof *dy);
    double *ref = calloc(4 * n, sizeof *ref), *g[3] = {ref + n, ref + 2 * n, ref + 3 * n};
    cr_assert(dy && ref);
    fill_uniform(dy, n, -1, 1, 54);
    const ag_real *a = ag_data(p[0]), *b = ag_data(p[1]), *w = ag_data(p[2]);
    for (size_t i0 = 0, k = 0; i0 < d0; i0++)
        for (size_t i1 = 0; i1 < d1; i1++)
            for (size_t i2 = 0; i2 < d2; i2++, k++) {
                size_t ia = bindex(oa.s, oa.nd, i0, i1, i2), ib = bindex(ob.s, ob.nd, i0, i1, i2),
                       iw = bindex(ow.s, ow.nd, i0, i1, i2);
                ref[k] = (double)a[ia] + (double)w[iw] * ((double)b[ib] - a[ia]);
                /* twice: the second backward adds onto the first */
                g[0][ia] += 2 * dy[k] * (1 - (double)w[iw]);
                g[1][ib] += 2 * dy[k] * (double)w[iw];
                g[2][iw] += 2 * dy[k] * ((double)b[ib] - a[ia]);
            }
    for (int pass = 0; pass < 2; pass++) {
        ag_tape *t = ag_tape_new();
        ag_tensor *y = ag_lerp(t, p[0], p[1], p[2]);
        cr_assert_eq(ag_numel(y), n, "%s", ag_tape_errmsg(t));
        assert_close(ag_data(y), ref, n, TOL);
        if (bits)
            memcpy(bits, ag_data(y), n * sizeof *bits);
        cr_assert_eq(ag_backward_with(t, y, dy), AG_OK, "%s", ag_tape_errmsg(t));
        ag_tape_free(t);
    }
    size_t off = n;
    for (int i = 0; i < 3; i++) {
        /* sums of up to n terms: allow for their rounding */
        assert_close(ag_grad(p[i]), g[i], ag_numel(p[i]), 100 * TOL);
        if (bits)
            memcpy(bits + off, ag_grad(p[i]), ag_numel(p[i]) * sizeof *bits);
        off += ag_numel(p[i]);
        ag_param_free(p[i]);
    }
    free(dy);
    free(ref);
}

Test(lerp, reference)
{
    operand full = {AG_SHAPE(3, 5, 70)}, row = {AG_SHAPE(5, 70)}, one = {AG_SHAPE(1)},
            cols = {AG_SHAPE(3, 1, 70)}, mid = {AG_SHAPE(5, 1)}, none = {NULL, 0};
    check_reference(3, 5, 70, full, full, full, NULL);
    check_reference(3, 5, 70, full, row, one, NULL);
    check_reference(3, 5, 70, one, full, none, NULL);
    check_reference(3, 5, 70, cols, mid, full, NULL);
    check_reference(3, 5, 70, mid, cols, row, NULL);
}

/* Equal shapes long enough to be split into spans over the thread pool:
 * the same bits with 1, 2 and 3 threads. */
Test(lerp, threads_same_bits)
{
    operand big = {AG_SHAPE(4, 9, 301)};
    size_t n = 4 * 9 * 301;
    ag_real *one = malloc(4 * n * sizeof *one), *other = malloc(4 * n * sizeof *other);
    cr_assert(one && other);
    int before = ag_get_threads();
    ag_set_threads(1);
    check_reference(4, 9, 301, big, big, big, one);
    for (int nt = 2; nt <= 3; nt++) {
        ag_set_threads(nt);
        check_reference(4, 9, 301, big, big, big, other);
        cr_assert_eq(memcmp(one, other, 4 * n * sizeof *one), 0, "%d threads", nt);
    }
    ag_set_threads(before);
    free(one);
    free(other);
}

/* Backward from sum(y) on t, after zeroing the gradients of a and w. */
static void sum_backward(ag_tape *t, ag_tensor *y, ag_tensor *a, ag_tensor *w)
{
    ag_param_zero_grad(a);
    ag_param_zero_grad(w);
    cr_assert_eq(ag_backward(t, ag_sum_all(t, y)), AG_OK, "%s", ag_tape_errmsg(t));
}

/* An input that is also another: its gradient is the sum of both roles. */
Test(lerp, shared_inputs)
{
    ag_tensor *a = param_rand(AG_SHAPE(5), -2, 2, 61), *w = param_rand(AG_SHAPE(5), 0, 1, 62);
    ag_tape *t = ag_tape_new();
    /* lerp(a, a, w) = a: d/da = 1, d/dw = 0 */
    sum_backward(t, ag_lerp(t, a, a, w), a, w);
    assert_close(ag_grad(a), (double[]){1, 1, 1, 1, 1}, 5, TOL);
    assert_close(ag_grad(w), (double[]){0, 0, 0, 0, 0}, 5, 0);
    /* lerp(a, w, a) = a + a (w - a): d/da = 1 + w - 2a, d/dw = a */
    ag_tape_reset(t);
    sum_backward(t, ag_lerp(t, a, w, a), a, w);
    double ga[5], gw[5];
    for (int i = 0; i < 5; i++) {
        ga[i] = 1 + (double)ag_data(w)[i] - 2 * (double)ag_data(a)[i];
        gw[i] = ag_data(a)[i];
    }
    assert_close(ag_grad(a), ga, 5, 10 * TOL);
    assert_close(ag_grad(w), gw, 5, 10 * TOL);
    /* the same through a tensor of the tape (its gradient buffer is the
     * node's, written first here): lerp(x, x, w) with x = 3 a */
    ag_tape_reset(t);
    ag_tensor *x = ag_mul(t, a, ag_scalar(t, 3));
    sum_backward(t, ag_lerp(t, x, x, w), a, w);
    assert_close(ag_grad(a), (double[]){3, 3, 3, 3, 3}, 5, TOL);
    assert_close(ag_grad(w), (double[]){0, 0, 0, 0, 0}, 5, 0);
    ag_tape_free(t);
    ag_param_free(a);
    ag_param_free(w);
}

Test(lerp, errors)
{
    ag_tape *t = ag_tape_new();
    cr_assert(ag_is_poisoned(ag_lerp(t, ag_tensor_new(t, AG_SHAPE(2, 3)),
                                     ag_tensor_new(t, AG_SHAPE(3)),
                                     ag_tensor_new(t, AG_SHAPE(2, 1, 2)))));
    assert_tape_error(t, AG_EINVAL,
                      "ag_lerp (node 0): shapes do not broadcast: a[2,3] b[3] w[2,1,2]");
    ag_tape_reset(t);
    cr_assert(ag_is_poisoned(ag_lerp(t, ag_tensor_new(t, AG_SHAPE(2)), NULL,
                                     ag_tensor_new(t, AG_SHAPE(2)))));
    assert_tape_error(t, AG_EINVAL, "ag_lerp (node 0): NULL tensor as input 1");
    ag_tape_free(t);
}
