/* Vector math kernels (ops/kernels/vmath.h): every compiled copy against long
 * double libm, in ulps, over dense samples of the interesting range, random
 * bit patterns over the whole finite range, subnormals and special values;
 * the bounds asserted here are the ones documented in vmath.h. */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include "common.h"
#include "../../ops/kernels/vmath.h"

#if AG_REAL_IS_DOUBLE
#define MANT 52
#define EMIN (-1022)
#define EMAX 1023
#define REAL_MAX DBL_MAX
#define REAL_MIN DBL_MIN
#define TRUE_MIN 0x1p-1074
typedef uint64_t ubits;
#else
#define MANT 23
#define EMIN (-126)
#define EMAX 127
#define REAL_MAX FLT_MAX
#define REAL_MIN FLT_MIN
#define TRUE_MIN 0x1p-149f
typedef uint32_t ubits;
#endif

typedef long double (*ref_fn)(long double);

static long double ref_sigmoid(long double x) { return 1 / (1 + expl(-x)); }
static long double ref_softplus(long double x)
{
    return x > 0 ? x + log1pl(expl(-x)) : log1pl(expl(x));
}

/* Error of y in ulps of the exact value r, in the build's precision;
 * infinity stands for 2^(EMAX+1) so that a result just past the overflow
 * threshold counts as the one ulp it is. */
static double ulp_err(ag_real y, long double r)
{
    if (isnan(r) || isnan(y))
        return isnan(r) && isnan(y) ? 0 : INFINITY;
    if (isinf(y) && (ag_real)r == y)
        return 0;
    long double big = ldexpl(1, EMAX + 1);
    long double yl = isinf(y) ? copysignl(big, y) : (long double)y;
    long double rl = isinf(r) ? copysignl(big, r) : r;
    long double a = fabsl(rl);
    int e = a < (long double)REAL_MIN ? EMIN : ilogbl(a);
    return (double)(fabsl(yl - rl) / ldexpl(1, e - MANT));
}

typedef struct fn_case {
    const char *name;
    size_t off; /* offset of the function in agi_vmath */
    ref_fn ref;
    double lo, hi; /* dense range */
    double bound;  /* documented max ulp error */
} fn_case;

#define FN(f) offsetof(agi_vmath, f)
static const fn_case cases[] = {
    {"exp", FN(exp), expl, -104, 89, 1},
    {"expm1", FN(expm1), expm1l, -20, 20, 1.5},
    {"log", FN(log), logl, 0, 4, 1},
    {"log1p", FN(log1p), log1pl, -1, 3, 1},
    {"tanh", FN(tanh), tanhl, -10, 10, AG_REAL_IS_DOUBLE ? 2 : 1},
    {"sigmoid", FN(sigmoid), ref_sigmoid, -40, 40, 2},
    {"softplus", FN(softplus), ref_softplus, -40, 40, 2},
};
#define NCASES (sizeof cases / sizeof cases[0])

static agi_vfn *fn_of(const agi_vmath *v, const fn_case *c)
{
    return *(agi_vfn *const *)((const char *)v + c->off);
}

#define NDENSE 40000
#define NSMALL 20000
#define NRAND 24000
#define NSPEC 64
#define NTOTAL (NDENSE + NSMALL + NRAND + NSPEC)

static ag_real *xs, *ys;
static long double *refs;

static ubits next_bits(unsigned long long *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (ubits)*s;
}

/* The sample set for one function: dense on [lo, hi], dense near 0 (where
 * tiny-argument accuracy shows), random finite bit patterns of both signs
 * (every binade, subnormals included), and special values. */
static size_t make_samples(const fn_case *c, ag_real *x)
{
    size_t n = 0;
    for (size_t i = 0; i < NDENSE; i++)
        x[n++] = (ag_real)(c->lo + (c->hi - c->lo) * (double)i / (NDENSE - 1));
    for (size_t i = 0; i < NSMALL; i++)
        x[n++] = (ag_real)(-1 + 2.0 * (double)i / (NSMALL - 1)) * (ag_real)0.01;
    unsigned long long s = 0x243F6A8885A308D3ull;
    for (size_t i = 0; i < NRAND; i++) {
        ag_real v;
        do {
            ubits b = next_bits(&s);
            memcpy(&v, &b, sizeof v);
        } while (!isfinite(v));
        x[n++] = v;
    }
    const ag_real spec[] = {NAN, -NAN, INFINITY, -INFINITY, 0, -(ag_real)0, TRUE_MIN, -TRUE_MIN,
                            REAL_MIN, -REAL_MIN, REAL_MAX, -REAL_MAX, 1, -1, 0.5, -0.5,
                            (ag_real)88.72, (ag_real)88.73, (ag_real)709.78, (ag_real)709.79,
                            (ag_real)-103.97, (ag_real)-104, (ag_real)-745.1, (ag_real)-745.2,
                            (ag_real)9.1, (ag_real)-9.1, (ag_real)19.1, (ag_real)-19.1, 30, -30,
                            3 * TRUE_MIN, (ag_real)1e-30, (ag_real)-1e-30, (ag_real)0.3465,
                            (ag_real)-0.3466, (ag_real)1e-7, (ag_real)-0.99999, (ag_real)0.7071,
                            (ag_real)1.4142};
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++)
        x[n++] = spec[i];
    return n;
}

