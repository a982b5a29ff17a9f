/* W-GEMM: C = A B, row-major, GFLOP/s (median of repeats) for each GEMM
 * variant at 1 and 2 threads.
 *   bench_gemm                        every size, variant and thread count
 *   bench_gemm -v avx512 -t 1 -s 1024,1024,1024 -r 7
 *   bench_gemm -b 1 -r 31     the best repeat instead of the median: on a
 *                             machine shared with other jobs, the closest to
 *                             an unloaded run (say which one you report)
 * Two rates per row: flops per second of wall-clock time, and flops per
 * second of CPU time used by the process (all its threads). On a machine
 * shared with other jobs the first falls with the load; the second shows
 * what the kernels reach while they run, and for two threads how much of
 * the time they both spend computing. %peak is the wall rate against 257
 * GFLOP/s per thread (the fp32 FMA peak of one core in BENCHMARKS.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agrad.h"
#include "kernels/kernels.h"

static const size_t SIZES[][3] = {
    {64, 64, 64},     {128, 128, 128},  {256, 256, 256},  {512, 512, 512},
    {1024, 1024, 1024}, {2048, 2048, 2048}, {64, 256, 784}, {64, 784, 256},
    {784, 256, 64},   {32, 512, 128},
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median GFLOP/s (wall, CPU) over reps repeats of at least ~40 ms each;
 * a product that takes over 2 s is timed once. */
static int best; /* report the best repeat rather than the median */

static void measure(const agi_gemm_kernel *kern, size_t m, size_t n, size_t k, const ag_real *A,
                    const ag_real *B, ag_real *C, int reps, double *wall, double *cpu)
{
    double flops = 2.0 * (double)m * (double)n * (double)k, rw[32], rc[32];
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), t0 = now();
    agi_gemm_with(kern, 0, 0, m, n, k, 1, A, k, B, n, 0, C, n); /* warm-up */
    double once = now() - t0;
    if (once > 2.0) { /* the reference on large sizes: that one run */
        *wall = flops / once * 1e-9;
        *cpu = flops / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e-9;
        return;
    }
    t0 = now();
    agi_gemm_with(kern, 0, 0, m, n, k, 1, A, k, B, n, 0, C, n);
    once = now() - t0;
    long iters = once > 0.04 ? 1 : (long)(0.04 / (once > 1e-7 ? once : 1e-7)) + 1;
    for (int r = 0; r < reps; r++) {
        double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        t0 = now();
        for (long i = 0; i < iters; i++)
            agi_gemm_with(kern, 0, 0, m, n, k, 1, A, k, B, n, 0, C, n);
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
    int only_t = 0, reps = 5;
    size_t sz[3] = {0, 0, 0};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-v"))
            only = argv[i + 1];
        else if (!strcmp(argv[i], "-t"))
            only_t = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-r"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-b"))
            best = atoi(argv[i + 1]) != 0;
        else if (!strcmp(argv[i], "-s"))
            sscanf(argv[i + 1], "%zu,%zu,%zu", &sz[0], &sz[1], &sz[2]);
    }
    reps = reps < 1 ? 1 : reps > 31 ? 31 : reps;
    const agi_gemm_kernel *var[8];
    size_t nv = agi_gemm_variants(var, 7);
    var[nv++] = NULL; /* the reference last */
    size_t nsizes = sz[0] ? 1 : sizeof SIZES / sizeof SIZES[0];
    double load[3] = {0, 0, 0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = 0;
        fclose(la);
    }
    printf("# load average %.2f %.2f %.2f, %ld processors online; %s of %d repeats\n", load[0],
           load[1], load[2], sysconf(_SC_NPROCESSORS_ONLN), best ? "best" : "median", reps);
    printf("%-16s %-7s %3s %10s %8s %12s\n", "M,N,K", "variant", "thr", "GFLOP/s", "%peak",
           "GFLOP/cpu-s");
    for (size_t s = 0; s < nsizes; s++) {
        size_t m = sz[0] ? sz[0] : SIZES[s][0], n = sz[0] ? sz[1] : SIZES[s][1],
               k = sz[0] ? sz[2] : SIZES[s][2];
        ag_real *A = malloc(m * k * sizeof *A), *B = malloc(k * n * sizeof *B),
                *C = malloc(m * n * sizeof *C);
        if (!A || !B || !C)
            return 1;
        for (size_t i = 0; i < m * k; i++) A[i] = (ag_real)((double)(i % 97) / 48.0 - 1);
        for (size_t i = 0; i < k * n; i++) B[i] = (ag_real)((double)(i % 89) / 44.0 - 1);
        char name[32];
        snprintf(name, sizeof name, "%zu,%zu,%zu", m, n, k);
        for (size_t v = 0; v < nv; v++) {
            const char *vn = var[v] ? var[v]->name : "ref";
            if (only && strcmp(only, vn))
                continue;
            for (int t = 1; t <= 2; t++) {
                if (only_t && t != only_t)
                    continue;
                ag_set_threads(t);
                double g, gc;
                measure(var[v], m, n, k, A, B, C, reps, &g, &gc);
                printf("%-16s %-7s %3d %10.1f %7.1f%% %12.1f\n", name, vn, t, g,
                       100 * g / (257.0 * t), gc);
                fflush(stdout);
            }
        }
        free(A);
        free(B);
        free(C);
    }
    return 0;
}
