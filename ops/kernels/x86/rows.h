/* The core shared by the lane-wise kernels (dotv.h, lanes.h): lanes run
 * along the rows of a packed operand a (NL vectors per term), and rows of
 * b are read in place, each value broadcast into FMAs with those vectors.
 * Rows are taken four at a time from one pointer: rows 0-3 of a group sit
 * at b, b + ldb, b + 2 ldb and b + 3 ldb, which x86 addresses from the
 * group's pointer and two index registers, so even seven groups (28
 * accumulators, one vector of a) leave general registers for the loop.
 * Each row is prefetched a cache line ahead, and near its end the same row
 * of the next product. The including file defines VW, vec, V_ZERO,
 * V_LOADU, V_STOREU, V_BCAST and V_FMA. */
#ifndef AGI_X86_ROWS_H
#define AGI_X86_ROWS_H

#if defined(__GNUC__) && !defined(__clang__)
#define ROWS_UNROLL _Pragma("GCC unroll 64")
#define ROWS_INLINE static inline __attribute__((always_inline))
#else
#define ROWS_UNROLL
#define ROWS_INLINE static inline
#endif

#ifndef ROWS_PF
#define ROWS_PF 64
#endif
#define ROWS_PF_STEP (64 / (int)sizeof(ag_real))
/* The most rows of b at a time (NL * rows <= 28 accumulators). */
#define ROWS_MAX 28

/* R rows of b: G groups of four (R = 4 G), or R < 4 rows with a pointer
 * each (G = 0); NL, G and R are constants after inlining. For j < R and
 * lane l < NL VW,
 *     t[j*NL*VW + l] = s + sum over u < count, p < k of
 *                      a[u*sa + p*NL*VW + l] * b[u*sb + j*ldb + p]
 * with s = 0 if first, else t's value: one FMA per term, in increasing u
 * then p. */
ROWS_INLINE void rows_core(const int NL, const int G, const int R, size_t count, size_t k,
                           const ag_real *a, size_t sa, const ag_real *b, size_t ldb,
                           size_t sb, int first, ag_real *t)
{
    vec acc[ROWS_MAX][2];
    ROWS_UNROLL
    for (int j = 0; j < R; j++) {
        ROWS_UNROLL
        for (int v = 0; v < NL; v++)
            acc[j][v] = first ? V_ZERO() : V_LOADU(t + (j * NL + v) * VW);
    }
    const int NP = G ? G : R; /* pointers: one per group, or per row */
    size_t l3 = 3 * ldb;
    for (size_t u = 0; u < count; u++, a += sa, b += sb) {
        const ag_real *bp[ROWS_MAX / 4 > 3 ? ROWS_MAX / 4 : 3];
        ROWS_UNROLL
        for (int g = 0; g < NP; g++) bp[g] = b + (size_t)(G ? 4 * g : g) * ldb;
        const ag_real *ap = a;
        for (size_t p0 = 0; p0 < k; p0 += ROWS_PF_STEP) {
            const ag_real *pf = p0 + ROWS_PF < k ? b + p0 + ROWS_PF
                                : u + 1 < count ? b + sb + (p0 + ROWS_PF - k) : NULL;
            if (ROWS_PF && pf) {
                ROWS_UNROLL
                for (int j = 0; j < R; j++) __builtin_prefetch(pf + (size_t)j * ldb);
            }
            size_t p1 = p0 + ROWS_PF_STEP < k ? p0 + ROWS_PF_STEP : k;
            for (size_t p = p0; p < p1; p++, ap += NL * VW) {
                vec av[2];
                ROWS_UNROLL
                for (int v = 0; v < NL; v++) av[v] = V_LOADU(ap + v * VW);
                if (G) {
                    ROWS_UNROLL
                    for (int g = 0; g < G; g++) {
                        vec b0 = V_BCAST(bp[g][0]), b1 = V_BCAST(bp[g][ldb]);
                        vec b2 = V_BCAST(bp[g][2 * ldb]), b3 = V_BCAST(bp[g][l3]);
                        ROWS_UNROLL
                        for (int v = 0; v < NL; v++) {
                            acc[4 * g + 0][v] = V_FMA(b0, av[v], acc[4 * g + 0][v]);
                            acc[4 * g + 1][v] = V_FMA(b1, av[v], acc[4 * g + 1][v]);
                            acc[4 * g + 2][v] = V_FMA(b2, av[v], acc[4 * g + 2][v]);
                            acc[4 * g + 3][v] = V_FMA(b3, av[v], acc[4 * g + 3][v]);
                        }
                        bp[g]++;
                    }
                } else {
                    ROWS_UNROLL
                    for (int j = 0; j < R; j++) {
                        vec bv = V_BCAST(bp[j][0]);
                        ROWS_UNROLL
                        for (int v = 0; v < NL; v++) acc[j][v] = V_FMA(bv, av[v], acc[j][v]);
                        bp[j]++;
                    }
                }
            }
        }
    }
    ROWS_UNROLL
    for (int j = 0; j < R; j++) {
        ROWS_UNROLL
        for (int v = 0; v < NL; v++) V_STOREU(t + (j * NL + v) * VW, acc[j][v]);
    }
}

/* nr rows of b, nr <= 28 / NL: the groups of four, then the rest. */
ROWS_INLINE void rows_any(const int NL, size_t count, size_t k, const ag_real *a, size_t sa,
                          const ag_real *b, size_t ldb, size_t sb, size_t nr, int first,
                          ag_real *t)
{
    size_t g = nr / 4, r = nr % 4;
    switch (g) { /* (cases past 28 / NL accumulators are never taken) */
    case 7: if (7 * NL <= 7) rows_core(NL, 7, 28, count, k, a, sa, b, ldb, sb, first, t); break;
    case 6: if (6 * NL <= 7) rows_core(NL, 6, 24, count, k, a, sa, b, ldb, sb, first, t); break;
    case 5: if (5 * NL <= 7) rows_core(NL, 5, 20, count, k, a, sa, b, ldb, sb, first, t); break;
    case 4: if (4 * NL <= 7) rows_core(NL, 4, 16, count, k, a, sa, b, ldb, sb, first, t); break;
    case 3: rows_core(NL, 3, 12, count, k, a, sa, b, ldb, sb, first, t); break;
    case 2: rows_core(NL, 2, 8, count, k, a, sa, b, ldb, sb, first, t); break;
    case 1: rows_core(NL, 1, 4, count, k, a, sa, b, ldb, sb, first, t); break;
    default: break;
    }
    b += 4 * g * ldb;
    t += 4 * g * NL * VW;
    if (r == 3)
        rows_core(NL, 0, 3, count, k, a, sa, b, ldb, sb, first, t);
    else if (r == 2)
        rows_core(NL, 0, 2, count, k, a, sa, b, ldb, sb, first, t);
    else if (r == 1)
        rows_core(NL, 0, 1, count, k, a, sa, b, ldb, sb, first, t);
}

#endif
