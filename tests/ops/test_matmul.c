#include "common.h"

Test(matmul, forward_2x3_3x2)
{
    ag_tape *t = ag_tape_new();
    ag_real a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {7, 8, 9, 10, 11, 12};
    ag_tensor *A = ag_tensor_wrap(t, a, AG_SHAPE(2, 3)), *B = ag_tensor_wrap(t, b, AG_SHAPE(3, 2));
    assert_close(ag_data(ag_matmul(t, A, B)), (double[]){58, 64, 139, 154}, 4, TOL);
    /* A^T [3,2] given A [2,3]; B^T [2,3] given B [3,2]: A^T B^T = (B A)^T */
    ag_tensor *y = ag_matmul_t(t, A, B, 1, 1);
    cr_assert_eq(ag_dim(y, 0), 3);
    cr_assert_eq(ag_dim(y, 1), 3);
    /* (B A)[i][j] = sum_k B[i][k] A[k][j]; y = (B A)^T */
    double want[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 2; k++) s += b[j * 2 + k] * a[k * 3 + i];
            want[i * 3 + j] = s;
        }
    assert_close(ag_data(y), want, 9, TOL);
    ag_tape_free(t);
}

static ag_tensor *P[3];
static int TA, TB;

static ag_tensor *f(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *y = ag_matmul_t(t, P[0], P[1], TA, TB);
    return ag_sum_all(t, ag_mul(t, y, ag_tanh(t, y)));
}

static void check(const size_t *sa, int na, const size_t *sb, int nb)
{
    P[0] = param_rand(sa, na, -1, 1, 21);
    P[1] = param_rand(sb, nb, -1, 1, 22);
    GRADCHECK(f, NULL, P, 2);
    ag_param_free(P[0]);
    ag_param_free(P[1]);
}

Test(matmul, gradcheck_all_transposes)
{
    TA = 0, TB = 0, check(AG_SHAPE(3, 4), AG_SHAPE(4, 5));
    TA = 1, TB = 0, check(AG_SHAPE(4, 3), AG_SHAPE(4, 5));
    TA = 0, TB = 1, check(AG_SHAPE(3, 4), AG_SHAPE(5, 4));
    TA = 1, TB = 1, check(AG_SHAPE(4, 3), AG_SHAPE(5, 4));
}

Test(matmul, gradcheck_batched)
{
    TA = 0, TB = 0, check(AG_SHAPE(2, 3, 4), AG_SHAPE(2, 4, 5));
    TA = 0, TB = 1, check(AG_SHAPE(2, 3, 4), AG_SHAPE(5, 4));   /* shared b, folded */
    TA = 1, TB = 0, check(AG_SHAPE(2, 4, 3), AG_SHAPE(4, 5));   /* shared b, per batch */
    TA = 0, TB = 0, check(AG_SHAPE(3, 4), AG_SHAPE(2, 4, 5));   /* shared a */
    TA = 1, TB = 1, check(AG_SHAPE(2, 2, 4, 3), AG_SHAPE(2, 2, 5, 4));
}

Test(matmul, error_inner)
{
    ag_tape *t = ag_tape_new();
    ag_matmul(t, ag_tensor_new(t, AG_SHAPE(32, 784)), ag_tensor_new(t, AG_SHAPE(256, 10)));
    assert_tape_error(t, AG_EINVAL, "ag_matmul (node 0): inner dimensions differ: a[32,784] b[256,10]");
    ag_tape_reset(t);
    ag_matmul(t, ag_tensor_new(t, AG_SHAPE(2, 3, 4)), ag_tensor_new(t, AG_SHAPE(3, 4, 5)));
    assert_tape_error(t, AG_EINVAL, "batch dimensions differ: a[2,3,4] b[3,4,5]");
    ag_tape_reset(t);
    ag_matmul(t, ag_tensor_new(t, AG_SHAPE(4)), ag_tensor_new(t, AG_SHAPE(4, 5)));
    assert_tape_error(t, AG_EINVAL, "at least 2 dims");
    ag_tape_free(t);
}

/* ---- ag_matmul_add: op(a) op(b) + c ---- */

static ag_tensor *f_add(ag_tape *t, void *ctx)
{
    (void)ctx;
    ag_tensor *y = ag_matmul_add(t, P[0], P[1], P[2], TA, TB);
    return ag_sum_all(t, ag_mul(t, y, ag_tanh(t, y)));
}

/* The gradient of all three by finite differences, and the value against
 * the product plus the addend made by ag_matmul_t and ag_add (the same
 * bits: one k block, and the bias added once to the rounded product). */
