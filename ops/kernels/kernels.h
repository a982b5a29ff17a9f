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

/* batch products op(A_i) op(B_i) with A_i = A + i*sa, B_i = B + i*sb, C_i
 * = C + i*sc (strides in elements; 0 shares an operand).
 * - Each product with its own C (sc != 0): C_i = alpha op(A_i) op(B_i) +
 *   beta C_i, the bits of calling agi_gemm for each i, for any thread
 *   count. A shared A (sa = 0) is packed once for all products; other
 *   batches run as products spread over threads whole, or split as
 *   agi_gemm splits them when they are large.
 * - A shared C (sc = 0): C = alpha sum_i op(A_i) op(B_i) + beta C (beta
 *   scales C once; 0 ignores its contents). Usually one GEMM whose k runs
 *   over the products in order, split over threads by tiles of C (with
 *   beta 1, the bits of the loop of agi_gemm). When C has few tiles the
 *   products are summed in consecutive groups, each into a partial sum of
 *   its own, in parallel (for a small C with ta = 0, tb = 1, by the
 *   kernel's dot-product kernel), and the partials added to C in group
 *   order: a different rounding from the loop's, within the same error
 *   bound. The grouping depends only on the shape and the kernel, so the
 *   result is the same bits for any thread count either way. */
void agi_gemm_batch(int ta, int tb, size_t batch, size_t m, size_t n, size_t k, ag_real alpha,
                    const ag_real *A, size_t lda, size_t sa, const ag_real *B, size_t ldb,
                    size_t sb, ag_real beta, ag_real *C, size_t ldc, size_t sc);

/* The portable reference, always built: the oracle of the kernel tests. */
void agi_gemm_ref(int ta, int tb, size_t m, size_t n, size_t k, ag_real alpha, const ag_real *A,
                  size_t lda, const ag_real *B, size_t ldb, ag_real beta, ag_real *C, size_t ldc);

/* A register-blocked micro-kernel computes one MR x NR tile of C from packed
 * panels: a holds k columns of MR values (a[p*MR + i] = op(A)[i][p]),
 * zero-padded and 64-byte aligned; b holds k rows of NR values, row p at
 * b + p*ldb (b[p*ldb + j] = op(B)[p][j]): a packed panel (ldb = NR,
 * zero-padded) or, when every column of the tile exists, op(B) itself. With
 * acc[i][j] = sum_p a[p*MR+i] b[p*ldb+j], accumulated by one FMA per p in
 * increasing p from zero, it stores, for i < mr and j < nr only:
 *     beta == 0:  c[i*ldc + j] = alpha * acc[i][j]
 *     otherwise:  c[i*ldc + j] = fma(alpha, acc[i][j], beta * c[i*ldc + j])
 * Every element of C therefore sees the same operations whatever tile,
 * thread or edge it falls in. */
typedef void agi_gemm_ukr(size_t k, const ag_real *a, const ag_real *b, size_t ldb, ag_real *c,
                          size_t ldc, size_t mr, size_t nr, ag_real alpha, ag_real beta);

/* A micro-kernel with its tile and cache-block sizes (in elements):
 * mc x kc blocks of A and kc x nc blocks of B are packed. mc is a multiple
 * of mr, nc of nr. */
typedef struct agi_gemm_kernel agi_gemm_kernel;
struct agi_gemm_kernel {
    const char *name;
    agi_gemm_ukr *ukr;
    size_t mr, nr, mc, kc, nc;
    /* Optional sibling with fewer rows (the same kc and nr), used unless it
     * pads m more: the result is the same, element by element. */
    const agi_gemm_kernel *narrow;
    /* Optional micro-kernel of the same contract for tiles at most nr / 2
     * wide (the last columns of a product whose n is not a multiple of nr):
     * the same operations on each element, half the FMAs. */
    agi_gemm_ukr *ukr_half;
    /* Optional transposing pack with this ISA: len <= W rows of X, each
     * with kc consecutive values, row stride rs, into one W-wide panel:
     * dst[p*W + i] = X[i*rs + p] for i < len, 0 for len <= i < W. */
    void (*pack_rows)(const ag_real *X, size_t rs, size_t len, size_t kc, size_t W, ag_real *dst);
    /* Optional copying pack with this ISA, for W * sizeof(ag_real) a
     * multiple of 32: len <= W consecutive values of each of kc rows of X,
     * row stride cs, into one W-wide panel: dst[p*W + i] = X[p*cs + i] for
     * i < len, 0 for len <= i < W. */
    void (*pack_cols)(const ag_real *X, size_t cs, size_t len, size_t kc, size_t W, ag_real *dst);
    /* Optional dot-product kernel, for operands both stored along k (A
     * [m, k], B [n, k]), read in place: for i < mr <= dr and j < nr <= dn,
     *     c[i*ldc + j] = sum over t < count, p < k of
     *                    a[t*sa + i*lda + p] * b[t*sb + j*ldb + p]
     * where the terms with p = l mod VW (the vector width) accumulate in
     * lane l by one FMA each, in increasing t then p, from zero, and the
     * lanes are then added in a fixed tree. Each element's operations
     * depend only on count, k and VW, not on where its block lies. */
    void (*dot)(size_t count, size_t k, const ag_real *a, size_t lda, size_t sa, const ag_real *b,
                size_t ldb, size_t sb, ag_real *c, size_t ldc, size_t mr, size_t nr);
    size_t dr, dn;
    /* Optional lane-wise dot-product kernel, for op(A) of at most dvw rows
     * with both operands stored along k (A [m, k], B [n, k]): ap holds
     * count products' op(A), each as k vectors of its rows (pack_rows with
     * W = dvw: ap[t*sap + p*dvw + i] = A_t[i][p], zero past m), and B's
     * rows are read in place. For j < nr <= dvn and i < dvw,
     *     tile[j*dvw + i] = s + sum over t < count, p < k of
     *                           ap[t*sap + p*dvw + i] * b[t*sb + j*ldb + p]
     * with s = 0 if first, else the tile's value: one FMA per term, in
     * increasing t then p. Each element is one chain of FMAs in order, so
     * its terms cut over several calls give the same bits. */
    void (*dotv)(size_t count, size_t k, const ag_real *ap, size_t sap, const ag_real *b,
                 size_t ldb, size_t sb, size_t nr, int first, ag_real *tile);
    size_t dvw, dvn;
    /* Optional micro-kernel for C = op(A) B^T with both operands stored
     * along k (ta = 0, tb = 1: a layer's forward product x W^T), with its
     * lanes along rows of C: a is a panel of lw rows of op(A) and all k of
     * them, packed by pack_rows with W = lw (a[p*lw + i] = A[i][p], zero
     * past the last row); b is B read in place (row j at b + j*ldb). For
     * i < mr <= lw and j < nr <= ln it does what agi_gemm_ukr does for each
     * k block [pc, pc + kc) in turn, with beta for the first block and 1
     * after: acc = sum over the block of a[p*lw + i] b[j*ldb + p], one FMA
     * per p in increasing p from zero, then c[i*ldc + j] = alpha acc (beta
     * 0) or fma(alpha, acc, beta c[i*ldc + j]). So each element gets the
     * operations of the packed path, with the same kc. With a bias (not
     * NULL), column j starts from bias[j] instead of C (beta is then 1 on
     * it), as if C's tile had been set to the bias first. */
    void (*lanes)(size_t k, size_t kc, const ag_real *a, const ag_real *b, size_t ldb,
                  ag_real *c, size_t ldc, size_t mr, size_t nr, ag_real alpha, ag_real beta,
                  const ag_real *bias);
    size_t lw, ln;
};

