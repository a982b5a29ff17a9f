/* Micro-kernel template with its lanes along rows of C, shared by the x86
 * kernel files; see lanes in kernels.h for the contract. For C = op(A) B^T
 * with both operands stored along k (a layer's forward product x W^T):
 * a panel of LW rows of op(A) is packed as one group of vectors per term
 * (a[p*LW + i] = A[i][p]), and the rows of B (W's rows, usually the larger
 * operand) are read in place, each value broadcast into FMAs with that
 * group, so W is never packed. The accumulators hold columns of the tile,
 * which is written transposed at the end with agi_gemm_ukr's update, each
 * element's sum being the same chain of FMAs: the same bits as the packed
 * path.
 *
 * Rows of B are taken four at a time from one pointer (as in dotv.h). The
 * including file defines VW, vec, V_ZERO, V_LOADU, V_STOREU, V_BCAST,
 * V_FMA, V_MUL, LANES_NV (vectors per group), LANES_G (the most groups of
 * four rows) and LANES_NAME. */
#if defined(__GNUC__) && !defined(__clang__)
#define UNROLL_ALL _Pragma("GCC unroll 64")
#define LANES_INLINE static inline __attribute__((always_inline))
#else
#define UNROLL_ALL
#define LANES_INLINE static inline
#endif

#define LW (LANES_NV * VW)
#ifndef LANES_PF
#define LANES_PF 64
#endif
#define LANES_PF_STEP (64 / (int)sizeof(ag_real))

/* R = 4 G rows of B in groups of four, or R < 4 rows one pointer each
 * (G = 0); both constants after inlining. Stores the R columns of the
 * tile into t[j][i]. */
LANES_INLINE void lanes_core(const int G, const int R, size_t k, const ag_real *a,
                             const ag_real *b, size_t ldb, ag_real *t)
{
    vec acc[4 * LANES_G][LANES_NV];
    UNROLL_ALL
    for (int j = 0; j < R; j++) {
        UNROLL_ALL
        for (int v = 0; v < LANES_NV; v++) acc[j][v] = V_ZERO();
    }
    const ag_real *bg[LANES_G > 3 ? LANES_G : 3];
    size_t l3 = 3 * ldb;
    const int NP = G ? G : R; /* pointers: one per group, or per row */
    UNROLL_ALL
    for (int g = 0; g < NP; g++) bg[g] = b + (size_t)(G ? 4 * g : g) * ldb;
    for (size_t p0 = 0; p0 < k; p0 += LANES_PF_STEP) {
        if (LANES_PF && p0 + LANES_PF < k) {
            UNROLL_ALL
            for (int j = 0; j < R; j++) __builtin_prefetch(b + (size_t)j * ldb + p0 + LANES_PF);
        }
        size_t p1 = p0 + LANES_PF_STEP < k ? p0 + LANES_PF_STEP : k;
        for (size_t p = p0; p < p1; p++, a += LW) {
            vec av[LANES_NV];
            UNROLL_ALL
            for (int v = 0; v < LANES_NV; v++) av[v] = V_LOADU(a + v * VW);
            if (G) {
                UNROLL_ALL
                for (int g = 0; g < G; g++) {
                    vec b0 = V_BCAST(bg[g][0]), b1 = V_BCAST(bg[g][ldb]);
                    vec b2 = V_BCAST(bg[g][2 * ldb]), b3 = V_BCAST(bg[g][l3]);
                    UNROLL_ALL
                    for (int v = 0; v < LANES_NV; v++) {
                        acc[4 * g + 0][v] = V_FMA(b0, av[v], acc[4 * g + 0][v]);
                        acc[4 * g + 1][v] = V_FMA(b1, av[v], acc[4 * g + 1][v]);
                        acc[4 * g + 2][v] = V_FMA(b2, av[v], acc[4 * g + 2][v]);
                        acc[4 * g + 3][v] = V_FMA(b3, av[v], acc[4 * g + 3][v]);
                    }
                    bg[g]++;
                }
            } else {
                UNROLL_ALL
                for (int j = 0; j < R; j++) {
                    vec bv = V_BCAST(bg[j][0]);
                    UNROLL_ALL
                    for (int v = 0; v < LANES_NV; v++) acc[j][v] = V_FMA(bv, av[v], acc[j][v]);
                    bg[j]++;
                }
            }
        }
    }
    UNROLL_ALL
    for (int j = 0; j < R; j++) {
        UNROLL_ALL
        for (int v = 0; v < LANES_NV; v++) V_STOREU(t + j * LW + v * VW, acc[j][v]);
    }
}

