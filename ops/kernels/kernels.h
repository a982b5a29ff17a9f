/* Raw kernels: pointers and sizes, no tensors (internal; names agi_). */
#ifndef AGRAD_KERNELS_H
#define AGRAD_KERNELS_H

#include <stddef.h>
#include "agrad/config.h"

/* C = alpha * op(A) op(B) + beta * C, row-major; op(A) is [m, k] and op(B)
 * is [k, n]. With ta, A is stored [k, m] (leading dimension lda), else
 * [m, k]; with tb, B is stored [n, k], else [k, n]. beta = 0 ignores C's
 * previous contents (NaN included). */
void agi_gemm(int ta, int tb, size_t m, size_t n, size_t k, ag_real alpha, const ag_real *A,
              size_t lda, const ag_real *B, size_t ldb, ag_real beta, ag_real *C, size_t ldc);

/* The portable reference, always built: the oracle of the kernel tests. */
void agi_gemm_ref(int ta, int tb, size_t m, size_t n, size_t k, ag_real alpha, const ag_real *A,
                  size_t lda, const ag_real *B, size_t ldb, ag_real beta, ag_real *C, size_t ldc);

#endif
