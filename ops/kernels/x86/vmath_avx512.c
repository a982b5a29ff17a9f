/* Vector math compiled for AVX-512 (flags in ops/kernels/meson.build). */
#include <immintrin.h>
#include <stdint.h>
#include "agrad/config.h"

/* 2 x 2 max pooling by hand: the compiler's vectorisation of the plain
 * loops (vmath_impl.h) gathers the strided pairs and ran slower with
 * AVX-512 than with AVX2. Here a window row's values are loaded whole and
 * split into its even and odd columns by permutes. Each window gets the
 * plain loops' operations in their order, so the same bits. */
#if AG_REAL_IS_DOUBLE
#define PW 8
typedef __m512d pvec;
typedef __mmask8 pmask;
typedef int64_t pidx;
#define P_LOAD(p, c) _mm512_maskz_loadu_pd(pmask_of(c), p)
#define P_STORE(p, c, v) _mm512_mask_storeu_pd(p, pmask_of(c), v)
#define P_CMP(a, b, op) _mm512_cmp_pd_mask(a, b, op)
#define P_BLEND(k, a, b) _mm512_mask_blend_pd(k, a, b)
#define P_KEEP(k, v) _mm512_maskz_mov_pd(k, v)
#define P_ADD(a, b) _mm512_add_pd(a, b)
#define P_MUL(a, b) _mm512_mul_pd(a, b)
#define P_KDIV(k, a, b) _mm512_maskz_div_pd(k, a, b)
#define P_SET1(v) _mm512_set1_pd(v)
#define P_PERM2(a, i, b) _mm512_permutex2var_pd(a, i, b)
#define P_PERM(i, a) _mm512_permutexvar_pd(i, a)
#else
#define PW 16
typedef __m512 pvec;
typedef __mmask16 pmask;
typedef int32_t pidx;
#define P_LOAD(p, c) _mm512_maskz_loadu_ps(pmask_of(c), p)
#define P_STORE(p, c, v) _mm512_mask_storeu_ps(p, pmask_of(c), v)
#define P_CMP(a, b, op) _mm512_cmp_ps_mask(a, b, op)
#define P_BLEND(k, a, b) _mm512_mask_blend_ps(k, a, b)
#define P_KEEP(k, v) _mm512_maskz_mov_ps(k, v)
#define P_ADD(a, b) _mm512_add_ps(a, b)
#define P_MUL(a, b) _mm512_mul_ps(a, b)
#define P_KDIV(k, a, b) _mm512_maskz_div_ps(k, a, b)
#define P_SET1(v) _mm512_set1_ps(v)
#define P_PERM2(a, i, b) _mm512_permutex2var_ps(a, i, b)
#define P_PERM(i, a) _mm512_permutexvar_ps(i, a)
#endif

/* the first c lanes (c <= PW) */
static inline pmask pmask_of(size_t c)
{
    return (pmask)((1u << c) - 1u);
}

/* max(v, m), a NaN in v winning: the plain loops' pick */
static inline pvec pick(pvec v, pvec m)
{
    pmask k = P_CMP(v, m, _CMP_GT_OQ) | P_CMP(v, v, _CMP_UNORD_Q);
    return P_BLEND(k, m, v);
}

/* How a vector of windows is laid out. Its first h windows have their
 * values in one run (a pair of image rows, at x0 and x1), the others in a
 * second run (at x0 + second, x1 + second). Either h = PW / 2 and the runs
 * are consecutive parts of one window row, or, when a window row has at
 * most PW values, h = mid and each run is a whole window row (two window
 * rows per vector). */
typedef struct play {
    __m512i even, odd; /* run values -> windows: columns 0 and 1 */
    __m512i lo, hi;    /* windows -> run values: first and second run */
} play;

static play play_make(size_t h)
{
    pidx e[PW], o[PW], l[PW], u[PW];
    for (size_t i = 0; i < PW; i++) {
        e[i] = (pidx)(i < h ? 2 * i : PW + 2 * (i - h));
        o[i] = e[i] + 1;
        l[i] = (pidx)(i / 2);
        u[i] = (pidx)(h + i / 2);
    }
    play p = {_mm512_loadu_si512(e), _mm512_loadu_si512(o), _mm512_loadu_si512(l),
              _mm512_loadu_si512(u)};
    return p;
}

