/* Dot-product kernel template shared by the x86 kernel files; see dot in
 * kernels.h for the contract. For operands that both run along k (op(A)
 * rows and op(B) columns contiguous: a convolution's weight gradient), it
 * reads them in place: no transposing pack. The including file defines, as
 * for ukr.h, VW, vec, vmask, V_ZERO, V_LOADU, V_STOREU, V_FMA, V_MASK,
 * V_MLOAD, and DOT_R x DOT_S (the block of sums) and DOT_NAME.
 * Registers: DOT_R * DOT_S accumulators plus DOT_R + DOT_S loaded vectors. */
#if defined(__GNUC__) && !defined(__clang__)
#define UNROLL_ALL _Pragma("GCC unroll 64")
#else
#define UNROLL_ALL
#endif

static void DOT_NAME(size_t count, size_t k, const ag_real *a, size_t lda, size_t sa,
                     const ag_real *b, size_t ldb, size_t sb, ag_real *c, size_t ldc, size_t mr,
                     size_t nr)
{
    vec acc[DOT_R][DOT_S];
    UNROLL_ALL
    for (int i = 0; i < DOT_R; i++) {
        UNROLL_ALL
        for (int j = 0; j < DOT_S; j++) acc[i][j] = V_ZERO();
    }
    /* Rows past mr (columns past nr) repeat the last one: their sums are
     * computed and dropped, and the body stays one fully unrolled loop. */
    size_t ao[DOT_R], bo[DOT_S];
    UNROLL_ALL
    for (int i = 0; i < DOT_R; i++) ao[i] = ((size_t)i < mr ? (size_t)i : mr - 1) * lda;
    UNROLL_ALL
    for (int j = 0; j < DOT_S; j++) bo[j] = ((size_t)j < nr ? (size_t)j : nr - 1) * ldb;
    size_t kb = k / VW * VW;
    vmask tail = V_MASK((int)(k - kb));
    for (size_t t = 0; t < count; t++, a += sa, b += sb) {
        const ag_real *ap[DOT_R], *bp[DOT_S];
        UNROLL_ALL
        for (int i = 0; i < DOT_R; i++) ap[i] = a + ao[i];
        UNROLL_ALL
        for (int j = 0; j < DOT_S; j++) bp[j] = b + bo[j];
        for (size_t p = 0; p < kb; p += VW) {
            vec av[DOT_R], bv[DOT_S];
            UNROLL_ALL
            for (int i = 0; i < DOT_R; i++) av[i] = V_LOADU(ap[i] + p);
            UNROLL_ALL
            for (int j = 0; j < DOT_S; j++) bv[j] = V_LOADU(bp[j] + p);
            UNROLL_ALL
            for (int i = 0; i < DOT_R; i++) {
                UNROLL_ALL
                for (int j = 0; j < DOT_S; j++) acc[i][j] = V_FMA(av[i], bv[j], acc[i][j]);
            }
        }
        if (kb < k) { /* the last k % VW terms; the other lanes load zeros */
            vec av[DOT_R], bv[DOT_S];
            UNROLL_ALL
            for (int i = 0; i < DOT_R; i++) av[i] = V_MLOAD(ap[i] + kb, tail);
            UNROLL_ALL
            for (int j = 0; j < DOT_S; j++) bv[j] = V_MLOAD(bp[j] + kb, tail);
            UNROLL_ALL
            for (int i = 0; i < DOT_R; i++) {
                UNROLL_ALL
                for (int j = 0; j < DOT_S; j++) acc[i][j] = V_FMA(av[i], bv[j], acc[i][j]);
            }
        }
    }
    /* Each sum's lanes: halves added until one is left. */
    for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < nr; j++) {
            ag_real x[VW];
            V_STOREU(x, acc[i][j]);
            for (int w = VW / 2; w > 0; w /= 2)
                for (int l = 0; l < w; l++) x[l] += x[l + w];
            c[i * ldc + j] = x[0];
        }
}

#undef UNROLL_ALL