static void check_add(const size_t *sa, int na, const size_t *sb, int nb, const size_t *sc, int nc)
{
    P[0] = param_rand(sa, na, -1, 1, 31);
    P[1] = param_rand(sb, nb, -1, 1, 32);
    P[2] = param_rand(sc, nc, -1, 1, 33);
    GRADCHECK(f_add, NULL, P, 3);
    ag_tape *t = ag_tape_new();
    ag_tensor *y = ag_matmul_add(t, P[0], P[1], P[2], TA, TB);
    ag_tensor *z = ag_add(t, ag_matmul_t(t, P[0], P[1], TA, TB), P[2]);
    cr_assert_eq(ag_tape_status(t), AG_OK, "%s", ag_tape_errmsg(t));
    cr_assert_eq(ag_ndim(y), ag_ndim(z));
    cr_assert(memcmp(ag_shape(y), ag_shape(z), sizeof(size_t) * (size_t)ag_ndim(y)) == 0);
    for (size_t i = 0; i < ag_numel(y); i++)
        cr_assert(ag_data(y)[i] == ag_data(z)[i], "element %zu: %.9g, want %.9g", i,
                  (double)ag_data(y)[i], (double)ag_data(z)[i]);
    ag_tape_free(t);
    for (int i = 0; i < 3; i++) ag_param_free(P[i]);
}

Test(matmul_add, gradcheck_and_value)
{
    /* a bias along columns (a dense layer) and along rows (a convolution),
     * which the GEMM starts from, and addends it adds after the product */
    TA = 0, TB = 1, check_add(AG_SHAPE(3, 4), AG_SHAPE(5, 4), AG_SHAPE(5));
    TA = 0, TB = 0, check_add(AG_SHAPE(3, 4), AG_SHAPE(4, 5), AG_SHAPE(1, 5));
    TA = 1, TB = 0, check_add(AG_SHAPE(4, 3), AG_SHAPE(4, 5), AG_SHAPE(3, 1));
    TA = 1, TB = 1, check_add(AG_SHAPE(4, 3), AG_SHAPE(5, 4), AG_SHAPE(3, 5));
    TA = 0, TB = 0, check_add(AG_SHAPE(3, 4), AG_SHAPE(4, 5), AG_SHAPE(1));
    /* batches: a shared (a convolution's weight, row bias), b shared and
     * folded (row bias: added after), every operand its own */
    TA = 0, TB = 0, check_add(AG_SHAPE(3, 4), AG_SHAPE(2, 4, 5), AG_SHAPE(3, 1));
    TA = 0, TB = 0, check_add(AG_SHAPE(2, 3, 4), AG_SHAPE(4, 5), AG_SHAPE(3, 1));
    TA = 0, TB = 1, check_add(AG_SHAPE(2, 3, 4), AG_SHAPE(5, 4), AG_SHAPE(5));
    TA = 0, TB = 0, check_add(AG_SHAPE(2, 3, 4), AG_SHAPE(2, 4, 5), AG_SHAPE(2, 1, 5));
    TA = 1, TB = 0, check_add(AG_SHAPE(2, 4, 3), AG_SHAPE(2, 4, 5), AG_SHAPE(1, 3, 1));
    /* a bias for each product: along columns (a recurrent layer's input
     * projection, gate by gate) and along rows; and one that is not */
    TA = 0, TB = 1, check_add(AG_SHAPE(3, 4), AG_SHAPE(2, 5, 4), AG_SHAPE(2, 1, 5));
    TA = 0, TB = 0, check_add(AG_SHAPE(3, 4), AG_SHAPE(2, 4, 5), AG_SHAPE(2, 3, 1));
    TA = 1, TB = 1, check_add(AG_SHAPE(2, 2, 4, 3), AG_SHAPE(2, 2, 5, 4), AG_SHAPE(2, 2, 1, 5));
    TA = 0, TB = 0, check_add(AG_SHAPE(2, 2, 3, 4), AG_SHAPE(2, 2, 4, 5), AG_SHAPE(2, 1, 1, 5));
    /* a whole matrix: one for each product (a recurrent step's input
     * projection, gate by gate), folded into one, and one for all */
    TA = 0, TB = 1, check_add(AG_SHAPE(3, 4), AG_SHAPE(2, 5, 4), AG_SHAPE(2, 3, 5));
    TA = 0, TB = 0, check_add(AG_SHAPE(2, 3, 4), AG_SHAPE(2, 4, 5), AG_SHAPE(2, 3, 5));
    TA = 0, TB = 0, check_add(AG_SHAPE(2, 3, 4), AG_SHAPE(4, 5), AG_SHAPE(2, 3, 5));
    TA = 0, TB = 0, check_add(AG_SHAPE(3, 4), AG_SHAPE(2, 4, 5), AG_SHAPE(3, 5));
}

