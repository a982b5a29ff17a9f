/* Transposing pack shared by the x86 kernel files (AVX, which both ISAs
 * include); see pack_rows in kernels.h. Blocks of TB rows x TB values are
 * loaded as TB vectors, transposed in registers and stored as TB rows of the
 * panel. The ragged edges take the same path: rows past len are zero
 * vectors (the panel's padding), the last values of a row are a masked
 * load, and a panel narrower than a block (W = 6, 12) stores part of each
 * vector. The including file defines PACK_NAME and PACKC_NAME. */
#if AG_REAL_IS_DOUBLE
#define TB 4
typedef __m256d tvec;
#define T_ZERO() _mm256_setzero_pd()
#define T_LOADU(p) _mm256_loadu_pd(p)
#define T_STOREU(p, v) _mm256_storeu_pd(p, v)
/* the first cnt values of p, zero after */
#define T_MLOAD(p, cnt) \
    _mm256_maskload_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(cnt)), \
                                             _mm256_setr_epi64x(0, 1, 2, 3)))
typedef __m128d thalf;
#define T_LO(v) _mm256_castpd256_pd128(v)
#define T_HI(v) _mm256_extractf128_pd(v, 1)
#define H_STOREU(p, h) _mm_storeu_pd(p, h)
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
#define T_ZERO() _mm256_setzero_ps()
#define T_LOADU(p) _mm256_loadu_ps(p)
#define T_STOREU(p, v) _mm256_storeu_ps(p, v)
#define T_MLOAD(p, cnt)                                                \
    _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(cnt)), \
                                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)))
typedef __m128 thalf;
#define T_LO(v) _mm256_castps256_ps128(v)
#define T_HI(v) _mm256_extractf128_ps(v, 1)
#define H_STOREU(p, h) _mm_storeu_ps(p, h)
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

/* Rows 0..7 of X, values p..p+7, into r[q] = value p+q of rows 0..7: each
 * vector loaded as the halves of rows i and i+4 (the lanes are paired as
 * they load), then transposed within lanes only. */
#define LOAD_TRANSPOSE 1
static inline void load_transpose(const ag_real *X, size_t rs, size_t p, tvec r[TB])
{
    tvec a[4], b[4];
    for (int q = 0; q < 4; q++) {
        const ag_real *lo = X + (size_t)q * rs + p, *hi = X + (size_t)(q + 4) * rs + p;
        a[q] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo)), _mm_loadu_ps(hi), 1);
        b[q] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo + 4)),
                                    _mm_loadu_ps(hi + 4), 1);
    }
    for (int h = 0; h < 2; h++) {
        tvec *v = h ? b : a;
        tvec t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
        tvec t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
        r[4 * h + 0] = _mm256_shuffle_ps(t0, t2, 0x44);
        r[4 * h + 1] = _mm256_shuffle_ps(t0, t2, 0xee);
        r[4 * h + 2] = _mm256_shuffle_ps(t1, t3, 0x44);
        r[4 * h + 3] = _mm256_shuffle_ps(t1, t3, 0xee);
    }
}
#endif

/* The first cnt < TB values of v to d: a half vector, then single values. */
static inline void store_part(ag_real *d, tvec v, size_t cnt)
{
    thalf h = T_LO(v);
    if (cnt >= TB / 2) {
        H_STOREU(d, h);
        d += TB / 2, cnt -= TB / 2;
        h = T_HI(v);
    }
    ag_real rest[TB / 2];
    H_STOREU(rest, h);
    for (size_t i = 0; i < cnt; i++) d[i] = rest[i];
}

/* Rows [i, i + TB) of the panel from the rows left of X (rows < TB of them
 * exist, the rest are zero), storing cnt <= TB values of each. */
static void pack_block(const ag_real *X, size_t rs, size_t rows, size_t kc, size_t W, size_t cnt,
                       ag_real *dst)
{
    size_t kb = kc / TB * TB;
    tvec r[TB];
    if (rows == TB && cnt == TB) { /* the body: whole blocks */
        for (size_t p = 0; p < kb; p += TB) {
            /* The next block's rows, a block's time ahead: many short
             * strided rows are more than the hardware prefetcher follows. */
            for (int q = 0; q < TB; q++) __builtin_prefetch(X + (size_t)(TB + q) * rs + p);
#ifdef LOAD_TRANSPOSE
            load_transpose(X, rs, p, r);
#else
            for (int q = 0; q < TB; q++) r[q] = T_LOADU(X + (size_t)q * rs + p);
            transpose_block(r);
#endif
            for (int q = 0; q < TB; q++) T_STOREU(dst + (p + (size_t)q) * W, r[q]);
        }
    } else {
        for (size_t p = 0; p < kb; p += TB) {
            for (int q = 0; q < TB; q++)
                r[q] = (size_t)q < rows ? T_LOADU(X + (size_t)q * rs + p) : T_ZERO();
            transpose_block(r);
            for (int q = 0; q < TB; q++) {
                if (cnt == TB)
                    T_STOREU(dst + (p + (size_t)q) * W, r[q]);
                else
                    store_part(dst + (p + (size_t)q) * W, r[q], cnt);
            }
        }
    }
    if (kb == kc)
        return;
    for (int q = 0; q < TB; q++)
        r[q] = (size_t)q < rows ? T_MLOAD(X + (size_t)q * rs + kb, kc - kb) : T_ZERO();
    transpose_block(r);
    for (size_t q = 0; q < kc - kb; q++) {
        if (cnt == TB)
            T_STOREU(dst + (kb + q) * W, r[q]);
        else
            store_part(dst + (kb + q) * W, r[q], cnt);
    }
}

static void PACK_NAME(const ag_real *X, size_t rs, size_t len, size_t kc, size_t W, ag_real *dst)
{
    for (size_t i = 0; i < W; i += TB) {
        size_t rows = len > i ? (len - i < TB ? len - i : TB) : 0;
        pack_block(X + (rows ? i * rs : 0), rs, rows, kc, W, W - i < TB ? W - i : TB, dst + i);
    }
}

/* Copying pack (pack_cols in kernels.h): whole vectors, a masked load for
 * the last values of a row, zero vectors for the padding. */
static void PACKC_NAME(const ag_real *X, size_t cs, size_t len, size_t kc, size_t W, ag_real *dst)
{
    size_t lb = len / TB * TB;
    for (size_t p = 0; p < kc; p++, X += cs, dst += W) {
        size_t i = 0;
        for (; i < lb; i += TB) T_STOREU(dst + i, T_LOADU(X + i));
        if (i < len) {
            T_STOREU(dst + i, T_MLOAD(X + i, len - i));
            i += TB;
        }
        for (; i < W; i += TB) T_STOREU(dst + i, T_ZERO());
    }
}

#undef TB
#undef T_ZERO
#undef T_LOADU
#undef T_MLOAD
#undef T_STOREU
#undef T_LO
#undef T_HI
#undef H_STOREU
#undef LOAD_TRANSPOSE
