/* Vector math compiled for AVX-512 (flags in ops/kernels/meson.build). */
#define VM_ISA avx512
#include "../vmath_impl.h"
