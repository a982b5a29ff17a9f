/* Portable reference GEMM: plain loops, ordered for unit-stride inner loops. */
#include "../kernels.h"

void agi_gemm_ref(int ta, int tb, size_t m, size_t n, size_t k, ag_real alpha, const ag_real *A,
                  size_t lda, const ag_real *B, size_t ldb, ag_real beta, ag_real *C, size_t ldc)
{
    for (size_t i = 0; i < m; i++) {
        ag_real *c = C + i * ldc;
        if (beta == 0)
            for (size_t j = 0; j < n; j++) c[j] = 0;
        else if (beta != 1)
            for (size_t j = 0; j < n; j++) c[j] *= beta;
        if (!tb) {
            for (size_t p = 0; p < k; p++) {
                ag_real a = alpha * (ta ? A[p * lda + i] : A[i * lda + p]);
                const ag_real *b = B + p * ldb;
                for (size_t j = 0; j < n; j++) c[j] += a * b[j];
            }
        } else {
            for (size_t j = 0; j < n; j++) {
                const ag_real *b = B + j * ldb;
                ag_real s = 0;
                for (size_t p = 0; p < k; p++) s += (ta ? A[p * lda + i] : A[i * lda + p]) * b[p];
                c[j] += alpha * s;
            }
        }
    }
}
