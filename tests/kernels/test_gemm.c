/* Every GEMM variant against the reference agi_gemm_ref: all transpose
 * combinations, alpha/beta cases, sizes that are not multiples of any tile,
 * padded leading dimensions, blocking boundaries; determinism across thread
 * counts; AGRAD_KERNEL; no allocation in steady state.
 *
 * Tolerance: both results are k-term dot products, each within
 * (k + 2) eps (|alpha| sum_p |a_ip b_pj| + |beta c_ij|) of the exact value,
 * so they may differ by twice that (computed here in double). */
#include <float.h>
#include <stdlib.h>
#include "common.h"
#include "internal.h"
#include "../../ops/kernels/kernels.h"

#if AG_REAL_IS_DOUBLE
#define EPS DBL_EPSILON
#else
#define EPS FLT_EPSILON
#endif

typedef struct gcase {
    int ta, tb;
    size_t m, n, k, lda, ldb, ldc;
    ag_real alpha, beta;
    ag_real *A, *B, *C0, *want;
    double *bound; /* allowed |got - want| per element */
} gcase;

/* Random operands for a case, the reference result and the error bound. */
static void case_init(gcase *g, int ta, int tb, size_t m, size_t n, size_t k, size_t pad,
                      ag_real alpha, ag_real beta, unsigned seed);

/* Only the operands (no oracle). */
static void case_operands(gcase *g, int ta, int tb, size_t m, size_t n, size_t k, size_t pad,
                          ag_real alpha, ag_real beta, unsigned seed)
{
    *g = (gcase){.ta = ta, .tb = tb, .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta};
    size_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    g->lda = ac + pad, g->ldb = bc + pad, g->ldc = n + pad;
    g->A = malloc(sizeof(ag_real) * (ar * g->lda + 1));
    g->B = malloc(sizeof(ag_real) * (br * g->ldb + 1));
    g->C0 = malloc(sizeof(ag_real) * m * g->ldc);
    g->want = malloc(sizeof(ag_real) * m * g->ldc);
    g->bound = malloc(sizeof(double) * m * n);
    cr_assert(g->A && g->B && g->C0 && g->want && g->bound);
    fill_uniform(g->A, ar * g->lda, -1, 1, seed);
    fill_uniform(g->B, br * g->ldb, -1, 1, seed + 1);
    fill_uniform(g->C0, m * g->ldc, -1, 1, seed + 2);
}

/* The reference result of a case and its error bound, from its operands. */
static void case_oracle(gcase *g)
{
    int ta = g->ta, tb = g->tb;
    size_t m = g->m, n = g->n, k = g->k;
    ag_real alpha = g->alpha, beta = g->beta;
    memcpy(g->want, g->C0, sizeof(ag_real) * m * g->ldc);
    agi_gemm_ref(ta, tb, m, n, k, alpha, g->A, g->lda, g->B, g->ldb, beta, g->want, g->ldc);
    /* bound = 2 (k+2) eps (|alpha| |op(A)| |op(B)| + |beta C0|), row by row */
    double *absb = malloc(sizeof(double) * k * n), *row = malloc(sizeof(double) * (n + 1));
    cr_assert(absb && row);
    for (size_t p = 0; p < k; p++)
        for (size_t j = 0; j < n; j++)
            absb[p * n + j] = fabs((double)(tb ? g->B[j * g->ldb + p] : g->B[p * g->ldb + j]));
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) row[j] = 0;
        for (size_t p = 0; p < k; p++) {
            double a = fabs((double)(ta ? g->A[p * g->lda + i] : g->A[i * g->lda + p]));
            for (size_t j = 0; j < n; j++) row[j] += a * absb[p * n + j];
        }
        for (size_t j = 0; j < n; j++) {
            double c = beta == 0 ? 0 : fabs((double)beta * g->C0[i * g->ldc + j]);
            g->bound[i * n + j] =
                2.0 * (double)(k + 2) * EPS * (fabs((double)alpha) * row[j] + c) + DBL_MIN;
        }
    }
    free(absb);
    free(row);
}

static void case_init(gcase *g, int ta, int tb, size_t m, size_t n, size_t k, size_t pad,
                      ag_real alpha, ag_real beta, unsigned seed)
{
    case_operands(g, ta, tb, m, n, k, pad, alpha, beta, seed);
    case_oracle(g);
}

static void case_free(gcase *g)
{
    free(g->A), free(g->B), free(g->C0), free(g->want), free(g->bound);
}

static void case_compare(const gcase *g, const ag_real *C, const char *name);

/* Runs kern on the case (C starts as C0, or NaN when beta == 0) and checks
 * every element and that the padding of C is untouched. */