/* Variants compiled in and supported by this CPU, best first; returns how
 * many (at most max) were written to out. "ref" is not listed: it is
 * agi_gemm_ref, which has no micro-kernel. */
size_t agi_gemm_variants(const agi_gemm_kernel **out, size_t max);

/* The variant agi_gemm uses: NULL means the reference. Chosen on first use
 * from the CPU and AGRAD_KERNEL=ref|avx2|avx512 (an unknown or unsupported
 * name is ignored). */
const agi_gemm_kernel *agi_gemm_current(void);
/* Name of the variant agi_gemm uses ("ref", "avx2", "avx512"). */
const char *agi_gemm_name(void);
/* Forces a variant by name (NULL: choose again from the CPU and the
 * environment). Returns 0 if the name is unknown or unsupported here, in
 * which case nothing changes. Not thread-safe against concurrent GEMMs. */
int agi_gemm_select(const char *name);

/* agi_gemm with the given micro-kernel (NULL: the reference). */
void agi_gemm_with(const agi_gemm_kernel *kern, int ta, int tb, size_t m, size_t n, size_t k,
                   ag_real alpha, const ag_real *A, size_t lda, const ag_real *B, size_t ldb,
                   ag_real beta, ag_real *C, size_t ldc);

/* agi_gemm_batch with the given micro-kernel (NULL: the reference). */
void agi_gemm_batch_with(const agi_gemm_kernel *kern, int ta, int tb, size_t batch, size_t m,
                         size_t n, size_t k, ag_real alpha, const ag_real *A, size_t lda,
                         size_t sa, const ag_real *B, size_t ldb, size_t sb, ag_real beta,
                         ag_real *C, size_t ldc, size_t sc);

/* C_t = alpha op(A_t) op(B_t) + bias_t for each product t of a batch (as
 * agi_gemm_batch, with sc != 0 when batch > 1), bias_t = bias + t*sbias
 * (sbias 0: one bias for all): bias_t[j] added along column j of C_t
 * (AGI_BIAS_COLS), bias_t[i] along row i (AGI_BIAS_ROWS), or the m x n
 * matrix bias_t[i*n + j] (AGI_BIAS_FULL). The thread that computes a tile
 * of C sets it to the bias just before the tile's first k block, which then
 * adds (beta 1): no pass of its own over C. Each element's operations do
 * not depend on the thread count. */
enum { AGI_BIAS_COLS = 0, AGI_BIAS_ROWS = 1, AGI_BIAS_FULL = 2 };
void agi_gemm_bias_with(const agi_gemm_kernel *kern, int ta, int tb, size_t batch, size_t m,
                        size_t n, size_t k, ag_real alpha, const ag_real *A, size_t lda,
                        size_t sa, const ag_real *B, size_t ldb, size_t sb,
                        const ag_real *bias, size_t sbias, int bias_kind, ag_real *C,
                        size_t ldc, size_t sc);

/* Largest packed copy of both operands (bytes) for which GEMM packs them
 * whole and shares them between threads; larger problems pack blocks per
 * thread. (size_t)-1 restores the default. Returns the previous value. For
 * tests and benchmarks; not thread-safe against concurrent GEMMs. */
size_t agi_gemm_set_shared_max(size_t bytes);

/* Frees the calling thread's packing buffers (they are also freed when the
 * thread exits, and the main thread's at exit). */
void agi_gemm_release(void);

#endif
