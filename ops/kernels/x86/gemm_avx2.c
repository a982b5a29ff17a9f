/* AVX2+FMA GEMM micro-kernel (built with -mavx2 -mfma; called only when the
 * CPU has both). Tile 6 x 16 floats or 6 x 8 doubles: two ymm per row, 12
 * accumulators, two rows of b and a broadcast: 15 of the 16 registers. */
#include <immintrin.h>
#include "../kernels.h"

#define MR 6
#define NV 2
#if AG_REAL_IS_DOUBLE
#define VW 4
typedef __m256d vec;
typedef __m256i vmask;
#define V_ZERO() _mm256_setzero_pd()
#define V_BCAST(x) _mm256_set1_pd(x)
#define V_LOADU(p) _mm256_loadu_pd(p)
#define V_STOREU(p, v) _mm256_storeu_pd(p, v)
#define V_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define V_MUL(a, b) _mm256_mul_pd(a, b)
#define V_MASK(cnt) _mm256_cmpgt_epi64(_mm256_set1_epi64x(cnt), _mm256_setr_epi64x(0, 1, 2, 3))
#define V_MLOAD(p, m) _mm256_maskload_pd(p, m)
#define V_MSTORE(p, m, v) _mm256_maskstore_pd(p, m, v)
#else
#define VW 8
typedef __m256 vec;
typedef __m256i vmask;
#define V_ZERO() _mm256_setzero_ps()
#define V_BCAST(x) _mm256_set1_ps(x)
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STOREU(p, v) _mm256_storeu_ps(p, v)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_MASK(cnt) \
    _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define V_MLOAD(p, m) _mm256_maskload_ps(p, m)
#define V_MSTORE(p, m, v) _mm256_maskstore_ps(p, m, v)
#endif
#define UKR_NAME ukr_avx2

#include "ukr.h"

/* Half-width tiles (one vector per row) for the last columns. */
#undef NV
#undef UKR_NAME
#define NV 1
#define UKR_NAME ukr_avx2h
#include "ukr.h"
#undef NV
#define NV 2

#define DOT_R 3
#define DOT_S 3
#define DOT_NAME dot_avx2
#include "dot.h"

#define PACK_NAME pack_rows_avx2
#define PACKC_NAME pack_cols_avx2
#include "pack.h"

const agi_gemm_kernel agi_gemm_avx2 = {
    .name = "avx2", .ukr = ukr_avx2, .ukr_half = ukr_avx2h, .mr = MR, .nr = NV * VW,
    .mc = 24 * MR, .kc = 256, .nc = (AG_REAL_IS_DOUBLE ? 256 : 512),
    .pack_rows = pack_rows_avx2, .pack_cols = pack_cols_avx2,
    .dot = dot_avx2, .dr = DOT_R, .dn = DOT_S,
};