static void case_check(const gcase *g, const agi_gemm_kernel *kern)
{
    size_t len = g->m * g->ldc;
    ag_real *C = malloc(sizeof(ag_real) * len);
    cr_assert(C);
    memcpy(C, g->C0, sizeof(ag_real) * len);
    if (g->beta == 0)
        for (size_t i = 0; i < g->m; i++)
            for (size_t j = 0; j < g->n; j++) C[i * g->ldc + j] = NAN;
    agi_gemm_with(kern, g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->A, g->lda, g->B, g->ldb,
                  g->beta, C, g->ldc);
    case_compare(g, C, kern ? kern->name : "ref");
    free(C);
}

/* Every element of C against the oracle, and C's padding untouched. */
static void case_compare(const gcase *g, const ag_real *C, const char *name)
{
    for (size_t i = 0; i < g->m; i++)
        for (size_t j = 0; j < g->ldc; j++) {
            double got = C[i * g->ldc + j], want = g->want[i * g->ldc + j];
            double tol = j < g->n ? g->bound[i * g->n + j] : 0;
            if (!(fabs(got - want) <= tol))
                cr_assert_fail("%s ta=%d tb=%d m=%zu n=%zu k=%zu alpha=%g beta=%g: C[%zu][%zu] = %.9g, "
                         "want %.9g (tol %.3g)", name, g->ta, g->tb, g->m, g->n, g->k,
                         (double)g->alpha, (double)g->beta, i, j, got, want, tol);
        }
}

/* The reference through agi_gemm_with (split over rows) and every variant,
 * with operands packed whole and shared, and packed in blocks per thread. */
static void check_all_variants(const gcase *g)
{
    const agi_gemm_kernel *v[8];
    size_t nv = agi_gemm_variants(v, 8);
    case_check(g, NULL);
    for (int shared = 0; shared < 2; shared++) {
        agi_gemm_set_shared_max(shared ? (size_t)-1 : 0);
        for (size_t i = 0; i < nv; i++) case_check(g, v[i]);
    }
}

static const size_t SIZES[] = {1, 7, 17, 63, 65, 129};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])

static void odd_sizes(ag_real alpha, ag_real beta, unsigned seed)
{
    for (int t = 0; t < 4; t++)
        for (size_t i = 0; i < NSIZES; i++)
            for (size_t j = 0; j < NSIZES; j++) {
                gcase g;
                size_t k = SIZES[(i + 2 * j + (size_t)t) % NSIZES];
                case_init(&g, t & 1, t >> 1, SIZES[i], SIZES[j], k, (i + j) % 2 ? 3 : 0, alpha,
                          beta, seed + (unsigned)(t * 100 + i * 10 + j));
                check_all_variants(&g);
                case_free(&g);
            }
}

Test(gemm, odd_sizes_alpha1_beta0) { odd_sizes(1, 0, 1); }
Test(gemm, odd_sizes_alpha1_beta1) { odd_sizes(1, 1, 2); }
Test(gemm, odd_sizes_scaled) { odd_sizes((ag_real)-0.75, (ag_real)1.5, 3); }

/* Past every cache block: k > KC, n > NC, m > MC. */
Test(gemm, large_all_transposes)
{
    static const size_t dims[][3] = {{130, 530, 270}, {40, 1100, 300}};
    for (int t = 0; t < 4; t++) {
        size_t d = (size_t)(t == 1 || t == 2); /* each size with two transpose pairs */
        gcase g;
        case_init(&g, t & 1, t >> 1, dims[d][0], dims[d][1], dims[d][2], d, (ag_real)0.5,
                  (ag_real)-1.25, 40 + (unsigned)t);
        check_all_variants(&g);
        case_free(&g);
    }
}

/* op(B) is read in place only with at most 512 rows of C and rows of B
 * not a multiple of 4 KiB apart, and packed otherwise: each way against the
 * reference, with a partial last panel (n = 70) and two k blocks. Cases:
 * 530 rows (packed), 100 rows with 4 KiB rows (packed), 100 rows with rows
 * of n + 1 values (in place). */
Test(gemm, tall_or_aliased_products_pack_b)
{
    size_t alias_pad = 4096 / sizeof(ag_real) - 70; /* ldb = 4 KiB */
    for (int t = 0; t < 6; t++) {
        int ta = t & 1, kind = t >> 1;
        gcase g;
        case_init(&g, ta, 0, kind == 0 ? 530 : 100, 70, 300, kind == 1 ? alias_pad : 1,
                  (ag_real)0.5, (ag_real)-1.25, 60 + (unsigned)t);
        check_all_variants(&g);
        case_free(&g);
    }
}

