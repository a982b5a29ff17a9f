/* Vector math compiled for AVX2 and FMA (flags in ops/kernels/meson.build). */
#define VM_ISA avx2
#include "../vmath_impl.h"
