/* W-GEMM: C = A B, row-major, GFLOP/s (median of repeats) for each GEMM
 * variant at 1 and 2 threads.
 *   bench_gemm                        every size, variant and thread count
 *   bench_gemm -v avx512 -t 1 -s 1024,1024,1024 -r 7
 *   bench_gemm -b 1 -r 31     the best repeat instead of the median: on a
 *                             machine shared with other jobs, the closest to
 *                             an unloaded run (say which one you report)
 *   bench_gemm -c                     the batches of a small CNN's convolutions
 *                                     instead (agi_gemm_batch; see CONV)
 * Two rates per row: flops per second of wall-clock time, and flops per
 * second of CPU time used by the process (all its threads). On a machine
 * shared with other jobs the first falls with the load; the second shows
 * what the kernels reach while they run, and for two threads how much of
 * the time they both spend computing. %peak is the wall rate against the
 * FMA peak of one core, measured at startup (fma_peak.c) and printed in the
 * header, times the thread count; "-" where it cannot be measured. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agrad.h"
#include "fma_peak.h"
#include "kernels/kernels.h"

static const size_t SIZES[][3] = {
    {64, 64, 64},     {128, 128, 128},  {256, 256, 256},  {512, 512, 512},
    {1024, 1024, 1024}, {2048, 2048, 2048}, {64, 256, 784}, {64, 784, 256},
    {784, 256, 64},   {32, 512, 128},
};

/* The batched products of the two convolutions of bench_models' CNN (batch
 * 32: 1->8 channels 5x5 on 28x28, 8->16 channels 5x5 on 14x14, im2col):
 * forward (W shared), weight gradient (one C summed over the images) and
 * the columns' gradient. Strides in elements; lda, ldb follow ta, tb. */
typedef struct conv_batch {
    const char *name;
    int ta, tb;
    size_t batch, m, n, k, sa, sb, sc;
    ag_real beta;
} conv_batch;

static const conv_batch CONV[] = {
    {"conv1 fwd W[8,25] cols[25,784]", 0, 0, 32, 8, 784, 25, 0, 25 * 784, 8 * 784, 0},
    {"conv2 fwd W[16,200] cols[200,196]", 0, 0, 32, 16, 196, 200, 0, 200 * 196, 16 * 196, 0},
    {"conv1 dW gy[8,784] cols^T, C shared", 0, 1, 32, 8, 25, 784, 8 * 784, 25 * 784, 0, 1},
    {"conv2 dW gy[16,196] cols^T, C shared", 0, 1, 32, 16, 200, 196, 16 * 196, 200 * 196, 0, 1},
    {"conv2 dcols W^T[200,16] gy[16,196]", 1, 0, 32, 200, 196, 16, 0, 16 * 196, 200 * 196, 1},
};

static double clock_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* n values, 64-byte aligned (aligned_alloc wants a multiple of the
 * alignment) */