Test(gemm, k_zero_scales_c)
{
    ag_real C[6] = {1, 2, 3, 4, 5, 6}, D[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    agi_gemm(0, 0, 2, 3, 0, 1, NULL, 1, NULL, 3, 2, C, 3);
    assert_close(C, (double[]){2, 4, 6, 8, 10, 12}, 6, 0);
    agi_gemm(1, 1, 2, 3, 0, 1, NULL, 2, NULL, 1, 0, D, 3);
    assert_close(D, (double[]){0, 0, 0, 0, 0, 0}, 6, 0);
}

/* Same bits for 1, 2 and 3 threads, with splits over n and over m, and on
 * the path that packs per thread. The third and fifth (ta = 0, tb = 1, few
 * rows) take the lanes kernel: op(A) of 64 x 600 packed once over the
 * threads, and one of 64 x 100 split by panels of rows at 2 threads. */
Test(gemm, deterministic_across_threads)
{
    static const size_t dims[][3] = {
        {256, 300, 200}, {600, 64, 300}, {64, 784, 600}, {300, 40, 70}, {64, 130, 100}};
    const agi_gemm_kernel *v[8];
    size_t nv = agi_gemm_variants(v, 7);
    v[nv++] = NULL;
    for (size_t d = 0; d < 5; d++)
        for (size_t i = 0; i < nv; i++) {
            gcase g;
            case_operands(&g, (int)d & 1, 1, dims[d][0], dims[d][1], dims[d][2], 0, (ag_real)0.5,
                      d ? (ag_real)-1.5 : 0, 60 + (unsigned)d);
            size_t len = g.m * g.ldc;
            ag_real *C[4];
            for (int t = 0; t < 4; t++) {
                ag_set_threads(t < 3 ? t + 1 : 2);
                agi_gemm_set_shared_max(t < 3 ? (size_t)-1 : 0); /* and the private path */
                C[t] = malloc(sizeof(ag_real) * len);
                cr_assert(C[t]);
                memcpy(C[t], g.C0, sizeof(ag_real) * len);
                agi_gemm_with(v[i], g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B, g.ldb,
                              g.beta, C[t], g.ldc);
            }
            agi_gemm_set_shared_max((size_t)-1);
            for (int t = 1; t < 4; t++)
                cr_assert(memcmp(C[0], C[t], sizeof(ag_real) * len) == 0,
                          "%s, %zux%zux%zu: run %d differs from 1 thread",
                          v[i] ? v[i]->name : "ref", g.m, g.n, g.k, t);
            for (int t = 0; t < 4; t++) free(C[t]);
            case_free(&g);
        }
    ag_set_threads(0);
}

Test(gemm, agrad_kernel_forces_a_variant)
{
    const agi_gemm_kernel *v[8];
    size_t nv = agi_gemm_variants(v, 8);
    setenv("AGRAD_KERNEL", "ref", 1);
    agi_gemm_select(NULL);
    cr_assert_str_eq(agi_gemm_name(), "ref");
    cr_assert_null(agi_gemm_current());
    for (size_t i = 0; i < nv; i++) {
        setenv("AGRAD_KERNEL", v[i]->name, 1);
        agi_gemm_select(NULL);
        cr_assert_str_eq(agi_gemm_name(), v[i]->name);
        /* agi_gemm goes through the forced variant: its result matches it. */
        gcase g;
        case_operands(&g, 0, 1, 33, 45, 19, 0, 1, 0, 77);
        ag_real *C = calloc(g.m * g.ldc, sizeof(ag_real)), *D = calloc(g.m * g.ldc, sizeof(ag_real));
        agi_gemm(0, 1, g.m, g.n, g.k, 1, g.A, g.lda, g.B, g.ldb, 0, C, g.ldc);
        agi_gemm_with(v[i], 0, 1, g.m, g.n, g.k, 1, g.A, g.lda, g.B, g.ldb, 0, D, g.ldc);
        cr_assert(memcmp(C, D, sizeof(ag_real) * g.m * g.ldc) == 0);
        free(C), free(D);
        case_free(&g);
    }
    setenv("AGRAD_KERNEL", "no-such-kernel", 1);
    agi_gemm_select(NULL);
    cr_assert_str_eq(agi_gemm_name(), nv ? v[0]->name : "ref", "unknown names are ignored");
    cr_assert_eq(agi_gemm_select("no-such-kernel"), 0);
    cr_assert_eq(agi_gemm_select("ref"), 1);
    cr_assert_str_eq(agi_gemm_name(), "ref");
    unsetenv("AGRAD_KERNEL");
    agi_gemm_select(NULL);
}

static size_t n_allocs, n_frees;
static void *counting(void *ud, void *p, size_t old, size_t n)
{
    (void)ud, (void)old;
    if (n == 0) {
        n_frees += p != NULL;
        free(p);
        return NULL;
    }
    n_allocs++;
    return realloc(p, n);
}

Test(gemm, packing_buffers_reused)
{
    const agi_gemm_kernel *v[8];
    if (agi_gemm_variants(v, 8) == 0)
        cr_skip_test("no SIMD kernel on this machine");
    /* 300 rows: the shared path, whose packing buffer is the calling
     * thread's (under 256 rows, with B read in place, each thread packs its
     * own rows, and a worker first needs its buffer whenever it first takes
     * a piece) */
    gcase g;
    case_operands(&g, 0, 0, 300, 300, 300, 0, 1, 0, 88);
    ag_real *C = malloc(sizeof(ag_real) * 2 * g.m * g.ldc);
    ag_set_threads(2);
    ag_set_allocator(counting, NULL);
    for (int r = 0; r < 3; r++)
        agi_gemm_with(v[0], 0, 0, g.m, g.n, g.k, 1, g.A, g.lda, g.B, g.ldb, 0, C, g.ldc);
    size_t warm = n_allocs;
    cr_assert_gt(warm, 0, "packing buffers come from the library's allocator");
    for (int r = 0; r < 5; r++)
        agi_gemm_with(v[0], 0, 0, g.m, g.n, g.k, 1, g.A, g.lda, g.B, g.ldb, 0, C, g.ldc);
    cr_assert_eq(n_allocs, warm, "%zu allocations in steady state", n_allocs - warm);
    /* Batches of two with A shared and with C shared, and a shared C with
     * few tiles, whose products are summed in groups into partial sums (a
     * weight gradient: 16 products of 8 x 25 x 784). Which pieces a worker
     * takes varies from call to call, and with them when it first needs a
     * larger buffer: the calling thread alone. */
    ag_real *gy = malloc(sizeof(ag_real) * 16 * 8 * 784), *cols = malloc(sizeof(ag_real) * 16 * 25 * 784);
    cr_assert(gy && cols);
    fill_uniform(gy, 16 * 8 * 784, -1, 1, 89);
    fill_uniform(cols, 16 * 25 * 784, -1, 1, 90);
    ag_set_threads(1);
    for (int r = 0; r < 8; r++) {
        if (r == 3)
            warm = n_allocs;
        agi_gemm_batch_with(v[0], 0, 0, 2, g.m, g.n, g.k, 1, g.A, g.lda, 0, g.B, g.ldb, 0, 0, C,
                            g.ldc, g.m * g.ldc);
        agi_gemm_batch_with(v[0], 0, 1, 2, g.m, g.n, g.k, 1, g.A, g.lda, 0, g.B, g.ldb, 0, 1, C,
                            g.ldc, 0);
        agi_gemm_batch_with(v[0], 0, 1, 16, 8, 25, 784, 1, gy, 784, 8 * 784, cols, 784, 25 * 784,
                            1, C, 25, 0);
    }
    free(gy), free(cols);
    cr_assert_eq(n_allocs, warm, "%zu allocations in steady state (batches)", n_allocs - warm);
    ag_set_threads(1); /* stops the worker: its buffer is freed at its exit */
    agi_gemm_release();
    cr_assert_eq(n_frees, n_allocs, "%zu allocations, %zu frees", n_allocs, n_frees);
    ag_set_allocator(NULL, NULL);
    free(C);
    case_free(&g);
    ag_set_threads(0);
}

static void *failing(void *ud, void *p, size_t old, size_t n)
{
    (void)ud, (void)old;
    if (n == 0)
        free(p);
    return NULL;
}

/* Without memory for packing buffers GEMM still gives the same bits. */
Test(gemm, out_of_memory_same_bits)
{
    const agi_gemm_kernel *v[8];
    size_t nv = agi_gemm_variants(v, 8);
    ag_set_threads(1);
    for (size_t i = 0; i < nv; i++) {
        gcase g;
        case_operands(&g, 1, 0, 150, 90, 600, 1, (ag_real)0.5, 2, 99);
        size_t len = g.m * g.ldc;
        ag_real *C = malloc(sizeof(ag_real) * len), *D = malloc(sizeof(ag_real) * len);
        memcpy(C, g.C0, sizeof(ag_real) * len);
        memcpy(D, g.C0, sizeof(ag_real) * len);
        agi_gemm_with(v[i], 1, 0, g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, C, g.ldc);
        agi_gemm_release();
        ag_set_allocator(failing, NULL);
        agi_gemm_with(v[i], 1, 0, g.m, g.n, g.k, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, D, g.ldc);
        ag_set_allocator(NULL, NULL);
        cr_assert(memcmp(C, D, sizeof(ag_real) * len) == 0, "%s", v[i]->name);
        free(C), free(D);
        case_free(&g);
    }
    ag_set_threads(0);
}

/* The reference of a shared-C batch (sc = 0), in double: want = beta C0 +
 * alpha sum_t op(A_t) op(B_t), and tol = 2 (batch k + 2) eps (|alpha|
 * sum_t |op(A_t)| |op(B_t)| + |beta C0|) (the sum of batch k terms, in
 * whatever order the groups add them); m x n each, allocated. */
static void shared_c_ref(int ta, int tb, size_t bt, size_t m, size_t n, size_t k, ag_real alpha,
                         const ag_real *A, size_t lda, size_t sa, const ag_real *B, size_t ldb,
                         size_t sb, ag_real beta, const ag_real *C0, size_t ldc, double **want,
                         double **tol)
{
    *want = malloc(sizeof(double) * m * n);
    *tol = malloc(sizeof(double) * m * n);
    cr_assert(*want && *tol);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double sum = 0, mag = 0;
            for (size_t t = 0; t < bt; t++)
                for (size_t p = 0; p < k; p++) {
                    double x = (double)(ta ? A[t * sa + p * lda + i] : A[t * sa + i * lda + p]) *
                               (double)(tb ? B[t * sb + j * ldb + p] : B[t * sb + p * ldb + j]);
                    sum += x;
                    mag += fabs(x);
                }
            double bc = beta == 0 ? 0 : (double)beta * C0[i * ldc + j];
            (*want)[i * n + j] = (double)alpha * sum + bc;
            (*tol)[i * n + j] = 2.0 * (double)(bt * k + 2) * EPS *
                                    (fabs((double)alpha) * mag + fabs(bc)) + DBL_MIN;
        }
}

