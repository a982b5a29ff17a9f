/* Body of the vector math kernels, compiled once per instruction set: the
 * including file defines VM_ISA (ref, avx2, avx512) and its compiler flags
 * pick the vector width and whether fma exists. Each function is a plain
 * loop over one branch-free scalar formula, which the compiler vectorises:
 * range reduction, a polynomial, 2^k built from bits, and special cases
 * blended in with selects rather than branches. Built with
 * -fno-trapping-math: without it GCC keeps a select whose arm does
 * arithmetic as a branch (the arm might raise a floating-point exception
 * the other would not), and only AVX-512 masking vectorises that.
 *
 * Shared pieces:
 *   2^k for integral k: the float k + (2^MANT * 1.5 + BIAS) holds k + BIAS in
 *   its low mantissa bits; shifted left by MANT they become the exponent
 *   field. round(v) is (v + 1.5 * 2^MANT) - 1.5 * 2^MANT (round to nearest).
 *
 *   exp(x) = 2^k (1 + p(r)),  k = round(x / ln2),  r = x - k ln2 in
 *   [-ln2/2, ln2/2], kept as rh + rl (ln2 split hi + lo so k ln2hi is
 *   exact), where p(r) = expm1(r) = rh + (rl + r^2 G(r)), G a minimax fit of
 *   (e^r - 1 - r) / r^2.
 *   2^k is applied as 2^k1 2^k2 (k1 = round(k/2)) so that results near the
 *   overflow threshold and in the subnormal range come out with one rounding.
 *
 *   expm1(x) = 2^k p + (2^k - 1) = 2 ((t rh + (t - 1/2)) + t (p - rh)),
 *   t = 2^(k-1), which stays finite up to the overflow threshold and rounds
 *   only twice; k = 0 returns p itself.
 *
 *   log(x): x = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1 (exact),
 *   s = f / (2 + f), log(1 + f) = 2 atanh(s) = 2s + s R(s^2), and since
 *   2s = f - s f = f - f^2/2 + s f^2/2:
 *       log(x) = k ln2hi + (f - (f^2/2 - s (f^2/2 + R) - k ln2lo))
 *   with R(z) = z H(z), H a minimax fit of (2 atanh(s) - 2s) / s^3.
 *   log1p(x): the same on u = 1 + x, plus the rounding error of u as
 *   c / u with c = (1 + x) - u computed exactly.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "vmath.h"

#define VM_CAT2(a, b) a##_##b
#define VM_CAT(a, b) VM_CAT2(a, b)
#define VM_FN(f) VM_CAT(f, VM_ISA)

typedef ag_real R;

#if AG_REAL_IS_DOUBLE
typedef uint64_t U;
#define VM_MANT 52
#define VM_BIAS 1023
#define VM_SIGN 0x8000000000000000ull
#define VM_MANT_MASK 0x000fffffffffffffull
#define VM_ONE_BITS 0x3ff0000000000000ull
#define VM_SQRTH_BITS 0x3fe6a09e667f3bcdull /* sqrt(1/2) */
#define VM_TWO_MANT_BITS 0x4330000000000000ull /* 2^52 */
#define VM_SHIFT 0x1.8p52
#define VM_MIN_NORMAL 0x1p-1022
#define VM_SUB_SCALE 0x1p52
#define LN2_HI 0x1.62e42feep-1
#define LN2_LO 0x1.a39ef35793c76p-33
#define LOG2E 0x1.71547652b82fep+0
#define EXP_LO (-746.0)  /* exp below it rounds to 0 */
#define EXP_HI 710.0     /* exp above it overflows */
#define EXPM1_LO (-40.0) /* expm1 below it rounds to -1 */
#define TANH_SAT 22.0    /* tanh above it rounds to 1 */
/* G(r) ~ (e^r - 1 - r) / r^2 on [-0.347, 0.347]: |r (G - g)| < 2.8e-19;
 * H(z) ~ (2 atanh(s) - 2s) / s^3, z = s^2 in [0, 0.0295]: relative 5.4e-16.
 * Weighted least squares on Chebyshev nodes, each coefficient rounded in turn
 * and the higher ones refitted. */
