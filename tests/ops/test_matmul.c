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