static ag_real *alloc64(size_t n)
{
    size_t bytes = (n * sizeof(ag_real) + 63) / 64 * 64;
    return aligned_alloc(64, bytes ? bytes : 64);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median GFLOP/s (wall, CPU) over reps repeats of at least ~40 ms each;
 * a product that takes over 2 s is timed once. */
static int best; /* report the best repeat rather than the median */

/* One timed call: a plain product (q->batch 0) or a batch. */
static void call(const agi_gemm_kernel *kern, const conv_batch *q, const ag_real *A,
                 const ag_real *B, ag_real *C)
{
    if (q->batch == 0) {
        agi_gemm_with(kern, 0, 0, q->m, q->n, q->k, 1, A, q->k, B, q->n, 0, C, q->n);
        return;
    }
    agi_gemm_batch_with(kern, q->ta, q->tb, q->batch, q->m, q->n, q->k, 1, A, q->ta ? q->m : q->k,
                        q->sa, B, q->tb ? q->k : q->n, q->sb, q->beta, C, q->n, q->sc);
}

static void measure(const agi_gemm_kernel *kern, const conv_batch *q, const ag_real *A,
                    const ag_real *B, ag_real *C, int reps, double *wall, double *cpu)
{
    double flops = 2.0 * (double)q->m * (double)q->n * (double)q->k *
                   (double)(q->batch ? q->batch : 1),
           rw[32], rc[32];
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), t0 = now();
    call(kern, q, A, B, C); /* warm-up */
    double once = now() - t0;
    if (once > 2.0) { /* the reference on large sizes: that one run */
        *wall = flops / once * 1e-9;
        *cpu = flops / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e-9;
        return;
    }
    t0 = now();
    call(kern, q, A, B, C);
    once = now() - t0;
    long iters = once > 0.04 ? 1 : (long)(0.04 / (once > 1e-7 ? once : 1e-7)) + 1;
    for (int r = 0; r < reps; r++) {
        double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        t0 = now();
        for (long i = 0; i < iters; i++) call(kern, q, A, B, C);
        rw[r] = flops * (double)iters / (now() - t0) * 1e-9;
        rc[r] = flops * (double)iters / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e-9;
    }
    qsort(rw, (size_t)reps, sizeof rw[0], cmp_double);
    qsort(rc, (size_t)reps, sizeof rc[0], cmp_double);
    *wall = rw[best ? reps - 1 : reps / 2];
    *cpu = rc[best ? reps - 1 : reps / 2];
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    int only_t = 0, reps = 5, conv = 0;
    size_t sz[3] = {0, 0, 0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c")) {
            conv = 1;
            continue;
        }
        if (i + 1 >= argc)
            break;
        const char *v = argv[++i];
        if (!strcmp(argv[i - 1], "-v"))
            only = v;
        else if (!strcmp(argv[i - 1], "-t"))
            only_t = atoi(v);
        else if (!strcmp(argv[i - 1], "-r"))
            reps = atoi(v);
        else if (!strcmp(argv[i - 1], "-b"))
            best = atoi(v) != 0;
        else if (!strcmp(argv[i - 1], "-s"))
            sscanf(v, "%zu,%zu,%zu", &sz[0], &sz[1], &sz[2]);
    }
    reps = reps < 1 ? 1 : reps > 31 ? 31 : reps;
    const agi_gemm_kernel *var[8];
    size_t nv = agi_gemm_variants(var, 7);
    var[nv++] = NULL; /* the reference last */
    size_t nsizes = conv ? sizeof CONV / sizeof CONV[0] : sz[0] ? 1 : sizeof SIZES / sizeof SIZES[0];
    double load[3] = {0, 0, 0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = 0;
        fclose(la);
    }
    const char *isa;
    double peak = bench_fma_peak(&isa);
    printf("# load average %.2f %.2f %.2f, %ld processors online; %s of %d repeats\n", load[0],
           load[1], load[2], sysconf(_SC_NPROCESSORS_ONLN), best ? "best" : "median", reps);
    printf("# FMA peak of one core, measured (%s vectors): %.1f GFLOP/s\n", isa, peak);
    printf("%-*s %-7s %3s %10s %8s %12s\n", conv ? 40 : 16, conv ? "batch x (M,N,K)" : "M,N,K",
           "variant", "thr", "GFLOP/s", "%peak", "GFLOP/cpu-s");
    for (size_t s = 0; s < nsizes; s++) {
        conv_batch q = {.m = sz[0] ? sz[0] : SIZES[s][0], .n = sz[0] ? sz[1] : SIZES[s][1],
                        .k = sz[0] ? sz[2] : SIZES[s][2]};
        if (conv)
            q = CONV[s];
        size_t nb = q.batch ? q.batch : 1, la_ = q.m * q.k + (nb - 1) * q.sa,
               lb = q.k * q.n + (nb - 1) * q.sb, lc = q.m * q.n + (nb - 1) * q.sc;
        /* 64-byte aligned, as the library's own tensors are */
        ag_real *A = alloc64(la_), *B = alloc64(lb), *C = alloc64(lc);
        if (!A || !B || !C)
            return 1;
        memset(C, 0, lc * sizeof *C);
        for (size_t i = 0; i < la_; i++) A[i] = (ag_real)((double)(i % 97) / 48.0 - 1);
        for (size_t i = 0; i < lb; i++) B[i] = (ag_real)((double)(i % 89) / 44.0 - 1);
        char name[64];
        if (conv)
            snprintf(name, sizeof name, "%s", q.name);
        else
            snprintf(name, sizeof name, "%zu,%zu,%zu", q.m, q.n, q.k);
        for (size_t v = 0; v < nv; v++) {
            const char *vn = var[v] ? var[v]->name : "ref";
            if (only && strcmp(only, vn))
                continue;
            for (int t = 1; t <= 2; t++) {
                if (only_t && t != only_t)
                    continue;
                ag_set_threads(t);
                double g, gc;
                measure(var[v], &q, A, B, C, reps, &g, &gc);
                char pct[16] = "-";
                if (peak > 0)
                    snprintf(pct, sizeof pct, "%.1f%%", 100 * g / (peak * t));
                printf("%-*s %-7s %3d %10.1f %8s %12.1f\n", conv ? 40 : 16, name, vn, t, g, pct,
                       gc);
                fflush(stdout);
            }
        }
        free(A);
        free(B);
        free(C);
    }
    return 0;
}