/* One k block of R columns into the transposed tile t (R x LW):
 * t = alpha acc (first block, beta 0) or fma(alpha, acc, b t). */
LANES_INLINE void lanes_block(const int G, const int R, size_t kc, const ag_real *a,
                              const ag_real *b, size_t ldb, ag_real *acc_t, ag_real *t,
                              ag_real alpha, ag_real beff)
{
    lanes_core(G, R, kc, a, b, ldb, acc_t);
    vec va = V_BCAST(alpha), vb = V_BCAST(beff);
    UNROLL_ALL
    for (int q = 0; q < R * LANES_NV; q++) {
        vec x = V_LOADU(acc_t + q * VW);
        vec r = beff == 0 ? V_MUL(va, x) : V_FMA(va, x, V_MUL(vb, V_LOADU(t + q * VW)));
        V_STOREU(t + q * VW, r);
    }
}

/* All k blocks of R columns (R = 4 G, or R < 4 with G = 0). */
LANES_INLINE void lanes_cols(const int G, const int R, size_t k, size_t kc, const ag_real *a,
                             const ag_real *b, size_t ldb, ag_real *acc_t, ag_real *t,
                             ag_real alpha, ag_real beta)
{
    for (size_t pc = 0; pc < k; pc += kc) {
        size_t kk = k - pc < kc ? k - pc : kc;
        lanes_block(G, R, kk, a + pc * LW, b + pc, ldb, acc_t, t, alpha, pc == 0 ? beta : 1);
    }
}

static void LANES_NAME(size_t k, size_t kc, const ag_real *a, const ag_real *b, size_t ldb,
                       ag_real *c, size_t ldc, size_t mr, size_t nr, ag_real alpha, ag_real beta)
{
    _Alignas(64) ag_real t[4 * LANES_G * LW], acc_t[4 * LANES_G * LW];
    if (beta != 0) /* C's tile, transposed */
        for (size_t j = 0; j < nr; j++)
            for (size_t i = 0; i < LW; i++) t[j * LW + i] = i < mr ? c[i * ldc + j] : 0;
    size_t g = nr / 4, r = nr % 4;
    switch (g) {
#if LANES_G >= 3
    case 3: lanes_cols(3, 12, k, kc, a, b, ldb, acc_t, t, alpha, beta); break;
#endif
    case 2: lanes_cols(2, 8, k, kc, a, b, ldb, acc_t, t, alpha, beta); break;
    case 1: lanes_cols(1, 4, k, kc, a, b, ldb, acc_t, t, alpha, beta); break;
    default: break;
    }
    ag_real *tr = t + 4 * g * LW;
    const ag_real *br = b + 4 * g * ldb;
    if (r == 3)
        lanes_cols(0, 3, k, kc, a, br, ldb, acc_t, tr, alpha, beta);
    else if (r == 2)
        lanes_cols(0, 2, k, kc, a, br, ldb, acc_t, tr, alpha, beta);
    else if (r == 1)
        lanes_cols(0, 1, k, kc, a, br, ldb, acc_t, tr, alpha, beta);
    for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < nr; j++) c[i * ldc + j] = t[j * LW + i];
}

#undef LW
#undef UNROLL_ALL
#undef LANES_INLINE