/* got against shared_c_ref's want and tol; the padding of C untouched. */
static void check_shared_c(const char *what, size_t m, size_t n, size_t ldc, const double *want,
                           const double *tol, const ag_real *C0, const ag_real *got)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < ldc; j++) {
            double c0 = C0[i * ldc + j], g = got[i * ldc + j];
            if (j >= n)
                cr_assert(g == c0 || (isnan(g) && isnan(c0)), "%s: padding C[%zu][%zu] written",
                          what, i, j);
            else if (!(fabs(g - want[i * n + j]) <= tol[i * n + j]))
                cr_assert_fail("%s: C[%zu][%zu] = %.9g, want %.9g (tol %.3g)", what, i, j, g,
                               want[i * n + j], tol[i * n + j]);
        }
}

/* agi_gemm_batch gives the bits of agi_gemm called item by item, for any
 * thread count, when each item has its own C: small items spread over
 * threads, large ones split. All items accumulated into one C (stride 0)
 * give the sum within the reference's tolerance, the same bits for 1, 2 and
 * 3 threads. */
Test(gemm, batch_same_bits_as_a_loop)
{
    static const size_t dims[][4] = {/* batch, m, n, k */
                                     {32, 8, 49, 25}, {3, 70, 300, 150}, {16, 25, 40, 8}};
    for (size_t d = 0; d < 3; d++)
        for (int shared_c = 0; shared_c < 2; shared_c++) {
            size_t bt = dims[d][0], m = dims[d][1], n = dims[d][2], k = dims[d][3];
            size_t sa = m * k, sb = d == 1 ? 0 : k * n, sc = shared_c ? 0 : m * n;
            size_t lc = shared_c ? m * n : bt * m * n, lda = d == 2 ? m : k;
            ag_real *A = malloc(sizeof(ag_real) * bt * sa), *B = malloc(sizeof(ag_real) * bt * k * n);
            ag_real *want = malloc(sizeof(ag_real) * lc), *got = malloc(sizeof(ag_real) * lc);
            fill_uniform(A, bt * sa, -1, 1, 5);
            fill_uniform(B, bt * k * n, -1, 1, 6);
            fill_uniform(want, lc, -1, 1, 7);
            memcpy(got, want, sizeof(ag_real) * lc);
            ag_real *first = malloc(sizeof(ag_real) * lc);
            memcpy(first, got, sizeof(ag_real) * lc);
            ag_set_threads(1);
            if (!shared_c)
                for (size_t i = 0; i < bt; i++)
                    agi_gemm(d == 2, 0, m, n, k, (ag_real)0.5, A + i * sa, lda, B + i * sb, n, 1,
                             want + i * sc, n);
            for (int t = 1; t <= 3; t++) {
                ag_set_threads(t);
                memcpy(got, first, sizeof(ag_real) * lc);
                agi_gemm_batch(d == 2, 0, bt, m, n, k, (ag_real)0.5, A, lda, sa, B, n, sb, 1, got,
                               n, sc);
                if (shared_c && t == 1) {
                    double *ref, *tol;
                    shared_c_ref(d == 2, 0, bt, m, n, k, (ag_real)0.5, A, lda, sa, B, n, sb, 1,
                                 first, n, &ref, &tol);
                    check_shared_c("shared C", m, n, n, ref, tol, first, got);
                    free(ref), free(tol);
                    memcpy(want, got, sizeof(ag_real) * lc); /* the bits of 1 thread */
                }
                cr_assert(memcmp(got, want, sizeof(ag_real) * lc) == 0,
                          "case %zu, shared C %d, %d threads", d, shared_c, t);
            }
            free(A), free(B), free(want), free(got), free(first);
        }
    ag_set_threads(0);
}

