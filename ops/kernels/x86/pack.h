/* Transposing pack shared by the x86 kernel files (AVX, which both ISAs
 * include); see pack_rows in kernels.h. Blocks of TB rows x TB values are
 * loaded as TB vectors, transposed in registers and stored as TB rows of the
 * panel; the ragged edges are copied one value at a time. The including file
 * defines PACK_NAME. */
#if AG_REAL_IS_DOUBLE
#define TB 4
typedef __m256d tvec;
#define T_LOADU(p) _mm256_loadu_pd(p)
#define T_STOREU(p, v) _mm256_storeu_pd(p, v)
/* r[i] = row i, values p..p+3  ->  r[q] = value p+q of rows 0..3 */
static inline void transpose_block(tvec r[TB])
{
    tvec t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    tvec t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}
#else
#define TB 8
typedef __m256 tvec;
#define T_LOADU(p) _mm256_loadu_ps(p)
#define T_STOREU(p, v) _mm256_storeu_ps(p, v)
/* r[i] = row i, values p..p+7  ->  r[q] = value p+q of rows 0..7 */
static inline void transpose_block(tvec r[TB])
{
    tvec t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    tvec t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    tvec t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    tvec t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    tvec s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
    tvec s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
    tvec s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
    tvec s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}
#endif

static void PACK_NAME(const ag_real *X, size_t rs, size_t len, size_t kc, size_t W, ag_real *dst)
{
    size_t kb = kc / TB * TB, i = 0;
    for (; i + TB <= len; i += TB) {
        const ag_real *x = X + i * rs;
        for (size_t p = 0; p < kb; p += TB) {
            tvec r[TB];
            for (int q = 0; q < TB; q++) r[q] = T_LOADU(x + (size_t)q * rs + p);
            transpose_block(r);
            for (int q = 0; q < TB; q++) T_STOREU(dst + (p + (size_t)q) * W + i, r[q]);
        }
        for (size_t p = kb; p < kc; p++)
            for (int q = 0; q < TB; q++) dst[p * W + i + (size_t)q] = x[(size_t)q * rs + p];
    }
    for (; i < len; i++)
        for (size_t p = 0; p < kc; p++) dst[p * W + i] = X[i * rs + p];
    for (; i < W; i++)
        for (size_t p = 0; p < kc; p++) dst[p * W + i] = 0;
}

#undef TB
#undef T_LOADU
#undef T_STOREU