/* Largest error of one copy of one function; fails at the first value out
 * of bounds, naming it. */
static double max_err(const agi_vmath *v, const fn_case *c, size_t n, ag_real *at)
{
    fn_of(v, c)(n, xs, ys);
    double worst = 0;
    *at = 0;
    for (size_t i = 0; i < n; i++) {
        double e = ulp_err(ys[i], refs[i]);
        /* a subnormal result is rounded twice (scaled in two steps) */
        double bound = fabsl(refs[i]) < (long double)REAL_MIN ? c->bound + 0.5 : c->bound;
        int in_range = c->off == FN(tanh)      ? !(fabs((double)ys[i]) > 1)
                       : c->off == FN(sigmoid) ? !(ys[i] < 0 || ys[i] > 1)
                                               : 1;
        cr_assert(in_range, "%s %s(%.17g) = %.17g is out of range", v->name, c->name,
                  (double)xs[i], (double)ys[i]);
        cr_assert(e <= bound, "%s %s(%.17g) = %.17g, want %.21Lg: %.3g ulp > %g", v->name,
                  c->name, (double)xs[i], (double)ys[i], refs[i], e, bound);
        if (e > worst) {
            worst = e;
            *at = xs[i];
        }
    }
    return worst;
}

Test(vmath, accuracy_every_copy)
{
    const agi_vmath *v[4];
    size_t nv = agi_vmath_variants(v, 4);
    cr_assert_geq(nv, 1);
    cr_assert_str_eq(v[nv - 1]->name, "ref");
    xs = malloc(NTOTAL * sizeof *xs);
    ys = malloc(NTOTAL * sizeof *ys);
    refs = malloc(NTOTAL * sizeof *refs);
    cr_assert(xs && ys && refs);
    for (size_t k = 0; k < NCASES; k++) {
        size_t n = make_samples(&cases[k], xs);
        for (size_t i = 0; i < n; i++)
            refs[i] = cases[k].ref((long double)xs[i]);
        for (size_t j = 0; j < nv; j++) {
            ag_real at;
            double e = max_err(v[j], &cases[k], n, &at);
            cr_log_info("%-6s %-8s max %.3f ulp at %.9g (bound %g)", v[j]->name, cases[k].name,
                        e, (double)at, cases[k].bound);
        }
    }
    free(xs);
    free(ys);
    free(refs);
}

