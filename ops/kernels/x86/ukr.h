/* Micro-kernel template shared by the x86 kernel files; see agi_gemm_ukr in
 * kernels.h for the contract. The including file defines, for its ISA and
 * for ag_real:
 *   VW          lanes per vector;  NV  vectors per row of the tile;  MR rows
 *   vec, vmask  vector and column-mask types
 *   V_ZERO() V_BCAST(x) V_LOADU(p) V_STOREU(p, v)
 *   V_FMA(a, b, c) = a*b + c, one rounding   V_MUL(a, b)
 *   V_MASK(cnt)  mask of the first cnt lanes (0 <= cnt <= VW)
 *   V_MLOAD(p, m) V_MSTORE(p, m, v)  masked load (zero elsewhere) and store
 *   UKR_NAME    the function name
 * Registers: MR*NV accumulators plus NV rows of b; a is broadcast. */
#define NR (NV * VW)

#if defined(__GNUC__) && !defined(__clang__)
#define UNROLL_ALL _Pragma("GCC unroll 64")
#else
#define UNROLL_ALL
#endif

/* The tile update c = alpha acc (beta == 0) or fma(alpha, acc, beta c); the
 * edge form only masks the same operations. */
#define TILE_UPDATE(ci, accv, load, store)                                                    \
    do {                                                                                      \
        vec r_ = beta == 0 ? V_MUL(va, (accv)) : V_FMA(va, (accv), V_MUL(vb, load));          \
        store;                                                                                \
    } while (0)

static void UKR_NAME(size_t k, const ag_real *restrict a, const ag_real *restrict b, size_t ldb,
                     ag_real *restrict c, size_t ldc, size_t mr, size_t nr, ag_real alpha,
                     ag_real beta)
{
    vec acc[MR][NV];
    UNROLL_ALL
    for (int i = 0; i < MR; i++) {
        UNROLL_ALL
        for (int v = 0; v < NV; v++) acc[i][v] = V_ZERO();
    }
    /* The lines of this tile's rows of C, and of the next tile along them
     * (the drivers walk tiles along rows): with a short k the k loop alone
     * hides too little of their latency. */
    UNROLL_ALL
    for (int i = 0; i < MR; i++) {
        const ag_real *ci = c + (size_t)i * ldc;
        __builtin_prefetch(ci, 1);
        __builtin_prefetch(ci + NR - 1, 1);
        __builtin_prefetch(ci + NR, 1);
        __builtin_prefetch(ci + 2 * NR - 1, 1);
    }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
    for (size_t p = 0; p < k; p++) {
        vec bv[NV];
        UNROLL_ALL
        for (int v = 0; v < NV; v++) bv[v] = V_LOADU(b + v * VW);
        UNROLL_ALL
        for (int i = 0; i < MR; i++) {
            vec av = V_BCAST(a[i]);
            UNROLL_ALL
            for (int v = 0; v < NV; v++) acc[i][v] = V_FMA(av, bv[v], acc[i][v]);
        }
        a += MR;
        b += ldb;
    }
    vec va = V_BCAST(alpha), vb = V_BCAST(beta);
    if (mr == MR && nr == NR) {
        UNROLL_ALL
        for (int i = 0; i < MR; i++) {
            UNROLL_ALL
            for (int v = 0; v < NV; v++) {
                ag_real *ci = c + (size_t)i * ldc + v * VW;
                TILE_UPDATE(ci, acc[i][v], V_LOADU(ci), V_STOREU(ci, r_));
            }
        }
        return;
    }
    vmask mk[NV];
    UNROLL_ALL
    for (int v = 0; v < NV; v++) {
        size_t left = nr > (size_t)v * VW ? nr - (size_t)v * VW : 0;
        mk[v] = V_MASK(left < VW ? (int)left : VW);
    }
    UNROLL_ALL
    for (int i = 0; i < MR; i++) {
        if ((size_t)i >= mr)
            break;
        UNROLL_ALL
        for (int v = 0; v < NV; v++) {
            ag_real *ci = c + (size_t)i * ldc + v * VW;
            TILE_UPDATE(ci, acc[i][v], V_MLOAD(ci, mk[v]), V_MSTORE(ci, mk[v], r_));
        }
    }
}

#undef TILE_UPDATE
#undef UNROLL_ALL
#undef NR