/* Runs a batch with 1, 2 and 3 threads and without memory for packing
 * buffers (th = 4); the bits of want, or with want NULL the bits of the
 * first run, returned in got. */
static void batch_runs(const agi_gemm_kernel *kern, const char *what, int ta, int tb, size_t bt,
                       size_t m, size_t n, size_t k, ag_real alpha, const ag_real *A, size_t lda,
                       size_t sa, const ag_real *B, size_t ldb, size_t sb, ag_real beta,
                       const ag_real *C0, const ag_real *want, ag_real *got, size_t ldc, size_t sc,
                       size_t clen)
{
    ag_real *first = malloc(sizeof(ag_real) * clen);
    cr_assert(first);
    for (int th = 1; th <= 4; th++) {
        ag_set_threads(th < 4 ? th : 1);
        if (th == 4) { /* out of memory */
            agi_gemm_release();
            ag_set_allocator(failing, NULL);
        }
        memcpy(got, C0, sizeof(ag_real) * clen);
        agi_gemm_batch_with(kern, ta, tb, bt, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, got,
                            ldc, sc);
        ag_set_allocator(NULL, NULL);
        if (!want) {
            memcpy(first, got, sizeof(ag_real) * clen);
            want = first;
        }
        cr_assert(memcmp(got, want, sizeof(ag_real) * clen) == 0, "%s, %s", what,
                  th < 4 ? (th == 1 ? "1 thread" : th == 2 ? "2 threads" : "3 threads")
                         : "out of memory");
    }
    free(first);
}

