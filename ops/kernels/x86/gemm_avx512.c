/* AVX-512 GEMM micro-kernels (built with -mavx512f -mfma; called only when
 * the CPU has AVX-512F). Tiles of 12 or 8 rows by 32 floats or 16 doubles:
 * two zmm per row, 24 or 16 accumulators, a broadcast into each FMA. The
 * 8-row kernel serves every problem whose rows it pads no more than the
 * 12-row one does (measured no slower at equal padding on Zen 4; see plan()
 * in gemm.c), the 12-row one the rest (129 rows: 132 against 136). */
#include <immintrin.h>
#include "../kernels.h"

#define NV 2
#if AG_REAL_IS_DOUBLE
#define VW 8
typedef __m512d vec;
typedef __mmask8 vmask;
#define V_ZERO() _mm512_setzero_pd()
#define V_BCAST(x) _mm512_set1_pd(x)
#define V_LOADU(p) _mm512_loadu_pd(p)
#define V_STOREU(p, v) _mm512_storeu_pd(p, v)
#define V_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define V_MUL(a, b) _mm512_mul_pd(a, b)
#define V_MLOAD(p, m) _mm512_maskz_loadu_pd(m, p)
#define V_MSTORE(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#else
#define VW 16
typedef __m512 vec;
typedef __mmask16 vmask;
#define V_ZERO() _mm512_setzero_ps()
#define V_BCAST(x) _mm512_set1_ps(x)
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_STOREU(p, v) _mm512_storeu_ps(p, v)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_MLOAD(p, m) _mm512_maskz_loadu_ps(m, p)
#define V_MSTORE(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#endif
#define V_MASK(cnt) ((vmask)((1u << (cnt)) - 1u))

#define MR 8
#define UKR_NAME ukr_avx512_8
#include "ukr.h"
#undef MR
#undef UKR_NAME

#define MR 12
#define UKR_NAME ukr_avx512_12
#include "ukr.h"
#undef MR
#undef UKR_NAME

/* Half-width tiles (one vector per row) for the last columns. */
#undef NV
#define NV 1
#define MR 8
#define UKR_NAME ukr_avx512_8h
#include "ukr.h"
#undef MR
#undef UKR_NAME
#define MR 12
#define UKR_NAME ukr_avx512_12h
#include "ukr.h"
#undef NV
#define NV 2

#define DOT_R 4
#define DOT_S 4
#define DOT_NAME dot_avx512
#include "dot.h"

/* The lane-wise kernel pays with 16 lanes (floats): with 8, conv1's
 * weight gradient (8 rows) ran at 38.4-38.8 GFLOP/s against the dot
 * kernel's 44.5-44.6 (double), and 62.6-63.1 against 67.6-67.7 with AVX2
 * (float), so neither registers it. */
#if !AG_REAL_IS_DOUBLE
#define DOTV_G 7
#define DOTV_NAME dotv_avx512
#include "dotv.h"
#define DOTV_FN dotv_avx512
#else
#define DOTV_G 0
#define DOTV_FN NULL
#endif

#define LANES_NV 2
#define LANES_G 3
#define LANES_NAME lanes_avx512
#include "lanes.h"

#define PACK_NAME pack_rows_avx512
#define PACKC_NAME pack_cols_avx512
#include "pack.h"

static const agi_gemm_kernel avx512_8 = {
    .name = "avx512", .ukr = ukr_avx512_8, .ukr_half = ukr_avx512_8h, .mr = 8, .nr = NV * VW,
    .mc = 15 * 8, .kc = 256, .nc = (AG_REAL_IS_DOUBLE ? 256 : 512),
    .pack_rows = pack_rows_avx512, .pack_cols = pack_cols_avx512,
    .dot = dot_avx512, .dr = DOT_R, .dn = DOT_S,
    .dotv = DOTV_FN, .dvw = VW, .dvn = 4 * DOTV_G,
    .lanes = lanes_avx512, .lw = LANES_NV * VW, .ln = 4 * LANES_G,
};

const agi_gemm_kernel agi_gemm_avx512 = {
    .name = "avx512", .ukr = ukr_avx512_12, .ukr_half = ukr_avx512_12h, .mr = MR, .nr = NV * VW,
    .mc = 10 * MR, .kc = 256, .nc = (AG_REAL_IS_DOUBLE ? 256 : 512),
    .narrow = &avx512_8, .pack_rows = pack_rows_avx512, .pack_cols = pack_cols_avx512,
    .dot = dot_avx512, .dr = DOT_R, .dn = DOT_S,
    .dotv = DOTV_FN, .dvw = VW, .dvn = 4 * DOTV_G,
    .lanes = lanes_avx512, .lw = LANES_NV * VW, .ln = 4 * LANES_G,
};
