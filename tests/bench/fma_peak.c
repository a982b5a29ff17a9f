/* See fma_peak.h. Twelve independent accumulators: more than an FMA's
 * latency times the FMAs a core can start per cycle, on the x86 cores we
 * know, so the loop runs at the FMA units' rate. */
#include "fma_peak.h"
#include <stdlib.h>
#include <time.h>
#include "agrad/config.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>

enum { ITERS = 2000000, ACC = 12 };

/* One timed loop of ITERS x ACC FMAs on vectors of `lanes` values; the
 * empty asm keeps the accumulators live in registers every iteration. */
#define PEAK_LOOP(vec, set1, fma, lanes)                                                   \
    vec a0 = set1(1), a1 = set1(2), a2 = set1(3), a3 = set1(4), a4 = set1(5), a5 = set1(6); \
    vec a6 = set1(7), a7 = set1(8), a8 = set1(9), a9 = set1(10), a10 = set1(11);            \
    vec a11 = set1(12), m = set1(0.999999), c = set1(1e-7);                                  \
    double t0 = cpu_now();                                                                  \
    for (long i = 0; i < ITERS; i++) {                                                      \
        a0 = fma(a0, m, c), a1 = fma(a1, m, c), a2 = fma(a2, m, c), a3 = fma(a3, m, c);     \
        a4 = fma(a4, m, c), a5 = fma(a5, m, c), a6 = fma(a6, m, c), a7 = fma(a7, m, c);     \
        a8 = fma(a8, m, c), a9 = fma(a9, m, c), a10 = fma(a10, m, c), a11 = fma(a11, m, c); \
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5),  \
                         "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11));     \
    }                                                                                       \
    double t = cpu_now() - t0;                                                              \
    return 2.0 * ACC * (lanes) * (double)ITERS / t * 1e-9

#if AG_REAL_IS_DOUBLE
__attribute__((target("avx512f"))) static double run_avx512(void)
{
    PEAK_LOOP(__m512d, _mm512_set1_pd, _mm512_fmadd_pd, 8);
}
__attribute__((target("avx2,fma"))) static double run_avx2(void)
{
    PEAK_LOOP(__m256d, _mm256_set1_pd, _mm256_fmadd_pd, 4);
}
#else
__attribute__((target("avx512f"))) static double run_avx512(void)
{
    PEAK_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, 16);
}
__attribute__((target("avx2,fma"))) static double run_avx2(void)
{
    PEAK_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps, 8);
}
#endif

double bench_fma_peak(const char **isa)
{
    double (*run)(void) = NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        run = run_avx512, *isa = "avx512";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        run = run_avx2, *isa = "avx2";
    if (!run) {
        *isa = "none";
        return 0;
    }
    double r[5];
    for (int i = 0; i < 5; i++) r[i] = run();
    qsort(r, 5, sizeof r[0], cmp_double);
    return r[2];
}
#else
double bench_fma_peak(const char **isa)
{
    (void)cpu_now;
    (void)cmp_double;
    *isa = "none";
    return 0;
}
#endif