/* The batches a convolution makes, one packed problem each: A shared by the
 * products (the weight) and C shared (the weight's gradient summed over the
 * images), with every transpose pair, sizes that are not multiples of the
 * tiles, k past the k block and n past NC, padded leading dimensions, for
 * 1, 2 and 3 threads and without memory for packing buffers, every variant.
 * A shared: the bits of the loop of agi_gemm_with (which, with ta = 0 and
 * tb = 1, takes the lanes micro-kernel where a variant has one: so its bits
 * are checked against the packed path's). C shared: the reference
 * sum within tolerance, the same bits for every run (the shapes include
 * one with few tiles, whose products are summed in groups). */
Test(gemm, batch_shared_operand)
{
    static const size_t dims[][4] = {/* batch, m, n, k */
                                     {5, 8, 49, 25},  {4, 16, 196, 200}, {3, 8, 25, 784},
                                     {3, 25, 784, 8}, {2, 13, 600, 300}, {3, 130, 70, 17}};
    const agi_gemm_kernel *v[8];
    size_t nv = agi_gemm_variants(v, 7);
    v[nv++] = NULL;
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
        for (int kind = 0; kind < 2; kind++) /* 0: A shared, 1: C shared */
            for (int t = 0; t < 4; t++) {
                int ta = t & 1, tb = t >> 1;
                size_t bt = dims[d][0], m = dims[d][1], n = dims[d][2], k = dims[d][3];
                size_t pad = d % 2, lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad;
                size_t ldc = n + pad, alen = (ta ? k : m) * lda, blen = (tb ? n : k) * ldb;
                size_t sa = kind ? alen : 0, sc = kind ? 0 : m * ldc, clen = kind ? m * ldc : bt * sc;
                ag_real alpha = d == 2 ? 1 : (ag_real)0.5, beta = (ag_real)(d % 3) * (ag_real)0.75;
                ag_real *A = malloc(sizeof(ag_real) * (kind ? bt : 1) * alen);
                ag_real *B = malloc(sizeof(ag_real) * bt * blen);
                ag_real *C0 = malloc(sizeof(ag_real) * clen), *want = malloc(sizeof(ag_real) * clen);
                ag_real *got = malloc(sizeof(ag_real) * clen);
                cr_assert(A && B && C0 && want && got);
                fill_uniform(A, (kind ? bt : 1) * alen, -1, 1, 200 + (unsigned)d);
                fill_uniform(B, bt * blen, -1, 1, 300 + (unsigned)d);
                fill_uniform(C0, clen, -1, 1, 400 + (unsigned)d);
                double *ref = NULL, *tol = NULL;
                if (kind)
                    shared_c_ref(ta, tb, bt, m, n, k, alpha, A, lda, sa, B, ldb, blen, beta, C0,
                                 ldc, &ref, &tol);
                for (size_t i = 0; i < nv; i++) {
                    char what[160];
                    snprintf(what, sizeof what, "%s, %s shared, ta=%d tb=%d, %zu x (%zu,%zu,%zu)",
                             v[i] ? v[i]->name : "ref", kind ? "C" : "A", ta, tb, bt, m, n, k);
                    ag_set_threads(1);
                    if (!kind) {
                        memcpy(want, C0, sizeof(ag_real) * clen);
                        for (size_t p = 0; p < bt; p++)
                            agi_gemm_with(v[i], ta, tb, m, n, k, alpha, A, lda, B + p * blen, ldb,
                                          beta, want + p * sc, ldc);
                    }
                    batch_runs(v[i], what, ta, tb, bt, m, n, k, alpha, A, lda, sa, B, ldb, blen,
                               beta, C0, kind ? NULL : want, got, ldc, sc, clen);
                    if (kind)
                        check_shared_c(what, m, n, ldc, ref, tol, C0, got);
                }
                free(A), free(B), free(C0), free(want), free(got), free(ref), free(tol);
            }
    ag_set_threads(0);
}