/* A dense layer's shape, by hand: [[1,2],[3,4]] [[1,0],[0,1],[1,1]]^T + [10,20,30]. */
Test(matmul_add, forward_by_hand)
{
    ag_tape *t = ag_tape_new();
    ag_real x[4] = {1, 2, 3, 4}, w[6] = {1, 0, 0, 1, 1, 1}, b[3] = {10, 20, 30};
    ag_tensor *y = ag_matmul_add(t, ag_tensor_wrap(t, x, AG_SHAPE(2, 2)),
                                 ag_tensor_wrap(t, w, AG_SHAPE(3, 2)),
                                 ag_tensor_wrap(t, b, AG_SHAPE(3)), 0, 1);
    assert_close(ag_data(y), (double[]){11, 22, 33, 13, 24, 37}, 6, TOL);
    ag_tape_free(t);
}

Test(matmul_add, error_addend)
{
    ag_tape *t = ag_tape_new();
    ag_tensor *a = ag_tensor_new(t, AG_SHAPE(3, 4)), *b = ag_tensor_new(t, AG_SHAPE(4, 5));
    cr_assert(ag_is_poisoned(ag_matmul_add(t, a, b, ag_tensor_new(t, AG_SHAPE(3)), 0, 0)));
    assert_tape_error(t, AG_EINVAL,
                      "ag_matmul (node 0): addend c[3] does not broadcast to the product[3,5]");
    ag_tape_reset(t);
    a = ag_tensor_new(t, AG_SHAPE(3, 4)), b = ag_tensor_new(t, AG_SHAPE(4, 5));
    ag_matmul_add(t, a, b, ag_tensor_new(t, AG_SHAPE(2, 3, 5)), 0, 0);
    assert_tape_error(t, AG_EINVAL, "addend c[2,3,5] does not broadcast to the product[3,5]");
    ag_tape_reset(t);
    a = ag_tensor_new(t, AG_SHAPE(3, 4)), b = ag_tensor_new(t, AG_SHAPE(5, 5));
    ag_matmul_add(t, a, b, ag_tensor_new(t, AG_SHAPE(5)), 0, 0);
    assert_tape_error(t, AG_EINVAL, "inner dimensions differ: a[3,4] b[5,5]");
    ag_tape_free(t);
}

/* A dense layer's product (x [70, 50] W [300, 50]^T + b [300]) and a
 * convolution's (W [8, 20] cols [6, 20, 150] + b [8, 1]) at 1, 2 and 3
 * threads: the output and every gradient the same bits; the bias
 * gradient, G_b = G_y summed over the broadcast, against a double sum. */
