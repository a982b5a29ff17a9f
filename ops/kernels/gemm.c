/* GEMM driver, after BLIS: op(A) is packed into MR-tall micro-panels and
 * op(B) into NR-wide ones, and a register-blocked micro-kernel computes
 * MR x NR tiles of C from them, k blocked by KC:
 *
 *   for jc in n step NC          B block (kc x nc) stays in L2
 *     for pc in k step KC        C = alpha A[:, pc] B[pc, :] + (pc ? 1 : beta) C
 *       for ir step MR           A micro-panel (MR x kc) stays in L1
 *         for jr step NR         B micro-panels stream from L2
 *           micro-kernel
 *
 * When the packed operands fit in PACK_SHARED_MAX bytes (every problem of
 * the training workloads), both are packed whole, once, by all threads
 * together, then the threads share them to compute disjoint tiles of C. A
 * larger problem is split into column (or row) ranges of C, each packing
 * its blocks privately (mc x kc of A, kc x nc of B) as it goes; there the
 * product is large enough for the repeated packing not to matter.
 *
 * Packing reads op(A), op(B) through their strides, so every transpose
 * combination costs the same and none is materialised; it zero-pads partial
 * panels, and the micro-kernel masks its stores, so edge tiles take the fast
 * path. Where op(B)'s rows are contiguous, op(A) has few rows and B's
 * rows are not a multiple of 4 KiB apart, B's whole panels are not packed
 * at all: the micro-kernel reads them in place (see DIRECT_B_MAX_M). The k blocking
 * depends only on k and the kernel, and threads split only whole MR or NR
 * tiles of C, so each element of C sees the same operations for any thread
 * count. */
#if defined(__linux__)
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include "internal.h"
#include "kernels.h"

/* Work is handed to other threads only in pieces of at least this many
 * flops (or elements packed): a parallel region costs 0.2-1 us (0.8 us is
 * 0.2 MFLOP on a Zen 5 core). 2 threads, steps/s, pieces of 1.5, 0.8,
 * 0.4, 0.2 and 0.1 MFLOP: W-RNN 1482 / 1538 / 1850 / 1889 / - before the
 * pool spun without yielding first, then - / 1461 / 1960 / 2013 / 2022;
 * W-GRU 356 / 442 / 486 / 442 / -, then - / 372 / 486 / 499 / 459; W-LSTM
 * about equal from 1.5 to 0.2 (368 at 0.1); W-MLP and W-CNN equal. (Runs
 * where the host slowed the second vCPU lost more with smaller pieces:
 * W-RNN 1434 at 1.5, 834-900 at 0.4-0.1.) */
#define MIN_FLOPS_PER_CHUNK 0.2e6
/* The same for the shared path's compute phase, whose threads read panels
 * another thread packed: those cross between the cores, which costs more
 * than the region. 2 threads, GFLOP/s, pieces of 0.2 MFLOP -> 0.4: 64^3
 * 72-73 -> 214-216 (no longer split); W-RNN's 32x128x128 products still
 * split (pieces of 1.5 MFLOP: W-RNN 1687-1718 steps/s, 0.4: 2026-2069). */
#define MIN_FLOPS_SHARED_CHUNK 0.4e6
#define MIN_PACK_PER_CHUNK 32768.0
/* Largest packed copy of both operands made for the shared path. Beyond
 * it each thread packs blocks of MC rows as it goes, which keeps the
 * packed A it streams in L2: the shared path streams all of op(A)'s panels
 * past each k x NC block of B. GFLOP/s with 16 MiB -> 4 MiB (Zen 5, avx512,
 * float, two rounds): one thread 1024^3 212-217 -> 232-235, 768^3
 * 221-230 -> 233-234; two threads 1024^3 361-363 -> 422-426, 768^3
 * 385-389 -> 427-440; 512^3 and 640^3 (within 4 MiB) unchanged. */
#define PACK_SHARED_MAX ((size_t)4 << 20)
/* Smallest product that packs on the shared path (unless its operands fit
 * on the stack): below it, the packing is too small to split and one
 * thread packed everything while the others waited. 2 threads, GFLOP/s
 * shared -> private: 4.2 MFLOP products (W-MLP's second layer and its
 * gradients, an LSTM step) 118-156 -> 149-186; 25.7 MFLOP ones about
 * equal (155 -> 146-151, 162 -> 165); 256^3 175 -> 159. One thread:
 * equal. */
#define SHARED_MIN_FLOPS 12e6
static size_t pack_shared_max = PACK_SHARED_MAX;

/* ---- dispatch ---- */

static const agi_gemm_kernel *chosen;
static pthread_once_t dispatch_once = PTHREAD_ONCE_INIT;

/* Kernel by name among the supported ones; *found tells whether the name
 * was known and supported ("ref" gives NULL, found). */
static const agi_gemm_kernel *lookup(const char *name, int *found)
{
    const agi_gemm_kernel *v[8];
    size_t nv = agi_gemm_variants(v, 8);
    *found = 1;
    if (strcmp(name, "ref") == 0)
        return NULL;
    for (size_t i = 0; i < nv; i++)
        if (strcmp(v[i]->name, name) == 0)
            return v[i];
    *found = 0;
    return NULL;
}

static void choose(void)
{
    const agi_gemm_kernel *v[8];
    size_t nv = agi_gemm_variants(v, 8);
    chosen = nv ? v[0] : NULL;
    const char *e = getenv("AGRAD_KERNEL");
    if (e) {
        int found;
        const agi_gemm_kernel *k = lookup(e, &found);
        if (found)
            chosen = k;
    }
}

const agi_gemm_kernel *agi_gemm_current(void)
{
    pthread_once(&dispatch_once, choose);
    return chosen;
}

const char *agi_gemm_name(void)
{
    const agi_gemm_kernel *k = agi_gemm_current();
    return k ? k->name : "ref";
}

int agi_gemm_select(const char *name)
{
    pthread_once(&dispatch_once, choose);
    if (!name) {
        choose();
        return 1;
    }
    int found;
    const agi_gemm_kernel *k = lookup(name, &found);
    if (found)
        chosen = k;
    return found;
}

/* ---- per-thread packing buffers ---- */

/* One block per thread: a header holding its size, then the 64-byte aligned
 * packing area. Grown when a call needs more, never shrunk. */
typedef struct packbuf {
    size_t bytes; /* whole allocation */
    size_t cap;   /* usable elements */
} packbuf;

#define PACK_HDR 64

/* Two per thread: the packing area, and the partial sums of a C-shared
 * batch split into groups (those are written by other threads too, and
 * must outlive the packing the calling thread does meanwhile). */
static pthread_key_t buf_key, sums_key;
static pthread_once_t buf_once = PTHREAD_ONCE_INIT;

static void buf_free(void *p)
{
    packbuf *b = p;
    if (b)
        agi_free(b, b->bytes);
}

static void release_at_exit(void)
{
    agi_gemm_release();
}

static void buf_init(void)
{
    pthread_key_create(&buf_key, buf_free);
    pthread_key_create(&sums_key, buf_free);
    atexit(release_at_exit);
}

void agi_gemm_release(void)
{
    pthread_once(&buf_once, buf_init);
    buf_free(pthread_getspecific(buf_key));
    pthread_setspecific(buf_key, NULL);
    buf_free(pthread_getspecific(sums_key));
    pthread_setspecific(sums_key, NULL);
}

/* Large packing buffers (a big product's operands packed whole) in 2 MiB
 * pages where Linux allows it: the 8 MiB of a 1024^3 product's packed
 * operands plus its C span about as many 4 KiB pages as the second-level
 * TLB holds (1024^3 on one thread: 101.7-103.0 -> 103.0-104.0 GFLOP/s,
 * 3 alternating pairs). Only a hint; nothing depends on it. */
