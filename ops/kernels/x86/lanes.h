/* Micro-kernel with its lanes along rows of C, for the x86 kernel files;
 * see lanes in kernels.h for the contract. For C = op(A) B^T with both
 * operands stored along k (a layer's forward product x W^T): a panel of LW
 * rows of op(A) is packed as one group of vectors per term (a[p*LW + i] =
 * A[i][p]), and the rows of B (W's rows, usually the larger operand) are
 * read in place, each value broadcast into FMAs with that group (rows.h),
 * so W is never packed. The accumulators hold columns of the tile, which
 * is written transposed at the end with agi_gemm_ukr's update, each
 * element's sum being the same chain of FMAs: the same bits as the packed
 * path. The including file defines what rows.h needs, V_MUL, LANES_NV
 * (vectors per group), LANES_G (the most groups of four rows, with
 * LANES_NV * 4 * LANES_G <= 28) and LANES_NAME. */
#include "rows.h"

#define LW (LANES_NV * VW)

/* One k block of nr columns into the transposed tile t (nr x LW):
 * t = alpha acc (first block, beta 0) or fma(alpha, acc, b t). */
static inline void lanes_block(size_t kc, const ag_real *a, const ag_real *b, size_t ldb,
                               size_t nr, ag_real *acc_t, ag_real *t, ag_real alpha,
                               ag_real beff)
{
    rows_any(LANES_NV, 1, kc, a, 0, b, ldb, 0, nr, 1, acc_t);
    vec va = V_BCAST(alpha), vb = V_BCAST(beff);
    for (size_t q = 0; q < nr * LANES_NV; q++) {
        vec x = V_LOADU(acc_t + q * VW);
        vec r = beff == 0 ? V_MUL(va, x) : V_FMA(va, x, V_MUL(vb, V_LOADU(t + q * VW)));
        V_STOREU(t + q * VW, r);
    }
}

static void LANES_NAME(size_t k, size_t kc, const ag_real *a, const ag_real *b, size_t ldb,
                       ag_real *c, size_t ldc, size_t mr, size_t nr, ag_real alpha, ag_real beta,
                       const ag_real *bias)
{
    _Alignas(64) ag_real t[4 * LANES_G * LW], acc_t[4 * LANES_G * LW];
    if (bias) { /* column j starts from bias[j] */
        for (size_t j = 0; j < nr; j++)
            for (size_t q = 0; q < LANES_NV; q++) V_STOREU(t + j * LW + q * VW, V_BCAST(bias[j]));
        beta = 1;
    } else if (beta != 0) { /* C's tile, transposed */
        for (size_t j = 0; j < nr; j++)
            for (size_t i = 0; i < LW; i++) t[j * LW + i] = i < mr ? c[i * ldc + j] : 0;
    }
    for (size_t pc = 0; pc < k; pc += kc) {
        size_t kk = k - pc < kc ? k - pc : kc;
        lanes_block(kk, a + pc * LW, b + pc, ldb, nr, acc_t, t, alpha, pc == 0 ? beta : 1);
    }
    for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < nr; j++) c[i * ldc + j] = t[j * LW + i];
}

#undef LW