Test(matmul_add, same_bits_across_threads)
{
    static const size_t sa[2][3] = {{70, 50}, {8, 20}}, sb[2][3] = {{300, 50}, {6, 20, 150}},
                        sc[2][2] = {{300}, {8, 1}};
    static const int na[2] = {2, 2}, nb[2] = {2, 3}, nc[2] = {1, 2}, tb[2] = {1, 0};
    for (int s = 0; s < 2; s++) {
        ag_tensor *p[3] = {param_rand(sa[s], na[s], -1, 1, 61), param_rand(sb[s], nb[s], -1, 1, 62),
                           param_rand(sc[s], nc[s], -1, 1, 63)};
        ag_real *first[4] = {NULL};
        for (int threads = 1; threads <= 3; threads++) {
            ag_set_threads(threads);
            ag_tape *t = ag_tape_new();
            for (int i = 0; i < 3; i++) ag_param_zero_grad(p[i]);
            ag_tensor *y = ag_matmul_add(t, p[0], p[1], p[2], 0, tb[s]);
            ag_tensor *w = ag_tensor_new(t, ag_shape(y), ag_ndim(y));
            fill_uniform(ag_data(w), ag_numel(w), -1, 1, 64);
            cr_assert_eq(ag_backward(t, ag_sum_all(t, ag_mul(t, y, w))), AG_OK, "%s",
                         ag_tape_errmsg(t));
            const ag_real *got[4] = {ag_data(y), ag_grad(p[0]), ag_grad(p[1]), ag_grad(p[2])};
            size_t len[4] = {ag_numel(y), ag_numel(p[0]), ag_numel(p[1]), ag_numel(p[2])};
            for (int k = 0; k < 4; k++) {
                if (threads == 1) {
                    first[k] = malloc(sizeof(ag_real) * len[k]);
                    cr_assert(first[k]);
                    memcpy(first[k], got[k], sizeof(ag_real) * len[k]);
                } else {
                    cr_assert(memcmp(first[k], got[k], sizeof(ag_real) * len[k]) == 0,
                              "case %d, %s differs between 1 and %d threads", s,
                              k ? "a gradient" : "the output", threads);
                }
            }
            /* G_b against a double sum of the weights over its broadcast */
            size_t nbias = ag_numel(p[2]), per = ag_numel(y) / nbias;
            for (size_t j = 0; j < nbias; j++) {
                double want = 0, mag = 0;
                for (size_t e = 0; e < ag_numel(y); e++) {
                    /* the bias index of output element e: its column, or its row */
                    size_t col = e % ag_dim(y, -1), row = e / ag_dim(y, -1) % ag_dim(y, -2);
                    if ((s == 0 ? col : row) == j) {
                        want += ag_data(w)[e];
                        mag += fabs((double)ag_data(w)[e]);
                    }
                }
                double eps = AG_REAL_IS_DOUBLE ? 0x1p-52 : 0x1p-23;
                cr_assert(fabs(ag_grad(p[2])[j] - want) <= (double)(per + 2) * eps * mag,
                          "case %d: G_b[%zu] = %g, want %g", s, j, (double)ag_grad(p[2])[j], want);
            }
            ag_tape_free(t);
        }
        ag_set_threads(0);
        for (int k = 0; k < 4; k++) free(first[k]);
        for (int i = 0; i < 3; i++) ag_param_free(p[i]);
    }
}

/* One tensor as both operands, y = x x^T: its two gradient products (run
 * side by side on two threads when the operands are apart) go one after
 * the other into the one buffer. d sum(w y) / dx = (w + w^T) x. */
Test(matmul, same_tensor_both_operands)
{
    ag_tensor *x = param_rand(AG_SHAPE(40, 30), -1, 1, 66);
    for (int threads = 1; threads <= 2; threads++) {
        ag_set_threads(threads);
        ag_tape *t = ag_tape_new();
        ag_param_zero_grad(x);
        ag_tensor *y = ag_matmul_t(t, x, x, 0, 1);
        ag_tensor *w = ag_tensor_new(t, AG_SHAPE(40, 40));
        fill_uniform(ag_data(w), 1600, -1, 1, 67);
        cr_assert_eq(ag_backward(t, ag_sum_all(t, ag_mul(t, y, w))), AG_OK, "%s",
                     ag_tape_errmsg(t));
        static double want[40 * 30];
        const ag_real *W = ag_data(w), *X = ag_data(x);
        for (int i = 0; i < 40; i++)
            for (int j = 0; j < 30; j++) {
                double s = 0;
                for (int k = 0; k < 40; k++)
                    s += ((double)W[i * 40 + k] + W[k * 40 + i]) * X[k * 30 + j];
                want[i * 30 + j] = s;
            }
        assert_close(ag_grad(x), want, 40 * 30, 100 * TOL);
        ag_tape_free(t);
    }
    ag_set_threads(0);
    ag_param_free(x);
}

/* An empty batch: the bias gradient is all zero, not what an earlier
 * backward left in the buffer (the VJP is the first writer of it). */
Test(matmul_add, empty_batch_zero_bias_gradient)
{
    ag_tensor *w = param_rand(AG_SHAPE(5, 4), -1, 1, 71), *b = param_rand(AG_SHAPE(5), -1, 1, 72);
    for (int rows = 3; rows >= 0; rows -= 3) {
        ag_tape *t = ag_tape_new();
        ag_param_zero_grad(w);
        ag_param_zero_grad(b);
        ag_tensor *x = ag_tensor_new(t, AG_SHAPE((size_t)rows, 4));
        for (size_t i = 0; i < ag_numel(x); i++) ag_data(x)[i] = 1;
        ag_tensor *y = ag_matmul_add(t, x, w, b, 0, 1);
        cr_assert_eq(ag_backward(t, ag_sum_all(t, y)), AG_OK, "%s", ag_tape_errmsg(t));
        for (int j = 0; j < 5; j++)
            cr_assert(ag_grad(b)[j] == (ag_real)rows, "rows %d: G_b[%d] = %g", rows, j,
                      (double)ag_grad(b)[j]);
        ag_tape_free(t);
    }
    ag_param_free(w);
    ag_param_free(b);
}