/* A shared C with few tiles (a convolution's weight gradient: 8 x 25 and
 * 16 x 200 summed over 32 and 8 images, and an odd size with a batch the
 * groups do not divide), or with few rows (AVX-512 float's dotv: 12 rows,
 * n past a block of rows with rows left over, and a k long enough to be
 * packed in chunks, and in more chunks out of memory; and 7 rows):
 * summed in groups whose number depends only on the shape, so the same bits
 * for 1, 2 and 3 threads and out of memory, every variant, every transpose
 * pair; the reference within tolerance, for beta 0, 1 and another. */
Test(gemm, batch_shared_c_groups_deterministic)
{
    static const size_t dims[][4] = {/* batch, m, n, k */
                                     {32, 8, 25, 784}, {8, 16, 200, 196}, {9, 13, 30, 500},
                                     {3, 12, 45, 1500}, {6, 7, 30, 300}};
    const agi_gemm_kernel *v[8];
    size_t nv = agi_gemm_variants(v, 7);
    v[nv++] = NULL;
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
        for (int t = 0; t < 4; t++) {
            int ta = t & 1, tb = (t >> 1) ^ 1; /* tb = 1 first: the convolution's case */
            size_t bt = dims[d][0], m = dims[d][1], n = dims[d][2], k = dims[d][3];
            size_t pad = d == 2 ? 3 : 0, lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad;
            size_t ldc = n + pad, alen = (ta ? k : m) * lda, blen = (tb ? n : k) * ldb;
            size_t clen = m * ldc;
            ag_real alpha = t == 3 ? (ag_real)-0.5 : 1, beta = (ag_real)(t % 3) * (ag_real)0.75;
            ag_real *A = malloc(sizeof(ag_real) * bt * alen), *B = malloc(sizeof(ag_real) * bt * blen);
            ag_real *C0 = malloc(sizeof(ag_real) * clen), *got = malloc(sizeof(ag_real) * clen);
            cr_assert(A && B && C0 && got);
            fill_uniform(A, bt * alen, -1, 1, 500 + (unsigned)d);
            fill_uniform(B, bt * blen, -1, 1, 600 + (unsigned)d);
            fill_uniform(C0, clen, -1, 1, 700 + (unsigned)d);
            double *ref, *tol;
            shared_c_ref(ta, tb, bt, m, n, k, alpha, A, lda, alen, B, ldb, blen, beta, C0, ldc,
                         &ref, &tol);
            for (size_t i = 0; i < nv; i++) {
                char what[160];
                snprintf(what, sizeof what, "%s, ta=%d tb=%d, %zu x (%zu,%zu,%zu), beta %g",
                         v[i] ? v[i]->name : "ref", ta, tb, bt, m, n, k, (double)beta);
                batch_runs(v[i], what, ta, tb, bt, m, n, k, alpha, A, lda, alen, B, ldb, blen,
                           beta, C0, NULL, got, ldc, 0, clen);
                check_shared_c(what, m, n, ldc, ref, tol, C0, got);
            }
            free(A), free(B), free(C0), free(got), free(ref), free(tol);
        }
    ag_set_threads(0);
}

/* C = alpha op(A) op(B) + bias (agi_gemm_bias_with), by column, by row and
 * a whole matrix,
 * on every path a product can take: the lanes kernel (ta = 0, tb = 1, few
 * rows; with k in two blocks), B read in place, the shared and the private
 * packing, the reference; batches with A shared (a convolution) and with
 * every operand its own. Against the oracle of C set to the bias and beta 1;
 * the same bits at 1, 2 and 3 threads, on the private path, and without
 * memory for packing buffers. */