/* n windows (n <= PW): c0 values at x0 and x1, c1 at x0 + s and x1 + s */
static inline void max_vec(const play *p, const ag_real *x0, const ag_real *x1, size_t s,
                           size_t c0, size_t c1, size_t n, ag_real *y, ag_real *inv)
{
    pvec r0 = P_LOAD(x0, c0), r1 = P_LOAD(x0 + s, c1);
    pvec q0 = P_LOAD(x1, c0), q1 = P_LOAD(x1 + s, c1);
    pvec a = P_PERM2(r0, p->even, r1), b = P_PERM2(r0, p->odd, r1);
    pvec c = P_PERM2(q0, p->even, q1), d = P_PERM2(q0, p->odd, q1);
    pvec v = pick(d, pick(c, pick(b, a)));
    pvec one = P_SET1(1);
    pvec cnt = P_ADD(P_ADD(P_ADD(P_KEEP(P_CMP(a, v, _CMP_EQ_OQ), one),
                                 P_KEEP(P_CMP(b, v, _CMP_EQ_OQ), one)),
                           P_KEEP(P_CMP(c, v, _CMP_EQ_OQ), one)),
                     P_KEEP(P_CMP(d, v, _CMP_EQ_OQ), one));
    P_STORE(y, n, v);
    P_STORE(inv, n, P_KDIV(P_CMP(cnt, P_SET1(0), _CMP_GT_OQ), one, cnt));
}

static inline void max_vjp_vec(const play *p, const ag_real *x0, const ag_real *x1, size_t s,
                               size_t c0, size_t c1, size_t n, const ag_real *y,
                               const ag_real *gy, const ag_real *inv, ag_real *g0,
                               ag_real *g1)
{
    pvec v = P_LOAD(y, n), w = P_MUL(P_LOAD(gy, n), P_LOAD(inv, n));
    pvec vl = P_PERM(p->lo, v), vh = P_PERM(p->hi, v);
    pvec wl = P_PERM(p->lo, w), wh = P_PERM(p->hi, w);
    P_STORE(g0, c0, P_KEEP(P_CMP(P_LOAD(x0, c0), vl, _CMP_EQ_OQ), wl));
    P_STORE(g1, c0, P_KEEP(P_CMP(P_LOAD(x1, c0), vl, _CMP_EQ_OQ), wl));
    P_STORE(g0 + s, c1, P_KEEP(P_CMP(P_LOAD(x0 + s, c1), vh, _CMP_EQ_OQ), wh));
    P_STORE(g1 + s, c1, P_KEEP(P_CMP(P_LOAD(x1 + s, c1), vh, _CMP_EQ_OQ), wh));
}

/* Both walk x the same way: two window rows a vector when one has at most
 * PW values, else PW windows at a time along each. */
#define WALK2X2(VEC, ...)                                                               \
    do {                                                                                \
        size_t row = 2 * mid;                                                           \
        if (row <= PW) {                                                                \
            play p = play_make(mid);                                                    \
            for (size_t o = 0; o < rows; o += 2) {                                      \
                size_t k = o + 1 < rows, b = o * 2 * row;                               \
                VEC(&p, b, row, 2 * row, row, k ? row : 0, (k + 1) * mid, o * mid,      \
                    __VA_ARGS__);                                                       \
            }                                                                           \
        } else {                                                                        \
            play p = play_make(PW / 2);                                                 \
            for (size_t o = 0; o < rows; o++)                                           \
                for (size_t m = 0; m < mid; m += PW) {                                  \
                    size_t n = mid - m < PW ? mid - m : PW, c0 = 2 * n < PW ? 2 * n : PW; \
                    VEC(&p, o * 2 * row + 2 * m, row, PW, c0, 2 * n - c0, n, o * mid + m, \
                        __VA_ARGS__);                                                   \
                }                                                                       \
        }                                                                               \
    } while (0)

/* b: offset of the window values in x (and gx), r: of the second image row,
 * s: of the second run; t: offset of the windows in y */
#define MAX_STEP(p, b, r, s, c0, c1, n, t, x, y, inv) \
    max_vec(p, x + (b), x + (b) + (r), s, c0, c1, n, y + (t), inv + (t))
#define VJP_STEP(p, b, r, s, c0, c1, n, t, x, y, gy, inv, gx)                             \
    max_vjp_vec(p, x + (b), x + (b) + (r), s, c0, c1, n, y + (t), gy + (t), inv + (t), \
                gx + (b), gx + (b) + (r))

static void max2x2_avx512(size_t rows, size_t mid, const ag_real *x, ag_real *y, ag_real *inv)
{
    WALK2X2(MAX_STEP, x, y, inv);
}

static void max2x2_vjp_avx512(size_t rows, size_t mid, const ag_real *x, const ag_real *y,
                              const ag_real *gy, const ag_real *inv, ag_real *gx)
{
    WALK2X2(VJP_STEP, x, y, gy, inv, gx);
}

#define VM_MAX2X2 max2x2_avx512
#define VM_MAX2X2_VJP max2x2_vjp_avx512
#define VM_ISA avx512
#include "../vmath_impl.h"
