/* Lane-wise dot-product kernel template for the x86 kernel files; see
 * dotv in kernels.h for the contract. For a product whose op(A) has at most
 * VW rows and whose operands both run along k (a convolution's weight
 * gradient with few output channels): op(A) is packed once per product as
 * k vectors of its rows (ap[p*VW + i] = A[i][p]), and each row j of B is
 * read in place, one value at a time, broadcast into an FMA with that
 * vector. Each accumulator holds column j of the tile, C[0..VW)[j], so no
 * lane sums are needed and each element is one chain of FMAs, in order.
 *
 * Rows are taken four at a time from one pointer: rows 0-3 of a group sit
 * at b, b + ldb, b + 2 ldb and b + 3 ldb, which x86 addresses from the
 * group's pointer and two index registers, so even seven groups (28
 * accumulators, one vector of A) leave general registers for the loop.
 * The including file defines VW, vec, V_ZERO, V_LOADU, V_STOREU, V_BCAST,
 * V_FMA, DOTV_G (the most groups of four) and DOTV_NAME. */
#if defined(__GNUC__) && !defined(__clang__)
#define UNROLL_ALL _Pragma("GCC unroll 64")
#define DOTV_INLINE static inline __attribute__((always_inline))
#else
#define UNROLL_ALL
#define DOTV_INLINE static inline
#endif

#ifndef DOTV_PF
#define DOTV_PF 64
#endif
#define DOTV_PF_STEP (64 / (int)sizeof(ag_real))

/* G groups of four rows of b (G a constant after inlining). */
DOTV_INLINE void dotv_groups(const int G, size_t count, size_t k, const ag_real *ap, size_t sap,
                             const ag_real *b, size_t ldb, size_t sb, int first, ag_real *tile)
{
    vec acc[4 * DOTV_G];
    UNROLL_ALL
    for (int j = 0; j < 4 * G; j++) acc[j] = first ? V_ZERO() : V_LOADU(tile + j * VW);
    size_t l3 = 3 * ldb;
    for (size_t t = 0; t < count; t++, ap += sap, b += sb) {
        const ag_real *bg[DOTV_G];
        UNROLL_ALL
        for (int g = 0; g < G; g++) bg[g] = b + (size_t)(4 * g) * ldb;
        const ag_real *a = ap;
        for (size_t p0 = 0; p0 < k; p0 += DOTV_PF_STEP) {
            /* the lines DOTV_PF ahead in each row, or in the next
             * product's rows near the end of these */
            const ag_real *pf = p0 + DOTV_PF < k ? b + p0 + DOTV_PF
                                : t + 1 < count ? b + sb + (p0 + DOTV_PF - k) : NULL;
            if (DOTV_PF && pf) {
                UNROLL_ALL
                for (int j = 0; j < 4 * G; j++) __builtin_prefetch(pf + (size_t)j * ldb);
            }
            size_t p1 = p0 + DOTV_PF_STEP < k ? p0 + DOTV_PF_STEP : k;
            for (size_t p = p0; p < p1; p++, a += VW) {
                vec av = V_LOADU(a);
                UNROLL_ALL
                for (int g = 0; g < G; g++) {
                    acc[4 * g + 0] = V_FMA(V_BCAST(bg[g][0]), av, acc[4 * g + 0]);
                    acc[4 * g + 1] = V_FMA(V_BCAST(bg[g][ldb]), av, acc[4 * g + 1]);
                    acc[4 * g + 2] = V_FMA(V_BCAST(bg[g][2 * ldb]), av, acc[4 * g + 2]);
                    acc[4 * g + 3] = V_FMA(V_BCAST(bg[g][l3]), av, acc[4 * g + 3]);
                    bg[g]++;
                }
            }
        }
    }
    UNROLL_ALL
    for (int j = 0; j < 4 * G; j++) V_STOREU(tile + j * VW, acc[j]);
}

/* The last R < 4 rows, one pointer each. */
DOTV_INLINE void dotv_rows(const int R, size_t count, size_t k, const ag_real *ap, size_t sap,
                           const ag_real *b, size_t ldb, size_t sb, int first, ag_real *tile)
{
    vec acc[3];
    UNROLL_ALL
    for (int j = 0; j < R; j++) acc[j] = first ? V_ZERO() : V_LOADU(tile + j * VW);
    for (size_t t = 0; t < count; t++, ap += sap, b += sb) {
        const ag_real *a = ap;
        for (size_t p = 0; p < k; p++, a += VW) {
            vec av = V_LOADU(a);
            UNROLL_ALL
            for (int j = 0; j < R; j++)
                acc[j] = V_FMA(V_BCAST(b[(size_t)j * ldb + p]), av, acc[j]);
        }
    }
    UNROLL_ALL
    for (int j = 0; j < R; j++) V_STOREU(tile + j * VW, acc[j]);
}

static void DOTV_NAME(size_t count, size_t k, const ag_real *ap, size_t sap, const ag_real *b,
                      size_t ldb, size_t sb, size_t nr, int first, ag_real *tile)
{
    size_t g = nr / 4, r = nr % 4;
    switch (g) {
#if DOTV_G >= 7
    case 7: dotv_groups(7, count, k, ap, sap, b, ldb, sb, first, tile); break;
    case 6: dotv_groups(6, count, k, ap, sap, b, ldb, sb, first, tile); break;
    case 5: dotv_groups(5, count, k, ap, sap, b, ldb, sb, first, tile); break;
    case 4: dotv_groups(4, count, k, ap, sap, b, ldb, sb, first, tile); break;
#endif
    case 3: dotv_groups(3, count, k, ap, sap, b, ldb, sb, first, tile); break;
    case 2: dotv_groups(2, count, k, ap, sap, b, ldb, sb, first, tile); break;
    case 1: dotv_groups(1, count, k, ap, sap, b, ldb, sb, first, tile); break;
    default: break;
    }
    b += 4 * g * ldb;
    tile += 4 * g * VW;
    if (r == 3)
        dotv_rows(3, count, k, ap, sap, b, ldb, sb, first, tile);
    else if (r == 2)
        dotv_rows(2, count, k, ap, sap, b, ldb, sb, first, tile);
    else if (r == 1)
        dotv_rows(1, count, k, ap, sap, b, ldb, sb, first, tile);
}

#undef UNROLL_ALL
#undef DOTV_INLINE