/* Values that must come out exactly, in every copy. */
Test(vmath, special_values_exact)
{
    const agi_vmath *v[4];
    size_t nv = agi_vmath_variants(v, 4);
    const ag_real inf = INFINITY;
    const struct {
        size_t off;
        ag_real x, want;
    } sp[] = {
        {FN(exp), inf, inf}, {FN(exp), -inf, 0}, {FN(exp), 0, 1}, {FN(exp), 1000, inf},
        {FN(exp), -1000, 0}, {FN(expm1), -inf, -1}, {FN(expm1), inf, inf},
        {FN(expm1), -1000, -1}, {FN(expm1), 1000, inf}, {FN(log), 0, -inf},
        {FN(log), -(ag_real)0, -inf}, {FN(log), 1, 0}, {FN(log), inf, inf},
        {FN(log1p), -1, -inf}, {FN(log1p), inf, inf}, {FN(tanh), inf, 1}, {FN(tanh), -inf, -1},
        {FN(tanh), 20, 1}, {FN(tanh), -25, -1}, {FN(tanh), REAL_MAX, 1}, {FN(sigmoid), 0, 0.5},
        {FN(sigmoid), inf, 1}, {FN(sigmoid), -inf, 0}, {FN(sigmoid), -REAL_MAX, 0},
        {FN(sigmoid), REAL_MAX, 1}, {FN(softplus), inf, inf}, {FN(softplus), -inf, 0},
        {FN(softplus), REAL_MAX, REAL_MAX}, {FN(softplus), -REAL_MAX, 0},
        {FN(tanh), TRUE_MIN, TRUE_MIN}, {FN(expm1), TRUE_MIN, TRUE_MIN},
        {FN(log1p), TRUE_MIN, TRUE_MIN},
    };
    for (size_t j = 0; j < nv; j++)
        for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
            ag_real y;
            agi_vfn *f = *(agi_vfn *const *)((const char *)v[j] + sp[i].off);
            f(1, &sp[i].x, &y);
            cr_assert(y == sp[i].want, "%s case %zu: f(%g) = %.17g, want %g", v[j]->name, i,
                      (double)sp[i].x, (double)y, (double)sp[i].want);
        }
    /* NaN propagates; log of a negative number is NaN; -0 keeps its sign. */
    for (size_t j = 0; j < nv; j++)
        for (size_t k = 0; k < NCASES; k++) {
            ag_real x[3] = {NAN, -(ag_real)0, -TRUE_MIN}, y[3];
            fn_of(v[j], &cases[k])(3, x, y);
            cr_assert(isnan(y[0]), "%s %s(NaN) = %g", v[j]->name, cases[k].name, (double)y[0]);
            if (cases[k].off == FN(tanh) || cases[k].off == FN(expm1) || cases[k].off == FN(log1p)) {
                cr_assert(y[1] == 0 && signbit(y[1]), "%s %s(-0) lost the sign", v[j]->name,
                          cases[k].name);
                cr_assert(y[2] == -TRUE_MIN, "%s %s(-min subnormal) = %g", v[j]->name,
                          cases[k].name, (double)y[2]);
            }
        }
    for (size_t j = 0; j < nv; j++) {
        ag_real x[3] = {-1, -inf, -TRUE_MIN}, y[3];
        v[j]->log(3, x, y);
        for (int i = 0; i < 3; i++)
            cr_assert(isnan(y[i]), "%s log(%g) = %g", v[j]->name, (double)x[i], (double)y[i]);
        ag_real x1[2] = {-2, -inf}, y1[2];
        v[j]->log1p(2, x1, y1);
        cr_assert(isnan(y1[0]) && isnan(y1[1]), "%s log1p below -1 not NaN", v[j]->name);
    }
}

/* The vector body, the remainder loop and single calls agree bitwise, for
 * lengths that are not multiples of any vector width, at any alignment, in
 * place too; and the dispatched functions are the current copy. */
Test(vmath, lengths_offsets_in_place)
{
    enum { N = 203 };
    ag_real x[N + 3], y[N + 3], one, z[N + 3];
    fill_uniform(x, N + 3, -12, 12, 5);
    x[7] = NAN;
    x[40] = INFINITY;
    x[41] = (ag_real)0.25;
    const agi_vmath *v[4];
    size_t nv = agi_vmath_variants(v, 4);
    for (size_t j = 0; j < nv; j++)
        for (size_t k = 0; k < NCASES; k++) {
            agi_vfn *f = fn_of(v[j], &cases[k]);
            for (size_t off = 0; off < 3; off++)
                for (size_t n = 1; n <= N; n += n < 40 ? 1 : 27) {
                    f(n, x + off, y);
                    for (size_t i = 0; i < n; i++) {
                        f(1, x + off + i, &one);
                        cr_assert(memcmp(&one, &y[i], sizeof one) == 0 ||
                                      (isnan(one) && isnan(y[i])),
                                  "%s %s n=%zu off=%zu i=%zu: %.17g vs single %.17g", v[j]->name,
                                  cases[k].name, n, off, i, (double)y[i], (double)one);
                    }
                }
            memcpy(z, x, sizeof z);
            f(N, z, z);
            f(N, x, y);
            cr_assert(memcmp(z, y, N * sizeof *z) == 0, "%s %s in place differs", v[j]->name,
                      cases[k].name);
        }
    const agi_vmath *cur = agi_vmath_current();
    agi_vfn *disp[] = {agi_vexp, agi_vexpm1, agi_vlog, agi_vlog1p, agi_vtanh, agi_vsigmoid,
                       agi_vsoftplus};
    for (size_t k = 0; k < NCASES; k++) {
        disp[k](N, x, y);
        fn_of(cur, &cases[k])(N, x, z);
        cr_assert(memcmp(z, y, N * sizeof *z) == 0, "agi_v%s is not the %s copy", cases[k].name,
                  cur->name);
    }
}

