/* GEMM entry point: chooses the kernel. */
#include "kernels.h"

void agi_gemm(int ta, int tb, size_t m, size_t n, size_t k, ag_real alpha, const ag_real *A,
              size_t lda, const ag_real *B, size_t ldb, ag_real beta, ag_real *C, size_t ldc)
{
    agi_gemm_ref(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