#define G0 0x1p-1
#define G1 0x1.5555555555559p-3
#define G2 0x1.5555555555557p-5
#define G3 0x1.111111110f63ep-7
#define G4 0x1.6c16c16c15771p-10
#define G5 0x1.a01a01b012868p-13
#define G6 0x1.a01a01ab1b74ap-16
#define G7 0x1.71ddf7de5c3ccp-19
#define G8 0x1.27e4d12ba1130p-22
#define G9 0x1.af5f9166805e5p-26
#define G10 0x1.1f8413aa2dd63p-29
#define H0 0x1.5555555555555p-1
#define H1 0x1.9999999996907p-2
#define H2 0x1.2492492c82e2ep-2
#define H3 0x1.c71c6429b923ep-3
#define H4 0x1.74626f09d4ce8p-3
#define H5 0x1.3a058b63419fcp-3
#define H6 0x1.2b0fbc42c7c38p-3
#if defined(__FMA__)
#define FMA(a, b, c) __builtin_fma((a), (b), (c))
#define VM_HAVE_FMA 1
#endif
#else
typedef uint32_t U;
#define VM_MANT 23
#define VM_BIAS 127
#define VM_SIGN 0x80000000u
#define VM_MANT_MASK 0x007fffffu
#define VM_ONE_BITS 0x3f800000u
#define VM_SQRTH_BITS 0x3f3504f3u
#define VM_TWO_MANT_BITS 0x4b000000u
#define VM_SHIFT 0x1.8p23f
#define VM_MIN_NORMAL 0x1p-126f
#define VM_SUB_SCALE 0x1p23f
#define LN2_HI 0x1.62e4p-1f
#define LN2_LO 0x1.7f7d1cp-20f
#define LOG2E 0x1.715476p+0f
#define EXP_LO (-104.0f)
#define EXP_HI 89.0f
#define EXPM1_LO (-18.0f)
/* As above, for float: |r (G - g)| < 4.6e-10, H relative 3.0e-8. */
#define G0 0x1p-1f
#define G1 0x1.555556p-3f
#define G2 0x1.5554f0p-5f
#define G3 0x1.110fe2p-7f
#define G4 0x1.6d4394p-10f
#define G5 0x1.a28f18p-13f
#define H0 0x1.555556p-1f
#define H1 0x1.99986cp-2f
#define H2 0x1.24c1f4p-2f
#define H3 0x1.ce6884p-3f
#if defined(__FMA__)
#define FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#define VM_HAVE_FMA 1
#endif
#endif

/* Without hardware fma, a multiply and an add (the reductions stay exact
 * because ln2hi has trailing zero bits). In ISO C mode (-std=c11) GCC does
 * not contract a * b + c on its own, so only these fuse, the same way in the
 * vector body and in the remainder loop. */
#ifndef FMA
#define FMA(a, b, c) ((a) * (b) + (c))
#endif

