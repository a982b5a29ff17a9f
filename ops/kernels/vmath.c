/* Vector math: the portable copy, and the choice of copy for this CPU.
 * Built as a library of its own, told by AGI_HAVE_<ISA> which per-ISA
 * copies the build could compile (x86/vmath_*.c). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define VM_ISA ref
#include "vmath_impl.h"

#if AGI_HAVE_AVX512
extern const agi_vmath agi_vmath_avx512;
#endif
#if AGI_HAVE_AVX2
extern const agi_vmath agi_vmath_avx2;
#endif

size_t agi_vmath_variants(const agi_vmath **out, size_t max)
{
    size_t n = 0;
#if AGI_HAVE_AVX512 || AGI_HAVE_AVX2
    __builtin_cpu_init();
#endif
#if AGI_HAVE_AVX512
    if (n < max && __builtin_cpu_supports("avx512f"))
        out[n++] = &agi_vmath_avx512;
#endif
#if AGI_HAVE_AVX2
    if (n < max && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        out[n++] = &agi_vmath_avx2;
#endif
    if (n < max)
        out[n++] = &agi_vmath_ref;
    return n;
}

/* The best supported copy, or the one named by AGRAD_KERNEL if supported. */
static const agi_vmath *choose(void)
{
    const agi_vmath *v[4];
    size_t n = agi_vmath_variants(v, 4);
    const char *want = getenv("AGRAD_KERNEL");
    for (size_t i = 0; want && i < n; i++)
        if (strcmp(v[i]->name, want) == 0)
            return v[i];
    return v[0];
}

static _Atomic(const agi_vmath *) current;

/* Out of line, so that the agi_v* entry points below, which inline cur(),
 * are each a load, a test and a tail call into the chosen copy. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static const agi_vmath *first_use(void)
{
    const agi_vmath *v = choose();
    atomic_store_explicit(&current, v, memory_order_release);
    return v;
}

static inline const agi_vmath *cur(void)
{
    const agi_vmath *v = atomic_load_explicit(&current, memory_order_acquire);
    return v ? v : first_use();
}

const agi_vmath *agi_vmath_current(void) { return cur(); }

void agi_vexp(size_t n, const ag_real *x, ag_real *y) { cur()->exp(n, x, y); }
void agi_vexpm1(size_t n, const ag_real *x, ag_real *y) { cur()->expm1(n, x, y); }
void agi_vlog(size_t n, const ag_real *x, ag_real *y) { cur()->log(n, x, y); }
void agi_vlog1p(size_t n, const ag_real *x, ag_real *y) { cur()->log1p(n, x, y); }
void agi_vtanh(size_t n, const ag_real *x, ag_real *y) { cur()->tanh(n, x, y); }
void agi_vsigmoid(size_t n, const ag_real *x, ag_real *y) { cur()->sigmoid(n, x, y); }
void agi_vsoftplus(size_t n, const ag_real *x, ag_real *y) { cur()->softplus(n, x, y); }

void agi_vmax2x2(size_t rows, size_t mid, const ag_real *x, ag_real *y, ag_real *inv)
{
    cur()->max2x2(rows, mid, x, y, inv);
}

void agi_vmax2x2_vjp(size_t rows, size_t mid, const ag_real *x, const ag_real *y,
                     const ag_real *gy, const ag_real *inv, ag_real *gx)
{
    cur()->max2x2_vjp(rows, mid, x, y, gy, inv, gx);
}
