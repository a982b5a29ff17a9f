/* Which micro-kernels exist: built into a small library of its own, with one
 * AGI_HAVE_<ISA> define per kernel library the build could compile. A kernel
 * is listed only when the CPU (and OS) support its instructions. */
#include "kernels.h"

#if AGI_HAVE_AVX512
extern const agi_gemm_kernel agi_gemm_avx512;
#endif
#if AGI_HAVE_AVX2
extern const agi_gemm_kernel agi_gemm_avx2;
#endif

size_t agi_gemm_variants(const agi_gemm_kernel **out, size_t max)
{
    size_t n = 0;
    (void)out;
    (void)max;
#if AGI_HAVE_AVX512
    __builtin_cpu_init();
    if (n < max && __builtin_cpu_supports("avx512f"))
        out[n++] = &agi_gemm_avx512;
#endif
#if AGI_HAVE_AVX2
    __builtin_cpu_init();
    if (n < max && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        out[n++] = &agi_gemm_avx2;
#endif
    return n;
}
