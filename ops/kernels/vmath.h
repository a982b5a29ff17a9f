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
 * Accuracy, in ulps of the result (the build's ulp at the exact value;
 * subnormal results in units of the smallest subnormal). "bound" is what
 * tests/kernels/test_vmath.c asserts for every copy against long double
 * libm, over dense samples of the interesting range, dense samples near 0,
 * random finite bit patterns (every binade, subnormals) and special values;
 * a subnormal result may be 0.5 ulp worse (2^k is applied in two steps, so
 * it is rounded twice). "measured" is the largest error seen in that test
 * and in a wider sweep: every 61st float bit pattern (70 million values)
 * for the float build; 4 million dense plus 4 million random values per
 * function for the double build. The copies' maxima differ by 0.04 ulp or
 * less. Float tanh is a rational function evaluated in double and rounded
 * once: its bound in the float build is the 1 in brackets, and its figure
 * is the maximum over every float, for each copy (against long double).
 *
 *                bound    measured, float    measured, double
 *     exp        1        0.88               0.89
 *     expm1      1.5      1.22               1.19
 *     log        1        0.83               0.84
 *     log1p      1        0.81               0.82
 *     tanh       2 (1)    0.52               1.44
 *     sigmoid    2        1.47               1.48
 *     softplus   2        1.56               1.52
 *
 * Cost on a Zen 4 core (AVX-512 copy), 16 floats: 10-15 ns per call
 * back to back, 26-47 ns when each call waits for the last one's result
 * (tanh 30 ns, against about 180 ns for 16 calls of libm's tanhf).
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

/* Max pooling over 2 x 2 windows that tile an image: x is [rows, 2, mid,
 * 2] (a row of windows: two image rows of 2 mid values), y and inv are
 * [rows, mid]. y = the window's maximum, taken in the order x[0][0],
 * x[0][1], x[1][0], x[1][1] with a NaN winning (as max.c's generic loops
 * take it, so the bits are theirs); inv = 1 / the number of the window's
 * values equal to it, 0 for a NaN window. */
void agi_vmax2x2(size_t rows, size_t mid, const ag_real *x, ag_real *y, ag_real *inv);
/* Its VJP: gx[i] = gy * inv of i's window where x[i] equals the window's y,
 * else 0; every element of gx [rows, 2, mid, 2] is stored. */
void agi_vmax2x2_vjp(size_t rows, size_t mid, const ag_real *x, const ag_real *y,
                     const ag_real *gy, const ag_real *inv, ag_real *gx);

/* One compiled copy of the functions above. */
typedef void agi_vfn(size_t n, const ag_real *x, ag_real *y);
typedef void agi_max2x2_fn(size_t rows, size_t mid, const ag_real *x, ag_real *y, ag_real *inv);
typedef void agi_max2x2_vjp_fn(size_t rows, size_t mid, const ag_real *x, const ag_real *y,
                               const ag_real *gy, const ag_real *inv, ag_real *gx);
typedef struct agi_vmath {
    const char *name; /* "ref", "avx2", "avx512" */
    agi_vfn *exp, *expm1, *log, *log1p, *tanh, *sigmoid, *softplus;
    agi_max2x2_fn *max2x2;
    agi_max2x2_vjp_fn *max2x2_vjp;
} agi_vmath;

/* The copies compiled in and supported by this CPU, best first, the
 * portable "ref" last; returns how many (at most max) were written. */
size_t agi_vmath_variants(const agi_vmath **out, size_t max);

/* The copy the agi_v* functions use (chosen on first use). */
const agi_vmath *agi_vmath_current(void);

#endif