/* 2 x 2 max pooling, every copy: against a loop over each window (the
 * maximum, NaN passed on, 1 / the number of tied maxima; the VJP's share
 * for each maximum and 0 elsewhere), and to the bit against the portable
 * copy. Widths of a window row on both sides of a vector's lanes and of
 * half of them, odd numbers of rows (the AVX-512 copy takes window rows in
 * pairs when they are short), ties in most windows, NaN, -0 beside +0, and
 * guards after every output. */
enum { GUARD = 4, MAX2_N = 5 * 4 * 40 };
typedef struct max2_out {
    ag_real y[MAX2_N / 4 + GUARD], inv[MAX2_N / 4 + GUARD], gx[MAX2_N + GUARD];
} max2_out;

static void max2_run(const agi_vmath *v, size_t rows, size_t mid, const ag_real *x,
                     const ag_real *gy, max2_out *r)
{
    size_t n = rows * 4 * mid, nw = rows * mid;
    for (size_t i = 0; i < nw + GUARD; i++) r->y[i] = r->inv[i] = 77;
    for (size_t i = 0; i < n + GUARD; i++) r->gx[i] = 77;
    v->max2x2(rows, mid, x, r->y, r->inv);
    v->max2x2_vjp(rows, mid, x, r->y, gy, r->inv, r->gx);
    for (size_t i = 0; i < GUARD; i++)
        cr_assert(r->y[nw + i] == 77 && r->inv[nw + i] == 77 && r->gx[n + i] == 77,
                  "%s mid %zu rows %zu: wrote past the end", v->name, mid, rows);
    for (size_t o = 0; o < rows; o++)
        for (size_t m = 0; m < mid; m++) {
            size_t at[4], w = o * mid + m;
            double top = -INFINITY, ties = 0;
            int nan = 0;
            for (size_t a = 0; a < 4; a++) {
                at[a] = (o * 2 + a / 2) * 2 * mid + 2 * m + a % 2;
                nan |= isnan(x[at[a]]);
                top = x[at[a]] > top ? x[at[a]] : top;
            }
            for (size_t a = 0; a < 4; a++) ties += x[at[a]] == top;
            cr_assert(nan ? isnan(r->y[w]) && r->inv[w] == 0
                          : r->y[w] == top && r->inv[w] == (ag_real)(1 / ties),
                      "%s mid %zu rows %zu window %zu: %g (1/%g), want %g", v->name, mid, rows,
                      w, (double)r->y[w], 1 / (double)r->inv[w], top);
            for (size_t a = 0; a < 4; a++) {
                ag_real want = !nan && x[at[a]] == top ? gy[w] * r->inv[w] : 0;
                cr_assert(r->gx[at[a]] == want, "%s mid %zu rows %zu: gx[%zu] %g, want %g",
                          v->name, mid, rows, at[a], (double)r->gx[at[a]], (double)want);
            }
        }
}

Test(vmath, max2x2_every_copy)
{
    static const size_t mids[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 14, 16, 17, 31, 33, 40};
    const agi_vmath *v[4];
    size_t nv = agi_vmath_variants(v, 4);
    cr_assert_str_eq(v[nv - 1]->name, "ref");
    static ag_real x[MAX2_N], gy[MAX2_N / 4];
    static max2_out want, got;
    for (size_t mi = 0; mi < sizeof mids / sizeof *mids; mi++)
        for (size_t rows = 1; rows <= 5; rows++) {
            size_t mid = mids[mi], n = rows * 4 * mid, nw = rows * mid;
            fill_uniform(gy, nw, -2, 2, (unsigned)(mid * 10 + rows));
            for (size_t i = 0; i < n; i++)
                x[i] = (ag_real)((i * 7 + mid) % 5) - 2; /* ties in most windows */
            x[(3 * mid) % n] = NAN;
            x[n - 1] = 9;
            x[n / 2] = (ag_real)-0.0;
            x[n / 2 + 1] = 0;
            max2_run(v[nv - 1], rows, mid, x, gy, &want);
            for (size_t j = 0; j + 1 < nv; j++) {
                max2_run(v[j], rows, mid, x, gy, &got);
                cr_assert(memcmp(want.y, got.y, nw * sizeof *got.y) == 0 &&
                              memcmp(want.inv, got.inv, nw * sizeof *got.inv) == 0 &&
                              memcmp(want.gx, got.gx, n * sizeof *got.gx) == 0,
                          "%s mid %zu rows %zu: bits differ from the portable copy", v[j]->name,
                          mid, rows);
            }
        }
}