static void bias_check(const agi_gemm_kernel *kern, const gcase *g, const ag_real *bias, int kind)
{
    enum { BATCH = 3 };
    const char *name = kern ? kern->name : "ref";
    size_t len = g->m * g->ldc, alen = (g->ta ? g->k : g->m) * g->lda,
           blen = (g->tb ? g->n : g->k) * g->ldb;
    ag_real *A3 = malloc(sizeof(ag_real) * BATCH * alen);
    ag_real *B3 = malloc(sizeof(ag_real) * BATCH * blen);
    ag_real *C[6], *C3 = malloc(sizeof(ag_real) * BATCH * len);
    cr_assert(A3 && B3 && C3);
    for (int t = 0; t < BATCH; t++) {
        memcpy(A3 + t * alen, g->A, sizeof(ag_real) * alen);
        memcpy(B3 + t * blen, g->B, sizeof(ag_real) * blen);
    }
    for (int r = 0; r < 6; r++) {
        /* 1, 2, 3 threads; 2 on the private path; 1 out of memory; 2 with
         * A shared by a batch and 2 with every operand its own */
        ag_set_threads(r < 3 ? r + 1 : r == 4 ? 1 : 2);
        agi_gemm_set_shared_max(r == 3 ? 0 : (size_t)-1);
        C[r] = malloc(sizeof(ag_real) * len);
        cr_assert(C[r]);
        for (int t = 0; t < BATCH; t++) {
            ag_real *c = t == 0 ? C[r] : C3 + t * len;
            memcpy(c, g->C0, sizeof(ag_real) * len);
            for (size_t i = 0; i < g->m; i++)
                for (size_t j = 0; j < g->n; j++) c[i * g->ldc + j] = NAN;
        }
        if (r == 4) {
            agi_gemm_release();
            ag_set_allocator(failing, NULL);
        }
        if (r < 5) {
            agi_gemm_bias_with(kern, g->ta, g->tb, 1, g->m, g->n, g->k, g->alpha, g->A, g->lda, 0,
                               g->B, g->ldb, 0, bias, 0, kind, C[r], g->ldc, 0);
        } else {
            memcpy(C3, C[r], sizeof(ag_real) * len);
            agi_gemm_bias_with(kern, g->ta, g->tb, BATCH, g->m, g->n, g->k, g->alpha, g->A, g->lda,
                               0, B3, g->ldb, blen, bias, 0, kind, C3, g->ldc, len);
            for (int t = 1; t < BATCH; t++)
                cr_assert(memcmp(C3, C3 + t * len, sizeof(ag_real) * len) == 0,
                          "%s bias kind %d: A-shared batch, product %d differs", name, kind, t);
            memcpy(C[r], C3, sizeof(ag_real) * len);
            agi_gemm_bias_with(kern, g->ta, g->tb, BATCH, g->m, g->n, g->k, g->alpha, A3, g->lda,
                               alen, B3, g->ldb, blen, bias, 0, kind, C3, g->ldc, len);
            for (int t = 0; t < BATCH; t++)
                cr_assert(memcmp(C[r], C3 + t * len, sizeof(ag_real) * len) == 0,
                          "%s bias kind %d: batch, product %d differs", name, kind, t);
        }
        ag_set_allocator(NULL, NULL);
        case_compare(g, C[r], name);
        cr_assert(memcmp(C[0], C[r], sizeof(ag_real) * len) == 0,
                  "%s bias kind %d %zux%zux%zu: run %d differs from 1 thread", name, kind, g->m,
                  g->n, g->k, r);
    }
    agi_gemm_set_shared_max((size_t)-1);
    ag_set_threads(0);
    for (int r = 0; r < 6; r++) free(C[r]);
    free(A3), free(B3), free(C3);
}

Test(gemm, bias_every_path)
{
    static const struct { int ta, tb; size_t m, n, k; } shapes[] = {
        {0, 1, 64, 100, 70}, {0, 1, 37, 29, 700}, {0, 0, 8, 196, 200},
        {1, 0, 300, 65, 129}, {0, 0, 129, 300, 17}, {1, 1, 7, 1, 65},
    };
    const agi_gemm_kernel *v[8];
    size_t nv = agi_gemm_variants(v, 7);
    v[nv++] = NULL;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int kind = AGI_BIAS_COLS; kind <= AGI_BIAS_FULL; kind++)
            for (size_t i = 0; i < nv; i++) {
                gcase g;
                case_operands(&g, shapes[s].ta, shapes[s].tb, shapes[s].m, shapes[s].n,
                              shapes[s].k, 3, (ag_real)0.75, 1, 40 + (unsigned)s);
                size_t nb = kind == AGI_BIAS_COLS ? g.n : kind == AGI_BIAS_ROWS ? g.m : g.m * g.n;
                ag_real *bias = malloc(sizeof(ag_real) * nb);
                cr_assert(bias);
                fill_uniform(bias, nb, -4, 4, 50 + (unsigned)s);
                for (size_t r = 0; r < g.m; r++)
                    for (size_t j = 0; j < g.n; j++)
                        g.C0[r * g.ldc + j] = bias[kind == AGI_BIAS_COLS   ? j
                                                   : kind == AGI_BIAS_ROWS ? r
                                                                           : r * g.n + j];
                case_oracle(&g);
                bias_check(v[i], &g, bias, kind);
                free(bias);
                case_free(&g);
            }
}