static inline U bits(R x)
{
    U u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline R real(U u)
{
    R x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline R vabs(R x) { return real(bits(x) & ~(U)VM_SIGN); }

/* round to nearest integer, for |v| < 2^(MANT-1) */
static inline R round_int(R v) { return (v + VM_SHIFT) - VM_SHIFT; }

/* 2^k for integral k with k + BIAS in [1, 2 BIAS] */
static inline R pow2i(R k)
{
    return real(bits(k + (R)(VM_SHIFT + VM_BIAS)) << VM_MANT);
}

/* expm1(r) - rh for r = rh + rl, |r| <= ln2/2 (plus rounding slack):
 * rl + r^2 G(r), the polynomial evaluated by Estrin's scheme to shorten the
 * dependency chain. The rounding of rh + rl only reaches the r^2 G term. */
static inline R expm1_tail(R rh, R rl)
{
    R r = rh + rl, r2 = r * r;
#if AG_REAL_IS_DOUBLE
    R r4 = r2 * r2, r8 = r4 * r4;
    R a = FMA(r, G1, G0), b = FMA(r, G3, G2), c = FMA(r, G5, G4), d = FMA(r, G7, G6),
      e = FMA(r, G9, G8);
    R ab = FMA(r2, b, a), cd = FMA(r2, d, c), ef = FMA(r2, G10, e);
    R g = FMA(r8, ef, FMA(r4, cd, ab));
#else
    R r4 = r2 * r2;
    R a = FMA(r, G1, G0), b = FMA(r, G3, G2), c = FMA(r, G5, G4);
    R g = FMA(r4, c, FMA(r2, b, a));
#endif
    return FMA(r2, g, rl);
}

/* k = round(x / ln2) and x - k ln2 = rh + rl (rh exact, rl = -k ln2lo), for
 * clamped (or NaN) x */
static inline R reduce_ln2(R x, R *rh, R *rl)
{
    R k = round_int(x * LOG2E);
    *rh = FMA(k, -LN2_HI, x);
    *rl = k * -LN2_LO;
    return k;
}

static inline R exp1(R x)
{
    R xc = x < EXP_LO ? EXP_LO : x; /* NaN passes both selects and propagates */
    xc = xc > EXP_HI ? EXP_HI : xc;
    R rh, rl, k = reduce_ln2(xc, &rh, &rl);
    R p = rh + expm1_tail(rh, rl); /* expm1(r), rounded once */
    R k1 = round_int(k * (R)0.5);
    R s1 = pow2i(k1), s2 = pow2i(k - k1);
    return FMA(p, s1, s1) * s2;
}

/* expm1 of x already clamped to [EXPM1_LO, EXP_HI] (or NaN) */
static inline R expm1_clamped(R xc)
{
    R rh, rl, k = reduce_ln2(xc, &rh, &rl);
    R q = expm1_tail(rh, rl);
    R t = pow2i(k - 1);
    R y = 2 * FMA(t, q, FMA(t, rh, t - (R)0.5)); /* t rh and t q are exact */
    return k == 0 ? rh + q : y;
}

static inline R expm1_1(R x)
{
    R xc = x < EXPM1_LO ? EXPM1_LO : x;
    xc = xc > EXP_HI ? EXP_HI : xc;
    R y = expm1_clamped(xc);
    return x == 0 ? x : y; /* keeps the sign of -0 */
}

/* n - q d exactly, for q = fl(n / d): with fma in one step; without, by
 * Dekker's product (Veltkamp's split into half-width parts multiplies
 * exactly), and n - fl(q d) is exact since fl(q d) is within a factor 2
 * of n. */
static inline R div_residual(R n, R q, R d)
{
#ifdef VM_HAVE_FMA
    return FMA(-q, d, n);
#else
    const R split = (R)((U)1 << ((VM_MANT + 2) / 2)) + 1;
    R p = q * d;
    R tq = split * q, qh = tq - (tq - q), ql = q - qh;
    R td = split * d, dh = td - (td - d), dl = d - dh;
    R err = ((qh * dh - p) + qh * dl + ql * dh) + ql * dl; /* q d - p */
    return (n - p) - err;
#endif
}

/* n / (b + e) for b + e > 0, with one rounding fewer than the plain
 * expression: d = b + e is rounded, its error ed is exact (Fast2Sum, the
 * larger term first), and the quotient q = n / d is corrected by the
 * residual n - q (d + ed) times inv ~ 1 / (b + e), which the caller knows
 * from q. */
static inline R div_sum(R n, R b, R e, R *q_out)
{
    R d = b + e;
    R ed = e <= b ? (b - d) + e : (e - d) + b;
    R q = n / d;
    *q_out = q;
    return div_residual(n, q, d) - q * ed;
}

#if AG_REAL_IS_DOUBLE
/* tanh(|x|) = u / (u + 2) = h / (h + 1) with h = expm1(2|x|) / 2: no
 * cancellation anywhere, and tanh(x) ~ x for tiny x because expm1 is
 * accurate there. h is expm1_clamped's result without its last doubling,
 * and k is rounded from |x| (2 log2(e) |x| is rounded once, as 2|x| log2(e)
 * was): two multiplies fewer on the dependency chain, the same values.
 * Since 1 / (h + 1) = 1 - tanh, the residual of the division costs no
 * second division. Past h = 2^(MANT-4), 1 - q has too few correct bits and
 * the correction (then below half an ulp of q) is dropped. Exactly 1
 * beyond TANH_SAT, the sign restored at the end. */
static inline R tanh1(R x)
{
    R a = vabs(x);
    R ac = a > TANH_SAT ? TANH_SAT : a;
    R k = round_int(ac * ((R)2 * LOG2E));
    R rh = FMA(k, -LN2_HI, 2 * ac), rl = k * -LN2_LO;
    R p = expm1_tail(rh, rl);
    R t = pow2i(k - 1);
    R h = FMA(t, p, FMA(t, rh, t - (R)0.5)); /* t rh and t p are exact */
    h = k == 0 ? (rh + p) * (R)0.5 : h;
    R q, rem = div_sum(h, 1, h, &q);
    R inv = h < (R)((U)1 << (VM_MANT - 4)) ? 1 - q : 0;
    R y = FMA(rem, inv, q);
    y = a > TANH_SAT ? 1 : y;
    return real(bits(y) | (bits(x) & VM_SIGN));
}
#else
/* Float: tanh(x) = x P(x^2) / Q(x^2), P of degree 5 and Q of degree 4 in
 * x^2 with P(0) = Q(0) = 1, a fit of tanh(x) / x on [0, 9.02] within a
 * relative 1.4e-9 (Lawson-weighted least squares on Chebyshev nodes). It is
 * evaluated in double, where the rounding of the polynomials and of the
 * division stays far below a float ulp, so the result is rounded once, to
 * float, at the end: fewer vector instructions than the form above (40
 * against 53 in GCC's AVX-512 loop body for 16 floats, though each double
 * vector holds 8) and a shorter dependency chain. tanh(x) = x for tiny x
 * since P / Q -> 1.
 * Beyond 13 ln2 (9.0109) tanh rounds to +-1, returned exactly. */
#if defined(__FMA__)
#define FMAD(a, b, c) __builtin_fma((a), (b), (c))
#else
#define FMAD(a, b, c) ((a) * (b) + (c))
#endif
#define TANH_SAT 0x1.205966p+3f
#define TP1 0x1.183289eb2980fp-3
#define TP2 0x1.fb49eb797f037p-9
#define TP3 0x1.d687d4438cb0bp-16
#define TP4 0x1.07763307a708ep-25
#define TP5 -0x1.af6a84ac4660bp-37
#define TQ1 0x1.e16e99b95f3b5p-2
#define TQ2 0x1.be83fa683d60ep-6
#define TQ3 0x1.9d5af4572f4c2p-12
#define TQ4 0x1.5a458b2c4b446p-20
static inline R tanh1(R x)
{
    double d = x, z = d * d;
    double p = FMAD(FMAD(FMAD(FMAD(FMAD(TP5, z, TP4), z, TP3), z, TP2), z, TP1), z, 1.0);
    double q = FMAD(FMAD(FMAD(FMAD(TQ4, z, TQ3), z, TQ2), z, TQ1), z, 1.0);
    R y = (R)(d * p / q);
    R one = real((U)VM_ONE_BITS | (bits(x) & (U)VM_SIGN));
    return vabs(x) > TANH_SAT ? one : y;
}
#endif

/* sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, with
 * e = exp(-|x|) in [0, 1]: never overflows, never NaN for non-NaN x. The
 * division is corrected as in tanh, 1 / (1 + e) being q or 1 - q. */
static inline R sigmoid1(R x)
{
    R e = exp1(-vabs(x));
    R q, rem = div_sum(x < 0 ? e : 1, 1, e, &q);
    return FMA(rem, x < 0 ? 1 - q : q, q);
}

/* Split u = 2^k m, m in [sqrt(1/2), sqrt(2)); returns k, sets f = m - 1.
 * u must be positive and normal (other values give garbage, replaced by the
 * caller). */
static inline R log_split(R u, R *f)
{
    U d = bits(u) + (U)(VM_ONE_BITS - VM_SQRTH_BITS);
    R kb = real((d >> VM_MANT) | (U)VM_TWO_MANT_BITS); /* 2^MANT + k + BIAS */
    *f = real((d & (U)VM_MANT_MASK) + (U)VM_SQRTH_BITS) - 1;
    return kb - (R)((U)1 << VM_MANT) - VM_BIAS;
}

/* log(2^k (1 + f)) + c */
static inline R log_tail(R k, R f, R c)
{
    R s = f / (2 + f), z = s * s;
#if AG_REAL_IS_DOUBLE
    R z2 = z * z, z4 = z2 * z2;
    R h = FMA(z4, FMA(z2, H6, FMA(z, H5, H4)), FMA(z2, FMA(z, H3, H2), FMA(z, H1, H0)));
#else
    R z2 = z * z;
    R h = FMA(z2, FMA(z, H3, H2), FMA(z, H1, H0));
#endif
    R hfsq = (R)0.5 * f * f;
    R lo = FMA(s, FMA(z, h, hfsq), FMA(k, LN2_LO, c));
    return FMA(k, LN2_HI, f - (hfsq - lo));
}

static inline R log1(R x)
{
    R xs = x < VM_MIN_NORMAL ? x * VM_SUB_SCALE : x;
    R f, k = log_split(xs, &f);
    k = x < VM_MIN_NORMAL ? k - VM_MANT : k;
    R y = log_tail(k, f, 0);
    y = x > 0 ? y : (x == 0 ? -(R)INFINITY : (R)NAN);
    return x < (R)INFINITY ? y : x + x; /* +inf, NaN */
}

/* log1p on u = 1 + x: c = (1 + x) - u exactly (Fast2Sum, the larger of 1
 * and x first), passed to log_tail as c / u. Without specials: the caller
 * blends them in (softplus needs none). */
static inline R log1p_core(R x)
{
    R u = 1 + x;
    R f, k = log_split(u, &f);
    R c = x > 1 ? 1 - (u - x) : x - (u - 1);
    return log_tail(k, f, c / u);
}

static inline R log1p1(R x)
{
    R y = log1p_core(x);
    R u = 1 + x;
    y = u > 0 ? y : (u == 0 ? -(R)INFINITY : (R)NAN);
    y = x == 0 ? x : y; /* keeps the sign of -0 */
    return x < (R)INFINITY ? y : x + x;
}

/* softplus(x) = max(x, 0) + log1p(exp(-|x|)): exp(-|x|) is in [0, 1] */
static inline R softplus1(R x)
{
    R lp = log1p_core(exp1(-vabs(x)));
    return (x > 0 ? x : 0) + lp;
}

#define VM_LOOP(name, f1)                                             \
    static void VM_FN(name)(size_t n, const ag_real *x, ag_real *y)  \
    {                                                                 \
        for (size_t i = 0; i < n; i++)                                \
            y[i] = f1(x[i]);                                          \
    }

VM_LOOP(vexp, exp1)
VM_LOOP(vexpm1, expm1_1)
VM_LOOP(vlog, log1)
VM_LOOP(vlog1p, log1p1)
VM_LOOP(vtanh, tanh1)
VM_LOOP(vsigmoid, sigmoid1)
VM_LOOP(vsoftplus, softplus1)

/* 2 x 2 max pooling (vmath.h). The including file may name copies of its
 * own in VM_MAX2X2 and VM_MAX2X2_VJP (x86/vmath_avx512.c does); these plain
 * loops are the others'. */
#ifndef VM_MAX2X2
/* max(v, m), a NaN in either winning; a select on both comparisons (not
 * ||), so that it vectorises */
static inline R vm_pick(R v, R m)
{
    return ((v > m) | (v != v)) ? v : m;
}

static void VM_FN(vmax2x2)(size_t rows, size_t mid, const R *x, R *y, R *inv)
{
    size_t row = 2 * mid;
    for (size_t o = 0; o < rows; o++, x += 2 * row, y += mid, inv += mid) {
        const R *x0 = x, *x1 = x + row;
        for (size_t m = 0; m < mid; m++) {
            R a = x0[2 * m], b = x0[2 * m + 1], c = x1[2 * m], d = x1[2 * m + 1];
            R v = vm_pick(d, vm_pick(c, vm_pick(b, a)));
            R n = (R)(a == v) + (R)(b == v) + (R)(c == v) + (R)(d == v);
            y[m] = v;
            inv[m] = n > 0 ? 1 / n : 0; /* 0: v is NaN, no gradient */
        }
    }
}

static void VM_FN(vmax2x2_vjp)(size_t rows, size_t mid, const R *x, const R *y, const R *gy,
                               const R *inv, R *gx)
{
    size_t row = 2 * mid;
    for (size_t o = 0; o < rows; o++, x += 2 * row, gx += 2 * row, y += mid, gy += mid,
                inv += mid) {
        const R *x0 = x, *x1 = x + row;
        R *g0 = gx, *g1 = gx + row;
        for (size_t m = 0; m < mid; m++) {
            R w = gy[m] * inv[m], v = y[m];
            g0[2 * m] = x0[2 * m] == v ? w : 0;
            g0[2 * m + 1] = x0[2 * m + 1] == v ? w : 0;
            g1[2 * m] = x1[2 * m] == v ? w : 0;
            g1[2 * m + 1] = x1[2 * m + 1] == v ? w : 0;
        }
    }
}
#define VM_MAX2X2 VM_FN(vmax2x2)
#define VM_MAX2X2_VJP VM_FN(vmax2x2_vjp)
#endif

#define VM_STR2(s) #s
#define VM_STR(s) VM_STR2(s)

const agi_vmath VM_FN(agi_vmath) = {
    .name = VM_STR(VM_ISA),
    .exp = VM_FN(vexp),
    .expm1 = VM_FN(vexpm1),
    .log = VM_FN(vlog),
    .log1p = VM_FN(vlog1p),
    .tanh = VM_FN(vtanh),
    .sigmoid = VM_FN(vsigmoid),
    .softplus = VM_FN(vsoftplus),
    .max2x2 = VM_MAX2X2,
    .max2x2_vjp = VM_MAX2X2_VJP,
};