static void advise_huge(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1), hi = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (bytes >= 2 * huge && hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

/* The calling thread's buffer under *key with room for n elements, or
 * NULL. */
static ag_real *thread_buffer(const pthread_key_t *key, size_t n)
{
    pthread_once(&buf_once, buf_init);
    packbuf *b = pthread_getspecific(*key);
    if (!b || b->cap < n) {
        buf_free(b);
        pthread_setspecific(*key, NULL);
        size_t bytes = PACK_HDR + n * sizeof(ag_real) + 64;
        b = agi_alloc(bytes);
        if (!b)
            return NULL;
        b->bytes = bytes;
        b->cap = n;
        advise_huge(b, bytes);
        pthread_setspecific(*key, b);
    }
    uintptr_t p = (uintptr_t)b + PACK_HDR;
    return (ag_real *)((p + 63) & ~(uintptr_t)63);
}

static ag_real *pack_buffer(size_t n)
{
    return thread_buffer(&buf_key, n);
}

/* ---- packing ---- */

/* Packs len x kc values X[r*rs + p*cs] (r < len, p < kc) into W-wide
 * micro-panels: panel q holds dst[q*W*kc + p*W + w] = X[(q*W + w)*rs + p*cs],
 * zero where q*W + w >= len. A block of op(A) is packed with r = row of C
 * and W = MR, a block of op(B) with r = column of C and W = NR; the strides
 * express the transposes. */
static void pack(const agi_gemm_kernel *K, const ag_real *X, size_t rs, size_t cs, size_t len,
                 size_t kc, size_t W, ag_real *dst)
{
    for (size_t r0 = 0; r0 < len; r0 += W, dst += W * kc) {
        size_t w = len - r0 < W ? len - r0 : W;
        if (rs == 1 && K->pack_cols && W * sizeof(ag_real) % 32 == 0) {
            K->pack_cols(X + r0, cs, w, kc, W, dst); /* a copy, with the ISA's vectors */
        } else if (rs == 1) { /* W consecutive values per p */
            for (size_t p = 0; p < kc; p++) {
                ag_real *d = dst + p * W;
                if (w == 32) /* constant sizes become a few vector moves */
                    memcpy(d, X + r0 + p * cs, 32 * sizeof *d);
                else if (w == 16)
                    memcpy(d, X + r0 + p * cs, 16 * sizeof *d);
                else
                    memcpy(d, X + r0 + p * cs, w * sizeof *d);
                if (w < W)
                    memset(d + w, 0, (W - w) * sizeof *d);
            }
        } else if (cs == 1 && K->pack_rows) { /* a transpose, with the ISA's vectors */
            K->pack_rows(X + r0 * rs, rs, w, kc, W, dst);
        } else {
            for (size_t i = 0; i < w; i++) {
                const ag_real *s = X + (r0 + i) * rs;
                for (size_t p = 0; p < kc; p++) dst[p * W + i] = s[p * cs];
            }
            for (size_t p = 0; p < kc; p++) memset(dst + p * W + w, 0, (W - w) * sizeof *dst);
        }
    }
}

/* ---- the blocked product ---- */

/* The micro-kernel for a tile nr columns wide: the half-width one when the
 * columns fit it (the same operations on each element, half the FMAs). */
static inline agi_gemm_ukr *tile_ukr(const agi_gemm_kernel *K, size_t nr)
{
    return K->ukr_half && 2 * nr <= K->nr ? K->ukr_half : K->ukr;
}

/* Packed operands of problems this small (elements) live on the stack. */
#define SMALL_LEN (16384 / sizeof(ag_real))
/* Used, one thread at a time, when a packing buffer cannot be allocated: it
 * holds one MR x kc and one kc x NR micro-panel of any kernel (kc <= 256,
 * MR + NR <= 64). */
#define EMERGENCY_LEN (256 * 64 + 64)
static _Alignas(64) ag_real emergency_buf[EMERGENCY_LEN];
static pthread_mutex_t emergency_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct gemm_args {
    const agi_gemm_kernel *kern;
    int ta, tb, split_n;
    int b_direct; /* op(B)'s whole panels are read in place (see plan) */
    size_t m, n, k, kc; /* kc: the k block, the same for every thread */
    ag_real alpha, beta;
    const ag_real *A, *B;
    size_t lda, ldb, ldc;
    ag_real *C;
    /* Shared path: pa panels of op(A), each MR x k, and pb of op(B), each
     * k x NR, packed whole: the block of rows [pc, pc+kc) of a panel starts
     * pc*MR (pc*NR) elements into it. */
    ag_real *ap, *bp;
    size_t pa, pb;
    /* op(B)'s panels before panel jb0 are read in place (B's rows are
     * contiguous); the ones from jb0 on are packed, panel jb0 first. */
    size_t jb0;
    /* Batches: products t < batch with operands A + t*sa, B + t*sb and
     * C + t*sc (batch is 1 for one product). */
    size_t batch, sa, sb, sc;
    size_t a_len; /* A-shared batches: elements of the packed op(A) */
    /* A bias (agi_gemm_bias_with): C_t = alpha op(A_t) op(B_t) + bias_t,
     * bias_t = bias + t*sbias: bias_t[j] along column j (bias_kind
     * AGI_BIAS_COLS), bias_t[i] along row i (AGI_BIAS_ROWS), or the matrix
     * bias_t[i*bias_ld + j] (AGI_BIAS_FULL); NULL for none. */
    const ag_real *bias;
    size_t sbias, bias_ld;
    int bias_kind;
} gemm_args;

static size_t round_up(size_t x, size_t r)
{
    return (x + r - 1) / r * r;
}

/* Rows [i0, i1) and columns [p0, p0+kc) of op(A) into MR-tall panels (A is
 * g->A or one product's A in a batch). */
static void pack_a(const gemm_args *g, const ag_real *A, size_t i0, size_t i1, size_t p0,
                   size_t kc, ag_real *dst)
{
    if (g->ta) /* op(A)[i][p] = A[p][i] */
        pack(g->kern, A + p0 * g->lda + i0, 1, g->lda, i1 - i0, kc, g->kern->mr, dst);
    else
        pack(g->kern, A + i0 * g->lda + p0, g->lda, 1, i1 - i0, kc, g->kern->mr, dst);
}

/* Rows [p0, p0+kc) and columns [j0, j1) of op(B) into NR-wide panels. */
static void pack_b(const gemm_args *g, const ag_real *B, size_t j0, size_t j1, size_t p0,
                   size_t kc, ag_real *dst)
{
    if (g->tb) /* op(B)[p][j] = B[j][p] */
        pack(g->kern, B + j0 * g->ldb + p0, g->ldb, 1, j1 - j0, kc, g->kern->nr, dst);
    else
        pack(g->kern, B + p0 * g->ldb + j0, 1, g->ldb, j1 - j0, kc, g->kern->nr, dst);
}

/* The beta product t of a batch applies to its C: each product scales its
 * own C, but a shared C (sc = 0) is scaled once, by the first. */
static ag_real product_beta(const gemm_args *g, size_t t)
{
    return t == 0 || g->sc != 0 ? g->beta : 1;
}

/* Product t's bias (NULL for none). */
static const ag_real *product_bias(const gemm_args *g, size_t t)
{
    return g->bias ? g->bias + t * g->sbias : NULL;
}

/* The beta of the first k block of C's block [i0, i1) x [j0, j1), for a
 * product with bias b: with a bias, the block is set to it here, by the
 * thread that computes it, and the product adds to it (beta 1); else
 * beta. */
static ag_real start_block(const gemm_args *g, const ag_real *b, ag_real *C, size_t i0,
                           size_t i1, size_t j0, size_t j1, ag_real beta)
{
    if (!b)
        return beta;
    for (size_t i = i0; i < i1; i++) {
        ag_real *c = C + i * g->ldc;
        if (g->bias_kind == AGI_BIAS_ROWS)
            for (size_t j = j0; j < j1; j++) c[j] = b[i];
        else if (g->bias_kind == AGI_BIAS_COLS)
            for (size_t j = j0; j < j1; j++) c[j] = b[j];
        else
            for (size_t j = j0; j < j1; j++) c[j] = b[i * g->bias_ld + j];
    }
    return 1;
}

/* C[i0:i1, j0:j1] with the kernel, for each product of the batch in turn;
 * i0 and j0 are multiples of MR and NR. */
static void gemm_block(const gemm_args *g, size_t i0, size_t i1, size_t j0, size_t j1)
{
    const agi_gemm_kernel *K = g->kern;
    size_t MR = K->mr, NR = K->nr;
    size_t mcb = round_up(i1 - i0, MR), ncb = round_up(j1 - j0, NR);
    mcb = mcb < K->mc ? mcb : K->mc;
    ncb = ncb < K->nc ? ncb : K->nc;
    /* The buffer is laid out for the blocks of the whole of C, so that its
     * size does not depend on which pieces this thread happened to take.
     * Where C spans more than one block of columns, the packed panels of
     * op(A) are kept for all of C's rows (retain) and packed only for the
     * first block of columns: each later block reads them again instead of
     * packing them again. */
    size_t mcw = round_up(g->m, MR), ncw = round_up(g->n, NR);
    int retain = ncw > K->nc;
    size_t a_len = round_up(g->kc * (retain || mcw < K->mc ? mcw : K->mc), 64 / sizeof(ag_real));
    /* (with B read in place, only a last partial panel is packed) */
    size_t b_len = g->kc * (g->b_direct ? NR : ncw < K->nc ? ncw : K->nc);
    _Alignas(64) ag_real small[2 * SMALL_LEN]; /* (small products stay on the stack) */
    ag_real *ap = a_len + b_len <= 2 * SMALL_LEN ? small : pack_buffer(a_len + b_len);
    int emergency = 0;
    if (!ap) {
        if (g->kc * (MR + NR) + 64 > EMERGENCY_LEN) { /* a kernel with larger blocks */
            for (size_t t = 0; t < g->batch; t++) {
                ag_real *C = g->C + t * g->sc;
                ag_real beta =
                    start_block(g, product_bias(g, t), C, i0, i1, j0, j1, product_beta(g, t));
                agi_gemm_ref(g->ta, g->tb, i1 - i0, j1 - j0, g->k, g->alpha,
                             g->A + t * g->sa + (g->ta ? i0 : i0 * g->lda), g->lda,
                             g->B + t * g->sb + (g->tb ? j0 * g->ldb : j0), g->ldb, beta,
                             C + i0 * g->ldc + j0, g->ldc);
            }
            return;
        }
        /* Out of memory: the static buffer, one tile at a time. mc and nc
         * change no element's operations, so the result is the same. */
        pthread_mutex_lock(&emergency_lock);
        emergency = 1;
        ap = emergency_buf;
        mcb = MR;
        ncb = NR;
        a_len = round_up(g->kc * MR, 64 / sizeof(ag_real));
        retain = 0;
    }
    ag_real *bp = ap + a_len;
    for (size_t t = 0; t < g->batch; t++) {
        const ag_real *A = g->A + t * g->sa, *B = g->B + t * g->sb, *bias = product_bias(g, t);
        ag_real *C = g->C + t * g->sc;
        ag_real beta0 = product_beta(g, t);
        for (size_t pc = 0; pc < g->k; pc += g->kc) {
            size_t kc = g->k - pc < g->kc ? g->k - pc : g->kc;
            for (size_t jc = j0; jc < j1; jc += ncb) {
                size_t nc = j1 - jc < ncb ? j1 - jc : ncb;
                /* whole panels before jp read in place, the rest packed */
                size_t jp = g->b_direct ? jc + nc / NR * NR : jc;
                if (jp < jc + nc)
                    pack_b(g, B, jp, jc + nc, pc, kc, bp);
                for (size_t ic = i0; ic < i1; ic += mcb) {
                    size_t mc = i1 - ic < mcb ? i1 - ic : mcb;
                    ag_real *a = retain ? ap + (ic - i0) * kc : ap;
                    if (!retain || jc == j0)
                        pack_a(g, A, ic, ic + mc, pc, kc, a);
                    for (size_t ir = 0; ir < mc; ir += MR) {
                        size_t mr = mc - ir < MR ? mc - ir : MR;
                        ag_real *c = C + (ic + ir) * g->ldc + jc;
                        for (size_t jr = 0; jr < nc; jr += NR) {
                            size_t nr = nc - jr < NR ? nc - jr : NR, j = jc + jr;
                            agi_gemm_ukr *ukr = tile_ukr(K, nr);
                            ag_real beta = pc ? 1
                                              : start_block(g, bias, C, ic + ir, ic + ir + mr, j,
                                                            j + nr, beta0);
                            if (jc + jr < jp)
                                ukr(kc, a + ir * kc, B + pc * g->ldb + jc + jr, g->ldb, c + jr,
                                    g->ldc, mr, nr, g->alpha, beta);
                            else
                                ukr(kc, a + ir * kc, bp + (jc + jr - jp) * kc, NR, c + jr,
                                    g->ldc, mr, nr, g->alpha, beta);
                        }
                    }
                }
            }
        }
    }
    if (emergency)
        pthread_mutex_unlock(&emergency_lock);
}

/* Tiles [lo, hi) of the split dimension. */
static void gemm_task(void *ctx, size_t lo, size_t hi)
{
    const gemm_args *g = ctx;
    if (g->split_n) {
        size_t NR = g->kern->nr, j1 = hi * NR;
        gemm_block(g, 0, g->m, lo * NR, j1 < g->n ? j1 : g->n);
    } else {
        size_t MR = g->kern->mr, i1 = hi * MR;
        gemm_block(g, lo * MR, i1 < g->m ? i1 : g->m, 0, g->n);
    }
}

/* Shared path, phase 1: pa + pb units, each a panel of op(A) or of op(B). */
static void pack_task(void *ctx, size_t lo, size_t hi)
{
    /* The units interleave A's and B's panels in proportion: unit u is
     * preceded by u pa / (pa + pb) of A's (rounded down). A block of units
     * is then about the same fraction of each operand, as a thread's block
     * of compute_task is of the split one: the panels a thread computes with
     * were mostly packed by it, and stay in its caches. */
    const gemm_args *g = ctx;
    size_t MR = g->kern->mr, NR = g->kern->nr, k = g->k, units = g->pa + g->pb - g->jb0;
    size_t a0 = lo * g->pa / units, a1 = hi * g->pa / units;
    size_t b0 = g->jb0 + lo - a0, b1 = g->jb0 + hi - a1;
    if (a0 < a1) {
        size_t i1 = a1 * MR < g->m ? a1 * MR : g->m;
        pack_a(g, g->A, a0 * MR, i1, 0, k, g->ap + a0 * MR * k);
    }
    if (b0 < b1) {
        size_t j0 = b0 * NR, j1 = b1 * NR < g->n ? b1 * NR : g->n;
        pack_b(g, g->B, j0, j1, 0, k, g->bp + (j0 - g->jb0 * NR) * k);
    }
}

/* Shared path, phase 2: panels [lo, hi) of the split dimension. */
static void compute_task(void *ctx, size_t lo, size_t hi)
{
    const gemm_args *g = ctx;
    const agi_gemm_kernel *K = g->kern;
    size_t MR = K->mr, NR = K->nr, k = g->k, ncp = K->nc / NR; /* NC in panels */
    size_t ir0 = g->split_n ? 0 : lo, ir1 = g->split_n ? g->pa : hi;
    size_t jr0 = g->split_n ? lo : 0, jr1 = g->split_n ? hi : g->pb;
    for (size_t jc = jr0; jc < jr1; jc += ncp) {
        size_t jc1 = jr1 - jc < ncp ? jr1 : jc + ncp;
        for (size_t pc = 0; pc < k; pc += g->kc) {
            size_t kc = k - pc < g->kc ? k - pc : g->kc;
            for (size_t ir = ir0; ir < ir1; ir++) {
                size_t i = ir * MR, mr = g->m - i < MR ? g->m - i : MR;
                const ag_real *a = g->ap + ir * MR * k + pc * MR;
                for (size_t jr = jc; jr < jc1; jr++) {
                    size_t j = jr * NR, nr = g->n - j < NR ? g->n - j : NR;
                    agi_gemm_ukr *ukr = tile_ukr(K, nr);
                    ag_real beta =
                        pc ? 1 : start_block(g, g->bias, g->C, i, i + mr, j, j + nr, g->beta);
                    if (jr < g->jb0)
                        ukr(kc, a, g->B + pc * g->ldb + j, g->ldb, g->C + i * g->ldc + j, g->ldc,
                            mr, nr, g->alpha, beta);
                    else
                        ukr(kc, a, g->bp + (jr - g->jb0) * NR * k + pc * NR, NR,
                            g->C + i * g->ldc + j, g->ldc, mr, nr, g->alpha, beta);
                }
            }
        }
    }
}

/* The reference split over rows: each row of C is computed the same way
 * whatever the split. */
static void ref_task(void *ctx, size_t lo, size_t hi)
{
    const gemm_args *g = ctx;
    ag_real beta = start_block(g, g->bias, g->C, lo, hi, 0, g->n, g->beta);
    agi_gemm_ref(g->ta, g->tb, hi - lo, g->n, g->k, g->alpha, g->A + (g->ta ? lo : lo * g->lda),
                 g->lda, g->B, g->ldb, beta, g->C + lo * g->ldc, g->ldc);
}

/* Where op(B)'s rows are contiguous (tb = 0), the micro-kernel can read a
 * panel of it in place, NR values from each of kc rows ldb apart, instead
 * of from a packed copy; the values and their order are the same, so are
 * the results. Reading in place saves the pass that packing makes over B.
 * It pays only while op(A) has few rows (past DIRECT_B_MAX_M rows, the
 * many reuses of each packed panel win) and while B's rows are not a
 * multiple of 4 KiB apart: then the kc rows of a panel fall into the same
 * few sets of L1 and L2 and evict each other. One thread, avx512, float,
 * GFLOP/s, packed -> in place, on a Zen 5 (EPYC, 512-bit FMA): 32x512x128
 * 198.6-205.3 -> 249.1-249.2, 64x256x784 208.0-208.9 -> 241.6-242.4,
 * 256^3 235.5-238.3 -> 245.3-248.0, 64x1000x1000 200.7-207.5 ->
 * 232.0-236.9, 64x1536x1536 122.5-131.9 -> 218.0-221.0; but with rows 4
 * KiB apart 512x1024x1024 204.8-211.2 -> 161.4-161.9, 64x1024x1024
 * 198.2-210.0 -> 176.0-176.8, 128x2048x512 182.0-210.3 -> 168.6-173.7;
 * with more rows, 1536^3 236.4-238.7 -> 213.3-214.7 (B's rows 64-byte
 * aligned). On a Zen 4 (256-bit FMA units) the two paths were within a
 * few percent of each other at these sizes, the aliased ones included. */
#define DIRECT_B_MAX_M 512

/* A product with op(B) read in place and at most this many rows is split
 * over the threads by rows of C, each thread packing its own rows of A
 * (the private path): one parallel region and no packed panel read from
 * the other core, where sharing a packed A took two. With more rows, the
 * split along n keeps each thread's block of B smaller in L2. Two threads,
 * avx512, float, GFLOP/s shared -> rows private: 64x256x784 200.7 ->
 * 217.9, 256^3 193.1 -> 197.3, 512^3 212.9 -> 207.0, 1024^3 215.0 ->
 * 208.8; W-MLP's products at 2 threads, 372 -> 358 us a step. */
#define ROWS_PRIVATE_MAX_M 256

/* The micro-kernel, k block and panel counts of a product with kern: they
 * depend only on m, n, k and kern, so that the products of a batch get the
 * operations agi_gemm would give each of them. */
static void plan(gemm_args *g, const agi_gemm_kernel *kern)
{
    /* The narrower sibling unless it pads m more. Measured with B read in
     * place or packed, one thread, avx512, float, GFLOP/s 12 -> 8 rows:
     * 128^3 102.5 -> 110.1, 256^3 105.3-107.4 -> 112.7-112.9, 512^3
     * 108.9-109.4 -> 111.7-112.3, 1024^3 102.9-103.0 -> 103.9-105.1,
     * 784x256x64 105.6 -> 108.7, 600x64x300 100.7 -> 103.8 (12 and 8 both
     * divide 600), 384^3 and 1000^3 equal; 256x784x64 with op(A)
     * transposed 100.1 -> 104.4; 129^3 84.3 -> 82.4 (8 pads more). */
    if (kern->narrow && round_up(g->m, kern->narrow->mr) <= round_up(g->m, kern->mr))
        kern = kern->narrow;
    g->kern = kern;
    /* k blocks of equal size (to a multiple of 8) rather than a short tail. */
    size_t nkb = (g->k + kern->kc - 1) / kern->kc;
    g->kc = round_up((g->k + nkb - 1) / nkb, 8);
    g->kc = g->kc < g->k ? g->kc : g->k;
    g->pa = (g->m + kern->mr - 1) / kern->mr;
    g->pb = (g->n + kern->nr - 1) / kern->nr;
    g->b_direct = !g->tb && g->m <= DIRECT_B_MAX_M && g->ldb * sizeof(ag_real) % 4096 != 0;
}

/* A product with both operands stored along k (ta = 0, tb = 1) and at most
 * this many rows takes the kernel's lanes micro-kernel: op(A) is packed,
 * B (a layer's weight, usually the larger operand) is read in place. */
#define LANES_MAX_M 256
/* ... and op(A) of at most this many elements (it is packed whole). */
#define LANES_PACK_MAX (1u << 18)
/* ... and, split over threads, op(A) is packed once in parallel (each
 * thread packs a share of its panels, then reads all of them) rather than
 * whole by each thread, from this many elements. Two threads, W-MLP's
 * products (ta = 0, tb = 1), us, each packing all -> packed once:
 * 64x256x784 61.1-61.9 -> 58.7-59.6; 64x128x256 (op(A) of 16384) 11.7-12.0
 * -> 12.2-12.5, where the second parallel region costs more than it saves. */
#define LANES_SHARE_MIN (1u << 15)

static int use_lanes(const gemm_args *g)
{
    const agi_gemm_kernel *K = g->kern;
    return K->lanes && K->pack_rows && !g->ta && g->tb && g->m <= LANES_MAX_M &&
           g->m * g->k <= LANES_PACK_MAX;
}

/* Row panels [p0, p1) of op(A) for the lanes kernel, panel ip at
 * ap + (ip - p0) lw k. */
static void lanes_pack(const gemm_args *g, size_t p0, size_t p1, ag_real *ap)
{
    const agi_gemm_kernel *K = g->kern;
    size_t LWd = K->lw;
    for (size_t ip = p0; ip < p1; ip++) {
        size_t i = ip * LWd, mr = g->m - i < LWd ? g->m - i : LWd;
        K->pack_rows(g->A + i * g->lda, g->lda, mr, g->k, LWd, ap + (ip - p0) * LWd * g->k);
    }
}

/* Columns [j0, j1) of C's row panels [p0, p1) with the lanes kernel, from
 * those panels of op(A) packed at ap. */
static void lanes_tiles(const gemm_args *g, const ag_real *ap, size_t p0, size_t p1, size_t j0,
                        size_t j1)
{
    const agi_gemm_kernel *K = g->kern;
    size_t LWd = K->lw, LN = K->ln;
    for (size_t j = j0; j < j1; j += LN) {
        size_t nr = j1 - j < LN ? j1 - j : LN;
        for (size_t ip = p0; ip < p1; ip++) {
            size_t i = ip * LWd, mr = g->m - i < LWd ? g->m - i : LWd;
            /* a bias along columns goes to the kernel, which starts its
             * tile from it; others are set in C */
            const ag_real *bias = g->bias && g->bias_kind == AGI_BIAS_COLS ? g->bias + j : NULL;
            ag_real beta =
                bias ? g->beta : start_block(g, g->bias, g->C, i, i + mr, j, j + nr, g->beta);
            K->lanes(g->k, g->kc, ap + (ip - p0) * LWd * g->k, g->B + j * g->ldb, g->ldb,
                     g->C + i * g->ldc + j, g->ldc, mr, nr, g->alpha, beta, bias);
        }
    }
}

static void lanes_pack_task(void *ctx, size_t lo, size_t hi)
{
    const gemm_args *g = ctx;
    lanes_pack(g, lo, hi, g->ap + lo * g->kern->lw * g->k);
}

/* Columns [lo*ln, hi*ln) of C with the lanes micro-kernel: all of op(A)
 * packed (by this thread, or already in g->ap), all of k, then for each ln
 * rows of B (read in place) each panel of lw rows, the kernel taking k in
 * the packed path's blocks. Without a packing buffer, the packed path
 * (which has its own way out): each element gets the same operations
 * either way. */
static void lanes_task(void *ctx, size_t lo, size_t hi)
{
    const gemm_args *g = ctx;
    const agi_gemm_kernel *K = g->kern;
    size_t LWd = K->lw, LN = K->ln, panels = (g->m + LWd - 1) / LWd;
    size_t j0 = lo * LN, j1 = hi * LN < g->n ? hi * LN : g->n, len = panels * LWd * g->k;
    _Alignas(64) ag_real small[SMALL_LEN]; /* (operands that fit stay on the stack) */
    ag_real *ap = g->ap ? g->ap : len <= SMALL_LEN ? small : pack_buffer(len);
    if (!ap) {
        gemm_block(g, 0, g->m, j0, j1);
        return;
    }
    if (!g->ap)
        lanes_pack(g, 0, panels, ap);
    lanes_tiles(g, ap, 0, panels, j0, j1);
}

/* Panels [lo, hi) of op(A)'s rows with the lanes kernel, all columns of C:
 * the split of a product whose op(A) is small (below LANES_SHARE_MIN) when
 * each thread gets a panel of its own. Each thread packs only its panels
 * and reads all of B. Two threads, W-MLP's products, us (scratch program,
 * median of 5, three rounds alternating with the split by columns):
 * 64x128x256 11.8-12.0 -> 10.3-10.4, 64x10x128 1.51-1.52 -> 0.96; W-MLP
 * 5607-5636 -> 5696-5756 steps/s (three pairs alternating; a fourth had
 * the host slow the second vCPU). Only when each panel is worth at least
 * LANES_PANEL_MIN_FLOPS (the 64x10x128 product's panels are 0.08 MFLOP).
 * Each tile gets the same call as in the split by columns, so the same
 * bits. */
#define LANES_PANEL_MIN_FLOPS 0.05e6
static void lanes_rows_task(void *ctx, size_t lo, size_t hi)
{
    const gemm_args *g = ctx;
    const agi_gemm_kernel *K = g->kern;
    size_t LWd = K->lw, len = (hi - lo) * LWd * g->k;
    _Alignas(64) ag_real small[SMALL_LEN];
    ag_real *ap = len <= SMALL_LEN ? small : pack_buffer(len);
    if (!ap) {
        size_t i1 = hi * LWd < g->m ? hi * LWd : g->m;
        gemm_block(g, lo * LWd, i1, 0, g->n);
        return;
    }
    lanes_pack(g, lo, hi, ap);
    lanes_tiles(g, ap, lo, hi, 0, g->n);
}

/* One product, g->batch = 1 (the fields from kern to C, and the bias). */
static void gemm_one(const gemm_args *in)
{
    gemm_args g = *in;
    const agi_gemm_kernel *kern = g.kern;
    size_t m = g.m, n = g.n, k = g.k;
    if (m == 0 || n == 0)
        return;
    double flops = 2.0 * (double)m * (double)n * (double)k;
    if (!kern || k == 0) {
        size_t per_row = (size_t)(MIN_FLOPS_PER_CHUNK / (2.0 * (double)n * (double)(k + 1))) + 1;
        agi_parallel_for(m, per_row, ref_task, &g);
        return;
    }
    plan(&g, kern);
    kern = g.kern;
    if (use_lanes(&g)) {
        /* A small op(A) with a panel of rows for each thread is split by
         * those panels (lanes_rows_task). Otherwise one piece per thread,
         * split by columns of C: each thread packs all of op(A) (it is
         * short; from LANES_SHARE_MIN elements the threads first pack it
         * once between them) and reads its own rows of B, the rows
         * of the weight that the optimizer's update and the weight
         * gradient's product give the same thread (see optim). Split by
         * panels of rows instead, no row of op(A) would be packed twice
         * (alone, W-MLP's 64 x 256 x 784 at 2 threads took 123.6 us against
         * 128.2), but each core would read all of W, and the update then
         * takes lines from the other core: W-MLP at 2 threads, six runs
         * alternating, median 2547 steps/s split by rows, 2600 by columns. */
        size_t nt = (size_t)ag_get_threads();
        size_t units = (n + kern->ln - 1) / kern->ln;
        double per_unit = flops / (double)units;
        size_t min_units = (size_t)(MIN_FLOPS_PER_CHUNK / per_unit) + 1;
        min_units = units / nt > min_units ? units / nt : min_units;
        size_t panels = (m + kern->lw - 1) / kern->lw, len = panels * kern->lw * k;
        if (nt > 1 && panels >= nt && len < LANES_SHARE_MIN &&
            flops >= LANES_PANEL_MIN_FLOPS * (double)panels) {
            agi_parallel_for(panels, 1, lanes_rows_task, &g);
            return;
        }
        if (nt > 1 && units >= 2 * min_units && len >= LANES_SHARE_MIN) {
            g.ap = pack_buffer(len);
            if (g.ap)
                agi_parallel_for(panels, 1, lanes_pack_task, &g);
        }
        agi_parallel_for(units, min_units, lanes_task, &g);
        return;
    }
    /* Split the larger dimension (on the private path each thread packs
     * the whole of the other operand), except where B is read in place and
     * A is short: there each thread packs its own rows of A, reads all of B
     * where it is, and the product needs no packing phase of its own (see
     * ROWS_PRIVATE_MAX_M). That holds for operands small enough for the
     * stack too, unless one thread does it all: with the stack's shared
     * packing, the other thread read panels packed on this core. 2 threads,
     * two rounds, GFLOP/s stack -> rows private: 32x128x128 348-357 ->
     * 389-395, 128x128x32 329-331 -> 360-372, 64^3 211 -> 332-346; steps/s
     * W-RNN 2011-2017 -> 2121-2165, W-GRU 520-522 -> 534-542. */
    size_t nt = (size_t)ag_get_threads();
    size_t a_len = round_up(g.pa * kern->mr * k, 64 / sizeof(ag_real)); /* keeps bp aligned */
    g.jb0 = g.b_direct ? g.n / kern->nr : 0;
    size_t len = a_len + (g.pb - g.jb0) * kern->nr * k;
    /* (operands that fit on the stack stay there) */
    int rows_private = g.b_direct && m <= ROWS_PRIVATE_MAX_M && (len > SMALL_LEN || nt > 1);
    g.split_n = n >= m && !rows_private;
    size_t tiles = g.split_n ? g.pb : g.pa;
    double per_tile = flops / (double)tiles;
    size_t min_tiles = (size_t)(MIN_FLOPS_PER_CHUNK / per_tile) + 1;
    if (!rows_private && len <= pack_shared_max / sizeof(ag_real) &&
        (len <= SMALL_LEN || flops >= SHARED_MIN_FLOPS)) {
        _Alignas(64) ag_real small[SMALL_LEN];
        ag_real *buf = len <= SMALL_LEN ? small : pack_buffer(len);
        if (buf) {
            g.ap = buf;
            g.bp = buf + a_len;
            size_t per_unit = (kern->mr > kern->nr ? kern->mr : kern->nr) * k;
            size_t min_units = (size_t)(MIN_PACK_PER_CHUNK / (double)per_unit) + 1;
            agi_parallel_for(g.pa + g.pb - g.jb0, min_units, pack_task, &g);
            size_t min_shared = (size_t)(MIN_FLOPS_SHARED_CHUNK / per_tile) + 1;
            agi_parallel_for(tiles, min_shared, compute_task, &g);
            return;
        }
    }
    /* One piece per thread: each piece packs all of the other operand. */
    size_t per_thread = (tiles + nt - 1) / nt;
    agi_parallel_for(tiles, min_tiles > per_thread ? min_tiles : per_thread, gemm_task, &g);
}

void agi_gemm_with(const agi_gemm_kernel *kern, int ta, int tb, size_t m, size_t n, size_t k,
                   ag_real alpha, const ag_real *A, size_t lda, const ag_real *B, size_t ldb,
                   ag_real beta, ag_real *C, size_t ldc)
{
    gemm_args g = {.kern = kern, .ta = ta, .tb = tb, .m = m, .n = n, .k = k, .alpha = alpha,
                   .beta = beta, .A = A, .B = B, .lda = lda, .ldb = ldb, .ldc = ldc, .C = C,
                   .batch = 1};
    gemm_one(&g);
}

size_t agi_gemm_set_shared_max(size_t bytes)
{
    size_t old = pack_shared_max;
    pack_shared_max = bytes == (size_t)-1 ? PACK_SHARED_MAX : bytes;
    return old;
}

void agi_gemm(int ta, int tb, size_t m, size_t n, size_t k, ag_real alpha, const ag_real *A,
              size_t lda, const ag_real *B, size_t ldb, ag_real beta, ag_real *C, size_t ldc)
{
    agi_gemm_with(agi_gemm_current(), ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* ---- batches ----
 *
 * Two kinds of batch are one packed problem rather than a loop of small
 * ones (a convolution's products: a weight shared by the images, and the
 * weight's gradient summed over them):
 *
 * - A shared (sa = 0): op(A) is packed once; the units of work are blocks
 *   of NC columns of one product, spread over the threads. Where op(B)'s
 *   rows are contiguous (tb = 0) its whole panels are read in place rather
 *   than packed, only the last, partial one is packed and zero-padded.
 * - C shared (sc = 0): C = alpha sum_t op(A_t) op(B_t) + beta C. When C
 *   has enough tiles for the threads, one GEMM whose k runs over the
 *   products in turn, each product's k in the blocks agi_gemm would use
 *   (beta applied by the first): every element of C sees agi_gemm's
 *   operations in the loop's order (with beta 1, the loop's bits). The
 *   threads split the tiles of C and pack what their tiles need. When C has
 *   few tiles (shared_c_groups), the products are cut into consecutive
 *   groups whose number depends only on the shape and the kernel; each
 *   group is that GEMM (or, for a small C with both operands stored along
 *   k, the kernel's dot-product kernel: use_dot) into a partial sum of its
 *   own (alpha 1, the first product overwriting it), the groups run in
 *   parallel, then C = beta C + alpha (P_0 + P_1 + ...), added in group
 *   order. That rounds differently from the loop, within the same bound.
 *
 * Either way each element of C gets the same operations whatever the
 * thread count (and without memory for buffers); a product with its own C
 * gets the bits of agi_gemm. */

/* A-shared batch, units [lo, hi): unit u is the block (u % upb) of NC
 * columns of product u / upb, where upb = ceil(n / NC). */
static void shared_a_task(void *ctx, size_t lo, size_t hi)
{
    const gemm_args *g = ctx;
    const agi_gemm_kernel *K = g->kern;
    size_t MR = K->mr, NR = K->nr, k = g->k, upb = (g->n + K->nc - 1) / K->nc;
    size_t ncb = round_up(g->n < K->nc ? g->n : K->nc, NR);
    /* The calling thread's buffer holds the packed op(A), then room for
     * this (it is already large enough: the same buffer comes back). */
    ag_real *bp = pack_buffer(g->kc * (g->tb ? ncb : NR));
    if (bp == g->ap)
        bp += g->a_len;
    for (size_t u = lo; u < hi; u++) {
        size_t t = u / upb, j0 = (u % upb) * K->nc, j1 = j0 + K->nc < g->n ? j0 + K->nc : g->n;
        const ag_real *B = g->B + t * g->sb, *bias = product_bias(g, t);
        ag_real *C = g->C + t * g->sc;
        if (!bp) { /* out of memory: these columns as agi_gemm computes them */
            gemm_args h = *g;
            h.batch = 1, h.sa = h.sb = h.sc = 0;
            h.n = j1 - j0, h.B = B + (g->tb ? j0 * g->ldb : j0), h.C = C + j0;
            h.bias = bias && g->bias_kind != AGI_BIAS_ROWS ? bias + j0 : bias;
            gemm_one(&h);
            continue;
        }
        /* op(B) read in place: its whole panels; the last, partial one is
         * packed */
        size_t jp = g->tb ? j0 : j0 + (j1 - j0) / NR * NR;
        for (size_t pc = 0; pc < k; pc += g->kc) {
            size_t kc = k - pc < g->kc ? k - pc : g->kc;
            if (jp < j1)
                pack_b(g, B, jp, j1, pc, kc, bp);
            /* Along rows of tiles: C streams row by row (with small k its
             * loads and stores are most of the work), the micro-panel of A
             * stays in L1 and the block of B in L2. */
            for (size_t i = 0; i < g->m; i += MR) {
                size_t mr = g->m - i < MR ? g->m - i : MR;
                const ag_real *a = g->ap + i * k + pc * MR;
                for (size_t j = j0; j < j1; j += NR) {
                    size_t nr = j1 - j < NR ? j1 - j : NR;
                    agi_gemm_ukr *ukr = tile_ukr(K, nr);
                    ag_real beta = pc ? 1 : start_block(g, bias, C, i, i + mr, j, j + nr, g->beta);
                    if (j < jp)
                        ukr(kc, a, B + pc * g->ldb + j, g->ldb, C + i * g->ldc + j, g->ldc, mr, nr,
                            g->alpha, beta);
                    else
                        ukr(kc, a, bp + (j - jp) * kc, NR, C + i * g->ldc + j, g->ldc, mr, nr,
                            g->alpha, beta);
                }
            }
        }
    }
}

/* C-shared batch, tiles [lo, hi) of C, numbered column panel by column
 * panel (tile jr*pa + ir): at most three rectangles. */
static void shared_c_task(void *ctx, size_t lo, size_t hi)
{
    const gemm_args *g = ctx;
    size_t MR = g->kern->mr, NR = g->kern->nr, pa = g->pa;
    while (lo < hi) {
        size_t jr = lo / pa, ir = lo % pa, j1 = (jr + 1) * NR < g->n ? (jr + 1) * NR : g->n;
        if (ir != 0 || hi - lo < pa) { /* part of one column panel */
            size_t ir1 = hi - lo < pa - ir ? ir + (hi - lo) : pa;
            gemm_block(g, ir * MR, ir1 * MR < g->m ? ir1 * MR : g->m, jr * NR, j1);
            lo += ir1 - ir;
        } else { /* whole column panels */
            size_t jr1 = hi / pa;
            gemm_block(g, 0, g->m, jr * NR, jr1 * NR < g->n ? jr1 * NR : g->n);
            lo = jr1 * pa;
        }
    }
}

/* C-shared batches whose C has few tiles (see shared_c_groups): the
 * products in consecutive groups, each group's sum in its own partial,
 * computed in parallel; then C = beta C + alpha (P_0 + P_1 + ...), the
 * partials added in group order.
 *
 * Few is at most FEW_TILES MR x NR tiles. Below that the tile split has
 * pieces too few or too uneven for the threads, and each piece packs the
 * whole of op(A) again; the groups split the products instead, each
 * packing only its own. Measured (2-vCPU Zen 4, avx512, float): 32
 * products of 8 x 25 x 784 (1 tile) ran at 42 GFLOP/s on 1 and on 2
 * threads with the tile split; 32 of 16 x 200 x 196 (14 tiles), on 1
 * thread 68 GFLOP/s in groups against 70 (medians of 8), on 2 threads 134
 * and 121 in groups against 120 and 106 (the runs that had the second
 * vCPU to themselves; the machine was shared). GROUPS_MAX groups are
 * enough for several threads and keep the partials small (GROUPS_MAX * m
 * * n elements). */
#define GROUPS_MAX 8
#define FEW_TILES 16
/* Out of memory, the groups' sums of one MR x NR tile at a time live here
 * (MR x NR <= 12 x 32 for the kernels there are; shared_c_groups keeps
 * groups * MR * NR within it). */
#define SUMS_EMERGENCY_LEN (GROUPS_MAX * 12 * 32)
static _Alignas(64) ag_real sums_emergency[SUMS_EMERGENCY_LEN];
static pthread_mutex_t sums_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether groups use the kernel's dot-product kernel: both operands stored
 * along k, so that it reads them in place where the panels would need two
 * transposing packs, and C small (at most DOT_MAX_C elements, a few dozen
 * blocks of sums), where the operands of a group stay close to the core
 * while each block of sums streams them. Measured at 1 thread (2-vCPU
 * Zen 4, avx512, medians of 7): 32 products of 8 x 25 x 784, 78 GFLOP/s
 * with it against 42 with the panels; 32 of 16 x 200 x 196, 62 against 68. */
#define DOT_MAX_C 1024
static int use_dot(const gemm_args *g)
{
    return g->kern->dot && !g->ta && g->tb && g->m * g->n <= DOT_MAX_C;
}

/* Whether groups use the kernel's lane-wise dot-product kernel instead (it
 * comes first): both operands stored along k and op(A)'s rows filling more
 * than half of a vector. Only op(A), m x k, is packed; B is read once, in
 * place. 32 products of 16 x 200 x 196 at 1 thread (avx512, float): 64
 * GFLOP/s with the panels, 102-105 with dotv. */
static int use_dotv(const gemm_args *g)
{
    const agi_gemm_kernel *K = g->kern;
    return K->dotv && K->pack_rows && !g->ta && g->tb && g->m <= K->dvw && 2 * g->m > K->dvw;
}

/* The number of groups, from the shape and the kernel only (never the
 * thread count), so that the result is the same for any thread count; 1
 * when the products stay one GEMM (or, with dotv, one group). Each group
 * gets at least MIN_FLOPS_PER_CHUNK flops, the least worth handing to a
 * thread. */
static size_t shared_c_groups(const gemm_args *g)
{
    size_t tile = g->kern->mr * g->kern->nr;
    if (g->pa * g->pb > FEW_TILES && !use_dotv(g))
        return 1;
    double flops = 2.0 * (double)g->m * (double)g->n * (double)g->k * (double)g->batch;
    size_t groups = SUMS_EMERGENCY_LEN / tile;
    groups = groups < GROUPS_MAX ? groups : GROUPS_MAX;
    groups = groups < g->batch ? groups : g->batch;
    if (flops / MIN_FLOPS_PER_CHUNK < (double)groups)
        groups = (size_t)(flops / MIN_FLOPS_PER_CHUNK);
    return groups > 1 ? groups : 1;
}

typedef struct groups_args {
    const gemm_args *g;
    size_t groups;
    size_t i0, i1, j0, j1; /* the rectangle of C being computed */
    /* group u's sum for C[i][j] is sums[u*stride + (i-i0)*ld + (j-j0)] */
    ag_real *sums;
    size_t ld, stride;
} groups_args;

/* The most elements of packed op(A) that dotv reads from the thread's
 * packing buffer at a time (64 KiB of floats: it stays in L2 while B's rows
 * stream past it), and from the stack when that buffer cannot be had. */
#define DOTV_PACK_MAX 16384
#define DOTV_PACK_STACK 1024
/* The most lanes times rows of any kernel's dotv (a tile on the stack). */
#define DOTV_TILE (16 * 28)

/* One group's sum (h: its products; C, its partial, is overwritten) with
 * dotv. The terms are taken in chunks, each as many whole products as fit
 * the buffer (or, for a long k, part of one product): a chunk's op(A) is
 * packed once, then B's rows dvn at a time; each block's tile starts from
 * what the chunks before left in C and is written back transposed. Every
 * element is one chain of FMAs over its terms in order, whatever the
 * chunks, so out of memory (smaller chunks, on the stack) gives the same
 * bits. */
static void group_dotv(const gemm_args *h)
{
    const agi_gemm_kernel *K = h->kern;
    size_t W = K->dvw, k = h->k;
    _Alignas(64) ag_real tile[DOTV_TILE];
    _Alignas(64) ag_real stack_buf[DOTV_PACK_STACK];
    ag_real *buf = pack_buffer(DOTV_PACK_MAX);
    size_t cap = buf ? DOTV_PACK_MAX : DOTV_PACK_STACK;
    buf = buf ? buf : stack_buf;
    size_t tp = k * W <= cap ? cap / (k * W) : 1, kc = k * W <= cap ? k : cap / W;
    for (size_t t0 = 0; t0 < h->batch; t0 += tp)
        for (size_t p0 = 0; p0 < k; p0 += kc) {
            size_t nt = h->batch - t0 < tp ? h->batch - t0 : tp, kk = k - p0 < kc ? k - p0 : kc;
            int first = t0 == 0 && p0 == 0;
            for (size_t t = 0; t < nt; t++)
                K->pack_rows(h->A + (t0 + t) * h->sa + p0, h->lda, h->m, kk, W, buf + t * kk * W);
            for (size_t j = 0; j < h->n; j += K->dvn) {
                size_t nr = h->n - j < K->dvn ? h->n - j : K->dvn;
                ag_real *c = h->C + j;
                if (!first)
                    for (size_t q = 0; q < nr; q++)
                        for (size_t i = 0; i < W; i++)
                            tile[q * W + i] = i < h->m ? c[i * h->ldc + q] : 0;
                K->dotv(nt, kk, buf, kk * W, h->B + t0 * h->sb + j * h->ldb + p0, h->ldb, h->sb,
                        nr, first, tile);
                for (size_t i = 0; i < h->m; i++)
                    for (size_t q = 0; q < nr; q++) c[i * h->ldc + q] = tile[q * W + i];
            }
        }
}

/* Groups [lo, hi): group u sums products [u*batch/groups,
 * (u+1)*batch/groups) into its partial, the first overwriting it (beta 0:
 * the partial needs no zeroing). */
static void group_task(void *ctx, size_t lo, size_t hi)
{
    const groups_args *q = ctx;
    const gemm_args *g = q->g;
    for (size_t u = lo; u < hi; u++) {
        size_t t0 = u * g->batch / q->groups, t1 = (u + 1) * g->batch / q->groups;
        gemm_args h = *g;
        h.m = q->i1 - q->i0;
        h.n = q->j1 - q->j0;
        h.A = g->A + t0 * g->sa + (g->ta ? q->i0 : q->i0 * g->lda);
        h.B = g->B + t0 * g->sb + (g->tb ? q->j0 * g->ldb : q->j0);
        h.batch = t1 - t0;
        h.alpha = 1;
        h.beta = 0;
        h.C = q->sums + u * q->stride;
        h.ldc = q->ld;
        if (use_dotv(g)) {
            group_dotv(&h);
        } else if (use_dot(g)) {
            const agi_gemm_kernel *K = g->kern;
            for (size_t j = 0; j < h.n; j += K->dn)
                for (size_t i = 0; i < h.m; i += K->dr)
                    K->dot(h.batch, h.k, h.A + i * h.lda, h.lda, h.sa, h.B + j * h.ldb, h.ldb,
                           h.sb, h.C + i * h.ldc + j, h.ldc, h.m - i < K->dr ? h.m - i : K->dr,
                           h.n - j < K->dn ? h.n - j : K->dn);
        } else {
            gemm_block(&h, 0, h.m, 0, h.n);
        }
    }
}

/* C = beta C + alpha (P_0 + P_1 + ...) over the rectangle, in group order. */
static void groups_combine(const groups_args *q)
{
    const gemm_args *g = q->g;
    for (size_t i = q->i0; i < q->i1; i++) {
        const ag_real *s = q->sums + (i - q->i0) * q->ld;
        ag_real *c = g->C + i * g->ldc + q->j0;
        for (size_t j = 0; j < q->j1 - q->j0; j++) {
            ag_real sum = s[j];
            for (size_t u = 1; u < q->groups; u++) sum += s[u * q->stride + j];
            c[j] = g->beta == 0 ? g->alpha * sum : g->alpha * sum + g->beta * c[j];
        }
    }
}

static void shared_c_in_groups(const gemm_args *g, size_t groups)
{
    groups_args q = {.g = g, .groups = groups, .i1 = g->m, .j1 = g->n, .ld = g->n,
                     .stride = round_up(g->m * g->n, 64 / sizeof(ag_real))};
    q.sums = thread_buffer(&sums_key, groups * q.stride);
    if (q.sums) {
        double per_group = 2.0 * (double)g->m * (double)g->n * (double)g->k *
                           (double)g->batch / (double)groups;
        agi_parallel_for(groups, (size_t)(MIN_FLOPS_PER_CHUNK / per_group) + 1, group_task, &q);
        groups_combine(&q);
        return;
    }
    /* Out of memory: tile by tile, serially, with the sums in the static
     * buffer. Each element sees the same operations, so the same bits. */
    size_t MR = g->kern->mr, NR = g->kern->nr;
    pthread_mutex_lock(&sums_lock);
    q.sums = sums_emergency;
    q.ld = NR;
    q.stride = MR * NR;
    for (q.i0 = 0; q.i0 < g->m; q.i0 += MR)
        for (q.j0 = 0; q.j0 < g->n; q.j0 += NR) {
            q.i1 = q.i0 + MR < g->m ? q.i0 + MR : g->m;
            q.j1 = q.j0 + NR < g->n ? q.j0 + NR : g->n;
            group_task(&q, 0, groups);
            groups_combine(&q);
        }
    pthread_mutex_unlock(&sums_lock);
}

/* The products one after the other, each on this thread (agi_gemm inside a
 * parallel region runs serially). */
static void batch_task(void *ctx, size_t lo, size_t hi)
{
    const gemm_args *g = ctx;
    for (size_t i = lo; i < hi; i++) {
        gemm_args h = *g;
        h.batch = 1, h.sa = h.sb = h.sc = 0;
        h.A = g->A + i * g->sa, h.B = g->B + i * g->sb, h.C = g->C + i * g->sc;
        h.beta = product_beta(g, i);
        h.bias = product_bias(g, i);
        gemm_one(&h);
    }
}

/* A batch: the fields from kern to C, batch, its strides and the bias
 * (which needs sc != 0 when batch > 1). */
static void gemm_batch(const gemm_args *in)
{
    gemm_args g = *in;
    const agi_gemm_kernel *kern = g.kern;
    size_t batch = g.batch, m = g.m, n = g.n, k = g.k, sa = g.sa, sc = g.sc;
    int tb = g.tb;
    const ag_real *A = g.A;
    if (batch == 0 || m == 0 || n == 0)
        return;
    double flops = 2.0 * (double)m * (double)n * (double)k + 1;
    size_t nt = (size_t)ag_get_threads();
    if (kern && k > 0 && batch > 1 && sc == 0) {
        plan(&g, kern);
        size_t groups = shared_c_groups(&g);
        if (groups > 1 || use_dotv(&g)) {
            shared_c_in_groups(&g, groups);
            return;
        }
        size_t tiles = g.pa * g.pb;
        double per_tile = flops / (double)(g.pa * g.pb) * (double)batch;
        size_t min_tiles = (size_t)(MIN_FLOPS_PER_CHUNK / per_tile) + 1;
        /* one piece per thread: each piece packs the operands of its tiles */
        min_tiles = tiles / nt > min_tiles ? tiles / nt : min_tiles;
        agi_parallel_for(tiles, min_tiles, shared_c_task, &g);
        return;
    }
    if (kern && k > 0 && batch > 1 && sa == 0) {
        plan(&g, kern);
        const agi_gemm_kernel *K = g.kern;
        g.a_len = round_up(g.pa * K->mr * k, 64 / sizeof(ag_real)); /* keeps what follows aligned */
        size_t ncb = round_up(n < K->nc ? n : K->nc, K->nr);
        ag_real *ap = g.a_len * sizeof(ag_real) <= pack_shared_max
                          ? pack_buffer(g.a_len + g.kc * (tb ? ncb : K->nr))
                          : NULL;
        if (ap) {
            g.ap = ap;
            pack_a(&g, A, 0, m, 0, k, ap);
            size_t upb = (n + K->nc - 1) / K->nc;
            double per_unit = flops / (double)upb;
            agi_parallel_for(batch * upb, (size_t)(MIN_FLOPS_PER_CHUNK / per_unit) + 1,
                             shared_a_task, &g);
            return;
        }
    }
    g.kern = kern;
    g.batch = 1;
    /* Whole products per thread when there are plenty, or when each is too
     * small to split; otherwise agi_gemm splits each one. */
    if (sc != 0 && batch > 1 &&
        (batch >= 4 * nt || flops < 4.0 * (double)nt * MIN_FLOPS_PER_CHUNK)) {
        agi_parallel_for(batch, (size_t)(MIN_FLOPS_PER_CHUNK / flops) + 1, batch_task, &g);
        return;
    }
    batch_task(&g, 0, batch);
}

void agi_gemm_batch_with(const agi_gemm_kernel *kern, int ta, int tb, size_t batch, size_t m,
                         size_t n, size_t k, ag_real alpha, const ag_real *A, size_t lda,
                         size_t sa, const ag_real *B, size_t ldb, size_t sb, ag_real beta,
                         ag_real *C, size_t ldc, size_t sc)
{
    gemm_args g = {.kern = kern, .ta = ta, .tb = tb, .m = m, .n = n, .k = k, .alpha = alpha,
                   .beta = beta, .A = A, .B = B, .lda = lda, .ldb = ldb, .ldc = ldc, .C = C,
                   .batch = batch, .sa = sa, .sb = sb, .sc = sc};
    gemm_batch(&g);
}

void agi_gemm_bias_with(const agi_gemm_kernel *kern, int ta, int tb, size_t batch, size_t m,
                        size_t n, size_t k, ag_real alpha, const ag_real *A, size_t lda,
                        size_t sa, const ag_real *B, size_t ldb, size_t sb,
                        const ag_real *bias, size_t sbias, int bias_kind, ag_real *C,
                        size_t ldc, size_t sc)
{
    gemm_args g = {.kern = kern, .ta = ta, .tb = tb, .m = m, .n = n, .k = k, .alpha = alpha,
                   .A = A, .B = B, .lda = lda, .ldb = ldb, .ldc = ldc, .C = C,
                   .batch = batch, .sa = sa, .sb = sb, .sc = sc, .bias = bias,
                   .sbias = sbias, .bias_ld = n, .bias_kind = bias_kind};
    gemm_batch(&g);
}

void agi_gemm_batch(int ta, int tb, size_t batch, size_t m, size_t n, size_t k, ag_real alpha,
                    const ag_real *A, size_t lda, size_t sa, const ag_real *B, size_t ldb,
                    size_t sb, ag_real beta, ag_real *C, size_t ldc, size_t sc)
{
    agi_gemm_batch_with(agi_gemm_current(), ta, tb, batch, m, n, k, alpha, A, lda, sa, B, ldb,
                        sb, beta, C, ldc, sc);
}
