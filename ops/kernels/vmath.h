/* Vector math over arrays of ag_real (internal; names agi_).
 *
 * Each function computes y[i] = f(x[i]) for i < n; y may be the same array
 * as x (not a partial overlap). Branch-free loops the compiler vectorises,
 * in the build's precision (float polynomials in the float build, double
 * ones in the double build), with an AVX-512 and an AVX2+FMA copy chosen
 * once at run time; the portable copy is always built. AGRAD_KERNEL=ref,
 * avx2 or avx512 in the environment forces one (if the CPU has it).
 *
 * Special values, in every copy:
 *   NaN in, NaN out. exp(+inf) = +inf, exp(-inf) = 0, exp overflows to +inf
 *   above ln(max) (88.72 float, 709.78 double) and rounds to 0 below the
 *   smallest subnormal (-103.97 float, -745.13 double), with subnormal
 *   results in between. expm1(-inf) = -1. log(0) = -inf, log(x < 0) = NaN,
 *   log(+inf) = +inf, subnormal x handled; log1p(-1) = -inf, log1p(x < -1)
 *   = NaN. tanh(+-inf) = +-1, and exactly +-1 once |x| rounds there. sigmoid
 *   and softplus never give NaN for non-NaN x (sigmoid(-inf) = 0,
 *   sigmoid(+inf) = 1, softplus(+inf) = +inf, softplus(-inf) = 0). tanh,
 *   expm1, log1p keep the sign of -0 and return tiny (subnormal) arguments
 *   with small relative error.
 *
 * Accuracy: largest error in ulps of the result (relative to the build's
 * ulp at the exact value, subnormals counted in units of the smallest
 * subnormal) over a sweep of dense samples on the interesting range, wide
 * logarithmic samples over the whole finite range, subnormals and specials,
 * measured against long double libm by tests/kernels/test_vmath.c, which
 * fails if a copy exceeds these bounds:
 *
 *                  float build         double build
 *     exp          1 ulp  (0.9 meas.)  1 ulp  (0.5 meas.)
 *     expm1        2 ulp  (1.1)        2 ulp  (0.9)
 *     log          1 ulp  (0.8)        1 ulp  (0.5)
 *     log1p        2 ulp  (1.2)        2 ulp  (0.8)
 *     tanh         2 ulp  (1.6)        2 ulp  (1.5)
 *     sigmoid      2 ulp  (1.4)        2 ulp  (1.3)
 *     softplus     2 ulp  (1.4)        2 ulp  (1.1)
 */
#ifndef AGRAD_VMATH_H
#define AGRAD_VMATH_H

#include <stddef.h>
#include "agrad/config.h"

void agi_vexp(size_t n, const ag_real *x, ag_real *y);
void agi_vexpm1(size_t n, const ag_real *x, ag_real *y);
void agi_vlog(size_t n, const ag_real *x, ag_real *y);
void agi_vlog1p(size_t n, const ag_real *x, ag_real *y);
void agi_vtanh(size_t n, const ag_real *x, ag_real *y);
/* 1 / (1 + exp(-x)) */
void agi_vsigmoid(size_t n, const ag_real *x, ag_real *y);
/* log(1 + exp(x)) */
void agi_vsoftplus(size_t n, const ag_real *x, ag_real *y);

/* One compiled copy of the functions above. */
typedef void agi_vfn(size_t n, const ag_real *x, ag_real *y);
typedef struct agi_vmath {
    const char *name; /* "ref", "avx2", "avx512" */
    agi_vfn *exp, *expm1, *log, *log1p, *tanh, *sigmoid, *softplus;
} agi_vmath;

/* The copies compiled in and supported by this CPU, best first, the
 * portable "ref" last; returns how many (at most max) were written. */
size_t agi_vmath_variants(const agi_vmath **out, size_t max);

/* The copy the agi_v* functions use (chosen on first use). */
const agi_vmath *agi_vmath_current(void);

#endif
